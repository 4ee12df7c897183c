"""Needs screening (需求排查) over the three tables: customer info, product holdings, and assets and
liabilities (monthly snapshots). Per customer it finds:

* **rule gaps**, what a bank expects a customer like this to hold (``NeedsParameters``):

  - ``idle_deposits_no_wealth``: demand deposits ≥ ``idle_deposit_min`` and no product of the
    ``wealth_categories`` (Wealth Management, Fund);
  - ``salary_no_card``: salary credited here in ≥ ``salary_months_needed`` of the last
    ``window_months`` months (or a Payroll product held) and no credit card (the debit card comes with
    every account, so the card a salaried customer lacks is a credit card);
  - ``retirement_no_pension_or_insurance``: aged ``near_retirement_age`` ≤ age <
    ``retirement_age`` and nothing in the Insurance category (which holds the pension products) nor
    of a Pension subcategory;
  - ``mortgage_no_home_insurance``: a Mortgage and no Home Insurance;

* **peer gaps**: product categories held by ≥ ``peer_share`` of the customer's peers (same values of
  ``peer_keys``, by default bank_customer_group and tier; the customer left out of their own peer
  share) but not by the customer. A peer group smaller than ``min_peers`` falls back to the whole
  population, and so does everyone when the customer frame has none of the peer keys;
  ``peer_basis`` says which was used ("bank_customer_group+tier", "population", or None when even
  the population has fewer than ``min_peers`` other customers: no peer gaps then);

* **main-account likelihood** ``main_account_score`` 0-100, the weighted average of the components
  that apply to the customer (weights ``main_weights``):

  - salary: 1 when salary is credited here in ≥ ``salary_months_needed`` months, 0 when it is not
    but the occupation is one that draws a salary or pension (``salaried_occupations``); not applied
    to others (a business owner without a salary credit says nothing);
  - income coverage: annualised inflows here / declared annual income, full at ``coverage_full``;
    not applied without a declared income;
  - bills: share of the window's months with bill payments, full at ``bills_months_needed`` months;

  ``main_bank_likely`` when the score ≥ ``main_bank_threshold``; ``money_elsewhere_estimate`` is the
  declared annual income not seen flowing in here: max(0, income - 12 × average monthly inflow);

* **merchant-like cash flows** ``merchant_score`` 0-100: weighted ramps of large transactions a month,
  monthly inflow / AUM (turnover), transactions a month and how balanced money in and out is
  (min / max of the two); ``merchant_like`` when the score ≥ ``merchant_threshold``;

* **priority** ``priority_score`` 0-100 = opportunity × (value_floor + (1 - value_floor) × value),
  where opportunity = min(100, rule_gap_points × rule gaps + peer_gap_points × min(peer gaps,
  max_peer_gaps) + main_elsewhere_points × main bank elsewhere + merchant_points × merchant-like) and
  value is the customer's percentile (0-1) of lifetime value (of AUM when there is none);

* **next action**: the first of ``action_order`` that applies, as a code and in words.

Missing months in the window are missing (averages over the months with data); a customer without
snapshots has no flows: no salary, no merchant score, and inflow-based figures NaN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from branch_crm.engine import schema
from branch_crm.engine.churn import SnapshotMatrices
from branch_crm.engine.defaults import DEFAULT_PRODUCTS
from branch_crm.engine.recompute import rows_that_differ
from branch_crm.engine.segments import ages
from branch_crm.engine.text import format_columns, item_separator, template_fields

NEEDS_SNAPSHOT_COLUMNS = (
	"aum",
	"inflow",
	"outflow",
	"salary_credit",
	"bill_payments",
	"large_txn_count",
	"txn_count",
)
RULE_GAPS = (
	"idle_deposits_no_wealth",
	"salary_no_card",
	"retirement_no_pension_or_insurance",
	"mortgage_no_home_insurance",
)
GAP_TYPES = (*RULE_GAPS, "peer_gap", "main_bank_elsewhere", "merchant_like")
CONTEXT_COLUMNS = ("customer_name", "branch", "relationship_manager", "tier", "bank_customer_group")
POPULATION = "population"

# short names of the gap types: chart labels, filter options
NEEDS_GAP_LABEL_TEMPLATES = {
	"idle_deposits_no_wealth": "Idle deposits, no wealth product",
	"salary_no_card": "Salary here, no credit card",
	"retirement_no_pension_or_insurance": "Near retirement, no pension or insurance",
	"mortgage_no_home_insurance": "Mortgage, no home insurance",
	"peer_gap": "Lacks what similar customers hold",
	"main_bank_elsewhere": "Main bank likely elsewhere",
	"merchant_like": "Merchant-like cash flows",
}
# the gaps of one customer in words
NEEDS_GAP_TEMPLATES = {
	"idle_deposits_no_wealth": "{idle_amount} idle in demand deposits, no wealth product",
	"salary_no_card": "Salary credited here, no credit card",
	"retirement_no_pension_or_insurance": "Aged {age}, no pension or insurance",
	"mortgage_no_home_insurance": "Mortgage without home insurance",
	"peer_gap": "Lacks what similar customers hold: {categories}",
	"main_bank_elsewhere": "Main bank likely elsewhere (main-account score {score})",
	"merchant_like": "Merchant-like cash flows: {large_txn} large transactions a month",
}
NEEDS_ACTION_TEMPLATES = {
	"merchant_services": "Offer merchant services (settlement account, POS, business loan): about {turnover} a month passes through",
	"win_main_account": "Invite to make this the main bank, salary and bills: about {money_elsewhere} a year of income is not seen here",
	"win_main_account_unknown_income": "Invite to make this the main bank: move salary and regular bills here",
	"propose_wealth": "Propose wealth management for the {idle_amount} idle in demand deposits",
	"plan_retirement": "Review retirement plans at {age}: pension and insurance",
	"offer_home_insurance": "Offer home insurance with the mortgage",
	"offer_credit_card": "Offer a credit card: salary is credited here",
	"introduce_peer_product": "Introduce {category}: held by {share}% of similar customers",
	"keep_in_touch": "No gap found: keep in touch as planned",
}
ACTION_ORDER = (
	"merchant_services",
	"win_main_account",
	"propose_wealth",
	"plan_retirement",
	"offer_home_insurance",
	"offer_credit_card",
	"introduce_peer_product",
)

RESULT_COLUMNS = (
	"customer",
	*CONTEXT_COLUMNS,
	"age",
	"aum",
	"demand_deposits",
	"wealth_balance",
	*RULE_GAPS,
	"peer_gaps",
	"peer_gap_count",
	"peer_gap_top",
	"peer_gap_top_share",
	"peer_basis",
	"salary_months",
	"bill_months",
	"income_coverage",
	"main_account_score",
	"main_bank_likely",
	"money_elsewhere_estimate",
	"avg_inflow",
	"large_txn_per_month",
	"txn_per_month",
	"turnover_ratio",
	"flow_balance",
	"merchant_score",
	"merchant_like",
	"gap_count",
	"gap_types",
	"priority_score",
	"next_action_code",
)


@dataclass(frozen=True)
class NeedsParameters:
	window_months: int = 3  # months of snapshots read, ending with the month of as_of
	# rules
	idle_deposit_min: float = 100_000.0  # CNY in demand deposits counted as idle money
	wealth_categories: tuple[str, ...] = ("Wealth Management", "Fund")
	salary_months_needed: int = 2  # of window_months, with a salary credit
	payroll_categories: tuple[str, ...] = ("Payroll",)
	credit_card_subcategories: tuple[str, ...] = ("Credit Card",)
	near_retirement_age: int = 50
	retirement_age: int = 60
	insurance_categories: tuple[str, ...] = ("Insurance",)
	pension_subcategories: tuple[str, ...] = ("Pension",)
	mortgage_subcategories: tuple[str, ...] = ("Mortgage",)
	home_insurance_subcategories: tuple[str, ...] = ("Home Insurance",)
	demand_deposit_subcategories: tuple[str, ...] = ("Demand Deposit",)
	# peers
	peer_share: float = 0.5  # a category held by at least this share of peers
	min_peers: int = 30  # smaller peer groups fall back to the whole population
	# loans are left out by default: they follow a credit decision, not a need alone
	peer_categories: tuple[str, ...] = (
		"Deposit",
		"Wealth Management",
		"Fund",
		"Insurance",
		"Card",
		"Payroll",
		"Digital",
	)
	# main account
	salaried_occupations: tuple[str, ...] = ("Salaried", "Civil Servant", "Professional", "Retired")
	main_weights: Mapping[str, float] = field(
		default_factory=lambda: {"salary": 0.5, "coverage": 0.35, "bills": 0.15}
	)
	coverage_full: float = 0.8  # inflows here covering 80% of the declared income count fully
	bills_months_needed: int = 2
	main_bank_threshold: float = 50.0
	# merchant-like: (start, full) ramps and weights
	merchant_ramps: Mapping[str, tuple[float, float]] = field(
		default_factory=lambda: {
			"large_txn": (2.0, 8.0),  # large transactions a month
			"turnover": (0.5, 2.0),  # monthly inflow / AUM
			"txn": (50.0, 150.0),  # transactions a month
			"balance": (0.5, 0.9),  # min(in, out) / max(in, out)
		}
	)
	merchant_weights: Mapping[str, float] = field(
		default_factory=lambda: {"large_txn": 0.35, "turnover": 0.25, "txn": 0.2, "balance": 0.2}
	)
	merchant_threshold: float = 60.0
	# priority
	rule_gap_points: float = 20.0
	peer_gap_points: float = 8.0
	max_peer_gaps: int = 3
	main_elsewhere_points: float = 30.0
	merchant_points: float = 25.0
	value_floor: float = 0.4
	high_priority: float = 60.0
	action_order: tuple[str, ...] = ACTION_ORDER

	def __post_init__(self):
		if self.window_months < 1:
			raise ValueError("window_months must be at least 1")
		if not 1 <= self.salary_months_needed <= self.window_months:
			raise ValueError("salary_months_needed must lie between 1 and window_months")
		if not 1 <= self.bills_months_needed <= self.window_months:
			raise ValueError("bills_months_needed must lie between 1 and window_months")
		if not 0 < self.peer_share <= 1:
			raise ValueError("peer_share must lie in (0, 1]")
		if not 0 <= self.value_floor <= 1:
			raise ValueError("value_floor must lie in [0, 1]")
		if self.near_retirement_age >= self.retirement_age:
			raise ValueError("near_retirement_age must be below retirement_age")
		unknown = set(self.action_order) - set(NEEDS_ACTION_TEMPLATES)
		if unknown:
			raise ValueError(f"unknown next actions {sorted(unknown)}")
		for name, (start, full) in self.merchant_ramps.items():
			if not full > start:
				raise ValueError(f"the merchant ramp of {name} must end above where it starts")


def _ramp(value: np.ndarray, start: float, full: float) -> np.ndarray:
	return np.nan_to_num(np.clip((value - start) / (full - start), 0.0, 1.0), nan=0.0)


def _row_stats(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
	"""Row sums and means over non-NaN cells, and the number of such cells."""
	valid = ~np.isnan(matrix)
	count = valid.sum(axis=1)
	total = np.where(valid, matrix, 0.0).sum(axis=1)
	mean = np.full(len(matrix), np.nan)
	np.divide(total, count, out=mean, where=count > 0)
	return total, mean, count


def _snapshot_window(
	snapshots, customers: pd.Index, as_of: dt.date, months: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
	"""The window's matrices in the order of ``customers`` (NaN for customers without snapshots)."""
	if isinstance(snapshots, SnapshotMatrices):
		values, present = snapshots.window(as_of, months)
		rows = snapshots.customers.get_indexer(customers)
		if not (len(rows) == len(snapshots.customers) and (rows == np.arange(len(rows))).all()):
			missing = rows < 0
			take = np.where(missing, 0, rows)
			values = {
				k: v[take] if len(v) else np.full((len(rows), months), np.nan) for k, v in values.items()
			}
			present = present[take] if len(present) else np.zeros((len(rows), months), dtype=bool)
			for v in values.values():
				v[missing] = np.nan
			present[missing] = False
		values = {c: values.get(c, np.full((len(customers), months), np.nan)) for c in NEEDS_SNAPSHOT_COLUMNS}
		return values, present
	end = pd.Timestamp(as_of).to_period("M").to_timestamp()
	window = pd.date_range(end=end, periods=months, freq="MS")
	matrices = SnapshotMatrices.from_long(
		snapshots, months=window, customers=customers, columns=NEEDS_SNAPSHOT_COLUMNS
	)
	return matrices.values, matrices.present


def _product_table(products) -> pd.DataFrame:
	table = pd.DataFrame([dict(p) for p in products] if not isinstance(products, pd.DataFrame) else products)
	return table.drop_duplicates("product_code", keep="last").set_index("product_code")


def screen_needs(
	customers: pd.DataFrame,
	holdings: pd.DataFrame,
	snapshots: pd.DataFrame | SnapshotMatrices,
	products: pd.DataFrame | None = None,
	params: NeedsParameters | None = None,
	as_of: dt.date | None = None,
	peer_keys: tuple[str, ...] = ("bank_customer_group", "tier"),
	*,
	gap_templates: Mapping[str, str] | None = None,
	action_templates: Mapping[str, str] | None = None,
	category_labels: Mapping[str, str] | None = None,
	render: bool = True,
) -> pd.DataFrame:
	"""One row per customer of ``customers`` (in its order): ``RESULT_COLUMNS``, plus ``gaps`` and
	``next_action`` in words (``render_needs``) unless ``render`` is False.

	``customers``: customer, date_of_birth, occupation_category, declared_annual_income, and when
	known customer_name, branch, relationship_manager, tier, bank_customer_group (passed through),
	lifetime_value (ranks priority). ``holdings``: customer, product (a product_code), balance.
	``snapshots``: long (customer, month, aum, inflow, outflow, salary_credit, bill_payments,
	large_txn_count, txn_count) or ``SnapshotMatrices``. ``products``: product_code, category,
	subcategory (default: DEFAULT_PRODUCTS). ``as_of``: the last month read (default: the latest
	snapshot month)."""
	params = params or NeedsParameters()
	products = _product_table(DEFAULT_PRODUCTS if products is None else products)
	if as_of is None:
		if isinstance(snapshots, SnapshotMatrices):
			as_of = snapshots.months[-1].date()
		else:
			as_of = pd.to_datetime(snapshots["month"]).max().date() if len(snapshots) else dt.date.today()
	index = pd.Index(customers["customer"])
	n = len(index)

	# ---------------------------------------------------------------- holdings
	categories = list(schema.PRODUCT_CATEGORIES)
	extra = sorted(set(products["category"].dropna()) - set(categories))
	categories += extra
	subcategories = list(schema.PRODUCT_SUBCATEGORIES)
	subcategories += sorted(set(products["subcategory"].dropna()) - set(subcategories))
	cat_code = pd.Series(
		pd.Categorical(products["category"], categories=categories).codes, index=products.index
	)
	sub_code = pd.Series(
		pd.Categorical(products["subcategory"], categories=subcategories).codes, index=products.index
	)
	row = index.get_indexer(holdings["customer"]) if len(holdings) else np.array([], dtype=np.int64)
	product = holdings["product"] if len(holdings) else pd.Series([], dtype=object)
	cat = product.map(cat_code).fillna(-1).to_numpy(dtype=np.int64)
	sub = product.map(sub_code).fillna(-1).to_numpy(dtype=np.int64)
	balance = (
		pd.to_numeric(holdings["balance"], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
		if len(holdings) and "balance" in holdings
		else np.zeros(len(row))
	)
	held_cat = np.zeros((n, len(categories)), dtype=bool)
	ok = (row >= 0) & (cat >= 0)
	held_cat[row[ok], cat[ok]] = True
	held_sub = np.zeros((n, len(subcategories)), dtype=bool)
	ok_sub = (row >= 0) & (sub >= 0)
	held_sub[row[ok_sub], sub[ok_sub]] = True
	balance_cat = np.bincount(
		row[ok] * len(categories) + cat[ok], weights=balance[ok], minlength=n * len(categories)
	).reshape(n, len(categories))
	balance_sub = np.bincount(
		row[ok_sub] * len(subcategories) + sub[ok_sub],
		weights=balance[ok_sub],
		minlength=n * len(subcategories),
	).reshape(n, len(subcategories))

	def holds_cat(names) -> np.ndarray:
		cols = [categories.index(c) for c in names if c in categories]
		return held_cat[:, cols].any(axis=1) if cols else np.zeros(n, dtype=bool)

	def holds_sub(names) -> np.ndarray:
		cols = [subcategories.index(c) for c in names if c in subcategories]
		return held_sub[:, cols].any(axis=1) if cols else np.zeros(n, dtype=bool)

	def sub_balance(names) -> np.ndarray:
		cols = [subcategories.index(c) for c in names if c in subcategories]
		return balance_sub[:, cols].sum(axis=1) if cols else np.zeros(n)

	# ---------------------------------------------------------------- snapshots
	values, present = _snapshot_window(snapshots, index, as_of, params.window_months)
	_, aum_mean, _ = _row_stats(values["aum"])
	aum_latest = values["aum"][:, -1]
	aum = np.where(np.isnan(aum_latest), aum_mean, aum_latest)
	salary = values["salary_credit"]
	salary_months = (np.nan_to_num(salary) > 0).sum(axis=1)
	bill_months = (np.nan_to_num(values["bill_payments"]) > 0).sum(axis=1)
	inflow_total, avg_inflow, inflow_months = _row_stats(values["inflow"])
	outflow_total, _, _ = _row_stats(values["outflow"])
	_, large_per_month, _ = _row_stats(values["large_txn_count"])
	_, txn_per_month, _ = _row_stats(values["txn_count"])
	has_flows = inflow_months > 0

	# ---------------------------------------------------------------- customer facts
	def column(name: str, default=None) -> pd.Series:
		if name in customers:
			return customers[name].reset_index(drop=True)
		return pd.Series(default, index=range(n), dtype=object)

	age = (
		ages(column("date_of_birth"), as_of).to_numpy(dtype=float)
		if "date_of_birth" in customers
		else np.full(n, np.nan)
	)
	income = pd.to_numeric(column("declared_annual_income"), errors="coerce").to_numpy(dtype=float)
	income = np.where(income > 0, income, np.nan)
	occupation = column("occupation_category").to_numpy(dtype=object)

	# ---------------------------------------------------------------- rules
	demand = sub_balance(params.demand_deposit_subcategories)
	wealth_cols = [categories.index(c) for c in params.wealth_categories if c in categories]
	wealth_balance = balance_cat[:, wealth_cols].sum(axis=1) if wealth_cols else np.zeros(n)
	salary_here = (salary_months >= params.salary_months_needed) | holds_cat(params.payroll_categories)
	gaps = {
		"idle_deposits_no_wealth": (demand >= params.idle_deposit_min) & ~holds_cat(params.wealth_categories),
		"salary_no_card": salary_here & ~holds_sub(params.credit_card_subcategories),
		"retirement_no_pension_or_insurance": (age >= params.near_retirement_age)
		& (age < params.retirement_age)
		& ~holds_cat(params.insurance_categories)
		& ~holds_sub(params.pension_subcategories),
		"mortgage_no_home_insurance": holds_sub(params.mortgage_subcategories)
		& ~holds_sub(params.home_insurance_subcategories),
	}

	# ---------------------------------------------------------------- peers
	keys = [k for k in peer_keys if k in customers]
	population_share, others = _leave_one_out(held_cat, np.zeros(n, dtype=np.int64))
	if keys:
		group = (
			customers[keys]
			.astype(object)
			.where(customers[keys].notna(), "")
			.groupby(keys, sort=False)
			.ngroup()
			.to_numpy(dtype=np.int64)
		)
		share, peers = _leave_one_out(held_cat, group)
		small = peers < params.min_peers
		share[small] = population_share[small]
		basis = np.where(small, POPULATION, "+".join(keys)).astype(object)
	else:
		share = population_share
		basis = np.full(n, POPULATION, dtype=object)
	# not even the population has min_peers others: no peer comparison at all
	no_peers = others < params.min_peers
	share[no_peers & (basis == POPULATION)] = 0.0
	basis[no_peers & (basis == POPULATION)] = None
	candidate = np.array([c in params.peer_categories for c in categories])
	peer_gap = (share >= params.peer_share) & ~held_cat & candidate[None, :]
	peer_gap_count = peer_gap.sum(axis=1)
	gap_share = np.where(peer_gap, share, -1.0)
	top = np.argmax(gap_share, axis=1)
	names = np.array(categories, dtype=object)
	peer_top = np.where(peer_gap_count > 0, names[top], None)
	peer_top_share = np.where(peer_gap_count > 0, np.round(gap_share[np.arange(n), top] * 100, 1), np.nan)
	peer_text = pd.Series("", index=range(n), dtype=object)
	for c, name in enumerate(categories):
		if peer_gap[:, c].any():
			peer_text = peer_text + np.where(peer_gap[:, c], ", " + name, "")
	peer_text = peer_text.str.slice(2)

	# ---------------------------------------------------------------- main account
	w = params.main_weights
	expected_salary = np.isin(occupation, list(params.salaried_occupations))
	salary_part = np.where(
		salary_months >= params.salary_months_needed, 1.0, np.where(expected_salary, 0.0, np.nan)
	)
	salary_part[~present.any(axis=1)] = np.nan  # no snapshot in the window: nothing to judge by
	coverage = np.full(n, np.nan)
	np.divide(avg_inflow * 12.0, income, out=coverage, where=~np.isnan(income) & has_flows)
	coverage = np.where(~np.isnan(income) & has_flows, coverage, np.nan)
	coverage_part = np.where(np.isnan(coverage), np.nan, np.clip(coverage / params.coverage_full, 0, 1))
	bills_part = np.where(
		present.any(axis=1), np.clip(bill_months / params.bills_months_needed, 0, 1), np.nan
	)
	parts = np.column_stack([salary_part, coverage_part, bills_part])
	weights = np.array([w.get("salary", 0.0), w.get("coverage", 0.0), w.get("bills", 0.0)], dtype=float)
	applies = ~np.isnan(parts)
	weight_sum = (applies * weights).sum(axis=1)
	main_score = np.full(n, np.nan)
	np.divide(
		(np.nan_to_num(parts) * weights).sum(axis=1) * 100.0, weight_sum, out=main_score, where=weight_sum > 0
	)
	main_score = np.round(main_score, 1)
	main_likely = main_score >= params.main_bank_threshold  # NaN (nothing to judge by) is False
	main_elsewhere = ~np.isnan(main_score) & ~main_likely
	money_elsewhere = np.where(
		~np.isnan(income), np.maximum(income - 12.0 * np.nan_to_num(avg_inflow), 0.0), np.nan
	)

	# ---------------------------------------------------------------- merchant-like
	turnover = np.full(n, np.nan)
	np.divide(avg_inflow, aum, out=turnover, where=(aum > 0) & has_flows)
	turnover = np.where(
		(aum > 0) & has_flows, turnover, np.where(has_flows & (avg_inflow > 0), np.inf, np.nan)
	)
	flow_balance = np.full(n, np.nan)
	bigger = np.maximum(inflow_total, outflow_total)
	np.divide(np.minimum(inflow_total, outflow_total), bigger, out=flow_balance, where=bigger > 0)
	flow_balance = np.where(bigger > 0, flow_balance, np.nan)
	mr, mw = params.merchant_ramps, params.merchant_weights
	merchant_parts = {
		"large_txn": _ramp(large_per_month, *mr["large_txn"]),
		"turnover": _ramp(np.where(np.isinf(turnover), mr["turnover"][1], turnover), *mr["turnover"]),
		"txn": _ramp(txn_per_month, *mr["txn"]),
		"balance": _ramp(flow_balance, *mr["balance"]),
	}
	total_weight = sum(mw.values()) or 1.0
	merchant_score = sum(merchant_parts[k] * mw.get(k, 0.0) for k in merchant_parts) * 100.0 / total_weight
	merchant_score = np.where(has_flows, np.round(merchant_score, 1), np.nan)
	merchant_like = merchant_score >= params.merchant_threshold

	# ---------------------------------------------------------------- priority and action
	rule_count = sum(gaps[g].astype(np.int64) for g in RULE_GAPS)
	opportunity = (
		params.rule_gap_points * rule_count
		+ params.peer_gap_points * np.minimum(peer_gap_count, params.max_peer_gaps)
		+ params.main_elsewhere_points * main_elsewhere
		+ params.merchant_points * merchant_like
	)
	opportunity = np.minimum(opportunity, 100.0)
	if "lifetime_value" in customers:
		value_basis = pd.to_numeric(column("lifetime_value"), errors="coerce")
	else:
		value_basis = pd.Series(aum)
	value = value_basis.rank(pct=True, method="average").fillna(0.0).to_numpy()
	priority = np.round(opportunity * (params.value_floor + (1 - params.value_floor) * value), 1)

	flags = {
		**gaps,
		"peer_gap": peer_gap_count > 0,
		"main_bank_elsewhere": main_elsewhere,
		"merchant_like": merchant_like,
	}
	gap_types = pd.Series("", index=range(n), dtype=object)
	for code in GAP_TYPES:
		gap_types = gap_types + np.where(flags[code], "," + code, "")
	gap_types = gap_types.str.slice(1)

	action_applies = {
		"merchant_services": merchant_like,
		"win_main_account": main_elsewhere,
		"propose_wealth": gaps["idle_deposits_no_wealth"],
		"plan_retirement": gaps["retirement_no_pension_or_insurance"],
		"offer_home_insurance": gaps["mortgage_no_home_insurance"],
		"offer_credit_card": gaps["salary_no_card"],
		"introduce_peer_product": peer_gap_count > 0,
	}
	action = np.full(n, "keep_in_touch", dtype=object)
	decided = np.zeros(n, dtype=bool)
	for code in params.action_order:
		take = action_applies[code] & ~decided
		action[take] = code
		decided |= take
	unknown_income = (action == "win_main_account") & np.isnan(money_elsewhere)
	action[unknown_income] = "win_main_account_unknown_income"

	out = pd.DataFrame({"customer": index.to_numpy()})
	for name in CONTEXT_COLUMNS:
		out[name] = column(name).to_numpy(dtype=object)
	out = out.assign(
		age=age,
		aum=np.round(aum, 2),
		demand_deposits=np.round(demand, 2),
		wealth_balance=np.round(wealth_balance, 2),
		**{g: gaps[g] for g in RULE_GAPS},
		peer_gaps=peer_text.to_numpy(dtype=object),
		peer_gap_count=peer_gap_count.astype(np.int16),
		peer_gap_top=peer_top,
		peer_gap_top_share=peer_top_share,
		peer_basis=basis,
		salary_months=salary_months.astype(np.int16),
		bill_months=bill_months.astype(np.int16),
		income_coverage=np.round(coverage, 3),
		main_account_score=main_score,
		main_bank_likely=main_likely,
		money_elsewhere_estimate=np.round(money_elsewhere, 2),
		avg_inflow=np.round(avg_inflow, 2),
		large_txn_per_month=np.round(large_per_month, 2),
		txn_per_month=np.round(txn_per_month, 1),
		turnover_ratio=np.round(turnover, 3),
		flow_balance=np.round(flow_balance, 3),
		merchant_score=merchant_score,
		merchant_like=merchant_like,
		gap_count=(rule_count + peer_gap_count).astype(np.int16),
		gap_types=gap_types.to_numpy(dtype=object),
		priority_score=priority,
		next_action_code=action,
	)
	out = out[list(RESULT_COLUMNS)]
	out.index = customers.index
	if render:
		out["gaps"], out["next_action"] = render_needs(
			out, gap_templates, action_templates, category_labels=category_labels
		)
	return out


def _leave_one_out(held: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
	"""Per customer and category: the share of the OTHER members of their group that hold it, and
	how many others there are."""
	groups = int(group.max()) + 1 if len(group) else 0
	counts = np.bincount(group, minlength=groups)
	sums = (
		np.column_stack(
			[np.bincount(group, weights=held[:, c], minlength=groups) for c in range(held.shape[1])]
		)
		if held.shape[1]
		else np.zeros((groups, 0))
	)
	others = counts[group] - 1
	share = np.zeros(held.shape)
	np.divide(sums[group] - held, others[:, None], out=share, where=others[:, None] > 0)
	return share, others


# ---------------------------------------------------------------- words


def _money(values) -> pd.Series:
	return pd.Series(values, dtype=float).fillna(0).round(0).map("{:,.0f}".format)


def _whole(values) -> pd.Series:
	return pd.Series(np.nan_to_num(np.asarray(values, dtype=float)).round().astype(np.int64).astype(str))


def _fields(rows: pd.DataFrame, category_labels: Mapping[str, str] | None) -> dict:
	def categories():
		text = rows["peer_gaps"].fillna("")
		if category_labels:
			text = text.map(lambda t: ", ".join(category_labels.get(c, c) for c in t.split(", ")) if t else t)
		return text

	def category():
		top = rows["peer_gap_top"].fillna("")
		return top.map(lambda c: category_labels.get(c, c)) if category_labels else top

	return {
		"idle_amount": lambda: _money(rows["demand_deposits"].to_numpy()),
		"age": lambda: _whole(rows["age"].to_numpy()),
		"categories": categories,
		"category": category,
		"share": lambda: _whole(rows["peer_gap_top_share"].to_numpy()),
		"score": lambda: _whole(rows["main_account_score"].to_numpy()),
		"large_txn": lambda: _whole(rows["large_txn_per_month"].to_numpy()),
		"turnover": lambda: _money(rows["avg_inflow"].to_numpy()),
		"money_elsewhere": lambda: _money(rows["money_elsewhere_estimate"].to_numpy()),
	}


def _render(rows: pd.DataFrame, template: str, code: str, category_labels) -> np.ndarray:
	fields = _fields(rows, category_labels)
	values = {}
	for name in template_fields(template):
		if name not in fields:
			raise ValueError(f"the template for {code!r} uses an unknown placeholder {{{name}}}")
		series = fields[name]()
		values[name] = pd.Series(series.to_numpy(dtype=object), index=rows.index)
	return format_columns(template, values, rows.index).to_numpy(dtype=object)


RENDER_COLUMNS = (
	"demand_deposits",
	"age",
	"peer_gaps",
	"peer_gap_top",
	"peer_gap_top_share",
	"main_account_score",
	"large_txn_per_month",
	"avg_inflow",
	"money_elsewhere_estimate",
)


def gap_flags(screened: pd.DataFrame) -> dict[str, np.ndarray]:
	"""Gap type -> boolean array over the rows, from the screened columns (as ``gap_types`` lists)."""
	flags = {code: screened[code].to_numpy(dtype=bool) for code in RULE_GAPS}
	flags["peer_gap"] = screened["peer_gap_count"].to_numpy() > 0
	score = pd.to_numeric(screened["main_account_score"], errors="coerce")
	flags["main_bank_elsewhere"] = (score.notna() & ~screened["main_bank_likely"].astype(bool)).to_numpy()
	flags["merchant_like"] = screened["merchant_like"].to_numpy(dtype=bool)
	return flags


def render_needs(
	screened: pd.DataFrame,
	gap_templates: Mapping[str, str] | None = None,
	action_templates: Mapping[str, str] | None = None,
	*,
	category_labels: Mapping[str, str] | None = None,
	separator: str = "; ",
) -> tuple[pd.Series, pd.Series]:
	"""(gaps, next_action) in words for ``screen_needs`` rows. Templates map gap type / action codes
	to str.format templates (defaults ``NEEDS_GAP_TEMPLATES``, ``NEEDS_ACTION_TEMPLATES``);
	``category_labels`` translate product category names. Vectorised per code."""
	gap_templates = {**NEEDS_GAP_TEMPLATES, **(gap_templates or {})}
	action_templates = {**NEEDS_ACTION_TEMPLATES, **(action_templates or {})}
	separator = item_separator(gap_templates, separator)
	n = len(screened)
	rows = screened[[c for c in RENDER_COLUMNS if c in screened]]
	flags = gap_flags(screened)
	gaps = np.full(n, "", dtype=object)
	for code in GAP_TYPES:
		mask = flags[code]
		if not mask.any():
			continue
		text = _render(rows[mask], gap_templates[code], code, category_labels)
		gaps[mask] = np.where(gaps[mask] == "", text, gaps[mask] + separator + text)
	action = np.full(n, "", dtype=object)
	codes = screened["next_action_code"].to_numpy(dtype=object)
	for code in pd.unique(codes):
		if code not in action_templates:
			raise ValueError(f"no template for next action {code!r}")
		mask = codes == code
		action[mask] = _render(rows[mask], action_templates[code], code, category_labels)
	return pd.Series(gaps, index=screened.index, dtype=object), pd.Series(
		action, index=screened.index, dtype=object
	)


# ---------------------------------------------------------------- what the nightly job stores

# profile field <- screen_needs column: what the report lists and the form shows
STORED_FIELDS = {
	"needs_priority": "priority_score",
	"needs_gap_count": "gap_count",
	"main_account_score": "main_account_score",
	"money_elsewhere_estimate": "money_elsewhere_estimate",
	"needs_gaps": "gaps",
	"needs_next_action": "next_action",
	"needs_gap_types": "gap_types",
}
_STORED_NUMBERS = ("needs_priority", "needs_gap_count", "main_account_score", "money_elsewhere_estimate")


def stored_needs(screened: pd.DataFrame) -> pd.DataFrame:
	"""Rendered ``screen_needs`` rows as the profile stores them: name and ``STORED_FIELDS``;
	numbers without a value as 0, as a number field stores them."""
	out = pd.DataFrame({"name": screened["customer"].to_numpy()})
	for target, source in STORED_FIELDS.items():
		values = screened[source]
		if target in _STORED_NUMBERS:
			values = pd.to_numeric(values, errors="coerce").fillna(0.0)
		out[target] = values.to_numpy()
	return out


def needs_changes(screened: pd.DataFrame, stored: pd.DataFrame, today: dt.date) -> pd.DataFrame:
	"""The profiles whose stored screening differs from ``screened``, with ``needs_screened_on`` =
	``today``: what the nightly job writes, so a second run writes nothing. ``stored``: name and the
	``STORED_FIELDS`` as read from the profiles (missing profiles count as never screened)."""
	new = stored_needs(screened)
	fields = list(STORED_FIELDS)
	old = stored.drop_duplicates("name").set_index("name").reindex(new["name"])[fields].reset_index(drop=True)
	for column in _STORED_NUMBERS:
		old[column] = pd.to_numeric(old[column], errors="coerce").fillna(0.0)
	changed = rows_that_differ(new, old, fields)
	return changed.assign(needs_screened_on=today).reset_index(drop=True)
