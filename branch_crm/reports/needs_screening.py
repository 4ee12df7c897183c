"""Needs Screening (需求排查): one row per customer from ``engine.needs.screen_needs``, the highest
priority first, with the gaps found and the suggested next action; a chart of customers per gap type
and summary cards. Filters (each a value or a list): branch, relationship_manager, tier,
bank_customer_group, gap_type (a code of ``GAP_TYPES`` or its label); ``limit`` caps the rows listed
(cards and chart still count every customer that passes the filters)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from branch_crm.engine.needs import (
	GAP_TYPES,
	NEEDS_GAP_LABEL_TEMPLATES,
	RULE_GAPS,
	STORED_FIELDS,
	NeedsParameters,
	gap_flags,
)
from branch_crm.reports.base import (
	ReportResult,
	card,
	chart,
	column,
	customer_columns,
	every_row_or,
	listed_in_order,
)

FILTER_FIELDS = ("branch", "relationship_manager", "tier", "bank_customer_group")


def as_list(value) -> list:
	"""A filter value as a list of wanted values (empty: no filter)."""
	if value is None or value == "" or (isinstance(value, list | tuple | set) and not value):
		return []
	return [value] if isinstance(value, str) or not isinstance(value, list | tuple | set) else list(value)


def gap_type_codes(values, labels: dict | None = None) -> list[str]:
	"""Gap type filter values (codes or labels, English or those in ``labels``) as codes."""
	by_label = {label: code for code, label in {**NEEDS_GAP_LABEL_TEMPLATES, **(labels or {})}.items()}
	codes = []
	for value in as_list(values):
		code = value if value in GAP_TYPES else by_label.get(value)
		if code is None:
			raise ValueError(f"unknown gap type {value!r}")
		codes.append(code)
	return codes


def filter_screened(screened: pd.DataFrame, filters: dict | None) -> pd.DataFrame:
	"""The rows passing ``filters``; a customer matches gap_type when they show any of the types."""
	filters = filters or {}
	mask = np.ones(len(screened), dtype=bool)
	for field in FILTER_FIELDS:
		wanted = as_list(filters.get(field))
		if wanted and field in screened:
			mask &= screened[field].isin(wanted).to_numpy()
	codes = gap_type_codes(filters.get("gap_type"))
	if codes:
		flags = gap_flags(screened)
		mask &= np.logical_or.reduce([flags[code] for code in codes])
	return every_row_or(screened, mask)


def fast_records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
	"""Rows as dicts of plain Python values (NaN as None, booleans as 0/1), column-wise: ten times
	faster than ``base.records`` for 100,000 rows."""
	data = {}
	for name in columns:
		series = frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)
		if pd.api.types.is_bool_dtype(series):
			values = series.astype(np.int64).tolist()
		elif pd.api.types.is_float_dtype(series):
			array = series.to_numpy(dtype=float)
			values = [None if v != v else v for v in array.tolist()]
		elif pd.api.types.is_integer_dtype(series):
			values = series.astype(np.int64).tolist()
		else:
			values = series.astype(object).where(series.notna(), None).tolist()
		data[name] = values
	return (
		[dict(zip(columns, row, strict=True)) for row in zip(*data.values(), strict=True)] if columns else []
	)


def from_stored(profiles: pd.DataFrame, params: NeedsParameters | None = None) -> pd.DataFrame:
	"""The rows ``build_needs_screening`` takes, from what the nightly job stores on the profile
	(``engine.needs.STORED_FIELDS``: needs_priority, needs_gap_count, main_account_score,
	money_elsewhere_estimate, needs_gaps, needs_next_action, needs_gap_types) plus customer and
	its context (customer_name, branch, relationship_manager, tier, bank_customer_group, aum). The gap
	flags come back from the gap type codes; a main-account score stored as 0 without the
	"main_bank_elsewhere" code was no score at all."""
	params = params or NeedsParameters()
	codes = profiles["needs_gap_types"].fillna("").astype(str)
	# a few hundred distinct combinations among 100,000 customers: split each combination once
	combination, uniques = pd.factorize(codes)
	held = [set(text.split(",")) for text in uniques]
	has = {
		code: np.array([code in parts for parts in held], dtype=bool)[combination]
		if len(uniques)
		else np.zeros(len(codes), dtype=bool)
		for code in GAP_TYPES
	}
	score = pd.to_numeric(profiles["main_account_score"], errors="coerce").fillna(0.0).to_numpy()
	elsewhere = has["main_bank_elsewhere"]
	likely = ~elsewhere & (score >= params.main_bank_threshold)
	out = profiles.drop(columns=[c for c in STORED_FIELDS if c in profiles]).assign(
		**{code: has[code] for code in RULE_GAPS},
		peer_gap_count=has["peer_gap"].astype(np.int16),
		main_account_score=np.where(elsewhere | likely, score, np.nan),
		main_bank_likely=likely,
		merchant_like=has["merchant_like"],
		money_elsewhere_estimate=pd.to_numeric(
			profiles["money_elsewhere_estimate"], errors="coerce"
		).to_numpy(),
		priority_score=pd.to_numeric(profiles["needs_priority"], errors="coerce").fillna(0.0).to_numpy(),
		gap_count=pd.to_numeric(profiles["needs_gap_count"], errors="coerce")
		.fillna(0)
		.astype(np.int16)
		.to_numpy(),
		gaps=profiles["needs_gaps"].to_numpy(dtype=object),
		next_action=profiles["needs_next_action"].to_numpy(dtype=object),
		gap_types=codes.to_numpy(dtype=object),
	)
	return out


def gap_type_labels(codes: str | None, labels: dict | None = None, separator: str = "; ") -> str:
	"""Comma-separated gap type codes as their labels (``labels``, default the English ones)."""
	labels = {**NEEDS_GAP_LABEL_TEMPLATES, **(labels or {})}
	return separator.join(labels.get(code, code) for code in (codes or "").split(",") if code)


def build_needs_screening(
	screened: pd.DataFrame, filters: dict | None = None, params: NeedsParameters | None = None
) -> ReportResult:
	"""``screened``: ``screen_needs`` rows (rendered: with ``gaps`` and ``next_action``)."""
	params = params or NeedsParameters()
	filters = filters or {}
	rows = filter_screened(screened, filters)
	priority = pd.to_numeric(rows["priority_score"], errors="coerce").fillna(0.0).to_numpy()
	aum = pd.to_numeric(rows["aum"], errors="coerce").fillna(0.0).to_numpy()

	flags = gap_flags(rows)
	high = priority >= params.high_priority
	counts = [int(flags[code].sum()) for code in GAP_TYPES]
	high_counts = [int((flags[code] & high).sum()) for code in GAP_TYPES]
	labels = [NEEDS_GAP_LABEL_TEMPLATES[code] for code in GAP_TYPES]
	gaps_chart = chart(
		labels,
		[("Customers", counts), ("High Priority", high_counts)],
		type="bar",
		colors=["#5E64FF", "#FF5858"],
	)

	listed = listed_in_order(
		rows,
		{"_priority": priority, "_aum": aum, "customer": rows["customer"]},
		[False, False, True],
		filters,
	)
	columns = [
		*customer_columns(),
		column("bank_customer_group", "Customer Segment", "Link", 160, options="Bank Customer Group"),
		column("aum", "AUM", "Currency", 120),
		column("gap_count", "Product Gaps", "Int", 100),
		column("gaps", "Gaps", "Data", 320),
		column("main_account_score", "Main Account Score", "Float", 140, precision=1),
		column("main_bank_likely", "Main Bank Here", "Check", 110),
		column("money_elsewhere_estimate", "Income Not Seen Here (Yearly)", "Currency", 190),
		column("merchant_like", "Merchant-like", "Check", 110),
		column("priority_score", "Priority", "Float", 90, precision=1),
		column("next_action", "Next Action", "Data", 320),
		column("gap_types", "Gap Types", "Data", 200),
	]
	fields = [c["fieldname"] for c in columns]
	data = fast_records(listed, fields)

	summary = [
		card(len(rows), "Customers Screened"),
		card(int((rows["gap_count"] > 0).sum()), "With Product Gaps", indicator="Orange"),
		card(int(flags["main_bank_elsewhere"].sum()), "Main Bank Elsewhere", indicator="Red"),
		card(int(flags["merchant_like"].sum()), "Merchant-like", indicator="Blue"),
		card(int(high.sum()), "High Priority", indicator="Green"),
	]
	return ReportResult(columns, data, gaps_chart, summary)
