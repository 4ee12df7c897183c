import datetime as dt

import pandas as pd
import pytest

from branch_crm.engine import schema
from branch_crm.engine.defaults import DEFAULT_GROUPS
from branch_crm.engine.recompute import recompute_tables
from branch_crm.engine.sample import generate_sample
from branch_crm.engine.segments import ages, assign_groups, familiarity, life_stages, segment_customers
from branch_crm.engine.value import (
	ValueParameters,
	aum_growth,
	lifetime_value,
	value_classes,
	value_customers,
)

AS_OF = dt.date(2026, 11, 1)


def test_ages_count_birthdays_and_leap_days():
	born = pd.Series(["1990-11-01", "1990-11-02", "2000-02-29", None])
	assert ages(born, AS_OF).tolist()[:3] == [36, 35, 26]
	assert pd.isna(ages(born, AS_OF).iloc[3])
	assert ages(pd.Series(["2000-02-29"]), dt.date(2026, 2, 28)).iloc[0] == 25


@pytest.mark.parametrize(
	"age, family, occupation, stage",
	[
		(25, "Single", "Salaried", "Youth"),
		(33, "Young Family", "Salaried", "Young Family"),
		(36, "Married", "Professional", "Young Family"),
		(37, "Single", "Salaried", "Mature Family"),
		(45, "Mature Family", "Salaried", "Mature Family"),
		(55, "Mature Family", "Business Owner", "Pre-retirement"),
		(52, "Retired", "Retired", "Retired"),
		(63, None, None, "Retired"),
		(None, None, "Student", "Youth"),
		(None, None, "Retired", "Retired"),
		(None, "Single", "Salaried", "Youth"),
		(None, "Married", None, "Mature Family"),
		(None, "Empty Nest", "Other", "Mature Family"),
		# nothing tells the stage: unknown, not guessed
		(None, None, None, None),
		(None, None, "Salaried", None),
		(None, None, "Business Owner", None),
	],
)
def test_life_stage_rules(age, family, occupation, stage):
	result = life_stages(
		pd.Series([age], dtype=float),
		pd.Series([family], dtype=object),
		pd.Series([occupation], dtype=object),
	)
	assert result.iloc[0] == stage


def test_familiarity_needs_recent_contact_and_known_intent():
	last = pd.Series(["2026-10-01", "2026-10-01", "2025-01-01", None])
	intent = pd.Series(["High", "Unknown", "High", "High"])
	assert familiarity(last, intent, AS_OF, 180).tolist() == [
		"Familiar",
		"Unfamiliar",
		"Unfamiliar",
		"Unfamiliar",
	]


CATCH_ALL = max(DEFAULT_GROUPS, key=lambda g: g["priority"])["group_name"]
REAL_GROUPS = [g["group_name"] for g in DEFAULT_GROUPS if g["group_name"] != CATCH_ALL]


def _everyone(as_of=AS_OF):
	"""Every combination of age (or none), family stage (or none), occupation (or none) and recent
	contact (or none): the whole space the rule has to cover."""
	ages_ = [None, 18, 22, 30, 34, 36, 39, 42, 49, 50, 55, 59, 60, 70, 90]
	families = [None, *schema.FAMILY_STAGES]
	occupations = [None, *schema.OCCUPATION_CATEGORIES]
	rows = []
	for age in ages_:
		born = None if age is None else dt.date(as_of.year - age, 1, 1).isoformat()
		for family in families:
			for occupation in occupations:
				for contacted in (None, (as_of - dt.timedelta(days=10)).isoformat()):
					rows.append(
						{
							"customer": f"C{len(rows)}",
							"date_of_birth": born,
							"family_stage": family,
							"occupation_category": occupation,
							"last_contact_date": contacted,
							"intent_level": "Medium" if contacted else None,
						}
					)
	return pd.DataFrame(rows)


def test_defaults_are_four_to_eight_groups_by_life_stage_and_occupation_plus_a_catch_all():
	assert 4 <= len(REAL_GROUPS) <= 8 and len(DEFAULT_GROUPS) <= 8
	catch_all = next(g for g in DEFAULT_GROUPS if g["group_name"] == CATCH_ALL)
	assert (catch_all["life_stage"], catch_all["occupation_category"]) == ("Any", "Any")
	# familiarity is a flag, not a rule of any group
	assert all("familiarity" not in g for g in DEFAULT_GROUPS)
	stages = {g["life_stage"] for g in DEFAULT_GROUPS} - {"Any"}
	assert stages == set(schema.LIFE_STAGES)


def test_every_customer_whose_life_stage_is_known_lands_in_a_real_group_and_only_the_unknown_in_the_catch_all():
	customers = _everyone()
	out = segment_customers(customers, DEFAULT_GROUPS, AS_OF)
	assert out["bank_customer_group"].notna().all()
	known_age_or_stage = customers["date_of_birth"].notna() | customers["family_stage"].notna()
	assert out.loc[known_age_or_stage, "bank_customer_group"].isin(REAL_GROUPS).all()
	# an occupation that implies a stage (or a group of its own) is enough
	telling = customers["occupation_category"].isin(["Student", "Retired", "Business Owner"])
	assert out.loc[telling, "bank_customer_group"].isin(REAL_GROUPS).all()
	unknown = ~known_age_or_stage & ~telling
	assert out.loc[unknown, "bank_customer_group"].eq(CATCH_ALL).all()
	assert out.loc[unknown, "life_stage"].isna().all()
	# every real group is reachable
	assert set(out["bank_customer_group"]) == {*REAL_GROUPS, CATCH_ALL}


def test_familiarity_is_a_flag_and_never_changes_the_group():
	customers = _everyone()
	out = segment_customers(customers, DEFAULT_GROUPS, AS_OF)
	contacted = customers["last_contact_date"].notna()
	assert set(out.loc[contacted, "familiarity"]) == {"Familiar"}
	assert set(out.loc[~contacted, "familiarity"]) == {"Unfamiliar"}
	demographics = ["date_of_birth", "family_stage", "occupation_category"]
	key = customers[demographics].astype(str).agg("|".join, axis=1)
	per_key = out.groupby(key.to_numpy())["bank_customer_group"].nunique()
	assert (per_key == 1).all()
	# unfamiliar customers are spread over the same groups as familiar ones
	assert set(out.loc[~contacted, "bank_customer_group"]) == set(out.loc[contacted, "bank_customer_group"])


def test_life_stage_comes_first_then_occupation():
	customers = pd.DataFrame(
		{
			"life_stage": [
				"Retired",
				"Youth",
				"Youth",
				"Mature Family",
				"Mature Family",
				"Young Family",
				None,
			],
			"occupation_category": [
				"Business Owner",
				"Student",
				"Salaried",
				"Business Owner",
				"Salaried",
				"Self-employed",
				"Salaried",
			],
		}
	)
	assert assign_groups(customers, DEFAULT_GROUPS).tolist() == [
		"Retirees",  # a retired business owner is a retiree
		"Students",
		"Young Professionals",
		"Business Owners",
		"Established Families",
		"Young Families",
		CATCH_ALL,
	]


def test_a_rule_naming_a_life_stage_never_matches_an_unknown_one():
	rules = [
		{"group_name": "Only Retirees", "priority": 1, "life_stage": "Retired", "occupation_category": "Any"}
	]
	customers = pd.DataFrame({"life_stage": ["Retired", "Youth", None], "occupation_category": [None] * 3})
	assert assign_groups(customers, rules).tolist() == ["Only Retirees", None, None]


def test_inactive_rules_are_skipped():
	rules = [
		{
			"group_name": "Off",
			"priority": 1,
			"life_stage": "Any",
			"occupation_category": "Any",
			"is_active": 0,
		},
		{
			"group_name": "On",
			"priority": 2,
			"life_stage": "Any",
			"occupation_category": "Any",
			"is_active": 1,
		},
	]
	customers = pd.DataFrame({"life_stage": ["Youth"], "occupation_category": ["Other"]})
	assert assign_groups(customers, rules).tolist() == ["On"]


def test_segment_customers_end_to_end():
	customers = pd.DataFrame(
		{
			"customer": ["A", "B", "C"],
			"date_of_birth": ["1960-01-01", "1995-06-01", None],
			"family_stage": ["Empty Nest", "Single", None],
			"occupation_category": ["Retired", "Salaried", "Other"],
			"last_contact_date": ["2026-10-15", "2024-01-01", None],
			"intent_level": ["Medium", "High", None],
		}
	)
	out = segment_customers(customers, DEFAULT_GROUPS, AS_OF).set_index("customer")
	assert out.loc["A"].tolist() == ["Familiar", "Retired", "Retirees"]
	assert out.loc["B"].tolist() == ["Unfamiliar", "Youth", "Young Professionals"]
	assert out.loc["C"].tolist() == ["Unfamiliar", None, CATCH_ALL]


def test_the_sample_shows_four_to_eight_groups_with_customers_in_each():
	data = generate_sample(customers=2000, seed=7)
	out = recompute_tables({"customers": data.customers, "snapshots": data.snapshots})
	sizes = out["bank_customer_group"].value_counts()
	assert 4 <= len(sizes) <= 8
	assert out["bank_customer_group"].isin(REAL_GROUPS).all()  # the sample knows everyone's age
	assert sizes.min() >= 0.02 * len(out)
	# nobody has contact history offline, and still the groups are many
	assert set(out["familiarity"]) == {"Unfamiliar"}


def test_lifetime_value_formula():
	params = ValueParameters(
		horizon_years=2, discount_rate=0.1, wallet_multiple=2, margin_rate=0.01, capture_share=0.5
	)
	annuity = 1 / 1.1 + 1 / 1.1**2
	assert params.annuity() == pytest.approx(annuity)
	frame = pd.DataFrame(
		{
			"annual_contribution": [1000.0],
			"aum": [100_000.0],
			"declared_annual_income": [200_000.0],
			"growth": [0.5],
		}
	)
	out = lifetime_value(frame, params).iloc[0]
	assert out["explicit_value"] == pytest.approx(1000 * annuity, abs=0.01)
	assert out["potential_value"] == pytest.approx((400_000 - 100_000) * 0.5 * 0.01 * annuity, abs=0.01)
	assert out["growth_value"] == pytest.approx(1000 * annuity * 0.5, abs=0.01)
	assert out["lifetime_value"] == pytest.approx(
		out["explicit_value"] + out["potential_value"] + out["growth_value"], abs=0.02
	)


def test_growth_is_zero_without_a_base_and_capped():
	assert aum_growth(pd.Series([100.0, 300.0, 50.0]), pd.Series([0.0, 100.0, 100.0])).tolist() == [
		0.0,
		2.0,
		-0.5,
	]
	frame = pd.DataFrame(
		{"annual_contribution": [100.0], "aum": [0.0], "declared_annual_income": [None], "growth": [5.0]}
	)
	out = lifetime_value(frame, ValueParameters(growth_cap=1.0)).iloc[0]
	assert out["growth_value"] == pytest.approx(out["explicit_value"])
	assert out["potential_value"] == 0


def test_value_classes():
	contribution = pd.Series([-50.0, 10.0, 20.0, 30.0, 40.0, 1000.0, 5.0, 0.0])
	upside = pd.Series([0.0, 900.0, 0.0, 0.0, 0.0, 0.0, 10.0, 0.0])
	classes = value_classes(
		contribution, upside, ValueParameters(mvc_top_share=0.2, mgc_top_share=0.5)
	).tolist()
	assert classes[0] == "BZC"
	assert classes[5] == "MVC"
	assert classes[1] == "MGC"
	assert classes[7] == "Standard"


def test_value_customers_columns():
	frame = pd.DataFrame(
		{
			"customer": ["A"],
			"annual_contribution": [100.0],
			"aum": [10.0],
			"declared_annual_income": [1.0],
			"aum_recent": [20.0],
			"aum_year_ago": [10.0],
		}
	)
	out = value_customers(frame, ValueParameters())
	assert list(out.columns) == [
		"customer",
		"explicit_value",
		"potential_value",
		"growth_value",
		"lifetime_value",
		"value_class",
	]
