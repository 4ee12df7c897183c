import pandas as pd

from branch_crm.reports.tier_migration import build_tier_migration, tiers_at_period_edges

TIERS = ["Mass", "Core", "VIP"]


def frames():
	profiles = pd.DataFrame({"customer": list("ABCDE"), "tier": ["VIP", "Mass", "Core", "Core", "Mass"]})
	changes = pd.DataFrame(
		{
			"customer": ["A", "A", "B", "C", "D"],
			"changed_on": ["2026-03-05", "2026-05-01", "2026-04-10", "2026-07-01", "2025-12-01"],
			"from_tier": ["Mass", "Core", "Core", "VIP", None],
			"to_tier": ["Core", "VIP", "Mass", "Core", "Core"],
		}
	)
	return profiles, changes


def test_tiers_at_period_edges():
	profiles, changes = frames()
	edges = tiers_at_period_edges(profiles, changes, "2026-03-01", "2026-06-30").set_index("customer")
	assert tuple(edges.loc["A"]) == ("Mass", "VIP")  # two steps up inside the period
	assert tuple(edges.loc["B"]) == ("Core", "Mass")
	assert tuple(edges.loc["C"]) == ("VIP", "VIP")  # its change comes after the period
	assert tuple(edges.loc["D"]) == ("Core", "Core")  # its change came before the period
	assert tuple(edges.loc["E"]) == ("Mass", "Mass")


def test_matrix_rows_columns_chart_and_summary():
	profiles, changes = frames()
	result = build_tier_migration(profiles, changes, TIERS, "2026-03-01", "2026-06-30")
	rows = {row["from_tier"]: row for row in result.data}
	# to_0 is "(none)", to_1 Mass, to_2 Core, to_3 VIP
	assert rows["Mass"]["to_3"] == 1 and rows["Mass"]["to_1"] == 1
	assert rows["Core"]["to_1"] == 1 and rows["Core"]["to_2"] == 1
	assert rows["VIP"]["to_3"] == 1
	assert sum(r["total"] for r in result.data) == 5
	assert rows["Mass"]["moved_up"] == 1 and rows["Core"]["moved_down"] == 1
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards == {"Customers": 5, "Upgrades": 1, "Downgrades": 1, "First Tiered": 0, "Unchanged": 3}
	assert [c["fieldname"] for c in result.columns][:2] == ["from_tier", "to_0"]
	assert result.chart["data"]["labels"] == ["(none)", *TIERS]
	assert sum(result.chart["data"]["datasets"][0]["values"]) == 5


def test_first_tiered_customers_come_from_none():
	profiles = pd.DataFrame({"customer": ["N"], "tier": ["Core"]})
	changes = pd.DataFrame(
		{"customer": ["N"], "changed_on": ["2026-04-01"], "from_tier": [None], "to_tier": ["Core"]}
	)
	result = build_tier_migration(profiles, changes, TIERS, "2026-03-01", "2026-06-30")
	assert result.data[0]["from_tier"] == "(none)"
	assert {c["label"]: c["value"] for c in result.summary}["First Tiered"] == 1


def test_empty_period():
	profiles = pd.DataFrame({"customer": [], "tier": []})
	changes = pd.DataFrame({"customer": [], "changed_on": [], "from_tier": [], "to_tier": []})
	result = build_tier_migration(profiles, changes, TIERS, "2026-03-01", "2026-06-30")
	assert result.summary[0]["value"] == 0
