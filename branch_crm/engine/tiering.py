"""Tiering (分层): a customer's tier from average AUM (and optionally contribution), with hysteresis.

The rule, as banks run it:

* A customer *qualifies* in a month for the highest tier whose minimum average AUM is met by their
  AUM averaged over the ``window_months`` months ending that month (months with no snapshot count as
  zero). With ``use_contribution`` the 12-month contribution can qualify them instead.
* An upgrade applies at once: if the latest month qualifies above the current tier, move up.
* A downgrade applies only after ``downgrade_after_months`` consecutive months below the current
  tier; the customer then drops to the best tier they held on to throughout those months.
* An active manual override wins and is reported as such; an expired one is ignored.
* A customer with no snapshots gets the lowest tier with the reason "no data".

The result depends only on the snapshots, the current tier and the overrides, so re-running it gives
the same answer. Everything is vectorised over a customers × months matrix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from branch_crm.engine.text import format_columns

RESULT_COLUMNS = (
	"customer",
	"tier",
	"previous_tier",
	"direction",
	"reason_code",
	"avg_aum",
	"annual_contribution",
	"months_below",
	"threshold",
	"previous_threshold",
	"valid_until",
	"override_reason",
)


@dataclass(frozen=True)
class TierRules:
	window_months: int = 3
	downgrade_after_months: int = 3
	use_contribution: bool = False

	def __post_init__(self):
		if self.window_months < 1 or self.downgrade_after_months < 1:
			raise ValueError("window_months and downgrade_after_months must be at least 1")


def tier_table(tiers: pd.DataFrame | list[dict] | tuple[dict, ...]) -> pd.DataFrame:
	"""Tiers sorted from the lowest rank up, with numeric thresholds."""
	# plain dicts: attribute-dict subclasses (frappe._dict) look array-like to pandas
	table = tiers.copy() if isinstance(tiers, pd.DataFrame) else pd.DataFrame([dict(t) for t in tiers])
	if table.empty:
		raise ValueError("at least one Customer Tier is needed")
	table = table.assign(
		min_avg_aum=pd.to_numeric(table["min_avg_aum"]).fillna(0).astype(float),
		min_annual_contribution=pd.to_numeric(
			table.get("min_annual_contribution", pd.Series(0, index=table.index))
		)
		.fillna(0)
		.astype(float),
	)
	if table["rank"].duplicated().any():
		raise ValueError("tier ranks must be unique")
	table = table.sort_values("rank").reset_index(drop=True)
	if not table["min_avg_aum"].is_monotonic_increasing:
		raise ValueError("a higher-ranked tier cannot ask for less AUM than a lower one")
	return table


def month_index(as_of: dt.date, months: int) -> pd.DatetimeIndex:
	end = pd.Timestamp(as_of).to_period("M").to_timestamp()
	return pd.date_range(end=end, periods=months, freq="MS")


def monthly_matrix(
	snapshots: pd.DataFrame, customers: pd.Index, months: pd.DatetimeIndex, column: str
) -> np.ndarray:
	"""customers × months array of ``column``; a missing month is 0, a negative value is treated as 0."""
	out = np.zeros((len(customers), len(months)), dtype=np.float64)
	if snapshots.empty:
		return out
	month = pd.to_datetime(snapshots["month"]).dt.to_period("M").dt.to_timestamp()
	col = months.get_indexer(month)
	row = customers.get_indexer(snapshots["customer"])
	keep = (col >= 0) & (row >= 0)
	values = pd.to_numeric(snapshots[column], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
	# last write wins for duplicate customer-months, matching the unique key the site enforces
	out[row[keep], col[keep]] = values[keep]
	return out


def qualifying_rank_index(
	avg_aum: np.ndarray, contribution: np.ndarray | None, table: pd.DataFrame
) -> np.ndarray:
	"""Index into ``table`` of the highest tier met, per cell. Index 0 is the lowest tier."""
	by_aum = np.searchsorted(table["min_avg_aum"].to_numpy(), avg_aum, side="right") - 1
	best = np.maximum(by_aum, 0)
	if contribution is not None:
		thresholds = table["min_annual_contribution"].to_numpy()
		# contribution can qualify for a tier only where that tier sets a positive threshold
		met = (contribution[..., None] >= thresholds) & (thresholds > 0)
		met[..., 0] = True
		by_contribution = met.shape[-1] - 1 - np.argmax(met[..., ::-1], axis=-1)
		best = np.maximum(best, by_contribution)
	return best


REASON_TEMPLATES = {
	"no_data": "no data",
	"initial": "Average AUM {avg_aum} over {window} months meets {tier} ({threshold})",
	"meets": "Average AUM {avg_aum} over {window} months meets {tier} ({threshold})",
	"upgrade": "Average AUM {avg_aum} over {window} months meets {tier} ({threshold}): upgraded at once",
	"downgrade": "Below {previous_tier} ({previous_threshold}) for {months_below} consecutive months (downgrade after {downgrade_after}): average AUM now {avg_aum}",
	"holding": "Below {previous_tier} for {months_below} of {downgrade_after} months needed to downgrade: average AUM {avg_aum}",
	"override": "Manual override until {valid_until}: {override_reason}",
}


def pivot_months(
	snapshots: pd.DataFrame, column: str, customers: pd.Index, months: pd.DatetimeIndex
) -> pd.DataFrame:
	"""Long snapshots to a customers × months frame of ``column`` (missing months are 0)."""
	return pd.DataFrame(monthly_matrix(snapshots, customers, months, column), index=customers, columns=months)


def compute_tiers(
	profiles: pd.DataFrame,
	aum: pd.DataFrame,
	tiers,
	rules: TierRules,
	*,
	contribution: pd.DataFrame | None = None,
	has_data: pd.Series | np.ndarray | None = None,
	overrides: pd.DataFrame | None = None,
	as_of: dt.date | None = None,
) -> pd.DataFrame:
	"""One row per profile (``profiles``: customer, current ``tier``) with its new tier, the
	direction of any change, a ``reason_code`` and the figures behind it (see ``render_reasons``).

	``aum`` and ``contribution`` are customers × months frames in the profiles' order, oldest month
	first, the last column being the month tiers are computed for; they need at least
	``window_months + downgrade_after_months - 1`` columns (12 for contribution). ``has_data`` says
	which customers have any snapshot at all. ``overrides``: customer, tier, valid_until, reason."""
	table = tier_table(tiers)
	names = table["tier_name"].to_numpy(dtype=object)
	thresholds = table["min_avg_aum"].to_numpy()
	needed = rules.window_months + rules.downgrade_after_months - 1
	if aum.shape[1] < needed:
		raise ValueError(f"tiering needs {needed} months of AUM, got {aum.shape[1]}")
	customers = pd.Index(profiles["customer"])
	values = np.clip(np.nan_to_num(aum.to_numpy(dtype=np.float64)), 0, None)
	avg = _rolling_mean(values, rules.window_months)[:, rules.window_months - 1 :]
	annual = np.zeros(len(customers))
	qualifying_contribution = None
	if contribution is not None:
		# a one-column frame is already the 12-month total
		annual = np.nan_to_num(contribution.to_numpy(dtype=np.float64))[:, -12:].sum(axis=1)
		if rules.use_contribution:
			if contribution.shape[1] < 12:
				raise ValueError("qualifying by contribution needs 12 months of contribution, month by month")
			# the 12-month contribution at each month of the downgrade window
			monthly = np.nan_to_num(contribution.to_numpy(dtype=np.float64))
			qualifying_contribution = _rolling_sum(monthly, 12)[:, -avg.shape[1] :]
	qualifying = qualifying_rank_index(avg, qualifying_contribution, table)

	n = rules.downgrade_after_months
	latest = qualifying[:, -1]
	current_names = profiles["tier"].where(profiles["tier"].isin(names), None).to_numpy(dtype=object)
	current = (
		pd.Series(current_names)
		.map({name: i for i, name in enumerate(names)})
		.fillna(-1)
		.to_numpy(dtype=np.int64)
	)

	recent = qualifying[:, -n:]
	held = recent.max(axis=1)  # the best tier met at least once in the last n months
	stayed_below = (recent < current[:, None]).all(axis=1)
	months_below = np.where(current >= 0, _trailing_count(qualifying < current[:, None]), 0)
	if has_data is None:
		has_data = np.ones(len(customers), dtype=bool)
	has_data = np.asarray(has_data, dtype=bool)

	new = np.where(current < 0, latest, current)  # no tier yet: take what they qualify for now
	new = np.where(latest > new, latest, new)  # upgrade at once
	downgrade = (current >= 0) & stayed_below & (latest <= current)
	# drop to the best tier they did not stay below for all n months
	new = np.where(downgrade, np.minimum(held, current), new)
	new = np.where(has_data, new, 0)

	result = pd.DataFrame(
		{
			"customer": customers,
			"tier": names[new],
			"previous_tier": current_names,
			"avg_aum": avg[:, -1].round(2),
			"annual_contribution": annual.round(2),
			"months_below": months_below,
			"threshold": thresholds[new],
			"previous_threshold": np.where(current >= 0, thresholds[np.maximum(current, 0)], np.nan),
		}
	)
	result["direction"] = np.select(
		[current < 0, new > current, new < current], ["Initial", "Upgrade", "Downgrade"], default="Unchanged"
	)
	result["reason_code"] = np.select(
		[~has_data, current < 0, new > current, new < current, latest < current],
		["no_data", "initial", "upgrade", "downgrade", "holding"],
		default="meets",
	)
	result["valid_until"] = pd.NaT
	result["override_reason"] = None
	if overrides is not None and not overrides.empty:
		result = apply_overrides(result, overrides, as_of or dt.date.today(), set(names))
	return result[list(RESULT_COLUMNS)]


def _rolling_mean(matrix: np.ndarray, window: int) -> np.ndarray:
	"""Mean of each trailing ``window`` columns; the first window-1 columns average what exists."""
	csum = np.cumsum(np.pad(matrix, ((0, 0), (window, 0))), axis=1)
	return (csum[:, window:] - csum[:, :-window]) / window


def _rolling_sum(matrix: np.ndarray, window: int) -> np.ndarray:
	return _rolling_mean(matrix, window) * window


def _trailing_count(mask: np.ndarray) -> np.ndarray:
	"""How many of the latest columns in a row are True, counting back from the last."""
	reversed_mask = mask[:, ::-1]
	all_true = reversed_mask.all(axis=1)
	first_false = np.argmax(~reversed_mask, axis=1)
	return np.where(all_true, mask.shape[1], first_false)


def apply_overrides(
	result: pd.DataFrame, overrides: pd.DataFrame, as_of: dt.date, tier_names: set[str]
) -> pd.DataFrame:
	"""An approved override wins until it expires (``valid_until`` inclusive)."""
	valid_until = pd.to_datetime(overrides["valid_until"])
	active = overrides[(valid_until >= pd.Timestamp(as_of)) & overrides["tier"].isin(tier_names)]
	active = active.drop_duplicates("customer", keep="last").set_index("customer")
	hit = result["customer"].isin(active.index).to_numpy()
	if not hit.any():
		return result
	result = result.copy()
	chosen = active.loc[result.loc[hit, "customer"]]
	result.loc[hit, "tier"] = chosen["tier"].to_numpy()
	same = result.loc[hit, "tier"].to_numpy() == result.loc[hit, "previous_tier"].to_numpy()
	result.loc[hit, "direction"] = np.where(same, "Unchanged", "Override")
	result.loc[hit, "reason_code"] = "override"
	result.loc[hit, "valid_until"] = pd.to_datetime(chosen["valid_until"]).to_numpy()
	result.loc[hit, "override_reason"] = chosen["reason"].fillna("").to_numpy() if "reason" in chosen else ""
	return result


def render_reasons(
	result: pd.DataFrame, rules: TierRules, templates: dict[str, str] | None = None
) -> pd.Series:
	"""Reasons in plain words. ``templates`` maps each reason code to a str.format template; the
	Frappe layer passes translated ones. Vectorised per code, so a million rows take about a second."""
	templates = {**REASON_TEMPLATES, **(templates or {})}
	out = pd.Series("", index=result.index, dtype=object)
	for code, template in templates.items():
		rows = result[result["reason_code"] == code]
		if rows.empty:
			continue
		fields = {
			"avg_aum": _money(rows["avg_aum"]),
			"tier": rows["tier"].astype(str),
			"threshold": _money(rows["threshold"]),
			"previous_tier": rows["previous_tier"].astype(str),
			"previous_threshold": _money(rows["previous_threshold"].fillna(0)),
			"months_below": rows["months_below"].astype(str),
			"window": pd.Series(str(rules.window_months), index=rows.index),
			"downgrade_after": pd.Series(str(rules.downgrade_after_months), index=rows.index),
			"valid_until": pd.to_datetime(rows["valid_until"]).dt.strftime("%Y-%m-%d").fillna(""),
			"override_reason": rows["override_reason"].fillna("").astype(str),
		}
		out[rows.index] = format_columns(template, fields, rows.index)
	return out


def _money(values: pd.Series) -> pd.Series:
	return values.astype(float).round(0).map("{:,.0f}".format)


def migration_matrix(before: pd.Series, after: pd.Series, tier_order: list[str]) -> pd.DataFrame:
	"""from-tier × to-tier counts (rows: before, columns: after), in tier order, "(none)" first."""
	labels = ["(none)", *tier_order]
	frame = pd.DataFrame(
		{"from": before.fillna("(none)").to_numpy(), "to": after.fillna("(none)").to_numpy()}
	)
	matrix = pd.crosstab(frame["from"], frame["to"]).reindex(index=labels, columns=labels, fill_value=0)
	matrix.index.name, matrix.columns.name = "from", "to"
	return matrix
