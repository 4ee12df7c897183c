import datetime as dt

import pandas as pd
import pytest

from branch_crm.engine.defaults import DEFAULT_GROUPS
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
		(45, "Mature Family", "Salaried", "Mature Family"),
		(55, "Mature Family", "Business Owner", "Pre-retirement"),
		(52, "Retired", "Retired", "Retired"),
		(63, None, None, "Retired"),
		(None, None, "Student", "Youth"),
		(None, None, None, "Mature Family"),
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


def test_every_customer_lands_in_exactly_one_group_by_priority():
	customers = pd.DataFrame(
		{
			"customer": list("ABCDEF"),
			"familiarity": ["Unfamiliar", "Familiar", "Familiar", "Familiar", "Familiar", "Familiar"],
			"life_stage": ["Youth", "Youth", "Retired", "Mature Family", "Young Family", "Youth"],
			"occupation_category": [
				"Business Owner",
				"Business Owner",
				"Salaried",
				None,
				"Salaried",
				"Student",
			],
		}
	)
	groups = assign_groups(customers, DEFAULT_GROUPS)
	assert groups.tolist() == [
		"Unfamiliar Prospects",  # priority 10 beats Business Owners
		"Business Owners",
		"Retirees",
		"Established Families",
		"Young Families",
		"Young Professionals",
	]
	assert groups.notna().all()


def test_without_a_catch_all_unmatched_customers_stay_empty():
	rules = [
		{
			"group_name": "Only Retirees",
			"priority": 1,
			"familiarity": "Any",
			"life_stage": "Retired",
			"occupation_category": "Any",
		}
	]
	customers = pd.DataFrame(
		{
			"familiarity": ["Familiar"] * 2,
			"life_stage": ["Retired", "Youth"],
			"occupation_category": [None, None],
		}
	)
	assert assign_groups(customers, rules).tolist() == ["Only Retirees", None]


def test_inactive_rules_are_skipped():
	rules = [
		{
			"group_name": "Off",
			"priority": 1,
			"familiarity": "Any",
			"life_stage": "Any",
			"occupation_category": "Any",
			"is_active": 0,
		},
		{
			"group_name": "On",
			"priority": 2,
			"familiarity": "Any",
			"life_stage": "Any",
			"occupation_category": "Any",
			"is_active": 1,
		},
	]
	customers = pd.DataFrame(
		{"familiarity": ["Familiar"], "life_stage": ["Youth"], "occupation_category": ["Other"]}
	)
	assert assign_groups(customers, rules).tolist() == ["On"]


def test_segment_customers_end_to_end():
	customers = pd.DataFrame(
		{
			"customer": ["A", "B"],
			"date_of_birth": ["1960-01-01", "1995-06-01"],
			"family_stage": ["Empty Nest", "Single"],
			"occupation_category": ["Retired", "Salaried"],
			"last_contact_date": ["2026-10-15", "2024-01-01"],
			"intent_level": ["Medium", "High"],
		}
	)
	out = segment_customers(customers, DEFAULT_GROUPS, AS_OF).set_index("customer")
	assert out.loc["A"].tolist() == ["Familiar", "Retired", "Retirees"]
	assert out.loc["B"].tolist() == ["Unfamiliar", "Youth", "Unfamiliar Prospects"]


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
