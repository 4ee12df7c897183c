"""Contact plans and follow-ups on the site (docs/contact_plans.md).

The daily job (``run``) works branch by branch, because a relationship manager's follow-ups must be
scheduled together: it reads the branch's profiles and plans in one query, lets the pure engine
plan the next contacts, pick the follow-ups due (plans, birthdays and festivals, retention for
high-value customers at high churn risk) and spread them over each manager's daily capacity, then
writes set-based and commits per branch. A failed branch is logged and the others go on.

"One open follow-up per customer and reason" is a unique key on ``Customer Follow-up.open_key``
(``customer|reason`` while open, NULL once closed): rows go in with INSERT IGNORE, so a re-run, or
two workers racing, can never create a second one. Each new follow-up gets a ToDo for its manager.

Contacts (a Contact Log saved in the desk, or branch-event attendance) go through
``record_contacts``: they close the follow-ups they answer, move the plan's last contact, take the
intent level the contact found, and re-plan the next date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import frappe
import numpy as np
import pandas as pd
from frappe import _

from branch_crm import store
from branch_crm.audit import logged_run
from branch_crm.engine.cadence import (
	Calendars,
	cadence_table,
	calendars,
	plan_changes,
	plan_contacts,
	replan_on_contact,
)
from branch_crm.engine.churn import retention_candidates
from branch_crm.engine.followups import (
	FOLLOWUP_TEMPLATES,
	capacity_from_staff,
	care_touches,
	due_followups,
	escalations,
	event_attendance_as_contacts,
	followup_keys,
	schedule_with_capacity,
)
from branch_crm.engine.text import format_columns, is_coded
from branch_crm.language import coded, in_site_language, render, user_languages
from branch_crm.notifications import notify
from branch_crm.roles import FOLLOW_UP_ROLE_TYPES

PROFILE = "Bank Customer Profile"
PLAN = "Contact Plan"
FOLLOWUP = "Customer Follow-up"
LOG = "Contact Log"
STAFF = "Relationship Manager"
JOB_ID = "branch_crm:queue_follow_ups"
NO_BRANCH = "\x00no-branch"  # profiles without a branch form a chunk of their own
# ToDo priority from the follow-up's priority score
HIGH_PRIORITY, MEDIUM_PRIORITY = 60, 35

# the profile's context and its plan, side by side: result column -> SQL expression
PLAN_FIELDS = {
	"customer": "p.`name`",
	"customer_name": "p.`customer_name`",
	"branch": "p.`branch`",
	"relationship_manager": "p.`relationship_manager`",
	"tier": "p.`tier`",
	"value_class": "p.`value_class`",
	"lifetime_value": "cast(p.`lifetime_value` as double)",
	"do_not_contact": "p.`do_not_contact`",
	"channel_preference": "p.`channel_preference`",
	"date_of_birth": "p.`date_of_birth`",
	"profile_status": "p.`status`",
	"intent_level": "ifnull(p.`intent_level`, ifnull(c.`intent_level`, 'Unknown'))",
	"churn_band": "p.`churn_band`",
	"churn_score": "cast(p.`churn_score` as double)",
	"churn_reasons": "p.`churn_reasons`",
	"plan": "c.`name`",
	"status": "c.`status`",
	"last_contact_date": "c.`last_contact_date`",
	"manual_interval_days": "c.`manual_interval_days`",
	"manual_channel": "c.`manual_channel`",
	"interval_days": "c.`interval_days`",
	"channel": "c.`channel`",
	"next_contact_date": "c.`next_contact_date`",
	"plan_tier": "c.`tier`",
	"plan_manager": "c.`relationship_manager`",
	"plan_intent": "c.`intent_level`",
}
PLAN_SOURCE = f"from `tab{PROFILE}` p left join `tab{PLAN}` c on c.`name` = p.`name`"
PLAN_QUERY = (
	"select " + ", ".join(f"{sql} as `{name}`" for name, sql in PLAN_FIELDS.items()) + " " + PLAN_SOURCE
)
PLAN_NUMBERS = ("lifetime_value", "churn_score", "do_not_contact", "manual_interval_days", "interval_days")
PLAN_DATES = ("date_of_birth", "last_contact_date", "next_contact_date")
PLAN_COLUMNS = list(PLAN_FIELDS)
# profiles per read of the plans that can need work: one delimited text each, well inside the packet
ATTENTION_READ_CHUNK = 100_000
# plans created in one run above which the plans are read branch by branch (a first day: nearly
# every plan needs work, and all branches' rows at once would hold a million rows in memory)
READ_TOGETHER_MAX_NEW_PLANS = 100_000
FOLLOWUP_COLUMNS = [
	"name",
	"customer",
	"reason",
	"status",
	"due_date",
	"scheduled_date",
	"relationship_manager",
	"branch",
	"escalated_on",
	"todo",
]


@dataclass
class FollowupConfig:
	today: dt.date
	cadence: pd.DataFrame
	tiers: list[dict]
	calendars: Calendars
	festivals: list[dict]
	capacity: pd.DataFrame
	branch_managers: dict
	fallback: dict
	horizon_days: int
	plan_lookahead_days: int
	care_lookahead_days: int
	escalate_after_days: int
	templates: dict
	# book owners who cannot work follow-ups (tellers): the branch's fallback works their customers
	non_working: frozenset = frozenset()
	# False on an ordinary day: only the plans that can need work are read (see ``attention``)
	full: bool = True
	fingerprint: str = ""
	previous_fingerprint: str = ""


def _templates() -> dict:
	"""Follow-up messages are stored coded: each reader gets them in their own language."""
	return coded("followup")


def _tiers() -> list[dict]:
	return frappe.get_all(
		"Customer Tier",
		fields=["name as tier_name", "rank", "contact_interval_days"],
		order_by="`rank` asc",
	)


def _holiday_calendars(settings, today: dt.date, horizon_days: int) -> Calendars:
	"""Working days from ERPNext Holiday Lists: the default list (Settings, else the default
	company's) and the lists mapped to branches in Settings."""
	default = settings.default_holiday_list
	if not default:
		company = frappe.defaults.get_global_default("company")
		default = company and frappe.get_cached_value("Company", company, "default_holiday_list")
	lists = {row.branch: row.holiday_list for row in settings.branch_holiday_lists}
	if default:
		lists[None] = default
	if not lists:
		return calendars(None)
	holidays = store.read_frame(
		"Holiday",
		["parent", "holiday_date"],
		where="`parenttype` = 'Holiday List' and `parent` in %(lists)s and `holiday_date` between %(lo)s and %(hi)s",
		values={
			"lists": tuple(set(lists.values())),
			"lo": today - dt.timedelta(days=60),
			"hi": today + dt.timedelta(days=horizon_days + 400),
		},
	).rename(columns={"parent": "holiday_list"})
	return calendars(holidays, holiday_lists=lists)


def _staff() -> pd.DataFrame:
	return store.read_frame(
		STAFF,
		["user", "role_type", "branch", "max_followups_per_day", "is_active"],
		where="`is_active` = 1",
	)


def load_config(today: dt.date | None = None, full: bool = False, for_job: bool = True) -> FollowupConfig:
	"""What the job plans and schedules with. ``for_job=False`` (a single contact or plan saved in the
	desk) skips the staff capacities and the fingerprint, which only the daily job needs."""
	settings = frappe.get_cached_doc("Branch CRM Settings")
	today = frappe.utils.getdate(today or frappe.utils.today())
	tiers = _tiers()
	horizon = settings.followup_horizon_days or 14
	staff = (
		_staff()
		if for_job
		else pd.DataFrame(columns=["user", "role_type", "branch", "max_followups_per_day"])
	)
	capacity = capacity_from_staff(
		staff.assign(
			max_followups_per_day=staff["max_followups_per_day"].where(staff["max_followups_per_day"] > 0)
		)
	)
	managers = staff[staff["role_type"] == "Branch Manager"].drop_duplicates("branch")
	lobby = staff[staff["role_type"] == "Lobby Manager"].drop_duplicates("branch")
	config = FollowupConfig(
		today=today,
		cadence=cadence_table(
			[r.as_dict() for r in settings.cadence_rules],
			[{"tier_name": t.tier_name, "contact_interval_days": t.contact_interval_days} for t in tiers],
		),
		tiers=[{"tier_name": t.tier_name, "contact_interval_days": t.contact_interval_days} for t in tiers],
		calendars=_holiday_calendars(settings, today, horizon),
		festivals=[
			{
				"name": row.festival,
				"date": row.date,
				"tiers": row.tiers,
				"message": row.message,
				"repeat_yearly": row.repeat_yearly,
			}
			for row in settings.festivals
		],
		capacity=capacity,
		branch_managers=dict(zip(managers["branch"], managers["user"], strict=True)),
		# a customer without a manager who works follow-ups goes to the lobby manager, else the branch manager
		fallback={
			**dict(zip(managers["branch"], managers["user"], strict=True)),
			**dict(zip(lobby["branch"], lobby["user"], strict=True)),
		},
		non_working=frozenset(staff.loc[~staff["role_type"].isin(FOLLOW_UP_ROLE_TYPES), "user"]),
		horizon_days=horizon,
		plan_lookahead_days=settings.plan_lookahead_days or 0,
		care_lookahead_days=settings.care_touch_lookahead_days or 0,
		escalate_after_days=settings.escalate_after_days or 3,
		templates=_templates(),
	)
	if not for_job:
		return config
	# plans are re-planned in full when what plans them changed since the last run (cadence rules,
	# tiers' default intervals, holidays); otherwise only the plans that can need work are read
	config.fingerprint = _fingerprint(config)
	last = json.loads(settings.last_followup_summary or "{}") if settings.last_followup_run_on else {}
	config.previous_fingerprint = last.get("fingerprint") or ""
	config.full = bool(full) or config.previous_fingerprint != config.fingerprint
	return config


def _fingerprint(config: FollowupConfig) -> str:
	calendars_ = config.calendars
	holidays = {
		str(branch): [str(d) for d in calendar.holidays]
		for branch, calendar in [(None, calendars_.default), *calendars_.by_branch.items()]
	}
	payload = json.dumps(
		[config.cadence.astype(str).to_dict("records"), config.tiers, holidays], sort_keys=True, default=str
	)
	return hashlib.sha1(payload.encode()).hexdigest()


def _window(config: FollowupConfig) -> list[dt.date]:
	"""The days a care touch can fall due from (its occasion may roll back over holidays)."""
	return [config.today + dt.timedelta(days=i) for i in range(config.care_lookahead_days + 22)]


def attention(config: FollowupConfig) -> tuple[str, dict]:
	"""SQL on profile ``p`` and plan ``c``: the plans an ordinary day can have work for. The others'
	stored cadence is already right and nothing of theirs is due, so they are not read at all."""
	window = _window(config)
	birthdays = {d.strftime("%m-%d") for d in window}
	if "02-28" in birthdays or "03-01" in birthdays:
		birthdays.add("02-29")  # celebrated on 28 February in other years
	conditions = [
		"c.`name` is null",
		"c.`next_contact_date` is null",
		"c.`next_contact_date` <= %(due_until)s",
		"not (c.`tier` <=> p.`tier`)",
		"not (c.`relationship_manager` <=> p.`relationship_manager`)",
		"ifnull(c.`intent_level`, 'Unknown') != ifnull(p.`intent_level`, 'Unknown')",
		"p.`do_not_contact` = 1",
		"p.`status` = 'Closed'",
		"p.`churn_band` = 'High'",
		"date_format(p.`date_of_birth`, '%%m-%%d') in %(birthdays)s",
	]
	values = {
		"due_until": config.today + dt.timedelta(days=config.plan_lookahead_days),
		"birthdays": tuple(sorted(birthdays)),
	}
	festival_tiers = _festival_tiers(config, window)
	if festival_tiers is True:
		return "1=1", {}
	if festival_tiers:
		conditions.append("p.`tier` in %(festival_tiers)s")
		values["festival_tiers"] = tuple(festival_tiers)
	return "(" + " or ".join(conditions) + ")", values


def _festival_tiers(config: FollowupConfig, window: list[dt.date]) -> set | bool:
	"""The tiers with a festival in the window; True when one is for every tier."""
	days, tiers = set(window), set()
	for festival in config.festivals:
		date = frappe.utils.getdate(festival["date"])
		dates = {date}
		if festival["repeat_yearly"]:
			dates |= {_same_day(date, year) for year in {d.year for d in window}}
		if not dates & days:
			continue
		named = [t.strip() for t in (festival["tiers"] or "").split(",") if t.strip()]
		if not named or any(t.lower() == "all" for t in named):
			return True
		tiers |= set(named)
	return tiers


def _same_day(date: dt.date, year: int) -> dt.date:
	try:
		return date.replace(year=year)
	except ValueError:  # 29 February
		return dt.date(year, 2, 28)


# ---------------------------------------------------------------- the daily job


def enqueue(today: str | None = None) -> str:
	frappe.enqueue(
		"branch_crm.followups.run",
		queue="long",
		job_id=JOB_ID,
		deduplicate=True,
		timeout=3600,
		today=today,
	)
	return JOB_ID


def branches(branch: str | None = None) -> list[str]:
	if branch:
		return [branch]
	found = frappe.db.sql(f"select distinct `branch` from `tab{PROFILE}`", pluck="branch")
	return sorted(b or NO_BRANCH for b in found)


def ensure_plans(customers: list[str] | None = None, branch: str | None = None) -> int:
	"""Every profile has a Contact Plan (named after the customer): the missing ones are created in
	one INSERT ... SELECT, starting from the profile's intent level and last contact."""
	where, values = "c.`name` is null", {}
	if customers is not None:
		if not customers:
			return 0
		where += " and p.`name` in %(customers)s"
		values["customers"] = tuple(customers)
	if branch:
		where += " and " + _branch_condition(branch)
		values["branch"] = branch
	now, user = frappe.utils.now_datetime(), frappe.session.user
	values |= {"now": now, "user": user}
	frappe.db.sql(
		f"""insert ignore into `tab{PLAN}` (`name`, `customer`, `customer_name`, `relationship_manager`,
		`status`, `tier`, `intent_level`, `last_contact_date`, `interval_days`, `manual_interval_days`,
		`creation`, `modified`, `owner`, `modified_by`, `docstatus`, `idx`)
		select p.`name`, p.`customer`, p.`customer_name`, p.`relationship_manager`,
		if(p.`status` = 'Closed', 'Closed', 'Active'), p.`tier`, ifnull(p.`intent_level`, 'Unknown'),
		p.`last_contact_date`, 0, 0, %(now)s, %(now)s, %(user)s, %(user)s, 0, 0
		from `tab{PROFILE}` p left join `tab{PLAN}` c on c.`name` = p.`name` where {where}""",
		values,
	)
	return max(frappe.db._cursor.rowcount, 0)


def _branch_condition(branch: str, table: str = "p") -> str:
	return f"{table}.`branch` is null" if branch == NO_BRANCH else f"{table}.`branch` = %(branch)s"


@logged_run("Queue Follow-ups")
def run(today: str | None = None, branch: str | None = None, progress=None, full: bool = False) -> dict:
	"""Queue the day's follow-ups for every branch (or one). Safe to re-run: the same day creates
	nothing new. ``full``: re-plan every plan, not only those that can need work. Returns a summary."""
	config = load_config(today, full=full)
	created = ensure_plans(branch=branch) if _plans_missing() else 0
	summary = {"plans_created": created, "plans_updated": 0, "created": 0}
	summary |= {"escalated": 0, "cancelled": 0, "beyond_horizon": 0, "unassigned": 0, "failed_branches": []}
	summary["full"] = config.full
	frappe.db.commit()
	todo, by_manager = branches(branch), {}
	# an ordinary day reads every branch's plans that can need work in one pass, and every open
	# follow-up in one query; re-planning in full (or a first day) reads branch by branch
	read_together = branch is None and not config.full and created <= READ_TOGETHER_MAX_NEW_PLANS
	plans_of = {}
	if read_together:
		attention_rows = read_attention(config)
		plans_of = _by_branch(attention_rows, attention_rows["branch"])
	open_rows = read_open_followups(None, config.today)
	open_of = _by_branch(open_rows.drop(columns="profile_branch"), open_rows["profile_branch"])
	for name in todo:
		try:
			result = run_branch(
				config,
				name,
				plans=plans_of.get(name, _no_rows(PLAN_COLUMNS)) if read_together else None,
				existing=open_of.get(name, _no_rows(FOLLOWUP_COLUMNS)),
			)
			frappe.db.commit()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=_("Follow-up queueing failed for branch {0}").format(_branch_label(name)))
			summary["failed_branches"].append(_branch_label(name))
			result = {}
		for manager, count in result.pop("by_manager", {}).items():
			by_manager[manager] = by_manager.get(manager, 0) + count
		for key, value in result.items():
			summary[key] += value
		if progress:
			progress(1)
	notify_relationship_managers(by_manager)
	frappe.db.set_single_value(
		"Branch CRM Settings",
		{
			"last_followup_run_on": frappe.utils.now_datetime(),
			"last_followup_summary": json.dumps(
				{
					**summary,
					# what the plans are now planned with: all of them only after a run over every branch
					"fingerprint": config.fingerprint
					if branch is None and not summary["failed_branches"]
					else config.previous_fingerprint,
				}
			),
		},
		update_modified=False,
	)
	frappe.db.commit()
	return summary


def _branch_label(branch: str) -> str:
	return _("(no branch)") if branch == NO_BRANCH else branch


def _plans_missing() -> bool:
	"""Whether some profile may lack its Contact Plan: two index counts instead of an anti-join over
	every profile. A plan is named after its profile and a profile cannot be renamed, so there are
	fewer plans than profiles whenever one is missing, unless plans of deleted profiles make up
	the difference: ``run_branch`` creates those few as it meets them."""
	return frappe.db.count(PLAN) < frappe.db.count(PROFILE)


def _no_rows(columns: Sequence[str]) -> pd.DataFrame:
	return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _by_branch(frame: pd.DataFrame, profile_branch: pd.Series) -> dict[str, pd.DataFrame]:
	"""The rows of ``frame`` for each branch, by the branch of each row's profile (``NO_BRANCH`` for
	profiles without one, as ``branches`` names them)."""
	branch = profile_branch.fillna("").to_numpy(dtype=object)
	branch[branch == ""] = NO_BRANCH
	groups = pd.Series(branch).groupby(branch, sort=False).indices
	return {key: frame.take(positions).reset_index(drop=True) for key, positions in groups.items()}


def read_plans(where: str, values: dict) -> pd.DataFrame:
	"""Profiles and their plans (``PLAN_FIELDS``) matching ``where`` on profile ``p`` and plan ``c``,
	read as one delimited text (``store.read_query_fast``): numbers as floats (whole numbers as
	integers where none is missing), dates as ``datetime.date``."""
	frame = store.read_query_fast(
		PLAN_FIELDS,
		f"{PLAN_SOURCE} where {where}",
		values,
		text=[name for name in PLAN_FIELDS if name not in PLAN_NUMBERS],
		dates=PLAN_DATES,
	)
	for column in ("do_not_contact", "manual_interval_days", "interval_days"):
		if frame[column].notna().all():
			frame[column] = frame[column].astype(np.int64)
	frame["status"] = np.where(
		frame["profile_status"] == "Closed", "Closed", frame["status"].fillna("Active")
	)
	return frame


def read_branch(branch: str, config: FollowupConfig | None = None) -> pd.DataFrame:
	"""A branch's plans: all of them, or on an ordinary day those that can need work."""
	where, values = ("1=1", {}) if config is None or config.full else attention(config)
	return read_plans(f"{_branch_condition(branch)} and {where}", {"branch": branch, **values})


def read_attention(config: FollowupConfig) -> pd.DataFrame:
	"""Every branch's plans that can need work today (``attention``), in one pass over the profiles
	in name order: a branch's profiles lie all over the table, and fetching them branch by branch
	through the branch index takes about three times as long as one sequential scan. Read by ranges
	of names, the next ranges on reader connections meanwhile (``store.read_ahead``)."""
	where, values = attention(config)

	def read(lo: str, hi: str) -> pd.DataFrame:
		return read_plans(f"p.`name` between %(lo)s and %(hi)s and {where}", {**values, "lo": lo, "hi": hi})

	parts = [
		pending.result()
		for _range, pending in store.read_ahead(read, store.name_ranges(PROFILE, ATTENTION_READ_CHUNK))
	]
	if not parts:
		return _no_rows(PLAN_COLUMNS)
	return pd.concat(parts, ignore_index=True)


def _read_customers(customers: list[str]) -> pd.DataFrame:
	parts = [
		read_plans("p.`name` in %(customers)s", {"customers": tuple(chunk)})
		for chunk in store.chunked(customers, store.IN_LIST_LIMIT)
	]
	return pd.concat(parts, ignore_index=True)


def _with_missing_plans(plans: pd.DataFrame) -> tuple[pd.DataFrame, int]:
	"""Create the plans still missing for these profiles (see ``_plans_missing``) and read those
	rows again with them; (rows, plans created)."""
	missing = plans.loc[plans["plan"].isna(), "customer"].tolist()
	if not missing:
		return plans, 0
	created = sum(ensure_plans(list(chunk)) for chunk in store.chunked(missing, store.IN_LIST_LIMIT))
	fresh = _read_customers(missing)
	return pd.concat([plans[plans["plan"].notna()], fresh], ignore_index=True), created


def read_open_followups(branch: str | None, since: dt.date) -> pd.DataFrame:
	"""The open follow-ups of a branch's customers (``None``: of every branch, with the profile's
	branch as ``profile_branch``), and those closed or cancelled that were due from ``since`` on
	(they keep a closed care touch from being offered again while it is still ahead)."""
	columns = ", ".join(f"f.`{c}`" for c in FOLLOWUP_COLUMNS)
	frame = store.read_query(
		f"""select {columns}, p.`branch` as profile_branch from `tab{FOLLOWUP}` f
		join `tab{PROFILE}` p on p.`name` = f.`customer`
		where {_branch_condition(branch) if branch else "1=1"}
		and (f.`status` = 'Open' or f.`due_date` >= %(since)s)""",
		{"branch": branch, "since": since},
	)
	return frame if branch is None else frame.drop(columns="profile_branch")


def run_branch(
	config: FollowupConfig,
	branch: str,
	plans: pd.DataFrame | None = None,
	existing: pd.DataFrame | None = None,
) -> dict:
	"""Plan, queue, escalate and cancel for one branch. ``plans`` and ``existing``: the branch's
	rows when the caller read them for every branch at once (else read here)."""
	today = config.today
	plans, plans_created = _with_missing_plans(read_branch(branch, config) if plans is None else plans)
	if plans.empty:
		return {}
	planned = plan_contacts(plans, config.cadence, config.tiers, config.calendars, today)
	plans_updated = _store_plans(plans, planned, today)

	context = pd.concat(
		[
			plans.drop(columns=["channel", "interval_days", "next_contact_date"]),
			planned.drop(columns="customer"),
		],
		axis=1,
	)
	touches = care_touches(
		plans,
		config.festivals,
		today,
		config.care_lookahead_days,
		holidays=config.calendars,
		templates=config.templates,
	)
	retention = retention_candidates(
		plans[plans["churn_band"].notna()].assign(churn_reasons=plans["churn_reasons"].fillna(""))
	)
	if existing is None:
		existing = read_open_followups(branch, today)
	open_rows = existing[existing["status"] == "Open"]
	due = due_followups(
		context,
		touches,
		retention,
		None,
		today,
		existing,
		lookahead_days=config.plan_lookahead_days,
		fallback_assignees=config.fallback,
		non_working_assignees=config.non_working,
		templates=config.templates,
	)
	booked = open_rows[["relationship_manager", "scheduled_date"]].rename(columns={"scheduled_date": "date"})
	scheduled = schedule_with_capacity(
		due, config.capacity, today, config.horizon_days, holidays=config.calendars, booked=booked
	)
	new = scheduled[scheduled["schedule_status"] == "scheduled"]
	names = plans.set_index("customer")["customer_name"]
	created, by_manager = insert_followups(new.assign(customer_name=new["customer"].map(names)))
	escalated = escalate(config, open_rows, names)
	cancelled = cancel_blocked(open_rows, plans)
	status = scheduled["schedule_status"].value_counts()
	return {
		"plans_created": plans_created,
		"plans_updated": plans_updated,
		"created": created,
		"escalated": escalated,
		"cancelled": cancelled,
		"beyond_horizon": int(status.get("beyond_horizon", 0)),
		"unassigned": int(status.get("unassigned", 0)),
		"by_manager": by_manager,
	}


def _store_plans(plans: pd.DataFrame, planned: pd.DataFrame, today: dt.date) -> int:
	"""Write the cadence that changed (and the profile's tier and manager copied onto the plan);
	the profile shows the plan's next contact date."""
	changes = plan_changes(plans, planned, today)
	moved = plans[
		(plans["plan_tier"].fillna("") != plans["tier"].fillna(""))
		| (plans["plan_manager"].fillna("") != plans["relationship_manager"].fillna(""))
		| (plans["plan_intent"].fillna("") != plans["intent_level"].fillna(""))
	]
	if not moved.empty:
		store.update_rows(
			PLAN,
			moved[["customer", "tier", "relationship_manager", "intent_level"]].rename(
				columns={"customer": "name"}
			),
			["tier", "relationship_manager", "intent_level"],
		)
	if changes.empty:
		return len(moved)
	frame = changes.rename(columns={"customer": "name"})
	store.update_rows(PLAN, frame, ["interval_days", "channel", "next_contact_date"])
	store.update_rows(PROFILE, frame[["name", "next_contact_date"]], ["next_contact_date"])
	return len(changes.index.union(moved.index))


def _todo_priority(priority: pd.Series) -> np.ndarray:
	score = pd.to_numeric(priority, errors="coerce").fillna(0).to_numpy()
	return np.select([score >= HIGH_PRIORITY, score >= MEDIUM_PRIORITY], ["High", "Medium"], "Low")


def _descriptions(rows: pd.DataFrame, assignee: str = "relationship_manager") -> np.ndarray:
	"""The to-do text in its one reader's language (the assignee's): the suggested message; a care
	touch says its occasion first."""
	out = np.empty(len(rows), dtype=object)
	languages = rows[assignee].map(user_languages(rows[assignee].dropna().unique().tolist()))
	for lang, positions in (
		pd.Series(range(len(rows))).groupby(languages.fillna("").to_numpy()).groups.items()
	):
		group = rows.iloc[positions]
		message = np.array(render(group["message"].fillna(""), lang or None), dtype=object)
		occasion = group["occasion"].fillna("")
		care = ((group["reason"] == "Care Touch") & (occasion != "")).to_numpy()
		# a birthday is coded, a festival is its name: both in the reader's words, templates built once
		occasion = np.array(
			[
				words if is_coded(name) else _(name, lang=lang or None)
				for name, words in zip(occasion, render(occasion, lang or None), strict=True)
			],
			dtype=object,
		)
		prefix = _("Care Touch", lang=lang or None) + " - " + occasion.astype(object) + ": "
		out[np.asarray(positions)] = np.where(care, prefix + message, message)
	return out


def insert_followups(rows: pd.DataFrame) -> tuple[int, dict]:
	"""Insert follow-ups (with their ToDos) for the scheduled rows; a customer and reason that
	already has an open follow-up is skipped by the unique key. Returns (created, per manager)."""
	if rows.empty:
		return 0, {}
	rows = rows.assign(
		todo=[frappe.generate_hash(length=10) for _i in range(len(rows))],
		open_key=followup_keys(rows).to_numpy(),
		status="Open",
	)
	columns = [
		"customer",
		"customer_name",
		"reason",
		"status",
		"due_date",
		"scheduled_date",
		"relationship_manager",
		"branch",
		"channel",
		"occasion",
		"priority",
		"message",
		"todo",
		"open_key",
	]
	if "campaign" in rows:
		columns.append("campaign")
	store.insert_rows(FOLLOWUP, rows, columns, ignore_duplicates=True)
	taken = set(store.read_by_values(FOLLOWUP, ["todo"], "todo", rows["todo"])["todo"])
	rows = rows[rows["todo"].isin(taken)]
	if rows.empty:
		return 0, {}
	todos = pd.DataFrame(
		{
			"name": rows["todo"].to_numpy(),
			"status": "Open",
			"priority": _todo_priority(rows["priority"]),
			"date": rows["scheduled_date"].to_numpy(),
			"allocated_to": rows["relationship_manager"].to_numpy(),
			"description": _descriptions(rows),
			"reference_type": PROFILE,
			"reference_name": rows["customer"].to_numpy(),
			"assigned_by": "Administrator",
		}
	)
	store.insert_rows("ToDo", todos, list(todos.columns))
	refresh_assignments(rows["customer"].unique().tolist())
	return len(rows), rows.groupby("relationship_manager").size().to_dict()


def rerender_todos(users: list[str]) -> int:
	"""The open follow-up to-dos of ``users`` written again in each one's current language: a to-do
	has one reader, so its words are written for them (a user who switched language, a book that
	moved to a manager who reads another). The follow-up keeps the codes they are written from."""
	if not users:
		return 0
	rows = store.read_query(
		f"""select f.`todo`, f.`message`, f.`occasion`, f.`reason`, t.`allocated_to` as `relationship_manager`
		from `tab{FOLLOWUP}` f join `tabToDo` t on t.`name` = f.`todo`
		where f.`status` = 'Open' and t.`status` = 'Open' and t.`allocated_to` in %(users)s""",
		{"users": tuple(users)},
	)
	escalated = store.read_query(
		f"""select f.`escalation_todo` as `todo`, f.`reason`, f.`customer`, f.`customer_name`,
			f.`due_date`, f.`escalated_on`, f.`relationship_manager`, t.`allocated_to` as `escalate_to`
		from `tab{FOLLOWUP}` f join `tabToDo` t on t.`name` = f.`escalation_todo`
		where f.`status` = 'Open' and t.`status` = 'Open' and t.`allocated_to` in %(users)s""",
		{"users": tuple(users)},
	)
	frames = []
	if not rows.empty:
		frames.append(pd.DataFrame({"name": rows["todo"].to_numpy(), "description": _descriptions(rows)}))
	if not escalated.empty:
		# the days overdue as the escalation counted them
		late = escalated.assign(
			days_overdue=(
				pd.to_datetime(escalated["escalated_on"]) - pd.to_datetime(escalated["due_date"])
			).dt.days
		)
		frames.append(
			pd.DataFrame({"name": late["todo"].to_numpy(), "description": _escalation_descriptions(late)})
		)
	if not frames:
		return 0
	return store.update_rows("ToDo", pd.concat(frames, ignore_index=True), ["description"])


def _escalation_descriptions(rows: pd.DataFrame) -> np.ndarray:
	"""An escalation to-do's text in its reader's language (the branch manager's), naming the
	manager it was assigned to by name. ``rows``: reason, customer, customer_name, days_overdue,
	due_date, relationship_manager, escalate_to."""
	rows = rows.reset_index(drop=True)
	managers = rows["relationship_manager"].dropna().unique().tolist()
	names = (
		dict(
			frappe.get_all(
				"User", filters={"name": ("in", managers)}, fields=["name", "full_name"], as_list=True
			)
		)
		if managers
		else {}
	)
	fields = {
		"reason": rows["reason"].fillna("").astype(str),
		"customer_name": rows["customer_name"].fillna(rows["customer"]).astype(str),
		"days_overdue": pd.to_numeric(rows["days_overdue"]).fillna(0).astype(int).astype(str),
		"due_date": pd.to_datetime(rows["due_date"]).dt.strftime("%Y-%m-%d").fillna(""),
		"relationship_manager": rows["relationship_manager"]
		.map(lambda user: names.get(user) or user)
		.fillna("")
		.astype(str),
	}
	message = format_columns(coded("followup")["escalation"], fields, rows.index)
	return _descriptions(rows.assign(message=message, reason="Escalation", occasion=""), "escalate_to")


def on_user_update(doc, method=None) -> None:
	"""User.on_update: a user who changes their language reads their to-dos in it."""
	if doc.has_value_changed("language"):
		rerender_todos([doc.name])


def refresh_assignments(customers: list[str]) -> None:
	"""The profiles' ``_assign`` (the list view's "Assigned To") from their open ToDos, as Frappe's
	ToDo controller keeps it, in one statement per chunk."""
	for chunk in store.chunked(customers, store.WRITE_CHUNK):
		frappe.db.sql(
			f"""update `tab{PROFILE}` p left join (
				select `reference_name`, json_arrayagg(distinct `allocated_to`) as users from `tabToDo`
				where `reference_type` = %(doctype)s and `reference_name` in %(customers)s
				and `status` not in ('Cancelled', 'Closed') and `allocated_to` is not null
				group by `reference_name`) t on t.`reference_name` = p.`name`
			set p.`_assign` = ifnull(t.users, '[]') where p.`name` in %(customers)s""",
			{"doctype": PROFILE, "customers": tuple(chunk)},
		)


def escalate(config: FollowupConfig, open_rows: pd.DataFrame, names: pd.Series) -> int:
	"""Follow-ups overdue by the configured days go to the branch manager, once: a ToDo for them,
	and the follow-up records when and to whom."""
	if open_rows.empty:
		return 0
	late = escalations(
		open_rows.assign(escalated=open_rows["escalated_on"], customer_name=open_rows["customer"].map(names)),
		config.branch_managers,
		config.today,
		config.escalate_after_days,
		templates=config.templates,
	)
	late = late[late["escalate_to"].notna()]
	if late.empty:
		return 0
	late = late.merge(open_rows[["customer", "reason", "name"]], on=["customer", "reason"], how="inner")
	late["escalation_todo"] = [frappe.generate_hash(length=10) for _i in range(len(late))]
	late["customer_name"] = late["customer"].map(names)
	todos = pd.DataFrame(
		{
			"name": late["escalation_todo"].to_numpy(),
			"status": "Open",
			"priority": "High",
			"date": config.today,
			"allocated_to": late["escalate_to"].to_numpy(),
			"description": _escalation_descriptions(late),
			"reference_type": PROFILE,
			"reference_name": late["customer"].to_numpy(),
			"assigned_by": "Administrator",
		}
	)
	store.insert_rows("ToDo", todos, list(todos.columns))
	store.update_rows(
		FOLLOWUP,
		late.assign(escalated_on=config.today, escalated_to=late["escalate_to"])[
			["name", "escalated_on", "escalated_to", "escalation_todo"]
		],
		["escalated_on", "escalated_to", "escalation_todo"],
	)
	refresh_assignments(late["customer"].unique().tolist())
	return len(late)


def cancel_blocked(open_rows: pd.DataFrame, plans: pd.DataFrame) -> int:
	"""Open follow-ups of customers now flagged do-not-contact, or whose profile closed, are
	cancelled with their ToDos."""
	blocked = set(
		plans.loc[(plans["do_not_contact"] == 1) | (plans["profile_status"] == "Closed"), "customer"]
	)
	rows = open_rows[open_rows["customer"].isin(blocked)]
	if rows.empty:
		return 0
	close_followups(rows["name"].tolist(), "Cancelled")
	return len(rows)


def close_followups(names: list, status: str = "Closed", contact_log: str | None = None) -> None:
	"""Close or cancel follow-ups and their ToDos (the escalation's too), set-based."""
	if not names:
		return
	now = frappe.utils.now_datetime()
	rows = store.read_by_values(
		FOLLOWUP, ["name", "customer", "todo", "escalation_todo", "status"], "name", names
	)
	rows = rows[rows["status"] == "Open"]
	if rows.empty:
		return
	frappe.db.sql(
		f"""update `tab{FOLLOWUP}` set `status` = %(status)s, `open_key` = null, `closed_on` = %(now)s,
		`contact_log` = ifnull(%(log)s, `contact_log`), `modified` = %(now)s, `modified_by` = %(user)s
		where `name` in %(names)s and `status` = 'Open'""",
		{
			"status": status,
			"now": now,
			"log": contact_log,
			"user": frappe.session.user,
			"names": tuple(rows["name"]),
		},
	)
	close_todos([*rows["todo"], *rows["escalation_todo"]], status, rows["customer"].unique().tolist())


def close_todos(todos: list, status: str, customers: list[str]) -> None:
	"""Close or cancel open ToDos set-based, keeping the profiles' "Assigned To" right."""
	todos = [t for t in todos if t]
	if todos:
		frappe.db.sql(
			"""update `tabToDo` set `status` = %(status)s, `modified` = %(now)s, `modified_by` = %(user)s
			where `name` in %(todos)s and `status` = 'Open'""",
			{
				"status": status,
				"now": frappe.utils.now_datetime(),
				"user": frappe.session.user,
				"todos": tuple(todos),
			},
		)
	refresh_assignments(customers)


def notify_relationship_managers(by_manager: dict) -> None:
	"""One desk notification per manager with new follow-ups, not one per follow-up: written in one
	statement, then the bell is rung as Notification Log's own after_insert does."""
	users = [manager for manager in by_manager if manager]
	languages = user_languages(users)
	logs = pd.DataFrame(
		{
			"for_user": users,
			"subject": [
				_("{0} new follow-up(s) in your to-do list", lang=languages.get(u)).format(by_manager[u])
				for u in users
			],
		}
	)
	notify(logs, notification_type="Assignment", document_type="ToDo")


def queue_for(
	customers: pd.DataFrame,
	reason: str = "Needs Screening",
	today: dt.date | None = None,
	campaign: str | None = None,
) -> dict:
	"""Follow-ups raised outside the daily job (a relationship manager picking rows of the Needs
	Screening report; the daily information review, ``information.queue_stale``; a campaign's
	launch, ``campaigns.launch``, which names its ``campaign``): ``customers``
	has customer and optionally details (the gap found, the date last confirmed) or message. They
	queue like the job's, within each manager's capacity and one open per customer and reason.
	Returns {"created": n, "skipped": customers left out (do-not-contact, already open, no room in
	the horizon)}."""
	if reason not in ("Needs Screening", "Retention", "Update Information", "Campaign"):
		frappe.throw(_("Follow-ups for {0} are queued by the daily job only").format(_(reason)))
	config = load_config(today)
	names = customers["customer"].dropna().unique().tolist()
	if not names:
		return {"created": 0, "skipped": []}
	context = store.read_query(
		f"{PLAN_QUERY} where p.`name` in %(customers)s",
		{"customers": tuple(names)},
		floats=["lifetime_value"],
	)
	managers = tuple(m for m in context["relationship_manager"].dropna().unique()) or ("",)
	columns = ", ".join(f"f.`{c}`" for c in FOLLOWUP_COLUMNS)
	existing = store.read_query(
		f"""select {columns} from `tab{FOLLOWUP}` f where f.`status` = 'Open'
		and (f.`relationship_manager` in %(managers)s or f.`customer` in %(customers)s)""",
		{"managers": managers, "customers": tuple(names)},
	)
	candidates = {
		"Needs Screening": (None, customers, None, None),
		"Retention": (customers, None, None, None),
		"Update Information": (None, None, customers, None),
		"Campaign": (None, None, None, customers),
	}[reason]
	due = due_followups(
		None,
		None,
		candidates[0],
		candidates[1],
		config.today,
		existing,
		customers=context,
		update_information=candidates[2],
		campaign=candidates[3],
		fallback_assignees=config.fallback,
		non_working_assignees=config.non_working,
		templates=config.templates,
	)
	booked = existing[["relationship_manager", "scheduled_date"]].rename(columns={"scheduled_date": "date"})
	scheduled = schedule_with_capacity(
		due, config.capacity, config.today, config.horizon_days, holidays=config.calendars, booked=booked
	)
	new = scheduled[scheduled["schedule_status"] == "scheduled"]
	new = new.assign(customer_name=new["customer"].map(context.set_index("customer")["customer_name"]))
	created, by_manager = insert_followups(new.assign(campaign=campaign) if campaign else new)
	notify_relationship_managers(by_manager)
	done = set(new["customer"])
	return {"created": created, "skipped": [c for c in names if c not in done]}


# ---------------------------------------------------------------- contacts


def record_contacts(logs: pd.DataFrame, today: dt.date | None = None) -> pd.DataFrame:
	"""Contacts made (customer, contact_time, intent_level_after, and optionally name = the Contact
	Log, follow_up, reason, next_contact_date set by hand): close the follow-ups they answer, move
	each plan's last contact and intent level, and re-plan the next date. Returns the re-planned
	plans (customer, next_contact_date, ...)."""
	if logs.empty:
		return pd.DataFrame()
	config = load_config(today, for_job=False)
	customers = logs["customer"].unique().tolist()
	ensure_plans(customers)
	plans = store.read_query(
		f"{PLAN_QUERY} where p.`name` in %(customers)s",
		{"customers": tuple(customers)},
		floats=["lifetime_value"],
	)
	plans["status"] = np.where(
		plans["profile_status"] == "Closed", "Closed", plans["status"].fillna("Active")
	)
	replanned = replan_on_contact(plans, logs, config.cadence, config.tiers, config.calendars, config.today)
	if replanned.empty:
		return replanned
	chosen = _chosen_next_dates(replanned, logs)
	replanned["next_contact_date"] = chosen
	frame = replanned.rename(columns={"customer": "name"})
	store.update_rows(
		PLAN,
		frame,
		["last_contact_date", "intent_level", "interval_days", "channel", "next_contact_date"],
	)
	store.update_rows(PROFILE, frame, ["last_contact_date", "intent_level", "next_contact_date"])
	close_followups(_answered(logs), "Closed", _single(logs, "name"))
	return replanned


def _single(logs: pd.DataFrame, column: str):
	return logs[column].iloc[0] if column in logs and len(logs) == 1 else None


def _chosen_next_dates(replanned: pd.DataFrame, logs: pd.DataFrame) -> pd.Series:
	"""A next contact date the manager set on the log wins over the plan's."""
	planned = pd.to_datetime(replanned["next_contact_date"])
	if "next_contact_date" not in logs:
		return planned
	by_hand = logs.dropna(subset=["next_contact_date"]).drop_duplicates("customer", keep="last")
	chosen = replanned["customer"].map(by_hand.set_index("customer")["next_contact_date"])
	return pd.to_datetime(chosen).where(chosen.notna(), planned)


def _answered(logs: pd.DataFrame) -> list:
	"""The open follow-ups these contacts answer: the one named on the log, the customer's open
	follow-up for the log's reason, and their plan follow-up (any contact keeps the cadence)."""
	named = [n for n in logs.get("follow_up", pd.Series(dtype=object)).dropna() if n]
	reasons = logs.get("reason", pd.Series(None, index=logs.index)).fillna("Plan Due")
	pairs = pd.concat(
		[
			pd.DataFrame({"customer": logs["customer"], "reason": reasons}),
			pd.DataFrame({"customer": logs["customer"], "reason": "Plan Due"}),
		]
	)
	keys = followup_keys(pairs).unique().tolist()
	by_key = store.read_by_values(FOLLOWUP, ["name"], "open_key", keys)["name"].tolist()
	return list(dict.fromkeys([*named, *by_key]))


def on_contact_logged(log) -> None:
	"""Contact Log after_insert: the contact closes its follow-ups and re-plans the customer."""
	replanned = record_contacts(
		pd.DataFrame(
			[
				{
					"name": log.name,
					"customer": log.customer,
					"contact_time": frappe.utils.get_datetime(log.contact_time),
					"intent_level_after": log.intent_level_after or None,
					"reason": log.reason,
					"follow_up": log.follow_up or None,
					"next_contact_date": frappe.utils.getdate(log.next_contact_date)
					if log.next_contact_date
					else None,
				}
			]
		)
	)
	if not log.next_contact_date and not replanned.empty:
		next_date = replanned["next_contact_date"].iloc[0]
		if pd.notna(next_date):
			log.db_set("next_contact_date", pd.Timestamp(next_date).date(), update_modified=False)


def on_todo_update(todo, method=None) -> None:
	"""A follow-up's ToDo closed or cancelled by hand closes or cancels the follow-up. (Closing a
	plan's to-do without logging a contact does not reset the cadence: the plan stays due.)"""
	if todo.reference_type != PROFILE or todo.status not in ("Closed", "Cancelled"):
		return
	names = frappe.get_all(FOLLOWUP, filters={"todo": todo.name, "status": "Open"}, pluck="name")
	if names:
		close_followups(names, todo.status)


def record_event_attendance(event) -> int:
	"""A completed branch event: each attendee who came gets one Contact Log (channel Visit,
	outcome Attended Event), which counts as a contact for their plan. Returns how many."""
	rows = [row for row in event.attendees if row.attended and not row.contact_log]
	if not rows:
		return 0
	attendance = pd.DataFrame(
		[
			{
				"event": event.name,
				"event_title": event.title,
				"customer": row.customer,
				"event_date": frappe.utils.getdate(event.event_date),
				"relationship_manager": row.relationship_manager,
				"row": row.name,
			}
			for row in rows
		]
	)
	# a Contact Log's notes are the staff's own text, written in the site's language
	logs = event_attendance_as_contacts(attendance, templates=in_site_language(FOLLOWUP_TEMPLATES))
	# noon of the event day, or now for an event completed on its own morning (never in the future)
	noon = pd.to_datetime(logs["contact_time"]) + pd.Timedelta(hours=12)
	logs["contact_time"] = noon.clip(upper=pd.Timestamp(frappe.utils.now_datetime()))
	logs["row"] = attendance["row"].to_numpy()
	names = []
	for log in logs.itertuples(index=False):
		# Contact Logs of one event: a few hundred at most, named by their series like any other
		doc = frappe.get_doc(
			{
				"doctype": LOG,
				"customer": log.customer,
				"relationship_manager": log.relationship_manager,
				"reason": "Event",
				"channel": log.channel,
				"outcome": log.outcome,
				"contact_time": log.contact_time.to_pydatetime(),
				"notes": log.notes,
				"branch_event": event.name,
			}
		)
		doc.flags.replanned_by_caller = True
		doc.insert(ignore_permissions=True)
		names.append(doc.name)
		frappe.db.set_value("Branch Event Attendee", log.row, "contact_log", doc.name, update_modified=False)
	record_contacts(logs.assign(name=names))
	return len(names)


def invite(event, tier=None, group=None, relationship_manager=None, limit: int = 200) -> int:
	"""Add the branch's most valuable contactable customers matching the filters, among those the
	user may see (a relationship manager their own book), to the event's attendees (the ones already
	invited are kept). Returns how many were added."""
	from branch_crm.permissions import profile_condition

	conditions = ["`branch` = %(branch)s", "`do_not_contact` = 0", "`status` != 'Closed'"]
	access = profile_condition(frappe.session.user)
	if access:
		conditions.append(access)
	values = {"branch": event.branch, "limit": max(int(limit or 0), 0)}
	for field, value in (
		("tier", tier),
		("bank_customer_group", group),
		("relationship_manager", relationship_manager),
	):
		if value:
			conditions.append(f"`{field}` = %({field})s")
			values[field] = value
	already = [row.customer for row in event.attendees]
	if already:
		conditions.append("`name` not in %(already)s")
		values["already"] = tuple(already)
	found = frappe.db.sql(
		f"""select `name`, `customer_name`, `relationship_manager` from `tab{PROFILE}`
		where {" and ".join(conditions)} order by `lifetime_value` desc, `name` limit %(limit)s""",
		values,
		as_dict=True,
	)
	for row in found:
		event.append(
			"attendees",
			{
				"customer": row.name,
				"customer_name": row.customer_name,
				"relationship_manager": row.relationship_manager,
			},
		)
	return len(found)


# ---------------------------------------------------------------- single plans


def plan_one(plan) -> None:
	"""Contact Plan validate: the plan's interval, channel and next date from the cadence rules and
	its overrides, so the form shows the date the next run will use."""
	config = load_config(for_job=False)
	profile = (
		frappe.db.get_value(
			PROFILE,
			plan.customer,
			["branch", "tier", "channel_preference", "do_not_contact", "status", "relationship_manager"],
			as_dict=True,
		)
		or {}
	)
	row = pd.DataFrame(
		[
			{
				"customer": plan.customer,
				"tier": profile.get("tier"),
				"intent_level": plan.intent_level,
				"last_contact_date": plan.last_contact_date,
				"manual_interval_days": plan.manual_interval_days,
				"manual_channel": plan.manual_channel,
				"channel_preference": profile.get("channel_preference"),
				"do_not_contact": profile.get("do_not_contact") or 0,
				"branch": profile.get("branch"),
				"status": "Closed" if profile.get("status") == "Closed" else plan.status,
			}
		]
	)
	result = plan_contacts(row, config.cadence, config.tiers, config.calendars, config.today).iloc[0]
	plan.tier = profile.get("tier")
	plan.relationship_manager = plan.relationship_manager or profile.get("relationship_manager")
	plan.interval_days = int(result["interval_days"])
	plan.channel = result["channel"]
	changes = plan_changes(
		pd.DataFrame(
			[{"next_contact_date": plan.next_contact_date, "last_contact_date": plan.last_contact_date}]
		).astype("datetime64[ns]"),
		result.to_frame().T.assign(days_overdue=int(result["days_overdue"])),
		config.today,
	)
	if not changes.empty:
		next_date = changes["next_contact_date"].iloc[0]
		plan.next_contact_date = pd.Timestamp(next_date).date() if pd.notna(next_date) else None
