"""Customer information kept current: confirmation dates, stale profiles, identity edits held."""

import datetime as dt

import pandas as pd
import pytest

from branch_crm.engine.followups import due_followups
from branch_crm.engine.information import (
	CONFIRMED_FIELDS,
	confirmed_on,
	held_changes,
	review_cutoff,
	stale_profiles,
)

TODAY = dt.date(2026, 12, 4)
LAST_YEAR = dt.date(2025, 6, 1)


def test_new_customers_have_every_part_confirmed_today():
	new = pd.DataFrame({"customer": ["C1"], "customer_name": ["王芳"], "mobile_no": ["13800000000"]})
	out = confirmed_on(new, None, TODAY)
	assert out.loc[0, list(CONFIRMED_FIELDS.values())].tolist() == [TODAY] * 3


def test_only_the_parts_that_changed_are_confirmed_again():
	old = pd.DataFrame(
		{
			"customer": ["C1", "C2"],
			"customer_name": ["王芳", "李强"],
			"mobile_no": ["13800000000", None],
			"email_id": [None, None],
			"income_band": ["100k-300k", "<100k"],
			"declared_annual_income": [200000.0, 50000.0],
			"identity_confirmed_on": [LAST_YEAR, LAST_YEAR],
			"contact_confirmed_on": [LAST_YEAR, LAST_YEAR],
			"occupation_confirmed_on": [LAST_YEAR, None],
		}
	)
	new = pd.DataFrame(
		{
			"customer": ["C2", "C1"],
			"customer_name": ["李强", "王芳"],
			"mobile_no": ["", "13900000000"],  # blank equals blank; C1 changed mobile
			"email_id": [None, None],
			"income_band": ["<100k", "100k-300k"],
			"declared_annual_income": [50000, 200000],  # 50000 equals 50000.0
		}
	)
	out = confirmed_on(new, old, TODAY).set_index("customer")
	assert out.loc["C1", "contact_confirmed_on"] == TODAY
	assert out.loc["C1", "identity_confirmed_on"] == LAST_YEAR
	assert out.loc["C1", "occupation_confirmed_on"] == LAST_YEAR
	assert out.loc["C2", "contact_confirmed_on"] == LAST_YEAR
	# never confirmed before: confirmed by this intake
	assert out.loc["C2", "occupation_confirmed_on"] == TODAY


def test_review_cutoff_and_a_bad_period():
	assert review_cutoff(TODAY, 12) == dt.date(2025, 12, 4)
	with pytest.raises(ValueError, match="at least 1 month"):
		review_cutoff(TODAY, 0)


def test_stale_profiles_name_their_stale_parts_oldest_and_never_confirmed_first():
	profiles = pd.DataFrame(
		{
			"customer": ["fresh", "old contact", "never", "old all"],
			"identity_confirmed_on": [TODAY, TODAY, None, dt.date(2024, 1, 1)],
			"contact_confirmed_on": [TODAY, dt.date(2025, 3, 1), TODAY, dt.date(2024, 5, 1)],
			"occupation_confirmed_on": [TODAY, dt.date(2025, 12, 5), TODAY, dt.date(2024, 2, 1)],
		}
	)
	out = stale_profiles(profiles, TODAY, 12)
	assert out["customer"].tolist() == ["never", "old all", "old contact"]
	assert out["stale_parts"].tolist() == ["identity", "identity, contact, occupation", "contact"]
	assert out["details"].tolist() == ["", "2024-01-01", "2025-03-01"]
	assert stale_profiles(profiles.iloc[:1], TODAY, 12).empty


def test_update_information_follow_ups_say_when_the_information_was_last_confirmed():
	stale = pd.DataFrame({"customer": ["C1", "C2"], "details": ["2024-01-01", ""]})
	context = pd.DataFrame(
		{
			"customer": ["C1", "C2"],
			"customer_name": ["王芳", "李强"],
			"relationship_manager": ["rm1", "rm1"],
			"branch": ["B1", "B1"],
			"do_not_contact": [0, 0],
		}
	)
	open_rows = pd.DataFrame({"customer": ["C2"], "reason": ["Update Information"], "status": ["Open"]})
	due = due_followups(None, None, None, None, TODAY, None, customers=context, update_information=stale)
	assert due["reason"].tolist() == ["Update Information"] * 2
	assert "last confirmed 2024-01-01" in due.loc[0, "message"]
	assert "never confirmed" in due.loc[1, "message"]
	# one open per customer and reason
	again = due_followups(
		None, None, None, None, TODAY, open_rows, customers=context, update_information=stale
	)
	assert again["customer"].tolist() == ["C1"]


def test_held_changes_are_the_identity_fields_that_changed():
	before = {"customer_name": "王芳", "id_type": "Resident ID Card", "date_of_birth": dt.date(1980, 5, 17)}
	after = {
		"customer_name": "王芳",
		"id_type": "Passport",
		"date_of_birth": "1980-05-17",
		"email_id": "x@y.cn",
	}
	assert held_changes(before, after) == {"id_type": ("Resident ID Card", "Passport")}
