"""Campaigns to customer groups, measured against a hold-out control group (docs/campaigns.md).

* ``select_customers``: which profiles a campaign's saved selection matches (branches, tiers,
  segments, value classes, churn bands, product gaps from needs screening), and why a matching
  customer is left out (closed, do-not-contact, a channel preference the campaign does not use).
* ``preview``: the counts shown before launch (per branch and tier, and the exclusions).
* ``draw_control``: the hold-out control group, drawn at launch. Deterministic given the campaign's
  seed: each customer's place in the draw is ``sha256("<seed>|<customer>")`` and each stratum's
  (branch × tier) rounding is ``sha256("<seed>|stratum|<branch>|<tier>")``, so anyone can re-derive
  the draw from the seed and the member list. Every stratum holds back its share (the fractional
  remainder is rounded up with a probability equal to it), so the control group has the campaign
  group's branch and tier mix.
* ``measure_outcomes`` and ``campaign_effect``: product take-up, AUM change and churn after launch
  per member, then campaign vs control with the difference (uplift) and a two-sided p-value:
  two-proportion z-test for take-up and churn, Welch's test for the AUM change, both with the
  normal approximation (``math.erfc``), which is why groups under ``MIN_GROUP`` say "too few".

Pure pandas / numpy: no Frappe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from branch_crm.engine.needs import GAP_TYPES, NEEDS_GAP_LABEL_TEMPLATES
from branch_crm.engine.schema import CHANNELS

CAMPAIGN, CONTROL = "Campaign", "Control"
GROUPS = (CAMPAIGN, CONTROL)
VALUE_CLASSES = ("MVC", "MGC", "Standard", "BZC")
CHURN_BANDS = ("Low", "Medium", "High")
DEFAULT_CONTROL_SHARE = 0.10
DEFAULT_MEASURE_WEEKS = 8
# churned: the profile closed, or this share of the AUM at launch gone at the end of the window (the
# outcome the churn evidence uses, engine.evaluation)
CHURN_AUM_DROP = 0.30
# below this many customers in a group the normal approximation says too little: no verdict
MIN_GROUP = 30
SIGNIFICANT, INDICATIVE = 0.05, 0.10
# why a matching customer is not in the campaign (keys are stored codes)
EXCLUSIONS = ("closed", "do_not_contact", "channel")
CAMPAIGN_TEMPLATES = {
	"closed": "Closed profile",
	"do_not_contact": "Do not contact",
	"channel": "Channel preference not used by the campaign",
	"significant": "Significant (95%)",
	"indicative": "Indicative (90%)",
	"not_significant": "Not significant",
	"too_few": "Too few customers to tell",
	"no_data": "No data yet",
	# what a difference means for the bank (``reading``): in the table's Verdict column ...
	"better": "Better (significant, 95%)",
	"worse": "Worse (significant, 95%)",
	"probably_better": "Probably better (indicative, 90%)",
	"probably_worse": "Probably worse (indicative, 90%)",
	# ... and, short, after the difference on a summary card
	"card_better": "better",
	"card_worse": "worse",
	"card_probably_better": "probably better",
	"card_probably_worse": "probably worse",
	"card_not_significant": "not significant",
	"card_too_few": "too few customers to tell",
	"card_no_data": "no data yet",
	"points_value": "{0} pts ({1})",
	# the summary cards of the differences (campaign - control), and for churn which way is good
	"label_take_up": "Take-up, campaign vs control",
	"label_aum_change": "AUM change, campaign vs control",
	"label_churn": "Churn, campaign vs control (lower is better)",
	"take_up": "Took up the target product",
	"aum_change": "AUM change per customer",
	"churn": "Churned (closed or 30% of AUM gone)",
	"all_branches": "All branches",
	"share_unit": "% of customers",
	"amount_unit": "average amount",
}
SELECTION_KEYS = ("branches", "tiers", "segments", "value_classes", "churn_bands", "gap_types", "channels")
PROFILE_COLUMNS = (
	"customer",
	"branch",
	"relationship_manager",
	"tier",
	"bank_customer_group",
	"value_class",
	"churn_band",
	"needs_gap_types",
	"do_not_contact",
	"channel_preference",
	"status",
)


@dataclass
class Selection:
	"""A campaign's saved selection. Each list empty means "any"; criteria combine with AND, the
	values of one criterion with OR. ``channels``: the channels the campaign reaches customers by;
	a customer whose preferred channel is not one of them is left out (no preference: reachable)."""

	branches: list[str] = field(default_factory=list)
	tiers: list[str] = field(default_factory=list)
	segments: list[str] = field(default_factory=list)
	value_classes: list[str] = field(default_factory=list)
	churn_bands: list[str] = field(default_factory=list)
	gap_types: list[str] = field(default_factory=list)
	channels: list[str] = field(default_factory=list)

	def __post_init__(self):
		for name in SELECTION_KEYS:
			setattr(self, name, [v for v in dict.fromkeys(getattr(self, name) or []) if v not in (None, "")])
		self.gap_types = [gap_code(v) for v in self.gap_types]
		for name, allowed in (
			("value_classes", VALUE_CLASSES),
			("churn_bands", CHURN_BANDS),
			("channels", CHANNELS),
		):
			unknown = [v for v in getattr(self, name) if v not in allowed]
			if unknown:
				raise ValueError(f"unknown {name.replace('_', ' ')}: {', '.join(map(str, unknown))}")

	@classmethod
	def from_mapping(cls, values: Mapping) -> Selection:
		return cls(**{k: list(values.get(k) or []) for k in SELECTION_KEYS})


def gap_code(value: str) -> str:
	"""A gap type given as its code or its English label, as its code."""
	if value in GAP_TYPES:
		return value
	by_label = {label: code for code, label in NEEDS_GAP_LABEL_TEMPLATES.items()}
	if value in by_label:
		return by_label[value]
	raise ValueError(f"unknown gap type {value!r}")


# ---------------------------------------------------------------- selection


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
	return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def select_customers(profiles: pd.DataFrame, selection: Selection) -> pd.DataFrame:
	"""The profiles the selection matches (``PROFILE_COLUMNS``), with ``excluded``: "" for those the
	campaign reaches, else the first reason of ``EXCLUSIONS`` that holds. Sorted by customer."""
	frame = profiles.reset_index(drop=True)
	mask = np.ones(len(frame), dtype=bool)
	for key, column in (
		("branches", "branch"),
		("tiers", "tier"),
		("segments", "bank_customer_group"),
		("value_classes", "value_class"),
		("churn_bands", "churn_band"),
	):
		wanted = getattr(selection, key)
		if wanted:
			mask &= _column(frame, column).isin(wanted).to_numpy()
	if selection.gap_types:
		held = "," + _column(frame, "needs_gap_types").fillna("").astype(str) + ","
		mask &= np.logical_or.reduce(
			[held.str.contains(f",{code},", regex=False) for code in selection.gap_types]
		)
	chosen = frame[mask].copy()
	closed = _column(chosen, "status").fillna("").eq("Closed").to_numpy()
	dnc = pd.to_numeric(_column(chosen, "do_not_contact"), errors="coerce").fillna(0).to_numpy() != 0
	preference = _column(chosen, "channel_preference").fillna("").astype(str)
	channel = (
		((preference != "") & ~preference.isin(selection.channels)).to_numpy()
		if selection.channels
		else np.zeros(len(chosen), dtype=bool)
	)
	chosen["excluded"] = np.select([closed, dnc, channel], list(EXCLUSIONS), "")
	return chosen.sort_values("customer", kind="stable").reset_index(drop=True)


def preview(selected: pd.DataFrame) -> dict:
	"""What a launch would do, in counts: matched, eligible (reached), excluded by reason, and the
	eligible per branch and per tier (sorted by name; no branch / tier as "")."""
	excluded = _column(selected, "excluded").fillna("")
	eligible = selected[excluded == ""]

	def counts(column: str) -> list[dict]:
		values = _column(eligible, column).fillna("").astype(str)
		return [{"value": k, "customers": int(v)} for k, v in values.value_counts().sort_index().items()]

	return {
		"matched": len(selected),
		"eligible": len(eligible),
		"excluded": {reason: int((excluded == reason).sum()) for reason in EXCLUSIONS},
		"by_branch": counts("branch"),
		"by_tier": counts("tier"),
	}


# ---------------------------------------------------------------- the control group


def uniforms(seed, keys: Iterable) -> np.ndarray:
	"""A number in [0, 1) per key, from sha256("<seed>|<key>"): the same on any machine."""
	prefix = f"{seed}|"
	return np.array(
		[int(hashlib.sha256(f"{prefix}{key}".encode()).hexdigest()[:13], 16) / 16**13 for key in keys],
		dtype=np.float64,
	)


def draw_control(
	eligible: pd.DataFrame,
	share: float = DEFAULT_CONTROL_SHARE,
	seed=0,
	strata: tuple[str, ...] = ("branch", "tier"),
) -> pd.Series:
	"""Campaign / Control for each row of ``eligible`` (index kept). In each stratum the control
	group is the ``k`` customers with the lowest draw, k = floor(n × share + r), r the stratum's own
	draw: on average exactly ``share`` of each stratum, and the same result whatever the rows' order."""
	if not 0 <= share < 1:
		raise ValueError("the control share must be at least 0 and below 1")
	if eligible.empty:
		return pd.Series([], index=eligible.index, dtype=object)
	customers = eligible["customer"].astype(str)
	frame = pd.DataFrame({"customer": customers.to_numpy(), "u": uniforms(seed, customers)})
	keys = [_column(eligible, s).fillna("").astype(str).to_numpy() for s in strata]
	frame["stratum"] = ["|".join(parts) for parts in zip(*keys, strict=True)] if keys else ""
	sizes = frame.groupby("stratum")["customer"].transform("size").to_numpy()
	stratum_draw = frame["stratum"].map(
		dict(
			zip(
				frame["stratum"].unique(),
				uniforms(f"{seed}|stratum", frame["stratum"].unique()),
				strict=True,
			)
		)
	)
	quota = np.floor(sizes * share + stratum_draw.to_numpy()).astype(np.int64)
	frame = frame.sort_values(["stratum", "u", "customer"], kind="stable")
	rank = frame.groupby("stratum").cumcount().reindex(range(len(frame))).to_numpy()
	group = np.where(rank < quota, CONTROL, CAMPAIGN)
	return pd.Series(group, index=eligible.index, dtype=object)


# ---------------------------------------------------------------- outcomes and effect


def month_start(day) -> dt.date:
	day = pd.Timestamp(day).date()
	return day.replace(day=1)


def baseline_month(launch_date) -> dt.date:
	"""The last complete month before launch: its snapshot is the AUM at launch."""
	first = month_start(launch_date)
	return (first - dt.timedelta(days=1)).replace(day=1)


def window_end(launch_date, weeks: int, today) -> dt.date:
	"""The end of the measurement: ``weeks`` after launch, or today if that is earlier."""
	end = pd.Timestamp(launch_date).date() + dt.timedelta(weeks=int(weeks))
	return min(end, pd.Timestamp(today).date())


def measure_outcomes(
	members: pd.DataFrame,
	holdings: pd.DataFrame,
	snapshots: pd.DataFrame,
	launch_date,
	end_date,
	*,
	target_products: Iterable[str] = (),
	target_categories: Iterable[str] = (),
	statuses: pd.DataFrame | None = None,
	churn_aum_drop: float = CHURN_AUM_DROP,
) -> pd.DataFrame:
	"""Per member (customer, group, baseline_aum[, branch, tier]): ``took_up`` (a holding of a
	target product, or of a target category when no product is named, opened from launch to
	``end_date``), ``end_aum`` (the last snapshot from the launch month to ``end_date``'s month;
	NaN when there is none yet), ``aum_change`` and ``churned`` (profile closed, or end AUM at or
	below (1 - ``churn_aum_drop``) × the AUM at launch, when that was positive).

	``holdings``: customer, product, category, opened_on; ``snapshots``: customer, month, aum;
	``statuses``: customer, status (the profile now)."""
	out = members.reset_index(drop=True).copy()
	launch, end = pd.Timestamp(launch_date), pd.Timestamp(end_date)
	products, categories = set(target_products or ()), set(target_categories or ())
	if not holdings.empty and (products or categories):
		opened = pd.to_datetime(holdings["opened_on"], errors="coerce")
		target = (
			holdings["product"].isin(products).to_numpy()
			if products
			else _column(holdings, "category").isin(categories).to_numpy()
		)
		new = holdings[target & (opened >= launch).to_numpy() & (opened <= end).to_numpy()]
		out["took_up"] = out["customer"].isin(set(new["customer"]))
	else:
		out["took_up"] = False
	end_aum = pd.Series(np.nan, index=out.index)
	if not snapshots.empty:
		months = pd.to_datetime(snapshots["month"])
		after = snapshots[(months >= pd.Timestamp(month_start(launch))) & (months <= end)]
		if not after.empty:
			last = after.assign(_m=pd.to_datetime(after["month"])).sort_values(["customer", "_m"])
			last = last.drop_duplicates("customer", keep="last").set_index("customer")["aum"]
			end_aum = out["customer"].map(last.astype(float))
	out["end_aum"] = end_aum.astype(float)
	baseline = pd.to_numeric(out["baseline_aum"], errors="coerce").astype(float)
	out["aum_change"] = out["end_aum"] - baseline.fillna(0)
	closed = np.zeros(len(out), dtype=bool)
	if statuses is not None and not statuses.empty:
		closed = out["customer"].map(statuses.set_index("customer")["status"]).eq("Closed").to_numpy()
	drained = (
		(baseline > 0) & out["end_aum"].notna() & (out["end_aum"] <= (1 - churn_aum_drop) * baseline)
	).to_numpy()
	out["churned"] = closed | drained
	return out


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> float:
	"""Two-sided p-value of the pooled two-proportion z-test (NaN without customers)."""
	if n1 <= 0 or n2 <= 0:
		return math.nan
	pooled = (x1 + x2) / (n1 + n2)
	se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
	if se == 0:
		return 1.0
	z = (x1 / n1 - x2 / n2) / se
	return math.erfc(abs(z) / math.sqrt(2))


def welch_test(a, b) -> float:
	"""Two-sided p-value of Welch's test of equal means (normal approximation; NaN below two values
	in a group)."""
	a = np.asarray(a, dtype=float)
	b = np.asarray(b, dtype=float)
	a, b = a[~np.isnan(a)], b[~np.isnan(b)]
	if len(a) < 2 or len(b) < 2:
		return math.nan
	se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
	diff = a.mean() - b.mean()
	if se == 0:
		return 1.0 if diff == 0 else 0.0
	return math.erfc(abs(diff / se) / math.sqrt(2))


def verdict(p_value: float, n_campaign: int, n_control: int) -> str:
	"""A code of ``CAMPAIGN_TEMPLATES``: how far the difference can be trusted."""
	if n_campaign == 0 or n_control == 0 or p_value != p_value:
		return "no_data"
	if min(n_campaign, n_control) < MIN_GROUP:
		return "too_few"
	if p_value < SIGNIFICANT:
		return "significant"
	if p_value < INDICATIVE:
		return "indicative"
	return "not_significant"


MEASURES = ("take_up", "aum_change", "churn")
# which way of the difference (campaign - control) is an improvement: more take-up, more AUM, less churn
IMPROVES_WHEN = {"take_up": 1, "aum_change": 1, "churn": -1}
READINGS = ("better", "worse", "probably_better", "probably_worse", "not_significant", "too_few", "no_data")


def reading(measure: str, uplift: float, verdict_code: str) -> str:
	"""What a measure's difference means for the bank, one of ``READINGS``: "better" / "worse" when
	significant, "probably_better" / "probably_worse" when only indicative, in the measure's own
	direction (``IMPROVES_WHEN``: a higher churn in the campaign group is worse); otherwise the verdict
	(not significant, too few customers, no data), which says no direction."""
	if verdict_code in ("no_data", "too_few"):
		return verdict_code
	if verdict_code not in ("significant", "indicative") or not uplift or uplift != uplift:
		return "not_significant"
	better = uplift * IMPROVES_WHEN[measure] > 0
	if verdict_code == "significant":
		return "better" if better else "worse"
	return "probably_better" if better else "probably_worse"


def campaign_effect(outcomes: pd.DataFrame) -> dict[str, dict]:
	"""Campaign vs control over ``measure_outcomes``' rows: for each of ``MEASURES`` the campaign
	and control value (take-up and churn as shares 0-1, AUM change as the mean per customer with
	figures), uplift = campaign - control, p_value, verdict, its ``reading`` (better / worse for the
	bank) and the customers counted."""
	groups = {g: outcomes[outcomes["group"] == g] for g in GROUPS}
	result = {}
	for measure, column in (("take_up", "took_up"), ("churn", "churned")):
		x = {g: int(groups[g][column].astype(bool).sum()) for g in GROUPS}
		n = {g: len(groups[g]) for g in GROUPS}
		rate = {g: (x[g] / n[g] if n[g] else math.nan) for g in GROUPS}
		p = two_proportion_test(x[CAMPAIGN], n[CAMPAIGN], x[CONTROL], n[CONTROL])
		result[measure] = {
			"campaign": rate[CAMPAIGN],
			"control": rate[CONTROL],
			"uplift": rate[CAMPAIGN] - rate[CONTROL],
			"p_value": p,
			"verdict": verdict(p, n[CAMPAIGN], n[CONTROL]),
			"n_campaign": n[CAMPAIGN],
			"n_control": n[CONTROL],
			"x_campaign": x[CAMPAIGN],
			"x_control": x[CONTROL],
		}
	values = {g: groups[g].loc[groups[g]["end_aum"].notna(), "aum_change"].astype(float) for g in GROUPS}
	mean = {g: (float(values[g].mean()) if len(values[g]) else math.nan) for g in GROUPS}
	p = welch_test(values[CAMPAIGN], values[CONTROL])
	result["aum_change"] = {
		"campaign": mean[CAMPAIGN],
		"control": mean[CONTROL],
		"uplift": mean[CAMPAIGN] - mean[CONTROL],
		"p_value": p,
		"verdict": verdict(p, len(values[CAMPAIGN]), len(values[CONTROL])),
		"n_campaign": len(values[CAMPAIGN]),
		"n_control": len(values[CONTROL]),
	}
	for measure, figures in result.items():
		figures["reading"] = reading(measure, figures["uplift"], figures["verdict"])
	return {m: result[m] for m in MEASURES}
