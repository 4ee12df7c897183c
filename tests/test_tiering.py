import datetime as dt

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.defaults import DEFAULT_TIERS
from branch_crm.engine.tiering import (
	TierRules,
	compute_tiers,
	migration_matrix,
	month_index,
	pivot_months,
	render_reasons,
	tier_table,
)

AS_OF = dt.date(2026, 10, 1)
RULES = TierRules(window_months=3, downgrade_after_months=3)


def run(
	series: dict[str, list[float]],
	current: dict[str, str | None],
	rules=RULES,
	contribution=None,
	overrides=None,
	has_data=None,
):
	"""series: customer -> AUM per month, the last value being AS_OF's month."""
	months = month_index(AS_OF, 12)
	customers = pd.Index(list(current))
	aum = pd.DataFrame(0.0, index=customers, columns=months)
	for customer, values in series.items():
		aum.loc[customer, months[-len(values) :]] = values
	contrib = None
	if contribution is not None:
		contrib = pd.DataFrame(0.0, index=customers, columns=months)
		for customer, values in contribution.items():
			contrib.loc[customer, months[-len(values) :]] = values
	profiles = pd.DataFrame({"customer": customers, "tier": list(current.values())})
	if has_data is None:
		has_data = customers.isin(list(series))
	result = compute_tiers(
		profiles,
		aum,
		DEFAULT_TIERS,
		rules,
		contribution=contrib,
		has_data=has_data,
		overrides=overrides,
		as_of=AS_OF,
	)
	result["reason"] = render_reasons(result, rules)
	return result.set_index("customer")


def test_threshold_exactly_at_boundary_qualifies():
	result = run({"A": [200_000] * 3, "B": [199_999.99] * 3}, {"A": None, "B": None})
	assert result.at["A", "tier"] == "Core"
	assert result.at["B", "tier"] == "Mass"
	assert result.at["A", "direction"] == "Initial"


def test_upgrade_applies_at_once():
	# one strong month lifts the 3-month average over VIP's 1,000,000
	result = run({"A": [300_000, 300_000, 2_500_000]}, {"A": "Core"})
	assert (result.at["A", "tier"], result.at["A", "direction"]) == ("VIP", "Upgrade")
	assert "upgraded at once" in result.at["A", "reason"]


def test_downgrade_waits_for_consecutive_months_below():
	# average drops below VIP in the last 2 months only: keep VIP
	two_months = run({"A": [1_200_000] * 6 + [400_000] * 2}, {"A": "VIP"})
	assert two_months.at["A", "tier"] == "VIP"
	assert two_months.at["A", "direction"] == "Unchanged"
	assert two_months.at["A", "months_below"] == 2
	assert "2 of 3 months" in two_months.at["A", "reason"]
	# a third month below: now it goes
	three_months = run({"A": [1_200_000] * 6 + [400_000] * 3}, {"A": "VIP"})
	assert (three_months.at["A", "tier"], three_months.at["A", "direction"]) == ("Core", "Downgrade")
	assert "3 consecutive months" in three_months.at["A", "reason"]


def test_recovery_inside_the_window_resets_the_count():
	result = run({"A": [1_200_000] * 3 + [100_000] * 2 + [3_000_000] + [100_000] * 2}, {"A": "VIP"})
	assert result.at["A", "tier"] == "VIP"


def test_downgrade_steps_to_the_best_tier_held_in_the_window():
	# below VIP for 3 months, but Core was met in two of them: Core, not Mass
	result = run({"A": [1_200_000] * 6 + [100_000] * 3}, {"A": "VIP"})
	assert result.at["A", "tier"] == "Core"


def test_hysteresis_over_several_months_is_stable_month_to_month():
	history = [1_100_000, 950_000, 1_050_000, 980_000, 1_020_000, 990_000, 1_010_000, 970_000, 1_000_500]
	tiers = []
	for end in range(3, len(history) + 1):
		tiers.append(run({"A": history[:end]}, {"A": "VIP"}).at["A", "tier"])
	assert set(tiers) == {"VIP"}


def test_no_data_gets_lowest_tier_with_reason():
	result = run({}, {"Z": "VIP", "Y": None})
	assert result.at["Z", "tier"] == "Mass"
	assert result.at["Z", "reason"] == "no data"
	assert result.at["Y", "direction"] == "Initial"


def test_negative_aum_and_month_gaps():
	# a gap counts as zero: [1.5M, gap, 1.5M] averages 1M, still VIP
	gap = run({"A": [1_500_000, 0, 1_500_000]}, {"A": None})
	assert gap.at["A", "tier"] == "VIP"
	negative = run({"A": [-5_000_000, 700_000, 700_000]}, {"A": None})
	assert negative.at["A", "tier"] == "Core"  # -5M is treated as 0, not as a debt against the average
	assert negative.at["A", "avg_aum"] == pytest.approx(466_666.67)


def test_active_override_wins_and_expired_is_ignored():
	overrides = pd.DataFrame(
		{
			"customer": ["A", "B"],
			"tier": ["Private Banking", "VIP"],
			"valid_until": [dt.date(2026, 12, 31), dt.date(2026, 9, 30)],
			"reason": ["family office client", "expired"],
		}
	)
	result = run({"A": [50_000] * 3, "B": [50_000] * 3}, {"A": "Mass", "B": "Mass"}, overrides=overrides)
	assert (result.at["A", "tier"], result.at["A", "direction"]) == ("Private Banking", "Override")
	assert result.at["A", "reason"] == "Manual override until 2026-12-31: family office client"
	assert result.at["B", "tier"] == "Mass"


def test_contribution_can_qualify_when_enabled():
	rules = TierRules(use_contribution=True)
	result = run({"A": [50_000] * 12}, {"A": None}, rules=rules, contribution={"A": [1_000] * 12})
	assert result.at["A", "tier"] == "VIP"  # 12,000 a year meets VIP's 10,000
	off = run({"A": [50_000] * 12}, {"A": None}, contribution={"A": [1_000] * 12})
	assert off.at["A", "tier"] == "Mass"


def test_rerun_is_idempotent():
	first = run({"A": [1_200_000] * 6 + [100_000] * 4, "B": [300_000] * 4}, {"A": "VIP", "B": None})
	again = run({"A": [1_200_000] * 6 + [100_000] * 4, "B": [300_000] * 4}, dict(first["tier"]))
	assert (again["tier"] == first["tier"]).all()
	assert set(again["direction"]) == {"Unchanged"}


def test_unknown_current_tier_is_treated_as_none():
	result = run({"A": [300_000] * 3}, {"A": "Deleted Tier"})
	assert (result.at["A", "tier"], result.at["A", "direction"]) == ("Core", "Initial")


def test_tier_table_rejects_bad_config():
	with pytest.raises(ValueError, match="unique"):
		tier_table(
			[{"tier_name": "A", "rank": 1, "min_avg_aum": 0}, {"tier_name": "B", "rank": 1, "min_avg_aum": 5}]
		)
	with pytest.raises(ValueError, match="less AUM"):
		tier_table(
			[
				{"tier_name": "A", "rank": 1, "min_avg_aum": 10},
				{"tier_name": "B", "rank": 2, "min_avg_aum": 5},
			]
		)
	with pytest.raises(ValueError):
		TierRules(window_months=0)


def test_long_snapshots_pivot_and_duplicates():
	months = month_index(AS_OF, 3)
	snaps = pd.DataFrame(
		{
			"customer": ["A", "A", "B", "X"],
			"month": ["2026-08-01", "2026-10-15", "2026-10-01", "2026-10-01"],
			"aum": [1, 2, 3, 4],
		}
	)
	frame = pivot_months(snaps, "aum", pd.Index(["A", "B"]), months)
	assert frame.loc["A"].tolist() == [1.0, 0.0, 2.0]
	assert frame.loc["B"].tolist() == [0.0, 0.0, 3.0]


def test_migration_matrix():
	matrix = migration_matrix(
		pd.Series(["Mass", "Mass", None, "VIP"]),
		pd.Series(["Core", "Mass", "Mass", "Core"]),
		["Mass", "Core", "VIP"],
	)
	assert matrix.loc["Mass", "Core"] == 1
	assert matrix.loc["(none)", "Mass"] == 1
	assert matrix.loc["VIP", "Core"] == 1
	assert int(np.asarray(matrix).sum()) == 4
