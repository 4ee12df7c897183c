"""Churn Warning (流失预警): the value × risk matrix as a chart, the customers behind it (highest risk
× value first) and summary cards, from ``engine.churn.score_churn`` rows joined with the customers'
context. Filters (each a value or a list): branch, relationship_manager, tier, bank_customer_group,
value_class, churn_band ("High", "Medium", "Low" or "No Score"); ``limit`` caps the rows listed
(cards and chart still count every customer that passes the filters)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from branch_crm.engine.churn import NO_SCORE, ChurnParameters, retention_priority, value_risk_matrix
from branch_crm.reports.base import (
	ReportResult,
	card,
	chart,
	column,
	customer_columns,
	every_row_or,
	listed_in_order,
)
from branch_crm.reports.needs_screening import as_list, fast_records

FILTER_FIELDS = ("branch", "relationship_manager", "tier", "bank_customer_group", "value_class")


def filter_scored(scored: pd.DataFrame, filters: dict | None) -> pd.DataFrame:
	filters = filters or {}
	mask = np.ones(len(scored), dtype=bool)
	for field in FILTER_FIELDS:
		wanted = as_list(filters.get(field))
		if wanted and field in scored:
			mask &= scored[field].isin(wanted).to_numpy()
	bands = as_list(filters.get("churn_band"))
	if bands:
		band = scored["churn_band"].where(scored["churn_band"].notna(), NO_SCORE)
		mask &= band.isin(bands).to_numpy()
	return every_row_or(scored, mask)


def from_stored(profiles: pd.DataFrame) -> pd.DataFrame:
	"""The rows ``build_churn_warning`` takes, from what the nightly job stores on the profile
	(``engine.churn.STORED_COLUMNS``) plus customer and its context: a customer without a band had no
	score (the number field stores 0 for it)."""
	band = profiles["churn_band"].where(profiles["churn_band"].notna() & (profiles["churn_band"] != ""), None)
	score = pd.to_numeric(profiles["churn_score"], errors="coerce")
	return profiles.assign(churn_band=band.astype(object), churn_score=score.where(band.notna()))


def build_churn_warning(
	scored: pd.DataFrame, filters: dict | None = None, params: ChurnParameters | None = None
) -> ReportResult:
	"""``scored``: ``score_churn`` rows (customer, churn_score, churn_band, churn_reasons, and
	aum_change_pct when known) or ``from_stored`` rows, with the customers' context: customer_name,
	branch, relationship_manager, tier, bank_customer_group, value_class and/or lifetime_value, aum
	(any of them may be absent)."""
	params = params or ChurnParameters()
	filters = filters or {}
	rows = filter_scored(scored, filters)
	lifetime = (
		pd.to_numeric(rows["lifetime_value"], errors="coerce").fillna(0.0)
		if "lifetime_value" in rows
		else pd.Series(0.0, index=rows.index)
	)
	priority = retention_priority(rows, params).to_numpy()
	listed = listed_in_order(
		rows,
		{
			"retention_priority": priority,
			"churn_score": rows["churn_score"],
			"_value": lifetime,
			"customer": rows["customer"],
		},
		[False, False, False, True],
		filters,
		extra={"retention_priority": priority},
	)

	has_value = "value_class" in rows or "lifetime_value" in rows
	if has_value:
		matrix = value_risk_matrix(rows)
		matrix = matrix[(matrix.sum(axis=1) > 0) | matrix.index.isin(["MVC", "MGC", "Standard", "BZC"])]
	else:
		counts = rows["churn_band"].where(rows["churn_band"].notna(), NO_SCORE).value_counts()
		matrix = pd.DataFrame(
			[[int(counts.get(b, 0)) for b in ("High", "Medium", "Low", NO_SCORE)]],
			index=["All"],
			columns=["High", "Medium", "Low", NO_SCORE],
		)
	risk_chart = chart(
		list(matrix.index),
		[
			("High", matrix["High"].tolist()),
			("Medium", matrix["Medium"].tolist()),
			("Low", matrix["Low"].tolist()),
			("No Score", matrix[NO_SCORE].tolist()),
		],
		type="bar",
		colors=["#FF5858", "#FFA00A", "#28A745", "#8D99A6"],
	)

	columns = [
		*customer_columns(),
		column("value_class", "Value Class", "Data", 100),
		column("lifetime_value", "Lifetime Value", "Currency", 130),
		column("aum", "AUM", "Currency", 120),
		# the nightly job stores the reasons in words, not the change: the site's report leaves it out
		*([column("aum_change_pct", "AUM Change %", "Percent", 110)] if "aum_change_pct" in scored else []),
		column("churn_score", "Churn Score", "Float", 100, precision=1),
		column("churn_band", "Churn Risk", "Data", 100),
		column("retention_priority", "Risk × Value", "Float", 110, precision=1),
		column("churn_reasons", "Reasons", "Data", 420),
	]
	data = fast_records(listed, [c["fieldname"] for c in columns])

	score = pd.to_numeric(rows["churn_score"], errors="coerce")
	high = rows["churn_band"].eq("High")
	high_value = (
		rows["value_class"].isin(params.high_value_classes)
		if "value_class" in rows
		else pd.Series(False, index=rows.index)
	)
	summary = [
		card(int(score.notna().sum()), "Customers Scored"),
		card(int(high.sum()), "High Risk", indicator="Red"),
		card(int((high & high_value).sum()), "High Value & High Risk", indicator="Red"),
		card(int(score.isna().sum()), "No Score (Short History)", indicator="Grey"),
		card(
			round(float(score.mean()), 1) if score.notna().any() else None,
			"Average Score",
			datatype="Float",
			indicator="Orange",
		),
	]
	return ReportResult(columns, data, risk_chart, summary)
