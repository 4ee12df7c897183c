"""Complaint handling: complaints registered in a period, per branch and relationship manager.

Definitions (``build_complaint_handling``), for complaints registered in the period:

* open: not Resolved or Closed;
* overdue: open, not answered, response deadline passed (as of ``now``);
* answered: with a first response; on time: answered by the deadline; on-time rate = on time /
  (answered + overdue), the complaints whose deadline has been put to the test;
* hours to first response: mean over the answered ones;
* escalated: sent to the branch manager when the deadline passed.

A complaint belongs to the branch and manager of its customer.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from branch_crm.engine.complaints import DONE_STATUSES, first_response_hours, unanswered_past_deadline
from branch_crm.reports.base import ReportResult, card, chart, column, records

NONE = "(none)"
COLUMNS = ("name", "customer", "branch", "relationship_manager", "tier", "status", "opened")
COLUMNS += ("response_by", "first_responded_on", "escalated_on")


def _rate(part: float, whole: float) -> float | None:
	return round(100.0 * part / whole, 1) if whole else None


def build_complaint_handling(
	complaints: pd.DataFrame, now: dt.datetime, filters: dict | None = None
) -> ReportResult:
	"""``complaints``: one row per complaint with the ``COLUMNS`` (opened, response_by,
	first_responded_on, escalated_on datetimes or empty). ``filters``: branch and/or
	relationship_manager. Rows by branch and manager, busiest first."""
	filters = dict(filters or {})
	missing = [c for c in COLUMNS if c not in complaints]
	if missing:
		raise ValueError(f"complaints lack the columns {missing}")
	frame = complaints.copy()
	for field in ("branch", "relationship_manager"):
		if filters.get(field):
			frame = frame[frame[field] == filters[field]]
	frame["branch"] = frame["branch"].fillna(NONE)
	frame["relationship_manager"] = frame["relationship_manager"].fillna(NONE)
	deadline = pd.to_datetime(frame["response_by"])
	answered_at = pd.to_datetime(frame["first_responded_on"])
	frame = frame.assign(
		is_open=~frame["status"].isin(DONE_STATUSES),
		overdue=unanswered_past_deadline(frame, now) if len(frame) else False,
		answered=answered_at.notna(),
		on_time=answered_at.notna() & (deadline.isna() | (answered_at <= deadline)),
		escalated=frame["escalated_on"].notna(),
		hours=first_response_hours(frame) if len(frame) else pd.Series(dtype=float),
	)
	grouped = (
		frame.groupby(["branch", "relationship_manager"], sort=False)
		.agg(
			complaints=("name", "count"),
			open=("is_open", "sum"),
			overdue=("overdue", "sum"),
			answered=("answered", "sum"),
			on_time=("on_time", "sum"),
			escalated=("escalated", "sum"),
			avg_first_response_hours=("hours", "mean"),
		)
		.reset_index()
		.sort_values(["overdue", "open", "complaints"], ascending=False, kind="stable")
	)
	grouped["on_time_rate"] = [
		_rate(t, a + o)
		for t, a, o in zip(grouped["on_time"], grouped["answered"], grouped["overdue"], strict=True)
	]
	grouped["avg_first_response_hours"] = grouped["avg_first_response_hours"].round(1)
	columns = [
		column("branch", "Branch", "Data", 140),
		column("relationship_manager", "Relationship Manager", "Link", 180, options="Relationship Manager"),
		column("complaints", "Complaints", "Int", 100),
		column("open", "Open", "Int", 80),
		column("overdue", "Overdue", "Int", 90),
		column("escalated", "Escalated", "Int", 90),
		column("answered", "Answered", "Int", 90),
		column("on_time", "Answered On Time", "Int", 130),
		column("on_time_rate", "On-time Rate", "Percent", 110),
		column("avg_first_response_hours", "Hours to First Response", "Float", 160, precision=1),
	]
	data = records(grouped[[c["fieldname"] for c in columns]])
	for row in data:
		if row["relationship_manager"] == NONE:
			row["relationship_manager"] = None
	total = len(frame)
	answered = int(frame["answered"].sum())
	overdue = int(frame["overdue"].sum())
	on_time = int(frame["on_time"].sum())
	mean_hours = frame["hours"].mean()
	summary = [
		card(total, "Complaints"),
		card(int(frame["is_open"].sum()), "Open", indicator="Orange"),
		card(overdue, "Overdue", indicator="Red" if overdue else "Green"),
		card(_rate(on_time, answered + overdue) or 0, "On-time Rate", "Percent", "Green"),
		card(round(float(mean_hours), 1) if answered else 0, "Hours to First Response", "Float", "Blue"),
	]
	shown = grouped.head(20)
	labels = [
		rm if rm != NONE else branch
		for branch, rm in zip(shown["branch"], shown["relationship_manager"], strict=True)
	]
	result_chart = (
		chart(
			labels,
			[("Open", shown["open"].tolist()), ("Overdue", shown["overdue"].tolist())],
			type="bar",
		)
		if len(shown)
		else None
	)
	return ReportResult(columns, data, result_chart, summary)
