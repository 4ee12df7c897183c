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

* **peer gaps**: products (``peer_products``: Time Deposit, Wealth Management or Fund, Insurance,
  Credit Card, Payroll, Digital; a debit card is not a credit card) held by ≥ ``peer_share`` of the
  customer's peers but not by the customer. Peers: the customers of the same ``peer_keys`` (by
  default bank_customer_group) whose AUM lies within ÷ ``value_band`` .. × ``value_band`` of the
  customer's (a sliding window), the customer left out. A peer set with fewer than ``min_peers``
  others falls back to the group whatever the balance, then to everyone within the value band, then
  to everyone; ``peer_basis`` says which ("bank_customer_group+value band", "bank_customer_group",
  "value band", "population", or None when even everyone is fewer than ``min_peers`` others: no peer
  gaps then);

* **main-account likelihood** ``main_account_score`` 0-100, the weighted average of the components
  that apply to the customer (weights ``main_weights``):

  - salary: 1 when salary is credited here in ≥ ``salary_months_needed`` months (fewer when the
    history is shorter), 0 when it is not, the occupation is one paid by salary or pension
    (``salaried_occupations``) and the income is not seen coming in here some other way; not
    applied to others (a fee-paid professional or a business owner without a salary credit says
    nothing);
  - income coverage: annualised inflows here / declared annual income, full at ``coverage_full``;
    not applied without a declared income;
  - bills: share of the window's months with bill payments, full at ``bills_months_needed`` months;

  history: the months with a snapshot since ``acquired_on``; below ``min_history_months`` only a
  salary credit is judged (a first, partial month says nothing else). ``main_bank_likely`` when the
  score ≥ ``main_bank_threshold``; ``money_elsewhere_estimate`` is the declared annual income not seen
  flowing in here: max(0, income - 12 × average monthly inflow);

* **merchant-like cash flows** ``merchant_score`` 0-100: receiving, not spending. Receipts (inflow
  other than salary, median month) and turnover (receipts / average AUM) are the evidence; the
  transactions a month, large transactions and how balanced money in and out is count only as far as
  that evidence is there; ``merchant_like`` when the score ≥ ``merchant_threshold``;

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
VALUE_BAND = "value band"
RECEIVING_PARTS = ("turnover", "receipts")
# what peers are compared on by default: name -> (categories, subcategories)
PEER_PRODUCTS = {
	"Time Deposit": ((), ("Time Deposit",)),
	"Wealth Management or Fund": (("Wealth Management", "Fund"), ()),
	"Insurance": (("Insurance",), ()),
	"Credit Card": ((), ("Credit Card",)),
	"Payroll": (("Payroll",), ()),
	"Digital": (("Digital",), ()),
}

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
	"merchant_like": "Merchant-like cash flows: {receipts} received a month, {turnover_times} times the balance",
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
	"receipts_per_month",
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
	# peers: the customer's group (peer_keys) within a value band, broader when too few
	peer_share: float = 0.5  # a product held by at least this share of peers
	min_peers: int = 30  # a peer set with fewer other customers falls back to the next broader one
	# peers' AUM within ÷ value_band .. × value_band of the customer's, both + value_offset (so that
	# balances near zero are compared with each other, not by their ratio)
	value_band: float = 3.0
	value_offset: float = 1_000.0
	# what peers are compared on: name -> (categories, subcategories); held when any product of one of
	# them is held. A debit card comes with every account, so the card is the Credit Card; deposits
	# are compared on Time Deposit (everyone has a demand deposit); loans are left out (they follow a
	# credit decision, not a need alone)
	peer_products: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
		default_factory=lambda: dict(PEER_PRODUCTS)
	)
	# main account
	salaried_occupations: tuple[str, ...] = ("Salaried", "Civil Servant", "Retired")
	main_weights: Mapping[str, float] = field(
		default_factory=lambda: {"salary": 0.5, "coverage": 0.35, "bills": 0.15}
	)
	coverage_full: float = 0.8  # inflows here covering 80% of the declared income count fully
	bills_months_needed: int = 2
	main_bank_threshold: float = 50.0
	# months of history here (snapshots since the customer was acquired) below which only a salary
	# credit is judged: coverage and bills of a first, partial month say nothing yet
	min_history_months: int = 2
	# merchant-like: receiving, not spending. (start, full) ramps and weights; the receiving parts
	# (turnover, receipts) are the evidence, the others count only as far as they are there
	merchant_ramps: Mapping[str, tuple[float, float]] = field(
		default_factory=lambda: {
			"turnover": (1.0, 3.0),  # monthly receipts / average AUM
			"receipts": (10_000.0, 60_000.0),  # monthly receipts: inflow other than salary (median month)
			"txn": (30.0, 100.0),  # transactions a month (an upper bound on the collections)
			"large_txn": (2.0, 8.0),  # large transactions a month
			"balance": (0.5, 0.9),  # min(in, out) / max(in, out): money passes through
		}
	)
	merchant_weights: Mapping[str, float] = field(
		default_factory=lambda: {
			"turnover": 0.4,
			"receipts": 0.2,
			"txn": 0.2,
			"large_txn": 0.15,
			"balance": 0.05,
		}
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
		if self.value_band <= 1:
			raise ValueError("value_band must be above 1")
		if self.min_history_months < 1:
			raise ValueError("min_history_months must be at least 1")
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
	peer_keys: tuple[str, ...] = ("bank_customer_group",),
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
	# receipts: money received other than salary (or pension), in the median month with data, so that
	# one large transfer in (a house sold, a deposit moved here) is not a trade
	receipts_months = np.where(
		np.isnan(values["inflow"]),
		np.nan,
		np.maximum(values["inflow"] - np.nan_to_num(values["salary_credit"]), 0.0),
	)
	receipts = np.full(n, np.nan)
	if has_flows.any():
		receipts[has_flows] = np.nanmedian(receipts_months[has_flows], axis=1)

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
	# months of history here in the window: months with a snapshot, from the month of acquisition on
	history = present.copy()
	if "acquired_on" in customers and present.shape[1]:
		acquired = pd.to_datetime(column("acquired_on"), errors="coerce")
		end_month = as_of.year * 12 + as_of.month
		months_back = (end_month - (acquired.dt.year * 12 + acquired.dt.month)).fillna(10**6).to_numpy()
		ago = np.arange(present.shape[1] - 1, -1, -1)[None, :]  # months before as_of, per column
		history &= ago <= months_back[:, None]
	history_months = history.sum(axis=1)
	short_history = history_months < params.min_history_months
	salary_needed = np.clip(history_months, 1, params.salary_months_needed)

	# ---------------------------------------------------------------- rules
	demand = sub_balance(params.demand_deposit_subcategories)
	wealth_cols = [categories.index(c) for c in params.wealth_categories if c in categories]
	wealth_balance = balance_cat[:, wealth_cols].sum(axis=1) if wealth_cols else np.zeros(n)
	salary_here = (salary_months >= salary_needed) | holds_cat(params.payroll_categories)
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
	# the products compared: held when any product of their categories or subcategories is held
	item_names = list(params.peer_products)
	held_item = np.zeros((n, len(item_names)), dtype=bool)
	for j, item in enumerate(item_names):
		cats, subs = params.peer_products[item]
		held_item[:, j] = holds_cat(cats) | holds_sub(subs)
	keys = [k for k in peer_keys if k in customers]
	group = (
		customers[keys]
		.astype(object)
		.where(customers[keys].notna(), "")
		.groupby(keys, sort=False)
		.ngroup()
		.to_numpy(dtype=np.int64)
		if keys
		else np.zeros(n, dtype=np.int64)
	)
	value = np.log(np.maximum(np.nan_to_num(aum), 0.0) + params.value_offset)
	half_width = np.log(params.value_band)
	everyone = np.zeros(n, dtype=np.int64)
	# from the closest peers to the broadest: group within the value band, the group, everyone within
	# the value band, everyone; the first with at least min_peers others is used
	key_name = "+".join(keys)
	levels = [(group, half_width, f"{key_name}+{VALUE_BAND}"), (group, None, key_name)] if keys else []
	levels += [(everyone, half_width, VALUE_BAND), (everyone, None, POPULATION)]
	share = np.zeros((n, len(item_names)))
	basis = np.full(n, None, dtype=object)
	decided = np.zeros(n, dtype=bool)
	for codes, width, name in levels:
		level_share, others = _leave_one_out(held_item, codes, value, width)
		take = ~decided & (others >= params.min_peers)
		share[take] = level_share[take]
		basis[take] = name
		decided |= take
	# not even the population has min_peers others: no peer comparison at all (share 0, basis None)
	peer_gap = (share >= params.peer_share) & ~held_item
	peer_gap_count = peer_gap.sum(axis=1)
	gap_share = np.where(peer_gap, share, -1.0)
	top = np.argmax(gap_share, axis=1) if len(item_names) else np.zeros(n, dtype=np.int64)
	names = np.array(item_names, dtype=object)
	peer_top = np.where(peer_gap_count > 0, names[top] if len(item_names) else None, None)
	peer_top_share = (
		np.where(peer_gap_count > 0, np.round(gap_share[np.arange(n), top] * 100, 1), np.nan)
		if len(item_names)
		else np.full(n, np.nan)
	)
	peer_text = pd.Series("", index=range(n), dtype=object)
	for c, name in enumerate(item_names):
		if peer_gap[:, c].any():
			peer_text = peer_text + np.where(peer_gap[:, c], ", " + name, "")
	peer_text = peer_text.str.slice(2)

	# ---------------------------------------------------------------- main account
	w = params.main_weights
	judged = history_months > 0  # a snapshot in the window since the customer came: something to go by
	coverage = np.full(n, np.nan)
	np.divide(avg_inflow * 12.0, income, out=coverage, where=~np.isnan(income) & has_flows)
	coverage = np.where(~np.isnan(income) & has_flows, coverage, np.nan)
	coverage_part = np.where(np.isnan(coverage), np.nan, np.clip(coverage / params.coverage_full, 0, 1))
	# salary: 1 when credited here (in as many months as the history allows); 0 only for an occupation
	# paid by salary or pension whose income is not seen coming in here some other way; otherwise (a
	# fee-paid professional, a business owner, a customer too new for a first pay day) not judged
	salaried = salary_months >= salary_needed
	expected_salary = np.isin(occupation, list(params.salaried_occupations))
	income_seen = coverage_part >= 1.0  # NaN compares False
	salary_part = np.where(
		salaried, 1.0, np.where(expected_salary & ~income_seen & ~short_history, 0.0, np.nan)
	)
	bills_needed = np.clip(history_months, 1, params.bills_months_needed)
	bills_part = np.clip(bill_months / bills_needed, 0, 1)
	# a short history (a first, often partial month): coverage and bills say nothing yet
	coverage_part = np.where(short_history, np.nan, coverage_part)
	bills_part = np.where(short_history, np.nan, bills_part)
	parts = np.column_stack([salary_part, coverage_part, bills_part])
	parts[~judged] = np.nan
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
	# receiving, not spending: many collections and turnover far above the balance. Turnover and
	# receipts are the evidence; transactions, large transactions and money passing through count only
	# as far as that evidence is there (spending alone never makes a merchant)
	balance_held = np.where(np.isnan(aum_mean), aum, aum_mean)
	turnover = np.full(n, np.nan)
	np.divide(receipts, balance_held, out=turnover, where=(balance_held > 0) & has_flows)
	turnover = np.where(
		(balance_held > 0) & has_flows, turnover, np.where(has_flows & (receipts > 0), np.inf, np.nan)
	)
	flow_balance = np.full(n, np.nan)
	bigger = np.maximum(inflow_total, outflow_total)
	np.divide(np.minimum(inflow_total, outflow_total), bigger, out=flow_balance, where=bigger > 0)
	flow_balance = np.where(bigger > 0, flow_balance, np.nan)
	mr, mw = params.merchant_ramps, params.merchant_weights
	merchant_parts = {
		"turnover": _ramp(np.where(np.isinf(turnover), mr["turnover"][1], turnover), *mr["turnover"]),
		"receipts": _ramp(receipts, *mr["receipts"]),
		"txn": _ramp(txn_per_month, *mr["txn"]),
		"large_txn": _ramp(large_per_month, *mr["large_txn"]),
		"balance": _ramp(flow_balance, *mr["balance"]),
	}
	receiving_weight = sum(mw.get(k, 0.0) for k in RECEIVING_PARTS)
	receiving = (
		sum(merchant_parts[k] * mw.get(k, 0.0) for k in RECEIVING_PARTS) / receiving_weight
		if receiving_weight
		else np.ones(n)
	)
	total_weight = sum(mw.values()) or 1.0
	merchant_score = (
		(
			sum(merchant_parts[k] * mw.get(k, 0.0) for k in RECEIVING_PARTS)
			+ receiving
			* sum(merchant_parts[k] * mw.get(k, 0.0) for k in merchant_parts if k not in RECEIVING_PARTS)
		)
		* 100.0
		/ total_weight
	)
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
		receipts_per_month=np.round(receipts, 2),
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


def _leave_one_out(
	held: np.ndarray, group: np.ndarray, value: np.ndarray | None = None, half_width: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
	"""Per customer and column of ``held``: the share of the OTHER members of their group that hold
	it, and how many others there are. With ``half_width``, the members are those of the group whose
	``value`` lies within ± half_width of the customer's (a window sliding with the customer)."""
	n, k = held.shape
	if n == 0:
		return np.zeros(held.shape), np.zeros(0, dtype=np.int64)
	if half_width is None:
		groups = int(group.max()) + 1
		counts = np.bincount(group, minlength=groups)
		sums = (
			np.column_stack([np.bincount(group, weights=held[:, c], minlength=groups) for c in range(k)])
			if k
			else np.zeros((groups, 0))
		)
		members, totals = counts[group], sums[group]
	else:
		# sort by (group, value); each customer's window is a run of that order, found by binary search
		order = np.lexsort((value, group))
		g, v = group[order], value[order]
		key = np.column_stack([g, v])
		lo = _search(key, group, value - half_width, "left")
		hi = _search(key, group, value + half_width, "right")
		cumulative = np.vstack([np.zeros((1, k)), np.cumsum(held[order], axis=0, dtype=np.float64)])
		members = hi - lo
		totals = cumulative[hi] - cumulative[lo]
	others = members - 1
	share = np.zeros(held.shape)
	np.divide(totals - held, others[:, None], out=share, where=others[:, None] > 0)
	return share, others


def _search(sorted_key: np.ndarray, group: np.ndarray, value: np.ndarray, side: str) -> np.ndarray:
	"""Positions of (group, value) in rows sorted by (group, value)."""
	g, v = sorted_key[:, 0], sorted_key[:, 1]
	start = np.searchsorted(g, group, "left")
	end = np.searchsorted(g, group, "right")
	# values within each group are sorted: shift them by the group's rank so one search finds them
	span = (np.nanmax(v) - np.nanmin(v) + 1.0) if len(v) else 1.0
	shifted = (v - np.nanmin(v)) + g * span * 2
	target = (value - np.nanmin(v)) + group * span * 2
	return np.clip(np.searchsorted(shifted, target, side), start, end)


# ---------------------------------------------------------------- words


def _money(values) -> pd.Series:
	return pd.Series(values, dtype=float).fillna(0).round(0).map("{:,.0f}".format)


def _whole(values) -> pd.Series:
	return pd.Series(np.nan_to_num(np.asarray(values, dtype=float)).round().astype(np.int64).astype(str))


def _times(values) -> pd.Series:
	"""A ratio as words: one decimal below 10, whole above, "100+" when there is no balance."""
	ratio = pd.Series(np.asarray(values, dtype=float))
	return pd.Series(
		np.where(
			np.isinf(ratio),
			"100+",
			np.where(
				ratio < 10,
				ratio.fillna(0).round(1).map("{:,.1f}".format),
				ratio.fillna(0).round(0).map("{:,.0f}".format),
			),
		),
		dtype=object,
	)


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
		"receipts": lambda: _money(rows["receipts_per_month"].to_numpy()),
		"turnover_times": lambda: _times(rows["turnover_ratio"].to_numpy()),
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
	"receipts_per_month",
	"turnover_ratio",
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
