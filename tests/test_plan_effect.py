import datetime as dt

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.sample import generate_sample
from branch_crm.reports.plan_effect import OUTCOME_FIELDS, build_contact_schedule, build_plan_effect

T = pd.Timestamp
PERIOD = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
TODAY = dt.date(2026, 10, 20)

PLANS = pd.DataFrame(
	{
		"customer": ["A", "B", "C", "D"],
		"branch": ["B1", "B1", "B1", "B2"],
		"relationship_manager": ["rm1", "rm1", "rm2", "rm3"],
		"status": ["Active", "Active", "Active", "Paused"],
	}
)
FOLLOWUPS = pd.DataFrame(
	[
		("A", "Plan Due", "2026-10-05", "Closed", "rm1"),
		("A", "Care Touch", "2026-10-10", "Open", "rm1"),  # overdue
		("B", "Plan Due", "2026-10-25", "Open", "rm1"),  # not yet due
		("B", "Retention", "2026-10-06", "Cancelled", "rm1"),  # left out
		("C", "Plan Due", "2026-10-07", "Closed", "rm2"),
		("C", "Needs Screening", "2026-09-30", "Closed", "rm2"),  # before the period
		("D", "Plan Due", "2026-10-08", "Open", "rm3"),  # overdue
	],
	columns=["customer", "reason", "due_date", "status", "relationship_manager"],
)
LOGS = pd.DataFrame(
	[
		("A", "2026-10-05 09:30:00", "Reached - Interested", "rm1"),
		("A", "2026-10-15 16:00:00", "Product Opened", "rm1"),
		("C", "2026-10-07 11:00:00", "No Answer", "rm2"),
		("C", "2026-09-20 11:00:00", "Reached - Not Now", "rm2"),  # before the period
		("B", "2026-10-12 19:00:00", "Attended Event", None),  # the plan's RM
	],
	columns=["customer", "contact_time", "outcome", "relationship_manager"],
)
HOLDINGS = pd.DataFrame(
	[
		("A", "WM-STABLE", "2026-10-20"),  # 5 days after A's contact of 10-15
		("A", "FUND-EQUITY", "2026-11-20"),  # 36 days: too late
		("C", "INS-LIFE", "2026-10-01"),  # before any contact in the period
		("C", "LOAN-CONSUMER", "2026-11-05"),  # 29 days after 10-07
		("B", "CARD-CREDIT", "2026-10-12"),  # the same day
	],
	columns=["customer", "product", "opened_on"],
)


def build(filters=None, **options):
	return build_plan_effect(PLANS, FOLLOWUPS, LOGS, HOLDINGS, filters, PERIOD, today=TODAY, **options)


def test_numbers_per_branch_and_manager():
	result = build()
	frame = result.frame().set_index(["branch", "relationship_manager"])
	assert frame.index.tolist() == [("B1", "rm1"), ("B1", "rm2"), ("B2", "rm3")]
	columns = [
		"customers",
		"planned",
		"completed",
		"completion_rate",
		"overdue",
		"contacts",
		"customers_contacted",
		"products_opened",
	]
	assert frame.loc[("B1", "rm1"), columns].tolist() == [2, 3, 1, 33.3, 1, 3, 2, 2]
	assert frame.loc[("B1", "rm2"), columns].tolist() == [1, 1, 1, 100.0, 0, 1, 1, 1]
	assert frame.loc[("B2", "rm3"), columns].tolist() == [0, 1, 0, 0.0, 1, 0, 0, 0]
	outcomes = {o: frame.loc[("B1", "rm1"), f] for o, f in OUTCOME_FIELDS.items()}
	assert outcomes == {
		"Reached - Interested": 1,
		"Reached - Not Now": 0,
		"Reached - Declined": 0,
		"No Answer": 0,
		"Complaint Raised": 0,
		"Product Opened": 1,
		"Attended Event": 1,
	}
	assert frame.loc[("B1", "rm2"), OUTCOME_FIELDS["No Answer"]] == 1


def test_shape_chart_and_summary():
	result = build()
	fieldnames = [c["fieldname"] for c in result.columns]
	assert fieldnames[:9] == [
		"branch",
		"relationship_manager",
		"customers",
		"planned",
		"completed",
		"completion_rate",
		"overdue",
		"contacts",
		"customers_contacted",
	]
	assert fieldnames[-1] == "products_opened" and len(fieldnames) == 9 + len(OUTCOME_FIELDS) + 1
	assert all(set(row) == set(fieldnames) for row in result.data)
	assert result.chart["type"] == "bar"
	assert result.chart["data"]["labels"] == ["rm1 (B1)", "rm2 (B1)", "rm3 (B2)"]
	assert [d["name"] for d in result.chart["data"]["datasets"]] == ["Planned", "Completed", "Overdue"]
	assert result.chart["data"]["datasets"][0]["values"] == [3, 1, 1]
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards == {
		"Planned": 5,
		"Completed": 2,
		"Completion %": "40.0%",
		"Overdue": 2,
		"Contacts Made": 4,
		"Products Opened Within 30 Days": 3,
	}
	_columns, data, message, _chart, _summary = result.as_frappe()
	assert message is None and len(data) == 3


def test_filters_and_period_from_filters():
	by_branch = build({"branch": "B1"})
	assert [r["relationship_manager"] for r in by_branch.data] == ["rm1", "rm2"]
	assert by_branch.chart["data"]["labels"] == ["rm1", "rm2"]  # one branch: names alone
	by_rm = build_plan_effect(
		PLANS,
		FOLLOWUPS,
		LOGS,
		HOLDINGS,
		{"relationship_manager": ["rm2"], "from_date": "2026-10-01", "to_date": "2026-10-31"},
		today=TODAY,
	)
	assert [(r["relationship_manager"], r["planned"], r["products_opened"]) for r in by_rm.data] == [
		("rm2", 1, 1)
	]


def test_report_date_caps_overdue_and_attribution_window():
	# before A's care touch was due, nothing is overdue for rm1
	early = build_plan_effect(PLANS, FOLLOWUPS, LOGS, HOLDINGS, None, PERIOD, today=dt.date(2026, 10, 9))
	assert early.frame().set_index("relationship_manager").loc["rm1", "overdue"] == 0
	short = build(attribution_days=3)
	assert short.frame().set_index("relationship_manager")["products_opened"].tolist() == [1, 0, 0]


def test_a_period_backwards_is_rejected():
	with pytest.raises(ValueError):
		build_plan_effect(PLANS, FOLLOWUPS, LOGS, HOLDINGS, None, (PERIOD[1], PERIOD[0]))


def test_empty_inputs_give_an_empty_report():
	empty_logs = LOGS.iloc[0:0]
	result = build_plan_effect(
		PLANS.iloc[0:0], FOLLOWUPS.iloc[0:0], empty_logs, HOLDINGS.iloc[0:0], None, PERIOD
	)
	assert result.data == []
	assert {c["label"]: c["value"] for c in result.summary}["Planned"] == 0


def test_contact_schedule_on_the_sample_respects_capacity():
	sample = generate_sample(customers=400, months=6, branches=2, as_of=dt.date(2026, 9, 1), seed=11)
	from branch_crm.engine.recompute import recompute_tables

	tables = sample.tables()
	recomputed = recompute_tables(tables)
	result = build_contact_schedule(tables["customers"], recomputed, tables["staff"], dt.date(2026, 10, 1))
	frame = result.frame()
	assert len(frame) == 10  # working days in 14 calendar days from Thursday 2026-10-01
	assert (frame["followups"] == frame["plan_due"] + frame["care_touch"]).all()
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Scheduled"] == frame["followups"].sum()
	assert cards["Scheduled"] + cards["Beyond Horizon"] + cards["Unassigned"] == cards["Follow-ups Due"]
	# customers belong to relationship managers and private bankers, or fall back to the lobby manager
	from branch_crm.engine.followups import capacity_from_staff

	staff = tables["staff"]
	serving = staff[staff["role_type"].isin(["Relationship Manager", "Private Banker", "Lobby Manager"])]
	assert 0 < frame["followups"].max() <= capacity_from_staff(serving)["capacity"].sum()


def test_contact_schedule_includes_plans_falling_due_within_the_horizon():
	import datetime as dt

	from branch_crm.cli import recomputed
	from branch_crm.engine.sample import generate_sample
	from branch_crm.reports.plan_effect import build_contact_schedule

	tables = generate_sample(customers=400, branches=1, seed=3).tables()
	# 2026-11-01 is a Sunday: plans due "today" roll to Monday, inside the 14-day schedule
	result = build_contact_schedule(
		tables["customers"], recomputed(tables), tables["staff"], dt.date(2026, 11, 1)
	)
	assert sum(row["plan_due"] for row in result.data) > 0
	assert all(row["date"].weekday() < 5 for row in result.data)


def test_contact_schedule_in_parts_adds_up_to_the_whole():
	from branch_crm.engine.recompute import recompute_tables
	from branch_crm.reports.plan_effect import _parts_by_assignee

	tables = generate_sample(customers=600, months=6, branches=2, as_of=dt.date(2026, 9, 1), seed=5).tables()
	customers = tables["customers"].copy()
	# some customers without a manager: the branch's lobby manager takes them, in one part
	customers.loc[customers.index[::7], "relationship_manager"] = None
	recomputed = recompute_tables({**tables, "customers": customers})
	whole = build_contact_schedule(customers, recomputed, tables["staff"], dt.date(2026, 10, 1))
	parted = build_contact_schedule(
		customers, recomputed, tables["staff"], dt.date(2026, 10, 1), part_rows=60
	)
	assert parted.data == whole.data
	assert parted.summary == whole.summary
	assert whole.frame()["followups"].sum() > 0

	lobby = tables["staff"][tables["staff"]["role_type"] == "Lobby Manager"].drop_duplicates("branch")
	fallback = dict(zip(lobby["branch"], lobby["user"], strict=True))
	parts = _parts_by_assignee(customers, fallback, 60)
	assert len(parts) == 10
	assert sorted(np.concatenate(parts)) == list(range(len(customers)))
	assignee = customers["relationship_manager"].fillna(customers["branch"].map(fallback))
	part_of = {}
	for p, rows in enumerate(parts):
		for who in set(assignee.iloc[rows].dropna()):
			assert part_of.setdefault(who, p) == p, f"{who} is scheduled in two parts"
