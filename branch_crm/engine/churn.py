"""Churn early warning (流失预警): a 0-100 risk score per customer from signals measured against the
customer's OWN past, with the top reasons in plain words.

Windows (months, the last one being the month of ``as_of``)::

	|<--------- baseline_months --------->|<--- recent_months --->|
	                                                          as_of month

Signals, each turned into a sub-score between 0 and 1 by a linear ramp ``(start, full)``: 0 at or
below ``start``, 1 at or above ``full`` (``ChurnParameters.ramps``):

* ``aum_drop``: AUM in the latest month with data vs the baseline average, as a fall in %, less what
  matured deposits explain, the part no net outflow explains (market value down) counted at
  ``unexplained_fall_weight``;
* ``net_outflow``: (outflow - inflow) over the recent window less the matured principal, as a share
  of the baseline AUM;
* ``txn_drop``: fall of the monthly transaction count, recent vs baseline (see "Persistence");
* ``login_drop``: the same for digital logins;
* ``reply_drop``: rise of the share of contacts that got no reply ("No Answer") or were declined,
  recent vs baseline (contact logs: customer, contact_time, outcome);
* ``complaints_up``: complaints in the recent window above what the baseline rate expects;
* ``satisfaction_drop``: points satisfaction fell (``engine.feedback.satisfaction_measure``): the
  latest score asked after a contact below 3, or the last 90 days' average below the year before's
  (``feedback=``, answered requests: customer, answered_on, score).

They measure the four warning signs of seed 004 (``CHURN_SIGNS``): balance outflow (aum_drop,
net_outflow), transaction frequency (txn_drop), engagement (login_drop, reply_drop) and complaints
(complaints_up, satisfaction_drop). The seed names them as independent signs, and a customer who leaves often shows
only one of them (moves the money out but still pays bills with the card; stops transacting with
the balance left in a time deposit), so the score lets each sign raise the band on its own:

	strength of a signal  g = sub-score × weight / the largest weight      (0..1)
	strength of a sign    G = the strongest of its signals                   (two views of one sign
	                                                                          do not add up)
	churn_score = 100 × (1 − Π over the signs (1 − G))                       ("noisy-OR")

A sign at full strength alone gives 100, strong enough alone (G ≥ 0.7) High; two signs half-way
give 75 (High): the signs add up, each with less than it would add alone, and the score stays
at most 100; a sign below its ramp's start adds nothing, so noise stays Low. Why not the weighted
sum it replaces: with weights adding up to 100 no sign could pass a High threshold of 70 alone (AUM
signals topped out at 45, activity at 39), so a customer had to leave in every way at once. Bands: High ≥
``high_threshold``, Medium ≥ ``medium_threshold``, else Low.

Explained outflows (``holdings``): a deposit or wealth product maturing in the recent window and
withdrawn is not churn. Its principal (the holding's balance; for a holding closed with no balance,
the AUM that left in the month it matured) is taken off the AUM fall and the net outflow, and the
reason ``maturity_explained`` says how much. An AUM fall that no net outflow explains (investments
losing value) counts at ``unexplained_fall_weight`` (0.3).

Persistence: seed 004 speaks of balances flowing out *and not topped up* and of a customer who has
not transacted *for a long time*. A balance fall not yet seen the month before the latest (a dip, a
large payment) counts at ``single_month_weight`` (0.35): alone it stays Low, and counts fully the
month after if the money stays out. Activity counts (transactions, logins) fall on the recent
average, or on the last two months when both are down (see ``_activity_change``), never further
than the latest month (a holiday lull that is over does not count), less ``chance_allowance``
standard errors of a Poisson count (a customer with 4 transactions a month has a month of 2 by
chance).

Missing data, the choices made:

* a month without a snapshot is MISSING, not zero: averages run over the months that have data and
  a window sum is that average times the window length (a customer whose data skips a month does not
  look as if activity fell to zero);
* a customer with fewer than ``min_history_months`` months of data in the baseline + recent window,
  or no data in either window, gets no score (``churn_score`` NaN, ``churn_band`` None,
  ``has_score`` False) and the reason "not enough history" / "no recent data";
* a signal without data for one customer (no contacts in a window, no logins to fall from, a
  baseline below the ``min_baseline_*`` floors) is neutral: sub-score 0;
* a signal without data for anyone (no contact logs passed, a snapshot column absent) is left out
  (strength 0); the weights are divided by the largest weight still measured, so the score keeps its
  0-100 range.

Reasons: the top ``top_reasons`` signals, the strongest signal of each sign first (by strength),
then the others that fired; ties in the order of ``CHURN_SIGNALS``; ``maturity_explained`` last
when maturities were discounted. The score is rounded to one decimal, so equal inputs give equal
scores and bands.

Everything is vectorised over customers × months matrices (``SnapshotMatrices``); a long snapshot
frame is pivoted into them first. A million customers score in seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from branch_crm.engine.feedback import satisfaction_measure
from branch_crm.engine.recompute import rows_that_differ
from branch_crm.engine.text import format_columns, item_separator, template_fields

CHURN_SIGNALS = (
	"aum_drop",
	"net_outflow",
	"txn_drop",
	"login_drop",
	"reply_drop",
	"complaints_up",
	"satisfaction_drop",
)
# snapshot columns the score reads
CHURN_SNAPSHOT_COLUMNS = ("aum", "inflow", "outflow", "txn_count", "digital_logins", "complaints")
BANDS = ("High", "Medium", "Low")
NO_SCORE = "No Score"
VALUE_CLASS_ORDER = ("MVC", "MGC", "Standard", "BZC")
NO_VALUE = "(none)"

# the four warning signs of seed 004 and the signals that measure each
CHURN_SIGNS = {
	"balance": ("aum_drop", "net_outflow"),
	"activity": ("txn_drop",),
	"engagement": ("login_drop", "reply_drop"),
	# seed 004's fourth sign: complaints, and satisfaction asked after contacts falling
	"complaints": ("complaints_up", "satisfaction_drop"),
}
# how much a signal at full strength counts, relative to the largest weight: 1 = alone it gives a
# score of 100; the reply rate alone (a few contacts a quarter) is weaker evidence than logins
DEFAULT_WEIGHTS = {
	"aum_drop": 1.0,
	"net_outflow": 1.0,
	"txn_drop": 1.0,
	"login_drop": 1.0,
	"reply_drop": 0.6,
	"complaints_up": 1.0,
	# a latest answer of 1 or 2 out of 5, or an average a point or two below the year before: one
	# answer is weaker evidence than a complaint, so alone it reaches Medium, not High
	"satisfaction_drop": 0.6,
}
# (start, full): the measure at which a signal starts to count and where it counts fully
DEFAULT_RAMPS = {
	"aum_drop": (0.10, 0.50),  # AUM down 10% .. 50%
	"net_outflow": (0.10, 0.50),  # net outflow of 10% .. 50% of the baseline AUM
	"txn_drop": (0.25, 0.60),  # transactions down 25% .. 60%
	"login_drop": (0.30, 0.75),  # logins down 30% .. 75%
	"reply_drop": (0.10, 0.60),  # no-reply share up 10 .. 60 points
	# 1 .. 2 complaints more than the baseline rate expects: one complaint alone is everyday noise,
	# two in a quarter from a customer who did not complain is a sign on its own
	"complaints_up": (1.0, 2.0),
	# points fallen (engine.feedback.satisfaction_measure): 3 - the latest score, or the average
	# of the last 90 days below that of the year before; 0 .. 2 points
	"satisfaction_drop": (0.0, 2.0),
}

RESULT_COLUMNS = (
	"customer",
	"churn_score",
	"churn_band",
	"has_score",
	"reason_codes",
	*(f"{signal}_score" for signal in CHURN_SIGNALS),
	"history_months",
	"aum_baseline",
	"aum_latest",
	"aum_change_pct",
	"net_outflow",
	"net_outflow_pct",
	"matured_amount",
	"txn_baseline",
	"txn_recent",
	"txn_change_pct",
	"logins_baseline",
	"logins_recent",
	"login_change_pct",
	"contacts_recent",
	"no_reply_recent_pct",
	"no_reply_baseline_pct",
	"complaints_recent",
	"complaints_expected",
	"sat_latest",
	"sat_recent",
	"sat_prior",
)

CHURN_REASON_TEMPLATES = {
	"aum_drop": "AUM down {pct}% over {months} months (from {from_amount} to {to_amount})",
	"net_outflow": "Net outflow of {amount} in {months} months ({pct}% of usual AUM)",
	"txn_drop": "Transactions down {pct}% ({recent} a month against {baseline} before)",
	"login_drop": "Digital logins down {pct}% ({recent} a month against {baseline} before)",
	"reply_drop": "No reply to {recent_pct}% of contacts in {months} months against {baseline_pct}% before",
	"complaints_up": "{count} complaints in {months} months against {expected} expected",
	"satisfaction_drop": "Satisfaction falling: latest score {latest} of 5, {recent} on average in the last 90 days against {prior} in the year before",
	"maturity_explained": "{matured_amount} of deposits and wealth products matured in the last {months} months: not counted as churn",
	"no_signal": "No warning signs against the customer's own past",
	"not_enough_history": "Not enough history: {history} of {needed} months of data",
	"no_recent_data": "No data in the last {months} months",
}


@dataclass(frozen=True)
class ChurnParameters:
	"""Weights per signal (any scale: divided by the largest measured weight, a signal of the
	largest weight at full strength alone gives 100), ramps per signal, the windows, the band
	thresholds, the floors below which a signal is not measured and how explained or unconfirmed
	balance falls are discounted."""

	weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
	ramps: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_RAMPS))
	baseline_months: int = 6
	recent_months: int = 3
	min_history_months: int = 6
	high_threshold: float = 70.0
	medium_threshold: float = 40.0
	top_reasons: int = 3
	min_baseline_aum: float = 1_000.0  # CNY: AUM signals are not measured below it
	min_baseline_txn: float = 2.0  # transactions a month
	min_baseline_logins: float = 2.0  # logins a month
	min_contacts: int = 1  # contacts needed in each window for the reply signal
	# standard errors of a count's month-to-month chance not counted in its fall (a customer with
	# 4 transactions a month has one month of 2 by chance; one with 40 does not have one of 20)
	chance_allowance: float = 0.5
	non_reply_outcomes: tuple[str, ...] = ("No Answer", "Reached - Declined")
	# an AUM fall no net outflow explains (investments losing value) counts at this share
	unexplained_fall_weight: float = 0.3
	# the part of a balance fall seen in the latest month only counts at this share (a dip refilled
	# next month is not churn; a fall that lasts counts fully a month later)
	single_month_weight: float = 0.35
	# holdings of these product categories maturing in the recent window explain outflows
	maturing_categories: tuple[str, ...] = ("Deposit", "Wealth Management")
	# value × risk: retention follow-ups go to High-band customers of these value classes
	high_value_classes: tuple[str, ...] = ("MVC",)
	value_weights: Mapping[str, float] = field(
		default_factory=lambda: {"MVC": 1.0, "MGC": 0.8, "Standard": 0.5, "BZC": 0.2}
	)
	default_value_weight: float = 0.5  # no value class yet

	def __post_init__(self):
		unknown = (set(self.weights) | set(self.ramps)) - set(CHURN_SIGNALS)
		if unknown:
			raise ValueError(f"unknown churn signals {sorted(unknown)}; known: {', '.join(CHURN_SIGNALS)}")
		if any(float(w) < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
			raise ValueError("churn signal weights must be non-negative and not all zero")
		for signal, (start, full) in self.ramps.items():
			if not full > start:
				raise ValueError(f"the ramp of {signal} must end above where it starts")
		if self.baseline_months < 1 or self.recent_months < 1:
			raise ValueError("baseline_months and recent_months must be at least 1")
		if not 1 <= self.min_history_months <= self.baseline_months + self.recent_months:
			raise ValueError("min_history_months must lie between 1 and baseline_months + recent_months")
		if not 0 <= self.medium_threshold <= self.high_threshold <= 100:
			raise ValueError("band thresholds must satisfy 0 <= medium <= high <= 100")
		if self.top_reasons < 1:
			raise ValueError("top_reasons must be at least 1")
		if self.chance_allowance < 0:
			raise ValueError("chance_allowance must not be negative")
		if not (0 <= self.unexplained_fall_weight <= 1 and 0 <= self.single_month_weight <= 1):
			raise ValueError("unexplained_fall_weight and single_month_weight must lie between 0 and 1")

	@property
	def window_months(self) -> int:
		return self.baseline_months + self.recent_months

	def weight(self, signal: str) -> float:
		return float(self.weights.get(signal, 0.0))

	def ramp(self, signal: str) -> tuple[float, float]:
		return tuple(self.ramps.get(signal, DEFAULT_RAMPS[signal]))


# ---------------------------------------------------------------- customers × months matrices


@dataclass
class SnapshotMatrices:
	"""Snapshots as customers × months float arrays, oldest month first, NaN where a customer has no
	snapshot that month. ``present`` marks the customer-months that have a snapshot row (by default
	where ``aum`` is not NaN). Build one with ``from_long`` or directly from arrays (the fast path)."""

	customers: pd.Index
	months: pd.DatetimeIndex
	values: dict[str, np.ndarray]
	present: np.ndarray | None = None

	def __post_init__(self):
		self.customers = pd.Index(self.customers)
		self.months = pd.DatetimeIndex(self.months).to_period("M").to_timestamp()
		shape = (len(self.customers), len(self.months))
		for name, matrix in self.values.items():
			if matrix.shape != shape:
				raise ValueError(f"matrix {name} has shape {matrix.shape}, expected {shape}")
		if self.present is None:
			base = self.values.get("aum")
			if base is None:
				base = next(iter(self.values.values()), np.full(shape, np.nan))
			self.present = ~np.isnan(base)

	@classmethod
	def from_long(
		cls,
		snapshots: pd.DataFrame,
		*,
		months: pd.DatetimeIndex | None = None,
		customers: pd.Index | None = None,
		columns=CHURN_SNAPSHOT_COLUMNS,
	) -> SnapshotMatrices:
		"""Pivot a long frame (customer, month, columns...) into matrices. ``months`` defaults to every
		month from the first to the last snapshot, ``customers`` to those in the frame in order of first
		appearance. Snapshots outside them are ignored; a duplicate customer-month keeps the last row.
		A column absent from the frame becomes all NaN (its signal is then left out)."""
		month = pd.to_datetime(snapshots["month"]).to_numpy().astype("datetime64[M]")
		if months is None:
			if len(month):
				first, last = month.min(), month.max()
				months = pd.DatetimeIndex(np.arange(first, last + 1).astype("datetime64[ns]"))
			else:
				months = pd.DatetimeIndex([])
		months = pd.DatetimeIndex(months).to_period("M").to_timestamp()
		if customers is None:
			rows, uniques = pd.factorize(snapshots["customer"])
			customers = pd.Index(uniques)
		else:
			customers = pd.Index(customers)
			rows = customers.get_indexer(snapshots["customer"])
		shape = (len(customers), len(months))
		first_month = months.to_numpy().astype("datetime64[M]")[0] if len(months) else np.datetime64(0, "M")
		cols = (month - first_month).astype(np.int64)
		keep = (rows >= 0) & (cols >= 0) & (cols < shape[1])
		r, c = rows[keep], cols[keep]
		present = np.zeros(shape, dtype=bool)
		present[r, c] = True
		values = {}
		for name in columns:
			matrix = np.full(shape, np.nan)
			if name in snapshots:
				data = pd.to_numeric(snapshots[name], errors="coerce").to_numpy(dtype=np.float64)
				matrix[r, c] = data[keep]
			values[name] = matrix
		return cls(customers, months, values, present)

	def window(self, as_of: dt.date, length: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
		"""The ``length`` months ending with the month of ``as_of``: each matrix and ``present``
		sliced to them, months outside the matrices as NaN / not present."""
		end = pd.Timestamp(as_of).to_period("M").to_timestamp()
		wanted = pd.date_range(end=end, periods=length, freq="MS")
		position = self.months.get_indexer(wanted)
		if (position >= 0).all() and (np.diff(position) == 1).all():
			sl = slice(int(position[0]), int(position[-1]) + 1)
			return {k: v[:, sl] for k, v in self.values.items()}, self.present[:, sl]
		n = len(self.customers)
		take = np.where(position >= 0, position, 0)
		values = {}
		for name, matrix in self.values.items():
			out = matrix[:, take] if len(self.months) else np.full((n, length), np.nan)
			out[:, position < 0] = np.nan
			values[name] = out
		present = self.present[:, take] if len(self.months) else np.zeros((n, length), dtype=bool)
		present[:, position < 0] = False
		return values, present


# ---------------------------------------------------------------- scoring


def _mean(matrix: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
	"""Row means over the cells with data (present and not NaN), and how many there were."""
	valid = present & ~np.isnan(matrix)
	count = valid.sum(axis=1)
	total = np.where(valid, matrix, 0.0).sum(axis=1)
	mean = np.full(len(matrix), np.nan)
	np.divide(total, count, out=mean, where=count > 0)
	return mean, count


def _last_column(valid: np.ndarray) -> np.ndarray:
	"""The column of each row's last True (the last column for a row with none)."""
	return valid.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)


def _last(matrix: np.ndarray, present: np.ndarray) -> np.ndarray:
	"""The last value with data in each row, NaN when there is none."""
	valid = present & ~np.isnan(matrix)
	if matrix.shape[1] == 0:
		return np.full(len(matrix), np.nan)
	out = matrix[np.arange(len(matrix)), _last_column(valid)]
	return np.where(valid.any(axis=1), out, np.nan)


def _before_last(matrix: np.ndarray, present: np.ndarray) -> np.ndarray:
	"""The value with data before the last one in each row, NaN when there is none."""
	valid = present & ~np.isnan(matrix)
	if matrix.shape[1] == 0:
		return np.full(len(matrix), np.nan)
	earlier = np.arange(matrix.shape[1])[None, :] < _last_column(valid)[:, None]
	return _last(matrix, valid & earlier)


def _activity_change(
	recent: np.ndarray, present: np.ndarray, baseline: np.ndarray, floor: float, allowance: float
) -> np.ndarray:
	"""The change of an activity count the score uses (negative: a fall), against the baseline: the
	recent average, or the average of the last two months when both are down (a fall under way for
	two months counts at its depth now, not diluted by the month before it began), no deeper than
	twice the smaller of the two (one month's lull does not make a two-month fall), and never deeper
	than the latest month (a lull that is over does not count). Counts are noisy, the more so the
	fewer a month: ``allowance`` standard errors of a Poisson count over the months averaged are
	put down to chance and not counted."""
	average, count = _mean(recent, present)
	average = _ratio_change(average, baseline, floor)
	latest = _ratio_change(_last(recent, present), baseline, floor)
	before = _ratio_change(_before_last(recent, present), baseline, floor)
	two_months = np.maximum((latest + before) / 2, 2 * np.maximum(latest, before))
	# relative standard error of one month's count; NaN where the baseline is below the floor
	chance = allowance / np.sqrt(np.where(baseline >= floor, baseline, np.nan))
	average = average + chance / np.sqrt(np.maximum(count, 1))
	two_months = two_months + chance / np.sqrt(2)
	return np.fmax(np.fmin(average, two_months), latest + chance)


def _matured_principal(
	holdings: pd.DataFrame | None,
	customers: pd.Index,
	as_of: dt.date,
	params: ChurnParameters,
	aum: np.ndarray,
) -> np.ndarray:
	"""Per customer: the principal of the holdings of ``params.maturing_categories`` (column
	``category`` or ``product_category``; every holding when there is neither) maturing in the recent
	window. A holding's principal is its balance; one closed at maturity with no balance left counts
	the AUM that left in the month it matured (``aum``: the window's AUM matrix)."""
	n = len(customers)
	if holdings is None or holdings.empty:
		return np.zeros(n)
	rows = customers.get_indexer(holdings["customer"])
	matures = pd.to_datetime(holdings["matures_on"], errors="coerce").dt.to_period("M")
	ordinal = np.where(matures.notna(), matures.array.asi8, np.iinfo(np.int64).min)
	age = pd.Timestamp(as_of).to_period("M").ordinal - ordinal  # 0 = the as_of month
	keep = (rows >= 0) & matures.notna().to_numpy() & (age >= 0) & (age < params.recent_months)
	category = next((c for c in ("category", "product_category") if c in holdings), None)
	if category is not None:
		keep &= holdings[category].isin(params.maturing_categories).to_numpy()
	if not keep.any():
		return np.zeros(n)
	rows, age = rows[keep], age[keep]
	balance = pd.to_numeric(holdings["balance"], errors="coerce").to_numpy(dtype=float)[keep]
	column = params.window_months - 1 - age  # in the recent window, so column - 1 is in the window
	left = np.maximum(aum[rows, column - 1] - aum[rows, column], 0.0)
	principal = np.where(balance > 0, balance, np.nan_to_num(left))
	return np.bincount(rows, weights=principal, minlength=n)


def _ramp(value: np.ndarray, start: float, full: float) -> np.ndarray:
	"""0 at or below ``start``, 1 at or above ``full``, linear between; NaN (not measured) is 0."""
	out = np.clip((value - start) / (full - start), 0.0, 1.0)
	return np.nan_to_num(out, nan=0.0)


def _ratio_change(recent: np.ndarray, baseline: np.ndarray, floor: float) -> np.ndarray:
	"""recent / baseline - 1 where the baseline reaches ``floor``, else NaN."""
	out = np.full(len(recent), np.nan)
	ok = (baseline >= floor) & ~np.isnan(recent)
	np.divide(recent, baseline, out=out, where=ok)
	return np.where(ok, out - 1.0, np.nan)


def _contact_counts(
	contacts: pd.DataFrame, customers: pd.Index, as_of: dt.date, params: ChurnParameters
) -> dict[str, np.ndarray]:
	"""Per customer: contacts and no-replies in the baseline and the recent window."""
	n = len(customers)
	end = pd.Timestamp(as_of).to_period("M").ordinal
	month = pd.to_datetime(contacts["contact_time"], errors="coerce").dt.to_period("M")
	ordinal = month.array.asi8 if len(month) else np.array([], dtype=np.int64)
	age = end - ordinal  # 0 = the as_of month
	row = customers.get_indexer(contacts["customer"])
	known = (row >= 0) & month.notna().to_numpy()
	recent = known & (age >= 0) & (age < params.recent_months)
	baseline = known & (age >= params.recent_months) & (age < params.window_months)
	no_reply = contacts["outcome"].isin(params.non_reply_outcomes).to_numpy()
	return {
		"recent": np.bincount(row[recent], minlength=n),
		"recent_no_reply": np.bincount(row[recent & no_reply], minlength=n),
		"baseline": np.bincount(row[baseline], minlength=n),
		"baseline_no_reply": np.bincount(row[baseline & no_reply], minlength=n),
	}


def score_churn(
	snapshots: pd.DataFrame | SnapshotMatrices,
	contacts: pd.DataFrame | None = None,
	params: ChurnParameters | None = None,
	as_of: dt.date | None = None,
	*,
	customers: pd.Index | list | None = None,
	templates: Mapping[str, str] | None = None,
	render: bool = True,
	measured_signals: Collection[str] | None = None,
	holdings: pd.DataFrame | None = None,
	feedback: pd.DataFrame | None = None,
	feedback_as_of: dt.date | None = None,
) -> pd.DataFrame:
	"""One row per customer: ``RESULT_COLUMNS`` plus ``churn_reasons`` (the top reasons rendered
	with ``templates``, see ``render_churn_reasons``) unless ``render`` is False.

	``measured_signals``: the signals that count (the others are left out, the weights are divided
	by the largest one left); default: those with data for anyone in this call. A job scoring in
	chunks passes what holds for the whole population, so that a customer's score does not depend on
	the chunk they fall in.

	``snapshots``: a long frame (customer, month, aum, inflow, outflow, txn_count, digital_logins,
	complaints) or ``SnapshotMatrices``. ``contacts``: Contact Log rows (customer, contact_time,
	outcome) or None. ``holdings``: product holdings (customer, balance, matures_on and category or
	product_category) or None: those maturing in the recent window explain outflows
	(``matured_amount``, reason ``maturity_explained``); only the maturing rows are needed.
	``as_of``: the last month scored (default: the latest month of the snapshots). ``customers``:
	whom to score with a long frame (default: everyone in it); customers without snapshots get no
	score."""
	params = params or ChurnParameters()
	if isinstance(snapshots, SnapshotMatrices):
		matrices = snapshots
	else:
		if as_of is None:
			as_of = pd.to_datetime(snapshots["month"]).max().date() if len(snapshots) else dt.date.today()
		end = pd.Timestamp(as_of).to_period("M").to_timestamp()
		months = pd.date_range(end=end, periods=params.window_months, freq="MS")
		matrices = SnapshotMatrices.from_long(
			snapshots, months=months, customers=None if customers is None else pd.Index(customers)
		)
	if as_of is None:
		as_of = matrices.months[-1].date() if len(matrices.months) else dt.date.today()
	index = matrices.customers
	n = len(index)
	B, R = params.baseline_months, params.recent_months
	values, present = matrices.window(as_of, params.window_months)
	nan = np.full((n, params.window_months), np.nan)

	def matrix(name: str) -> np.ndarray:
		return values.get(name, nan)

	base_present, recent_present = present[:, :B], present[:, B:]
	history = present.sum(axis=1)
	recent_count = recent_present.sum(axis=1)
	baseline_count = base_present.sum(axis=1)
	has_score = (history >= params.min_history_months) & (recent_count > 0) & (baseline_count > 0)

	measured = {}
	sub = {}
	floor = max(params.min_baseline_aum, 1e-9)
	aum = matrix("aum")
	aum_baseline, _ = _mean(aum[:, :B], base_present)
	aum_latest = _last(aum[:, B:], recent_present)
	aum_change = _ratio_change(aum_latest, aum_baseline, floor)
	aum_ok = aum_baseline >= floor
	measured["aum_drop"] = not np.isnan(aum).all()

	inflow, outflow = matrix("inflow"), matrix("outflow")
	net, _ = _mean(outflow[:, B:] - inflow[:, B:], recent_present)
	net_outflow = net * R
	net_pct = np.full(n, np.nan)
	np.divide(net_outflow, aum_baseline, out=net_pct, where=aum_ok)
	net_pct = np.where(aum_ok, net_pct, np.nan)
	measured["net_outflow"] = not (np.isnan(inflow).all() or np.isnan(outflow).all())

	# explained outflows: matured principal comes off the fall and the net outflow
	matured = _matured_principal(holdings, index, as_of, params, aum)
	fall = np.nan_to_num(np.maximum(aum_baseline - aum_latest, 0.0))
	matured_amount = np.minimum(matured, np.maximum(fall, np.nan_to_num(np.maximum(net_outflow, 0.0))))
	fall_left = np.maximum(fall - matured, 0.0)
	net_left = net_outflow - matured
	# of the fall left, the share money leaving explains counts fully, the rest (market value) less;
	# compared over the recent window, where the net outflow is measured (unknown flows: all of it)
	recent_fall = np.nan_to_num(_last(aum[:, :B], base_present) - aum_latest) - matured
	flow_share = np.ones(n)
	np.divide(net_left, recent_fall, out=flow_share, where=(recent_fall > 0) & ~np.isnan(net_left))
	flow_share = np.clip(flow_share, 0.0, 1.0)
	counted_fall = fall_left * (
		params.unexplained_fall_weight + (1 - params.unexplained_fall_weight) * flow_share
	)
	# a fall not yet visible the month before the latest (a dip, or a move just made) is unconfirmed:
	# the balance signals count at single_month_weight, fully once the month before was already down
	# by the start of the aum_drop ramp
	before = _before_last(aum[:, B:], recent_present)
	before = np.where(np.isnan(before), _last(aum[:, :B], base_present), before)
	fallen_before = np.full(n, np.nan)
	np.divide(aum_baseline - before - matured, aum_baseline, out=fallen_before, where=aum_ok)
	confirmation = np.clip(np.nan_to_num(fallen_before) / max(params.ramp("aum_drop")[0], 1e-9), 0.0, 1.0)
	persistence = np.where(
		fall_left > 0, params.single_month_weight + (1 - params.single_month_weight) * confirmation, 1.0
	)
	drop_share = np.full(n, np.nan)
	np.divide(counted_fall, aum_baseline, out=drop_share, where=aum_ok)
	sub["aum_drop"] = _ramp(np.where(aum_ok, drop_share, np.nan), *params.ramp("aum_drop")) * persistence
	left_share = np.full(n, np.nan)
	np.divide(net_left, aum_baseline, out=left_share, where=aum_ok)
	sub["net_outflow"] = (
		_ramp(np.where(aum_ok, left_share, np.nan), *params.ramp("net_outflow")) * persistence
	)

	txn = matrix("txn_count")
	txn_baseline, _ = _mean(txn[:, :B], base_present)
	txn_recent, _ = _mean(txn[:, B:], recent_present)
	txn_change = _ratio_change(txn_recent, txn_baseline, params.min_baseline_txn)
	# a fall under way for two months counts at its depth now; a lull that is over does not count
	sub["txn_drop"] = _ramp(
		-_activity_change(
			txn[:, B:], recent_present, txn_baseline, params.min_baseline_txn, params.chance_allowance
		),
		*params.ramp("txn_drop"),
	)
	measured["txn_drop"] = not np.isnan(txn).all()

	logins = matrix("digital_logins")
	logins_baseline, _ = _mean(logins[:, :B], base_present)
	logins_recent, _ = _mean(logins[:, B:], recent_present)
	login_change = _ratio_change(logins_recent, logins_baseline, params.min_baseline_logins)
	sub["login_drop"] = _ramp(
		-_activity_change(
			logins[:, B:],
			recent_present,
			logins_baseline,
			params.min_baseline_logins,
			params.chance_allowance,
		),
		*params.ramp("login_drop"),
	)
	measured["login_drop"] = not np.isnan(logins).all()

	complaints = matrix("complaints")
	c_baseline, _ = _mean(complaints[:, :B], base_present)
	c_recent, _ = _mean(complaints[:, B:], recent_present)
	complaints_recent = c_recent * R
	complaints_expected = np.nan_to_num(c_baseline) * R
	sub["complaints_up"] = _ramp(complaints_recent - complaints_expected, *params.ramp("complaints_up"))
	measured["complaints_up"] = not np.isnan(complaints).all()

	# satisfaction answered after contacts and events (engine.feedback), a frame of its own: its
	# dates are days, not snapshot months, and reach up to ``feedback_as_of`` (default: the end of
	# the as_of month)
	satisfaction = satisfaction_measure(
		feedback,
		index,
		feedback_as_of or (pd.Timestamp(as_of) + pd.offsets.MonthEnd(0)).date(),
	)
	sub["satisfaction_drop"] = _ramp(
		satisfaction["sat_fall"].to_numpy(dtype=float), *params.ramp("satisfaction_drop")
	)
	measured["satisfaction_drop"] = feedback is not None and len(feedback) > 0

	contacts_recent = np.zeros(n, dtype=np.int64)
	no_reply_recent = np.full(n, np.nan)
	no_reply_baseline = np.full(n, np.nan)
	measured["reply_drop"] = contacts is not None and len(contacts) > 0
	if contacts is not None and len(contacts) > 0:
		counts = _contact_counts(contacts, index, as_of, params)
		contacts_recent = counts["recent"]
		enough = (counts["recent"] >= max(params.min_contacts, 1)) & (
			counts["baseline"] >= max(params.min_contacts, 1)
		)
		np.divide(counts["recent_no_reply"], counts["recent"], out=no_reply_recent, where=enough)
		np.divide(counts["baseline_no_reply"], counts["baseline"], out=no_reply_baseline, where=enough)
	sub["reply_drop"] = _ramp(no_reply_recent - no_reply_baseline, *params.ramp("reply_drop"))

	if measured_signals is not None:
		unknown = set(measured_signals) - set(CHURN_SIGNALS)
		if unknown:
			raise ValueError(f"unknown churn signals {sorted(unknown)}; known: {', '.join(CHURN_SIGNALS)}")
		measured = {signal: signal in measured_signals for signal in CHURN_SIGNALS}
	weights = np.array([params.weight(s) if measured[s] else 0.0 for s in CHURN_SIGNALS])
	if weights.max() <= 0:  # nothing measured at all: every signal neutral
		weights = np.array([params.weight(s) for s in CHURN_SIGNALS])
	weights = weights / weights.max()
	stack = np.column_stack([sub[s] for s in CHURN_SIGNALS])
	stack[~has_score] = 0.0
	strength = stack * weights
	# a sign is as strong as its strongest signal; the signs combine as independent evidence
	leader = np.zeros_like(strength, dtype=bool)
	sign_strength = []
	for signals in CHURN_SIGNS.values():
		columns = [CHURN_SIGNALS.index(s) for s in signals]
		block = strength[:, columns]
		sign_strength.append(block.max(axis=1))
		leader[np.arange(n)[:, None], np.array(columns)[None, :]] = (
			np.arange(len(columns))[None, :] == np.argmax(block, axis=1)[:, None]
		)
	unlikely = np.prod(1.0 - np.column_stack(sign_strength), axis=1)
	score = np.where(has_score, np.round(100.0 * (1.0 - unlikely), 1), np.nan)
	band = np.select(
		[~has_score, score >= params.high_threshold, score >= params.medium_threshold],
		[None, "High", "Medium"],
		default="Low",
	).astype(object)
	band[~has_score] = None

	# reasons: each sign's strongest signal first, then the others that fired; the maturity last
	explained = has_score & (matured_amount > 0)
	order_key = np.where(strength > 0, strength + 2.0 * leader, 0.0)
	reason_codes = _reason_codes(order_key, params.top_reasons)
	if explained.any():
		fewer = _reason_codes(order_key, params.top_reasons - 1)
		with_maturity = np.where(fewer == "", "maturity_explained", fewer + ",maturity_explained")
		reason_codes = np.where(explained, with_maturity, reason_codes)
	reason_codes = np.where(has_score & (reason_codes == ""), "no_signal", reason_codes)
	short = history < params.min_history_months
	reason_codes = np.where(
		~has_score,
		np.where(short | (baseline_count == 0), "not_enough_history", "no_recent_data"),
		reason_codes,
	)

	def pct(x):
		return np.round(x * 100.0, 1)

	result = pd.DataFrame(
		{
			"customer": index.to_numpy(),
			"churn_score": score,
			"churn_band": band,
			"has_score": has_score,
			"reason_codes": reason_codes.astype(object),
			**{f"{s}_score": np.where(has_score, np.round(sub[s] * 100.0, 1), np.nan) for s in CHURN_SIGNALS},
			"history_months": history.astype(np.int16),
			"aum_baseline": np.round(aum_baseline, 2),
			"aum_latest": np.round(aum_latest, 2),
			"aum_change_pct": pct(aum_change),
			"net_outflow": np.round(net_outflow, 2),
			"net_outflow_pct": pct(net_pct),
			"matured_amount": np.where(has_score, np.round(matured_amount, 2), np.nan),
			"txn_baseline": np.round(txn_baseline, 1),
			"txn_recent": np.round(txn_recent, 1),
			"txn_change_pct": pct(txn_change),
			"logins_baseline": np.round(logins_baseline, 1),
			"logins_recent": np.round(logins_recent, 1),
			"login_change_pct": pct(login_change),
			"contacts_recent": contacts_recent.astype(np.int32),
			"no_reply_recent_pct": pct(no_reply_recent),
			"no_reply_baseline_pct": pct(no_reply_baseline),
			"complaints_recent": np.round(complaints_recent, 1),
			"complaints_expected": np.round(complaints_expected, 1),
			"sat_latest": satisfaction["sat_latest"].to_numpy(),
			"sat_recent": satisfaction["sat_recent"].to_numpy(),
			"sat_prior": satisfaction["sat_prior"].to_numpy(),
		},
		copy=False,
	)
	result.attrs["churn_params"] = params
	if render:
		result["churn_reasons"] = render_churn_reasons(result, templates, params=params)
	return result


def _reason_codes(contribution: np.ndarray, top: int) -> np.ndarray:
	"""Comma-separated codes of the ``top`` signals with the largest positive contribution (ties in
	``CHURN_SIGNALS`` order)."""
	n = len(contribution)
	names = np.array(CHURN_SIGNALS, dtype=object)
	order = np.argsort(-contribution, axis=1, kind="stable")[:, :top]
	taken = np.take_along_axis(contribution, order, axis=1)
	out = pd.Series("", index=np.arange(n), dtype=object)
	for k in range(order.shape[1]):
		code = np.where(taken[:, k] > 0, names[order[:, k]], "")
		if k == 0:
			out = pd.Series(code, dtype=object)
		else:
			out = out + np.where(code != "", "," + code.astype(object), "")
	return out.to_numpy(dtype=object)


# ---------------------------------------------------------------- reasons in words


def _money(values: pd.Series) -> pd.Series:
	return values.astype(float).fillna(0).round(0).map("{:,.0f}".format)


def _whole(values: pd.Series) -> pd.Series:
	return pd.Series(
		np.nan_to_num(values.to_numpy(dtype=float)).round().astype(np.int64).astype(str), index=values.index
	)


def _one_decimal(values: pd.Series) -> pd.Series:
	v = np.nan_to_num(values.to_numpy(dtype=float)).round(1)
	text = pd.Series(v, index=values.index).map("{:g}".format)
	return text


def _score_text(values: pd.Series) -> pd.Series:
	"""Scores out of 5 with one decimal; "-" where there is none."""
	v = values.to_numpy(dtype=float)
	text = pd.Series(np.round(np.nan_to_num(v), 1), index=values.index).map("{:g}".format)
	return text.where(~np.isnan(v), "-")


def _reason_fields(rows: pd.DataFrame, params: ChurnParameters) -> dict:
	"""Placeholder name -> function of the rows giving its text, for every template."""
	const = {
		"months": str(params.recent_months),
		"baseline_months": str(params.baseline_months),
		"needed": str(params.min_history_months),
	}
	return {
		**{name: (lambda value=value: pd.Series(value, index=rows.index)) for name, value in const.items()},
		"from_amount": lambda: _money(rows["aum_baseline"]),
		"to_amount": lambda: _money(rows["aum_latest"]),
		"amount": lambda: _money(rows["net_outflow"]),
		"matured_amount": lambda: _money(rows["matured_amount"]),
		"history": lambda: _whole(rows["history_months"]),
		"recent_pct": lambda: _whole(rows["no_reply_recent_pct"]),
		"baseline_pct": lambda: _whole(rows["no_reply_baseline_pct"]),
		"contacts": lambda: _whole(rows["contacts_recent"]),
		"count": lambda: _whole(rows["complaints_recent"]),
		"expected": lambda: _one_decimal(rows["complaints_expected"]),
		"latest": lambda: _score_text(rows["sat_latest"]),
		"recent": lambda: _score_text(rows["sat_recent"]),
		"prior": lambda: _score_text(rows["sat_prior"]),
	}


# per reason code: pct / recent / baseline mean different columns
_CODE_FIELDS = {
	"aum_drop": {"pct": ("aum_change_pct", -1)},
	"net_outflow": {"pct": ("net_outflow_pct", 1)},
	"txn_drop": {
		"pct": ("txn_change_pct", -1),
		"recent": ("txn_recent", None),
		"baseline": ("txn_baseline", None),
	},
	"login_drop": {
		"pct": ("login_change_pct", -1),
		"recent": ("logins_recent", None),
		"baseline": ("logins_baseline", None),
	},
}


def render_churn_reasons(
	frame: pd.DataFrame,
	templates: Mapping[str, str] | None = None,
	top: int | None = None,
	*,
	params: ChurnParameters | None = None,
	separator: str = "; ",
) -> pd.Series:
	"""The first ``top`` reasons of each row (``reason_codes``) in words, joined by ``separator``.
	``templates`` map reason codes to str.format templates with named placeholders (defaults:
	``CHURN_REASON_TEMPLATES``); the Frappe layer passes translated ones. ``params`` gives the window
	lengths (default: those the frame was scored with). Vectorised per code and position."""
	params = params or frame.attrs.get("churn_params") or ChurnParameters()
	templates = {**CHURN_REASON_TEMPLATES, **(templates or {})}
	separator = item_separator(templates, separator)
	top = top or params.top_reasons
	codes = frame["reason_codes"].fillna("").astype(str)
	if codes.empty:
		return pd.Series([], index=frame.index, dtype=object)
	split = codes.str.split(",", n=top, expand=True).iloc[:, :top]
	out = np.full(len(frame), "", dtype=object)
	for k in range(split.shape[1]):
		position = split.iloc[:, k].fillna("").to_numpy()
		for code in pd.unique(position):
			if not code:
				continue
			template = templates.get(code)
			if template is None:
				raise ValueError(f"no reason template for churn reason code {code!r}")
			mask = position == code
			rows = frame[mask]
			fields = _reason_fields(rows, params)
			specific = _CODE_FIELDS.get(code, {})
			values = {}
			for name in template_fields(template):
				if name in specific:
					column, sign = specific[name]
					values[name] = (
						_whole(rows[column] * sign) if sign is not None else _one_decimal(rows[column])
					)
				elif name in fields:
					values[name] = fields[name]()
				else:
					raise ValueError(f"the template for {code!r} uses an unknown placeholder {{{name}}}")
			text = format_columns(template, values, rows.index).to_numpy(dtype=object)
			out[mask] = (out[mask] + separator + text) if k else text
	return pd.Series(out, index=frame.index, dtype=object)


# ---------------------------------------------------------------- value × risk


def _value_labels(frame: pd.DataFrame) -> tuple[pd.Series, list[str]]:
	"""The value axis: value classes when the frame has them, else lifetime-value tertiles."""
	if "value_class" in frame:
		labels = frame["value_class"].where(frame["value_class"].notna(), NO_VALUE).astype(object)
		others = sorted(set(labels) - set(VALUE_CLASS_ORDER) - {NO_VALUE})
		return labels, [*VALUE_CLASS_ORDER, *others, NO_VALUE]
	if "lifetime_value" in frame:
		value = pd.to_numeric(frame["lifetime_value"], errors="coerce")
		rank = value.rank(pct=True, method="average")
		labels = pd.Series(
			np.select([rank > 2 / 3, rank > 1 / 3], ["High Value", "Medium Value"], "Low Value"),
			index=frame.index,
			dtype=object,
		)
		labels[value.isna()] = NO_VALUE
		return labels, ["High Value", "Medium Value", "Low Value", NO_VALUE]
	raise ValueError("the value × risk matrix needs a value_class or lifetime_value column")


def value_risk_matrix(frame: pd.DataFrame) -> pd.DataFrame:
	"""Counts of customers by value (rows: value classes MVC, MGC, Standard, BZC, others, "(none)";
	or lifetime-value tertiles when there is no value_class) × churn band (High, Medium, Low,
	"No Score"). ``frame``: churn_band and value_class or lifetime_value."""
	labels, order = _value_labels(frame)
	band = frame["churn_band"].where(frame["churn_band"].notna(), NO_SCORE).astype(object)
	columns = [*BANDS, NO_SCORE]
	matrix = pd.crosstab(labels.to_numpy(), band.to_numpy()).reindex(
		index=order, columns=columns, fill_value=0
	)
	matrix.index.name, matrix.columns.name = "value", "churn_band"
	return matrix.astype(int)


def retention_priority(frame: pd.DataFrame, params: ChurnParameters | None = None) -> pd.Series:
	"""Risk × value: churn_score × the value class's weight (``params.value_weights``); no score
	counts as 0. Customers are contacted in descending order of it."""
	params = params or ChurnParameters()
	score = pd.to_numeric(frame["churn_score"], errors="coerce").fillna(0.0)
	if "value_class" in frame:
		weight = frame["value_class"].map(dict(params.value_weights))
	else:
		weight = pd.Series(np.nan, index=frame.index)
	weight = weight.astype(float).fillna(params.default_value_weight)
	return (score * weight).round(1)


def retention_candidates(
	scored: pd.DataFrame, params: ChurnParameters | None = None, *, reasons_column: str = "churn_reasons"
) -> pd.DataFrame:
	"""High-band customers of a high-value class (``params.high_value_classes``): the retention
	follow-ups the nightly job raises, as ``followups.due_followups`` takes them (customer,
	details), highest risk × value first. ``scored``: churn_band, churn_score, value_class and the
	rendered reasons."""
	params = params or ChurnParameters()
	wanted = (scored["churn_band"] == "High") & scored["value_class"].isin(params.high_value_classes)
	rows = scored[wanted.to_numpy()]
	out = pd.DataFrame(
		{
			"customer": rows["customer"].to_numpy(),
			"details": rows[reasons_column].to_numpy() if reasons_column in rows else None,
			"priority": retention_priority(rows, params).to_numpy(),
		}
	)
	return out.sort_values(["priority", "customer"], ascending=[False, True], kind="stable").reset_index(
		drop=True
	)


# ---------------------------------------------------------------- what the nightly job stores

# the profile fields the nightly job writes (churn_scored_on: the day they last changed)
STORED_COLUMNS = ("churn_score", "churn_band", "churn_reasons")


def add_monthly_counts(
	matrices: SnapshotMatrices, column: str, events: pd.DataFrame, how: str = "sum"
) -> SnapshotMatrices:
	"""Count ``events`` (customer, time) in each customer-month into ``column``: added to it
	(``how="sum"``) or, when both may record the same events, the larger of the two (``how="max"``:
	complaints registered in the desk that core banking's monthly count may include as well). Only
	customer-months with a snapshot count (a month without one stays missing); events of other
	customers or months are ignored. Changes ``matrices`` in place and returns it."""
	if how not in ("sum", "max"):
		raise ValueError(f"how must be 'sum' or 'max', not {how!r}")
	if events is None or events.empty or column not in matrices.values or not len(matrices.months):
		return matrices
	rows = matrices.customers.get_indexer(events["customer"])
	month = pd.to_datetime(events["time"], errors="coerce", format="mixed").dt.to_period("M")
	first = matrices.months[0].to_period("M").ordinal
	cols = np.where(month.notna(), month.array.asi8 - first, -1) if len(month) else np.array([], int)
	keep = (rows >= 0) & (cols >= 0) & (cols < len(matrices.months))
	shape = (len(matrices.customers), len(matrices.months))
	counts = np.bincount(rows[keep] * shape[1] + cols[keep], minlength=shape[0] * shape[1]).reshape(shape)
	matrix = matrices.values[column]
	counted = np.where(matrices.present, counts, 0)
	if how == "max":
		np.fmax(matrix, counted, out=matrix, where=matrices.present)
	else:
		matrix += counted
	return matrices


def stored_churn(scored: pd.DataFrame) -> pd.DataFrame:
	"""``score_churn`` rows as the profile stores them: name, churn_score (0 without a score, as a
	number field stores nothing), churn_band (None without a score) and churn_reasons."""
	return pd.DataFrame(
		{
			"name": scored["customer"].to_numpy(),
			"churn_score": pd.to_numeric(scored["churn_score"], errors="coerce").fillna(0.0).to_numpy(),
			"churn_band": scored["churn_band"].to_numpy(dtype=object),
			"churn_reasons": scored["churn_reasons"].to_numpy(dtype=object),
		}
	)


def churn_changes(scored: pd.DataFrame, stored: pd.DataFrame, today: dt.date) -> pd.DataFrame:
	"""The profiles whose stored score, band or reasons differ from ``scored``, with
	``churn_scored_on`` = ``today``: what the nightly job writes, so a second run writes nothing.
	``stored``: name and ``STORED_COLUMNS`` as read from the profiles (any order, missing profiles
	count as never scored)."""
	new = stored_churn(scored)
	old = (
		stored.drop_duplicates("name")
		.set_index("name")
		.reindex(new["name"])[list(STORED_COLUMNS)]
		.reset_index(drop=True)
	)
	# a number field stores 0 for nothing: compare at the precision the score is stored with
	old["churn_score"] = pd.to_numeric(old["churn_score"], errors="coerce").fillna(0.0).round(1)
	changed = rows_that_differ(new, old, STORED_COLUMNS)
	return changed.assign(churn_scored_on=today).reset_index(drop=True)
