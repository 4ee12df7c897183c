import pandas as pd

from branch_crm.engine.defaults import DEFAULT_TIERS
from branch_crm.engine.recompute import recompute_tables
from branch_crm.engine.sample import generate_sample
from branch_crm.reports.tiers_overview import build_segment_overview, build_tier_overview

ORDER = [t["tier_name"] for t in DEFAULT_TIERS]


def recomputed_frame():
	return pd.DataFrame(
		{
			"customer": list("ABCDE"),
			"tier": ["Mass", "Mass", "Core", "VIP", "Mass"],
			"value_class": ["BZC", "Standard", "MGC", "MVC", "Standard"],
			"lifetime_value": [-100.0, 10.0, 500.0, 9000.0, 20.0],
			"avg_aum": [1000.0, 2000.0, 300_000.0, 1_500_000.0, 0.0],
			"bank_customer_group": ["Retirees", "Retirees", None, "Business Owners", "Retirees"],
			"familiarity": ["Familiar", "Unfamiliar", "Familiar", "Familiar", "Familiar"],
		}
	)


def test_tier_overview_rows_and_cards():
	result = build_tier_overview(recomputed_frame(), ORDER)
	rows = {r["tier"]: r for r in result.data}
	assert rows["Mass"]["customers"] == 3 and rows["Mass"]["share"] == 60.0
	assert rows["Mass"]["avg_aum"] == 1000.0
	assert rows["Private Banking"]["customers"] == 0
	assert (rows["VIP"]["mvc"], rows["Mass"]["bzc"], rows["Core"]["mgc"]) == (1, 1, 1)
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Customers"] == 5 and cards["Below Zero (BZC)"] == 1 and cards["Lifetime Value"] == 9430
	assert result.chart["data"]["labels"] == ORDER


def test_segment_overview_counts_every_customer_once():
	result = build_segment_overview(recomputed_frame())
	assert sum(r["customers"] for r in result.data) == 5
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Without Segment"] == 1 and cards["Unfamiliar"] == 1


def test_recompute_tables_on_the_sample():
	sample = generate_sample(customers=1500, months=24, branches=2, seed=5)
	out = recompute_tables(sample.tables())
	assert len(out) == 1500 and out["customer"].is_unique
	assert set(out["tier"]) <= set(ORDER)
	# every customer gets exactly one segment: the defaults end with a catch-all
	assert out["bank_customer_group"].notna().all()
	assert set(out["value_class"]) <= {"MVC", "MGC", "Standard", "BZC"}
	share = out["tier"].value_counts(normalize=True)
	assert 0.6 < share["Mass"] < 0.9
	# tier follows the 3-month average AUM against the thresholds (no stored tiers offline)
	vip = out[out["tier"] == "VIP"]
	assert (vip["avg_aum"] >= 1_000_000).all()
