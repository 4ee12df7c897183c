"""The demo's past: tier changes replayed month by month, contact logs and the follow-ups they closed."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine import history, schema
from branch_crm.engine.defaults import DEFAULT_GROUPS, DEFAULT_TIERS
from branch_crm.engine.followups import CONTACT_OUTCOMES, CONTACT_REASONS, REASONS
from branch_crm.engine.recompute import RecomputeConfig, recompute_chunk
from branch_crm.engine.sample import credentials_by_role, generate_sample
from branch_crm.engine.segments import familiarity
from branch_crm.engine.tiering import TierRules, compute_tiers, month_index, pivot_months
from branch_crm.roles import ALL_ROLES, INTEGRATION, ROLE_TYPE_TO_ROLE

AS_OF = dt.date(2026, 11, 1)
TODAY = dt.date(2026, 12, 4)
START = dt.date(2024, 12, 1)
MONTHS = 24
TIER_ORDER = [tier["tier_name"] for tier in sorted(DEFAULT_TIERS, key=lambda tier: tier["rank"])]


@pytest.fixture(scope="module")
def sample():
	return generate_sample(customers=3000, months=MONTHS, branches=3, as_of=AS_OF, seed=3)


@pytest.fixture(scope="module")
def matrices(sample):
	customers = pd.Index(sample.customers["customer"])
	months = month_index(AS_OF, MONTHS)
	return (
		pivot_months(sample.snapshots, "aum", customers, months),
		pivot_months(sample.snapshots, "contribution", customers, months),
	)


@pytest.fixture(scope="module")
def tiers(sample, matrices):
	return history.tier_history(sample.customers, *matrices, DEFAULT_TIERS, TierRules())


@pytest.fixture(scope="module")
def customers(sample, tiers):
	return sample.customers.merge(tiers[1][["customer", "tier"]], on="customer", how="left")


@pytest.fixture(scope="module")
def logs(sample, customers):
	return history.contact_history(customers, sample.holdings, TIER_ORDER, start=START, today=TODAY, seed=3)


def test_contact_history_is_deterministic_for_a_seed(sample, customers, logs):
	again = history.contact_history(customers, sample.holdings, TIER_ORDER, start=START, today=TODAY, seed=3)
	pd.testing.assert_frame_equal(logs, again)
	other = history.contact_history(customers, sample.holdings, TIER_ORDER, start=START, today=TODAY, seed=4)
	assert not logs[["customer", "contact_time"]].equals(other[["customer", "contact_time"]])


def test_contacts_fill_every_month_of_the_period_on_working_days(logs):
	assert list(logs.columns) == list(history.HISTORY_COLUMNS)
	times = pd.to_datetime(logs["contact_time"])
	assert times.is_monotonic_increasing
	assert times.min() >= pd.Timestamp(START) and times.max() < pd.Timestamp(TODAY)
	months = times.dt.to_period("M")
	full_months = pd.period_range(START, TODAY, freq="M")[:-1]
	per_month = months.value_counts().reindex(full_months, fill_value=0)
	assert (per_month > 0.4 * per_month.median()).all(), per_month
	assert (times.dt.dayofweek < 5).all()
	assert ((times.dt.hour >= 9) & (times.dt.hour * 60 + times.dt.minute < 17 * 60 + 30)).all()


def test_contacts_are_never_before_the_customer_joined(customers, logs):
	joined = logs["customer"].map(customers.set_index("customer")["acquired_on"])
	assert (pd.to_datetime(logs["contact_time"]).dt.normalize() >= pd.to_datetime(joined)).all()


def test_contacts_vary_and_use_the_doctype_options(logs):
	assert set(logs["outcome"]) <= set(CONTACT_OUTCOMES) - {"Attended Event"}
	assert set(logs["reason"]) <= set(CONTACT_REASONS) - {"Event"}
	assert set(logs["channel"]) <= set(schema.CHANNELS)
	assert logs["outcome"].nunique() >= 5 and logs["reason"].nunique() >= 5 and logs["channel"].nunique() >= 5
	assert set(logs["intent_level_after"].dropna()) <= set(schema.INTENT_LEVELS)
	assert logs["notes"].notna().all() and (logs["notes"].str.len() > 0).all()


def test_each_contact_is_made_by_the_customers_manager(customers, logs):
	manager = logs["customer"].map(customers.set_index("customer")["relationship_manager"])
	assert logs["relationship_manager"].equals(manager.rename("relationship_manager"))


def test_higher_tiers_are_contacted_more_often(customers, logs):
	per_customer = logs.groupby("customer").size().reindex(customers["customer"], fill_value=0)
	by_tier = per_customer.groupby(customers.set_index("customer")["tier"]).mean().reindex(TIER_ORDER)
	present = by_tier.dropna()
	assert len(present) >= 3
	assert present.is_monotonic_increasing, by_tier


def test_do_not_contact_customers_are_only_heard_from_when_they_come_in(customers, logs):
	blocked = set(customers.loc[customers["do_not_contact"] == 1, "customer"])
	theirs = logs[logs["customer"].isin(blocked)]
	assert set(theirs["reason"]) <= {"Customer Initiated"}


def test_the_latest_reached_contact_records_the_intent_level_the_profile_holds(customers, logs):
	reached = logs[logs["outcome"].isin(history.REACHED)]
	latest = reached.groupby("customer")["intent_level_after"].last()
	held = customers.set_index("customer")["intent_level"].reindex(latest.index)
	known = held.isin(history.INTENT_ORDER)
	assert (latest[known] == held[known]).all()
	assert latest[~known].isna().all()
	assert logs.loc[~logs["outcome"].isin(history.REACHED), "intent_level_after"].isna().all()


def test_familiarity_after_the_history_shows_both_groups_in_every_tier(customers, logs):
	last = logs.groupby("customer")["contact_time"].max().reindex(customers["customer"])
	familiar = familiarity(
		pd.Series(last.to_numpy()), customers["intent_level"].reset_index(drop=True), TODAY, 180
	)
	share = (familiar == "Familiar").groupby(customers["tier"].to_numpy()).mean()
	assert 0.15 < (familiar == "Familiar").mean() < 0.7
	assert ((share > 0) & (share < 1)).all(), share


def test_some_products_follow_a_contact_that_led_to_them(sample, logs):
	opened = logs[logs["outcome"] == "Product Opened"]
	assert len(opened) > 0 and (opened["channel"] == "Visit").all()
	assert not opened["product"].isin(history.SERVICE_PRODUCTS).any()
	holdings = sample.holdings.assign(opened_on=pd.to_datetime(sample.holdings["opened_on"]))
	leads = logs[(logs["outcome"] == "Reached - Interested") & logs["product"].notna()]
	joined = leads.merge(holdings, on=["customer", "product"])
	gap = (joined["opened_on"] - pd.to_datetime(joined["contact_time"]).dt.normalize()).dt.days
	# a lead moved off a weekend may land up to a day either way; it stays within Plan Effect's 30 days
	assert ((gap >= 0) & (gap <= 30)).groupby(joined.index).any().all()


def test_notes_use_the_templates_given(customers, sample):
	templates = {"No Answer": "无人接听", "Product Opened": "已开立 {product}"}
	logs = history.contact_history(
		customers,
		sample.holdings,
		TIER_ORDER,
		start=START,
		today=TODAY,
		seed=3,
		templates=templates,
		product_names={"WM-STABLE": "稳健理财"},
	)
	assert (logs.loc[logs["outcome"] == "No Answer", "notes"] == "无人接听").all()
	opened = logs[logs["outcome"] == "Product Opened"]
	assert opened["notes"].str.startswith("已开立 ").all()
	assert (opened.loc[opened["product"] == "WM-STABLE", "notes"] == "已开立 稳健理财").all()


def test_no_customers_give_no_contacts(sample):
	empty = sample.customers.iloc[:0].assign(tier=None)
	logs = history.contact_history(empty, sample.holdings.iloc[:0], TIER_ORDER, start=START, today=TODAY)
	assert logs.empty and list(logs.columns) == list(history.HISTORY_COLUMNS)


def test_every_planned_contact_closed_one_follow_up_due_shortly_before(logs):
	followups = history.followup_history(logs, seed=3)
	assert list(followups.columns) == list(history.FOLLOWUP_HISTORY_COLUMNS)
	planned = logs[logs["reason"].isin(REASONS)]
	assert sorted(followups["log"]) == sorted(planned.index)
	assert (followups["status"] == "Closed").all()
	contact_day = pd.to_datetime(logs.loc[followups["log"], "contact_time"]).dt.normalize().to_numpy()
	lateness = (contact_day - pd.to_datetime(followups["due_date"]).to_numpy()) / np.timedelta64(1, "D")
	assert ((lateness >= 0) & (lateness <= history.FOLLOWUP_EARLY_DAYS)).all()
	assert (followups["customer"].to_numpy() == logs.loc[followups["log"], "customer"].to_numpy()).all()
	assert (followups["priority"] > 0).all()


def test_tier_history_replays_the_monthly_recompute(sample, matrices, tiers):
	changes, final = tiers
	aum, contribution = matrices
	assert list(changes.columns) == list(history.TIER_CHANGE_COLUMNS)
	assert {"Initial", "Upgrade", "Downgrade"} <= set(changes["direction"])
	# the last month is left to the site's recompute
	assert pd.to_datetime(changes["changed_on"]).max() == pd.Timestamp(
		history.month_processed_on(aum.columns[-2])
	)
	# each customer's changes chain up: from-tier of one is the to-tier of the one before
	ordered = changes.sort_values(["customer", "changed_on"], kind="stable")
	previous = ordered.groupby("customer")["to_tier"].shift()
	assert (previous.dropna() == ordered.loc[previous.notna(), "from_tier"]).all()
	last = ordered.groupby("customer")["to_tier"].last()
	assert (final.set_index("customer")["tier"].reindex(last.index) == last).all()
	# the next month's recompute from the replayed tiers moves about as many as a month in the replay
	tiered = final["tier"].notna().to_numpy()
	step = compute_tiers(
		final.loc[tiered, ["customer", "tier"]].reset_index(drop=True),
		aum[tiered],
		DEFAULT_TIERS,
		TierRules(),
		contribution=contribution[tiered],
	)
	monthly = changes[changes["direction"] != "Initial"].groupby("changed_on").size()
	moved = int((step["direction"] != "Unchanged").sum())
	assert moved <= 3 * monthly.max() + 5


def test_tier_history_starts_customers_in_the_month_they_joined(sample, tiers):
	changes, final = tiers
	first = changes.groupby("customer")["changed_on"].min()
	joined = sample.customers.set_index("customer")["acquired_on"].reindex(first.index)
	assert (pd.to_datetime(first) > pd.to_datetime(joined)).all()
	late = sample.customers.loc[
		pd.to_datetime(sample.customers["acquired_on"]) >= pd.Timestamp(AS_OF), "customer"
	]
	assert final.set_index("customer").loc[late, "tier"].isna().all()


def test_tier_history_feeds_the_recompute_engine(sample, matrices, tiers):
	"""The replayed tiers and their since-dates are what the nightly chunk reads from profiles."""
	_changes, final = tiers
	profiles = sample.customers.merge(final, on="customer").assign(
		last_contact_date=None,
		segment=None,
		familiarity=None,
		life_stage=None,
		value_class=None,
		lifetime_value=0.0,
		bank_customer_group=None,
	)
	aum, contribution = (matrix.iloc[:, -12:] for matrix in matrices)
	result = recompute_chunk(
		profiles,
		aum,
		contribution,
		np.ones(len(profiles), dtype=bool),
		None,
		RecomputeConfig(tiers=DEFAULT_TIERS, groups=DEFAULT_GROUPS),
		as_of=AS_OF,
		today=TODAY,
	)
	assert set(result.tier_changes["direction"]) <= {"Initial", "Upgrade", "Downgrade"}
	assert (result.tier_changes["direction"] == "Initial").sum() == final["tier"].isna().sum()


def test_credentials_hold_one_login_per_role():
	sample = generate_sample(customers=900, months=3, branches=2, as_of=AS_OF, seed=1)
	passwords = {user: f"pw-{i}" for i, user in enumerate(sample.staff["user"])}
	passwords["crm.admin@bank.example"] = "admin-pw"
	credentials = credentials_by_role(sample.staff, passwords, {"crm.admin@bank.example": "Branch CRM Admin"})
	assert {entry["role"] for entry in credentials.values()} == set(ALL_ROLES) - {INTEGRATION}
	assert set(credentials) == {role.lower().replace(" ", "_") for role in set(ALL_ROLES) - {INTEGRATION}}
	first_branch = sample.staff["branch"].iloc[0]
	for entry in credentials.values():
		assert passwords[entry["user"]] == entry["password"]
		if entry["role"] in ROLE_TYPE_TO_ROLE.values():
			assert sample.staff.set_index("user").loc[entry["user"], "branch"] == first_branch
	# users not created by this run (no password) are left out
	assert credentials_by_role(sample.staff, {}) == {}


def test_a_few_quiet_customers_have_a_plan_follow_up_overdue_by_days(customers, logs):
	last = logs.groupby("customer")["contact_time"].max()
	frame = customers.assign(last_contact_date=customers["customer"].map(last).dt.date)
	working = sorted(
		frame.loc[
			frame["relationship_manager"].fillna("").str.startswith(("rm", "pb")), "relationship_manager"
		]
		.dropna()
		.unique()
	)
	missed = history.missed_followups(frame, today=TODAY, working_managers=working, seed=3)
	assert list(missed.columns) == list(history.MISSED_COLUMNS)
	eligible = frame[frame["relationship_manager"].isin(working)]
	assert 0 < len(missed) < 0.1 * len(eligible)
	assert missed["customer"].is_unique and set(missed["relationship_manager"]) <= set(working)
	due = pd.to_datetime(missed["due_date"])
	assert (due < pd.Timestamp(TODAY)).all() and (due.dt.dayofweek < 5).all()
	assert ((pd.Timestamp(TODAY) - due).dt.days == missed["days_overdue"]).all()
	assert missed["days_overdue"].between(1, history.MISSED_DAYS[1] + 2).all()
	quiet_since = pd.to_datetime(missed["customer"].map(frame.set_index("customer")["last_contact_date"]))
	assert ((pd.Timestamp(TODAY) - quiet_since).dt.days >= 30).fillna(True).all()
	blocked = set(frame.loc[frame["do_not_contact"] == 1, "customer"])
	assert not set(missed["customer"]) & blocked
	again = history.missed_followups(frame, today=TODAY, working_managers=working, seed=3)
	pd.testing.assert_frame_equal(missed, again)
