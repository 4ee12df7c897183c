"""The nightly recompute of one chunk of customers: tier, segment, value class and lifetime value,
composed from the tiering, segments and value engines. Pure: frames in, frames out.

The Frappe job (branch_crm/recompute.py) reads a chunk, calls ``recompute_chunk`` and writes back
only the rows whose values changed, so a second run changes nothing and logs nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from branch_crm.engine.segments import segment_customers
from branch_crm.engine.tiering import TierRules, compute_tiers, migration_matrix, render_reasons, tier_table
from branch_crm.engine.value import ValueParameters, value_classes, value_customers

# what the recompute writes on each profile
OUTPUT_COLUMNS = (
	"tier",
	"tier_reason",
	"tier_since",
	"bank_customer_group",
	"familiarity",
	"life_stage",
	"value_class",
	"lifetime_value",
)
# what it reads from each profile
PROFILE_COLUMNS = (
	"customer",
	"branch",
	"relationship_manager",
	"date_of_birth",
	"family_stage",
	"occupation_category",
	"last_contact_date",
	"intent_level",
	"declared_annual_income",
	*OUTPUT_COLUMNS,
)
CHANGE_COLUMNS = ("customer", "from_tier", "to_tier", "direction", "reason", "branch", "relationship_manager")
HISTORY_MONTHS = 12


@dataclass(frozen=True)
class RecomputeConfig:
	tiers: tuple
	groups: tuple
	rules: TierRules = field(default_factory=TierRules)
	value: ValueParameters = field(default_factory=ValueParameters)
	familiar_within_days: int = 180
	reason_templates: dict | None = None

	@property
	def months(self) -> int:
		return max(HISTORY_MONTHS, self.rules.window_months + self.rules.downgrade_after_months - 1)


@dataclass
class ChunkResult:
	profiles: pd.DataFrame  # customer + OUTPUT_COLUMNS, every row of the chunk
	changed: pd.DataFrame  # the rows whose outputs differ from what is stored
	tier_changes: pd.DataFrame  # CHANGE_COLUMNS, one row per real tier change


def recompute_chunk(
	profiles: pd.DataFrame,
	aum: pd.DataFrame,
	contribution: pd.DataFrame,
	has_data: np.ndarray | pd.Series,
	overrides: pd.DataFrame | None,
	config: RecomputeConfig,
	*,
	as_of: dt.date,
	today: dt.date,
) -> ChunkResult:
	"""``aum``/``contribution``: customers × months (oldest first, ending at ``as_of``), in the
	order of ``profiles``. ``today`` dates ages, contact recency and tier_since."""
	tiers = compute_tiers(
		profiles[["customer", "tier"]],
		aum,
		config.tiers,
		config.rules,
		contribution=contribution,
		has_data=has_data,
		overrides=overrides,
		as_of=as_of,
	)
	tiers["reason"] = render_reasons(tiers, config.rules, config.reason_templates)

	segments = segment_customers(profiles, config.groups, today, config.familiar_within_days)

	values = aum.to_numpy(dtype=np.float64)
	value_inputs = pd.DataFrame(
		{
			"customer": profiles["customer"].to_numpy(),
			"annual_contribution": tiers["annual_contribution"].to_numpy(),
			"aum": values[:, -1],
			"declared_annual_income": pd.to_numeric(
				profiles["declared_annual_income"], errors="coerce"
			).to_numpy(),
			"aum_recent": values[:, -3:].mean(axis=1),
			"aum_year_ago": values[:, :3].mean(axis=1),
		}
	)
	value = value_customers(value_inputs, config.value)

	changed_tier = tiers["tier"].to_numpy() != profiles["tier"].to_numpy()
	previous_since = pd.to_datetime(profiles["tier_since"], errors="coerce")
	tier_since = np.where(
		changed_tier | previous_since.isna().to_numpy(), pd.Timestamp(today), previous_since
	)
	out = pd.DataFrame(
		{
			"customer": profiles["customer"].to_numpy(),
			"tier": tiers["tier"].to_numpy(),
			"tier_reason": tiers["reason"].to_numpy(),
			"tier_since": pd.to_datetime(tier_since).date,
			"bank_customer_group": segments["bank_customer_group"].to_numpy(),
			"familiarity": segments["familiarity"].to_numpy(),
			"life_stage": segments["life_stage"].to_numpy(),
			"value_class": value["value_class"].to_numpy(),
			"lifetime_value": value["lifetime_value"].to_numpy(),
			# what the value class is decided on, for deciding it over more customers than a chunk
			"annual_contribution": value_inputs["annual_contribution"].to_numpy(),
			"value_upside": (value["potential_value"] + value["growth_value"]).to_numpy(),
		}
	)
	changes = tiers[changed_tier][["customer", "previous_tier", "tier", "direction", "reason"]].rename(
		columns={"previous_tier": "from_tier", "tier": "to_tier"}
	)
	context = profiles.set_index("customer")[["branch", "relationship_manager"]]
	changes = changes.join(context, on="customer")[list(CHANGE_COLUMNS)].reset_index(drop=True)
	return ChunkResult(out, rows_that_differ(out, profiles, OUTPUT_COLUMNS), changes)


def reclassify_value(recomputed: pd.DataFrame, params) -> pd.DataFrame:
	"""``value_class`` decided over all the rows of ``recomputed`` (results of several chunks), as
	one recompute over all of them would decide it: the classes are shares of the population."""
	classes = value_classes(recomputed["annual_contribution"], recomputed["value_upside"], params)
	return recomputed.assign(value_class=classes.to_numpy())


def rows_that_differ(new: pd.DataFrame, old: pd.DataFrame, columns) -> pd.DataFrame:
	"""Rows of ``new`` whose ``columns`` differ from ``old`` (same row order), comparing numbers
	to the cent and everything else as text, so values read back from the database compare equal."""
	differs = np.zeros(len(new), dtype=bool)
	for column in columns:
		a, b = new[column], old[column].reset_index(drop=True)
		a.index = b.index
		if pd.api.types.is_numeric_dtype(a):
			differs |= (
				pd.to_numeric(a, errors="coerce").fillna(0).round(2)
				!= pd.to_numeric(b, errors="coerce").fillna(0).round(2)
			).to_numpy()
		else:
			differs |= (_text(a) != _text(b)).to_numpy()
	return new[differs]


def _text(series: pd.Series) -> pd.Series:
	values = series.astype(object)
	return values.where(values.notna(), "").astype(str)


def what_if(
	profiles: pd.DataFrame,
	aum: pd.DataFrame,
	contribution: pd.DataFrame,
	has_data,
	overrides: pd.DataFrame | None,
	proposed_tiers,
	rules: TierRules,
	*,
	as_of: dt.date,
) -> pd.DataFrame:
	"""from (current tier) × to (tier under ``proposed_tiers``) counts, computed exactly as the
	nightly recompute would."""
	result = compute_tiers(
		profiles[["customer", "tier"]],
		aum,
		proposed_tiers,
		rules,
		contribution=contribution,
		has_data=has_data,
		overrides=overrides,
		as_of=as_of,
	)
	order = tier_table(proposed_tiers)["tier_name"].tolist()
	current = [t for t in profiles["tier"].dropna().unique() if t not in order]
	return migration_matrix(profiles["tier"].reset_index(drop=True), result["tier"], order + sorted(current))


def recompute_tables(
	tables: dict[str, pd.DataFrame],
	config: RecomputeConfig | None = None,
	*,
	previous: pd.DataFrame | None = None,
	today: dt.date | None = None,
	as_of: dt.date | None = None,
) -> pd.DataFrame:
	"""The nightly recompute over offline tables (the CLI's sample or intake CSVs): customers and
	snapshots in the intake shapes. One row per customer with the outputs and the figures behind
	them (avg_aum, annual_contribution, direction). ``previous``: the tiers stored before the last
	month (customer, tier, tier_since: ``history.tiers_before_last_month``); without it every
	customer is tiered as new. ``today``: the night of the run (default: the last month). ``as_of``:
	the last month of the whole data when ``tables`` holds a part of the customers. ``value_class``
	is decided among the customers given (see ``reclassify_value``)."""
	from branch_crm.engine.defaults import DEFAULT_GROUPS, DEFAULT_TIERS
	from branch_crm.engine.tiering import month_index, pivot_months

	config = config or RecomputeConfig(tiers=DEFAULT_TIERS, groups=DEFAULT_GROUPS)
	customers = tables["customers"]
	snapshots = tables["snapshots"]
	as_of = as_of or pd.to_datetime(snapshots["month"]).max().date()
	index = pd.Index(customers["customer"])
	months = month_index(as_of, config.months)
	profiles = pd.DataFrame(
		{column: customers[column] if column in customers else None for column in PROFILE_COLUMNS}
	)
	profiles["tier"] = None
	if previous is not None:
		stored = previous.drop_duplicates("customer").set_index("customer")
		profiles["tier"] = profiles["customer"].map(stored["tier"]).to_numpy(dtype=object)
		profiles["tier_since"] = profiles["customer"].map(stored["tier_since"]).to_numpy(dtype=object)
	profiles["last_contact_date"] = None
	aum = pivot_months(snapshots, "aum", index, months)
	contribution = pivot_months(snapshots, "contribution", index, months)
	has_data = index.isin(snapshots["customer"].unique())
	result = recompute_chunk(
		profiles.reset_index(drop=True),
		aum,
		contribution,
		has_data,
		None,
		config,
		as_of=as_of,
		today=today or as_of,
	)
	out = result.profiles.copy()
	out["avg_aum"] = aum.to_numpy()[:, -config.rules.window_months :].mean(axis=1).round(2)
	out["aum"] = aum.to_numpy()[:, -1]
	out["branch"] = customers["branch"].to_numpy()
	out["relationship_manager"] = customers["relationship_manager"].to_numpy()
	return out
