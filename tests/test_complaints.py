"""Complaints: response deadlines by tier, who escalates, and the Complaint Handling report."""

import datetime as dt

import pandas as pd
import pytest

from branch_crm.engine.complaints import (
	due_escalations,
	first_response_hours,
	response_deadlines,
	response_hours,
)
from branch_crm.reports.complaint_handling import COLUMNS, build_complaint_handling

HOURS = {"Mass": 48, "Core": 24, "VIP": 8, "Private Banking": 4, "Custom": 0}
NOW = dt.datetime(2026, 12, 4, 12, 0)


def test_response_hours_by_tier_with_the_default_for_the_rest():
	hours = response_hours(
		pd.Series(["VIP", "Private Banking", "Mass", "Custom", None, "Unknown"]), HOURS, 36
	)
	assert hours.tolist() == [8, 4, 48, 36, 36, 36]


def test_default_hours_must_be_positive():
	with pytest.raises(ValueError, match="above 0"):
		response_hours(pd.Series(["VIP"]), HOURS, 0)


def test_deadline_is_registration_plus_the_tiers_hours():
	opened = pd.Series([dt.datetime(2026, 12, 1, 9, 30)] * 2)
	deadlines = response_deadlines(opened, pd.Series(["VIP", "Mass"]), HOURS, 48)
	assert deadlines.tolist() == [pd.Timestamp("2026-12-01 17:30"), pd.Timestamp("2026-12-03 09:30")]


def _complaints(rows):
	return pd.DataFrame(
		rows, columns=["name", "branch", "status", "response_by", "first_responded_on", "escalated_on"]
	)


def test_escalates_only_unanswered_open_complaints_past_deadline_once_and_with_a_manager():
	complaints = _complaints(
		[
			("late", "A", "Open", "2026-12-04 08:20", None, None),
			("answered", "A", "Replied", "2026-12-04 08:00", "2026-12-04 07:00", None),
			("resolved", "A", "Resolved", "2026-12-04 08:00", None, None),
			("not yet", "A", "Open", "2026-12-04 13:00", None, None),
			("escalated", "A", "Open", "2026-12-03 08:00", None, "2026-12-03 09:00"),
			("no manager", "C", "Open", "2026-12-04 08:00", None, None),
			("on hold", "B", "On Hold", "2026-12-02 12:00", None, None),
		]
	)
	due = due_escalations(complaints, {"A": "bm.a", "B": "bm.b"}, NOW)
	assert due["name"].tolist() == ["late", "on hold"]
	assert due["escalate_to"].tolist() == ["bm.a", "bm.b"]
	# 3 h 40 min late counts as 4 hours
	assert due["hours_overdue"].tolist() == [4, 48]


def test_nothing_to_escalate_gives_an_empty_frame_with_the_columns():
	due = due_escalations(_complaints([]), {"A": "bm.a"}, NOW)
	assert due.empty and {"escalate_to", "hours_overdue"} <= set(due.columns)


def test_first_response_hours():
	frame = pd.DataFrame(
		{"opened": ["2026-12-01 09:00", "2026-12-01 09:00"], "first_responded_on": ["2026-12-01 12:30", None]}
	)
	hours = first_response_hours(frame)
	assert hours.iloc[0] == 3.5 and pd.isna(hours.iloc[1])


REPORT_ROWS = [
	# name, customer, branch, manager, tier, status, opened, response_by, first response, escalated
	(
		"I1",
		"C1",
		"B1",
		"rm1",
		"VIP",
		"Replied",
		"2026-12-01 09:00",
		"2026-12-01 17:00",
		"2026-12-01 11:00",
		None,
	),
	(
		"I2",
		"C2",
		"B1",
		"rm1",
		"Mass",
		"Open",
		"2026-12-01 09:00",
		"2026-12-03 09:00",
		None,
		"2026-12-03 10:00",
	),
	(
		"I3",
		"C3",
		"B1",
		"rm1",
		"Mass",
		"Closed",
		"2026-11-20 09:00",
		"2026-11-22 09:00",
		"2026-11-22 10:00",
		None,
	),
	("I4", "C4", "B1", "rm2", "Core", "Open", "2026-12-04 09:00", "2026-12-05 09:00", None, None),
	(
		"I5",
		"C5",
		"B2",
		"rm3",
		"Core",
		"Resolved",
		"2026-12-02 09:00",
		"2026-12-03 09:00",
		"2026-12-02 15:00",
		None,
	),
	("I6", "C6", "B2", None, "Mass", "Open", "2026-12-01 09:00", "2026-12-02 09:00", None, None),
]


def _report(filters=None):
	frame = pd.DataFrame(REPORT_ROWS, columns=list(COLUMNS))
	return build_complaint_handling(frame, NOW, filters)


def test_report_counts_open_overdue_answered_and_first_response_by_branch_and_manager():
	result = _report()
	rows = {(r["branch"], r["relationship_manager"]): r for r in result.data}
	rm1 = rows[("B1", "rm1")]
	# I1 replied but not resolved is still open
	assert (rm1["complaints"], rm1["open"], rm1["overdue"], rm1["escalated"]) == (3, 2, 1, 1)
	# I1 on time (2 h), I3 late (49 h); I2 overdue: 1 on time of 3 put to the test
	assert (rm1["answered"], rm1["on_time"], rm1["on_time_rate"]) == (2, 1, 33.3)
	assert rm1["avg_first_response_hours"] == 25.5
	rm2 = rows[("B1", "rm2")]
	assert (rm2["open"], rm2["overdue"], rm2["on_time_rate"], rm2["avg_first_response_hours"]) == (
		1,
		0,
		None,
		None,
	)
	unassigned = rows[("B2", None)]
	assert unassigned["overdue"] == 1
	# the most overdue first
	assert result.data[0]["overdue"] >= result.data[-1]["overdue"]
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Complaints"] == 6 and cards["Open"] == 4 and cards["Overdue"] == 2
	# answered I1, I3, I5 (2 h, 49 h, 6 h); on time I1 and I5 of 3 answered + 2 overdue
	assert cards["Hours to First Response"] == pytest.approx(57 / 3, abs=0.05)
	assert cards["On-time Rate"] == "40.0%"
	chart = result.chart["data"]
	assert [d["name"] for d in chart["datasets"]] == ["Open", "Overdue"]
	assert sum(chart["datasets"][1]["values"]) == 2


def test_report_filters_by_branch_and_an_empty_report_has_no_chart():
	result = _report({"branch": "B2"})
	assert {r["branch"] for r in result.data} == {"B2"}
	empty = build_complaint_handling(pd.DataFrame(columns=list(COLUMNS)), NOW)
	assert empty.data == [] and empty.chart is None
	assert {c["label"]: c["value"] for c in empty.summary}["Complaints"] == 0


def test_report_names_missing_columns():
	with pytest.raises(ValueError, match="response_by"):
		build_complaint_handling(pd.DataFrame(columns=["name", "customer"]), NOW)
