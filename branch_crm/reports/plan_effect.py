"""Contact plan effect: planned vs done contacts, overdue follow-ups, outcomes and products opened
after a contact, per branch and relationship manager; and the offline contact schedule.

Definitions (``build_plan_effect``), for the period [from_date, to_date]:

* planned: follow-ups due in the period, cancelled ones left out;
* completed: those of them that are closed; completion rate = completed / planned;
* overdue: those of them still open with a due date before the report date (``today``, at most the
  day after the period);
* contacts: contact logs in the period (planned or not: customer-initiated, events...), by outcome;
* customers contacted: distinct customers among those logs;
* products opened: holdings opened within ``attribution_days`` (30) on or after a contact in the
  period, credited to the relationship manager of the latest contact before the opening.

Rows belong to a branch through the customer's plan (or the follow-up's own branch).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from branch_crm.engine.followups import CONTACT_OUTCOMES, REASONS
from branch_crm.reports.base import ReportResult, card, chart, column, records

NONE = "(none)"
OUTCOME_FIELDS = {outcome: f"outcome_{i}" for i, outcome in enumerate(CONTACT_OUTCOMES)}
CLOSED_STATUSES = ("Closed",)
CANCELLED_STATUSES = ("Cancelled",)


def _dates(values) -> pd.Series:
	series = pd.Series(values)
	if not pd.api.types.is_datetime64_any_dtype(series):
		series = pd.to_datetime(series, errors="coerce", format="ISO8601")
	return series.dt.normalize()


def _apply_filters(frame: pd.DataFrame, filters: dict) -> pd.DataFrame:
	for field in ("branch", "relationship_manager"):
		wanted = filters.get(field)
		if wanted and field in frame:
			wanted = [wanted] if isinstance(wanted, str) else list(wanted)
			frame = frame[frame[field].isin(wanted)]
	return frame


def _with_branch(frame: pd.DataFrame, branch_of: pd.Series) -> pd.DataFrame:
	"""Fill ``branch`` from the customer's plan where the row has none; blanks become NONE."""
	own = frame["branch"] if "branch" in frame else pd.Series(None, index=frame.index, dtype=object)
	branch = own.where(own.notna(), frame["customer"].map(branch_of))
	return frame.assign(branch=branch.fillna(NONE))


def build_plan_effect(
	plans: pd.DataFrame,
	followups: pd.DataFrame,
	contact_logs: pd.DataFrame,
	holdings: pd.DataFrame,
	filters: dict | None = None,
	period: tuple | None = None,
	*,
	today: dt.date | None = None,
	attribution_days: int = 30,
) -> ReportResult:
	"""``plans``: customer, branch, relationship_manager[, status]. ``followups``: customer, reason,
	due_date, status (Open / Closed / Cancelled), relationship_manager[, branch]. ``contact_logs``:
	customer, contact_time, outcome, relationship_manager[, channel, reason]. ``holdings``: customer,
	product, opened_on. ``filters``: branch and/or relationship_manager (a value or a list).
	``period``: (from_date, to_date), both inclusive; ``filters`` may carry them instead."""
	filters = dict(filters or {})
	if period is None:
		period = (filters.get("from_date"), filters.get("to_date"))
	start, end = pd.Timestamp(period[0]).normalize(), pd.Timestamp(period[1]).normalize()
	if end < start:
		raise ValueError("the period ends before it starts")
	as_of = (
		min(pd.Timestamp(today).normalize(), end + pd.Timedelta(days=1))
		if today
		else end + pd.Timedelta(days=1)
	)

	plans = plans.copy()
	plans["branch"] = plans["branch"] if "branch" in plans else None
	branch_of = plans.drop_duplicates("customer").set_index("customer")["branch"]
	plan_rm = plans.drop_duplicates("customer").set_index("customer")["relationship_manager"]

	due = followups.assign(due_date=_dates(followups["due_date"]))
	due = due[(due["due_date"] >= start) & (due["due_date"] <= end)]
	due = due[~due["status"].isin(CANCELLED_STATUSES)]
	due = _apply_filters(_with_branch(due, branch_of), filters)
	due = due.assign(relationship_manager=due["relationship_manager"].fillna(NONE))
	due["completed"] = due["status"].isin(CLOSED_STATUSES)
	due["overdue"] = ~due["completed"] & (due["due_date"] < as_of)

	logs = contact_logs.assign(contact_date=_dates(contact_logs["contact_time"]))
	logs = logs[(logs["contact_date"] >= start) & (logs["contact_date"] <= end)]
	rm = logs["relationship_manager"] if "relationship_manager" in logs else pd.Series(None, index=logs.index)
	logs = logs.assign(relationship_manager=rm.where(rm.notna(), logs["customer"].map(plan_rm)))
	logs = _apply_filters(_with_branch(logs, branch_of), filters)
	logs = logs.assign(relationship_manager=logs["relationship_manager"].fillna(NONE))

	opened = _opened_after_contact(logs, holdings, attribution_days)

	book = _apply_filters(plans, filters)
	if "status" in book:
		book = book[book["status"].fillna("Active") == "Active"]
	book = book.assign(
		branch=book["branch"].fillna(NONE), relationship_manager=book["relationship_manager"].fillna(NONE)
	)

	keys = ["branch", "relationship_manager"]
	rows = (
		pd.concat([book[keys], due[keys], logs[keys]], ignore_index=True)
		.drop_duplicates()
		.sort_values(keys, kind="stable")
		.reset_index(drop=True)
	)
	rows = rows.join(book.groupby(keys).size().rename("customers"), on=keys)
	grouped = due.groupby(keys)
	rows = rows.join(grouped.size().rename("planned"), on=keys)
	rows = rows.join(grouped["completed"].sum().rename("completed"), on=keys)
	rows = rows.join(grouped["overdue"].sum().rename("overdue"), on=keys)
	rows = rows.join(logs.groupby(keys).size().rename("contacts"), on=keys)
	rows = rows.join(logs.groupby(keys)["customer"].nunique().rename("customers_contacted"), on=keys)
	outcomes = pd.crosstab([logs["branch"], logs["relationship_manager"]], logs["outcome"]).reindex(
		columns=list(CONTACT_OUTCOMES), fill_value=0
	)
	outcomes.columns = [OUTCOME_FIELDS[o] for o in outcomes.columns]
	rows = rows.join(outcomes, on=keys)
	rows = rows.join(opened.groupby(keys).size().rename("products_opened"), on=keys)
	counts = ["customers", "planned", "completed", "overdue", "contacts", "customers_contacted"]
	counts += [*OUTCOME_FIELDS.values(), "products_opened"]
	rows[counts] = rows[counts].fillna(0).astype(int)
	rows["completion_rate"] = np.where(
		rows["planned"] > 0, (rows["completed"] * 100 / rows["planned"].clip(lower=1)).round(1), 0.0
	)
	rows = rows[
		[
			*keys,
			"customers",
			"planned",
			"completed",
			"completion_rate",
			"overdue",
			"contacts",
			"customers_contacted",
			*OUTCOME_FIELDS.values(),
			"products_opened",
		]
	]

	columns = [
		column("branch", "Branch", "Link", 140, options="Branch"),
		column("relationship_manager", "Relationship Manager", "Link", 200, options="Relationship Manager"),
		column("customers", "Customers", "Int", 90),
		column("planned", "Planned", "Int", 90),
		column("completed", "Completed", "Int", 100),
		column("completion_rate", "Completion %", "Percent", 110),
		column("overdue", "Overdue", "Int", 90),
		column("contacts", "Contacts Made", "Int", 90),
		column("customers_contacted", "Customers Contacted", "Int", 150),
	]
	# outcome labels are the Contact Log's own Select options
	columns += [column(field, outcome, "Int", 120) for outcome, field in OUTCOME_FIELDS.items()]
	columns.append(column("products_opened", "Products Opened Within 30 Days", "Int", 200))

	labels = [
		rm if rows["branch"].nunique() <= 1 else f"{rm} ({branch})"
		for branch, rm in zip(rows["branch"], rows["relationship_manager"], strict=True)
	]
	effect = chart(
		labels,
		[
			("Planned", rows["planned"].tolist()),
			("Completed", rows["completed"].tolist()),
			("Overdue", rows["overdue"].tolist()),
		],
		type="bar",
		colors=["#5E64FF", "#28A745", "#FF5858"],
	)
	planned, completed = int(rows["planned"].sum()), int(rows["completed"].sum())
	summary = [
		card(planned, "Planned"),
		card(completed, "Completed", indicator="Green"),
		card(round(completed * 100 / planned, 1) if planned else 0.0, "Completion %", "Percent", "Blue"),
		card(int(rows["overdue"].sum()), "Overdue", indicator="Red"),
		card(int(rows["contacts"].sum()), "Contacts Made", indicator="Grey"),
		card(int(rows["products_opened"].sum()), "Products Opened Within 30 Days", indicator="Green"),
	]
	return ReportResult(columns, records(rows), effect, summary)


def _opened_after_contact(logs: pd.DataFrame, holdings: pd.DataFrame, days: int) -> pd.DataFrame:
	"""Holdings opened 0..``days`` days after a contact in ``logs``, each with the branch and
	relationship manager of the latest contact on or before the opening."""
	keys = ["customer", "branch", "relationship_manager"]
	if logs.empty or holdings is None or holdings.empty:
		return pd.DataFrame(columns=[*keys, "product", "opened_on"])
	opened = holdings.assign(opened_on=_dates(holdings["opened_on"])).dropna(subset=["opened_on"])
	opened = opened[opened["customer"].isin(set(logs["customer"]))]
	if opened.empty:
		return pd.DataFrame(columns=[*keys, "product", "opened_on"])
	contacts = logs[[*keys, "contact_date"]].sort_values("contact_date", kind="stable")
	matched = pd.merge_asof(
		opened.sort_values("opened_on", kind="stable")[["customer", "product", "opened_on"]],
		contacts,
		left_on="opened_on",
		right_on="contact_date",
		by="customer",
		direction="backward",
	)
	inside = matched["contact_date"].notna() & (
		(matched["opened_on"] - matched["contact_date"]) <= pd.Timedelta(days=days)
	)
	return matched[inside][[*keys, "product", "opened_on"]]


# ---------------------------------------------------------------- offline contact schedule


# customers scheduled at a time: a million customers' candidate follow-ups at once would need ~1 GB
SCHEDULE_PART_ROWS = 200_000


def build_contact_schedule(
	customers: pd.DataFrame,
	recomputed: pd.DataFrame,
	staff: pd.DataFrame | None,
	today: dt.date,
	horizon_days: int = 14,
	*,
	cadence=None,
	tiers=None,
	festivals=None,
	last_contacts: pd.DataFrame | None = None,
	part_rows: int = SCHEDULE_PART_ROWS,
) -> ReportResult:
	"""The follow-ups of the next ``horizon_days`` for a branch network, capacity applied, one row per
	working day: the CLI's view of what the daily job would queue.

	``customers``: the intake customers; ``recomputed``: their tier, value class and lifetime value
	(one row per customer, same order); ``staff``: user, role_type, branch (capacity by role, lobby
	managers take customers without a relationship manager). ``last_contacts``: customer,
	last_contact_date (without it nobody has been contacted yet, so every plan is due today and
	capacity spreads them out). Customers are scheduled ``part_rows`` at a time, each manager's
	customers in one part: capacity is a manager's own, so the parts add up to the whole."""
	from branch_crm.engine.cadence import calendars

	fallback, capacity = None, None
	if staff is not None and len(staff) and {"user", "role_type", "branch"} <= set(staff.columns):
		from branch_crm.engine.followups import capacity_from_staff

		lobby = staff[staff["role_type"] == "Lobby Manager"].drop_duplicates("branch")
		fallback = dict(zip(lobby["branch"], lobby["user"], strict=True))
		capacity = capacity_from_staff(staff)
	customers = customers.reset_index(drop=True)
	recomputed = recomputed.reset_index(drop=True)
	last = None
	if last_contacts is not None and len(last_contacts):
		last = last_contacts.drop_duplicates("customer", keep="last").set_index("customer")[
			"last_contact_date"
		]
	tallies = [
		_schedule_part(
			customers.iloc[rows],
			recomputed.iloc[rows],
			today,
			horizon_days,
			cadence=cadence,
			tiers=tiers,
			festivals=festivals,
			last=last,
			fallback=fallback,
			capacity=capacity,
		)
		for rows in _parts_by_assignee(customers, fallback, part_rows)
	]
	by_day = pd.concat([t.by_day for t in tallies]).groupby(level=0).sum()
	# every working day of the horizon, busy or not
	days = pd.DatetimeIndex(calendars().working_days(None, today, horizon_days).astype("datetime64[ns]"))
	by_day = by_day.reindex(index=days.union(by_day.index), fill_value=0)
	rows = pd.DataFrame(
		{
			"date": by_day.index,
			"followups": by_day[list(REASONS)].sum(axis=1).to_numpy(),
			"plan_due": by_day["Plan Due"].to_numpy(),
			"care_touch": by_day["Care Touch"].to_numpy(),
			"staff": by_day["staff"].to_numpy(),
			"overdue": by_day["overdue"].to_numpy(),
		}
	)
	status = pd.concat([t.status for t in tallies]).groupby(level=0).sum()
	due_count = sum(t.due for t in tallies)
	do_not_contact = sum(t.do_not_contact for t in tallies)
	columns = [
		column("date", "Date", "Date", 110),
		column("followups", "Follow-ups", "Int", 100),
		column("plan_due", "Plan Due", "Int", 100),
		column("care_touch", "Care Touch", "Int", 100),
		column("staff", "Staff with Follow-ups", "Int", 160),
		column("overdue", "Overdue", "Int", 90),
	]
	summary = [
		card(due_count, "Follow-ups Due"),
		card(int(status.get("scheduled", 0)), "Scheduled", indicator="Green"),
		card(int(status.get("beyond_horizon", 0)), "Beyond Horizon", indicator="Orange"),
		card(int(status.get("unassigned", 0)), "Unassigned", indicator="Red"),
		card(do_not_contact, "Do Not Contact", indicator="Grey"),
	]
	day_labels = [pd.Timestamp(d).strftime("%m-%d") for d in rows["date"]]
	schedule = chart(
		day_labels,
		[("Plan Due", rows["plan_due"].tolist()), ("Care Touch", rows["care_touch"].tolist())],
		type="bar",
	)
	return ReportResult(columns, records(rows), schedule, summary)


@dataclass
class _ScheduleTally:
	by_day: pd.DataFrame  # per scheduled day: a count per reason, staff with follow-ups, overdue ones
	status: pd.Series  # follow-ups per schedule status
	due: int
	do_not_contact: int


def _parts_by_assignee(customers: pd.DataFrame, fallback: dict | None, part_rows: int) -> list[np.ndarray]:
	"""Row positions in parts of about ``part_rows``, each assignee's customers (their manager, else
	the branch's fallback, as ``due_followups`` assigns them) all in one part."""
	n = len(customers)
	parts = max(1, -(-n // max(1, part_rows)))
	if parts == 1:
		return [np.arange(n)]
	manager = customers["relationship_manager"]
	assignee = manager.where(manager.notna(), customers["branch"].map(fallback or {}))
	codes, _ = pd.factorize(assignee.to_numpy(dtype=object))
	part = np.where(codes >= 0, codes % parts, 0)
	return [np.flatnonzero(part == p) for p in range(parts)]


def _schedule_part(
	customers: pd.DataFrame,
	recomputed: pd.DataFrame,
	today: dt.date,
	horizon_days: int,
	*,
	cadence,
	tiers,
	festivals,
	last: pd.Series | None,
	fallback: dict | None,
	capacity,
) -> _ScheduleTally:
	from branch_crm.engine.cadence import plan_contacts
	from branch_crm.engine.defaults import DEFAULT_CADENCE, DEFAULT_TIERS
	from branch_crm.engine.followups import care_touches, due_followups, schedule_with_capacity

	plans = customers.reset_index(drop=True).copy()
	for field in ("tier", "value_class", "lifetime_value"):
		plans[field] = recomputed[field].to_numpy()
	plans["last_contact_date"] = pd.NaT if last is None else pd.to_datetime(plans["customer"].map(last))
	planned = plan_contacts(plans, cadence or DEFAULT_CADENCE, tiers or DEFAULT_TIERS, None, today)
	context = pd.concat(
		[plans.drop(columns=["channel_preference"]), planned.drop(columns="customer")], axis=1
	)
	touches = care_touches(plans, festivals, today, horizon_days)
	# the schedule covers the coming days: plans falling due within them belong in it
	due = due_followups(
		context, touches, None, None, today, None, lookahead_days=horizon_days, fallback_assignees=fallback
	)
	scheduled = schedule_with_capacity(due, capacity, today, horizon_days)
	on = scheduled[scheduled["schedule_status"] == "scheduled"]
	by_day = on.groupby(["scheduled_date", "reason"]).size().unstack(fill_value=0)
	by_day = by_day.reindex(columns=list(REASONS), fill_value=0)
	by_day["staff"] = on.groupby("scheduled_date")["relationship_manager"].nunique()
	by_day["overdue"] = (on["days_overdue"] > 0).groupby(on["scheduled_date"]).sum()
	return _ScheduleTally(
		by_day.fillna(0).astype(np.int64),
		scheduled["schedule_status"].value_counts(),
		len(due),
		int((planned["reason_code"] == "do_not_contact").sum()),
	)
