"""Customer segments (分类分群, seed 001 §2): customers are grouped by life stage first, then by
occupation: the first active Bank Customer Group rule (by priority) whose life stage and occupation
match ("Any" matches everything). Familiar / unfamiliar is a separate flag, never a group: an
unfamiliar customer lands in the same group a familiar one with the same life stage and occupation
does, and the flag tells the manager to get to know them. Only customers whose life stage cannot be
told (no age, no family stage, no occupation that implies one) fall through to the catch-all."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

ANY = "Any"


def ages(date_of_birth: pd.Series, as_of: dt.date) -> pd.Series:
	"""Whole years at ``as_of``; NaN where the birthday is unknown."""
	born = pd.to_datetime(date_of_birth, errors="coerce")
	as_of = pd.Timestamp(as_of)
	had_birthday = (born.dt.month < as_of.month) | (
		(born.dt.month == as_of.month) & (born.dt.day <= as_of.day)
	)
	return (as_of.year - born.dt.year - (~had_birthday).astype(int)).where(born.notna())


def life_stages(age: pd.Series, family_stage: pd.Series, occupation_category: pd.Series) -> pd.Series:
	"""Life stage from age, family stage and occupation. Retirement by occupation or family stage
	wins over age; with the age unknown, students are "Youth" and a known family stage gives its
	usual stage ("Married" → "Mature Family", the broadest middle one). None where nothing tells:
	no age, no family stage and an occupation that implies no stage."""
	family = family_stage.fillna("")
	occupation = occupation_category.fillna("")
	retired = (occupation == "Retired") | (family == "Retired") | (age >= 60)
	pre_retirement = (age >= 50) & (age < 60)
	young_family = (family == "Young Family") | ((family == "Married") & (age < 40))
	mature_family = family.isin(["Mature Family", "Empty Nest"]) | (age >= 40)
	youth = (age < 35) | (occupation == "Student") | ((family == "Single") & ~(age >= 35))
	known = age.notna() | family.ne("") | (occupation == "Student")
	stage = np.select(
		[retired, pre_retirement, young_family, mature_family, youth, known],
		["Retired", "Pre-retirement", "Young Family", "Mature Family", "Youth", "Mature Family"],
		default="",
	)
	stage = pd.Series(stage, index=age.index, dtype=object)
	return stage.where(stage != "", None)


def familiarity(
	last_contact_date: pd.Series, intent_level: pd.Series, as_of: dt.date, within_days: int
) -> pd.Series:
	"""Familiar: contacted in the last ``within_days`` days and with an intent level known."""
	last = pd.to_datetime(last_contact_date, errors="coerce")
	recent = (pd.Timestamp(as_of) - last).dt.days <= within_days
	known = intent_level.fillna("Unknown").ne("Unknown")
	return pd.Series(np.where(recent.fillna(False) & known, "Familiar", "Unfamiliar"), index=last.index)


def assign_groups(customers: pd.DataFrame, groups) -> pd.Series:
	"""The first active group (lowest priority number) whose life stage and occupation rules both
	match; a rule's life stage other than "Any" never matches an unknown stage. Familiarity plays no
	part (a ``familiarity`` column in older rules is ignored). Customers no rule matches get None,
	so a missing catch-all shows up."""
	rules = groups.copy() if isinstance(groups, pd.DataFrame) else pd.DataFrame([dict(g) for g in groups])
	if "is_active" in rules:
		rules = rules[rules["is_active"].fillna(1).astype(int) == 1]
	rules = rules.sort_values(["priority", "group_name"])
	assigned = pd.Series(None, index=customers.index, dtype=object)
	open_rows = pd.Series(True, index=customers.index)
	for rule in rules.itertuples(index=False):
		match = open_rows.copy()
		for column in ("life_stage", "occupation_category"):
			wanted = getattr(rule, column)
			if wanted and wanted != ANY:
				match &= customers[column].eq(wanted)
		assigned[match] = rule.group_name
		open_rows &= ~match
		if not open_rows.any():
			break
	return assigned.astype(object).where(assigned.notna(), None)


def segment_customers(
	customers: pd.DataFrame, groups, as_of: dt.date, familiar_within_days: int = 180
) -> pd.DataFrame:
	"""customer, familiarity (the flag), life_stage, bank_customer_group for each row of
	``customers`` (customer, date_of_birth, family_stage, occupation_category, last_contact_date,
	intent_level). The group depends on life stage and occupation alone."""
	frame = pd.DataFrame({"customer": customers["customer"]})
	frame["familiarity"] = familiarity(
		customers["last_contact_date"], customers["intent_level"], as_of, familiar_within_days
	)
	frame["life_stage"] = life_stages(
		ages(customers["date_of_birth"], as_of), customers["family_stage"], customers["occupation_category"]
	)
	frame["occupation_category"] = customers["occupation_category"]
	frame["bank_customer_group"] = assign_groups(frame, groups)
	return frame.drop(columns="occupation_category")
