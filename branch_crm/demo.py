"""A realistic demo branch network on a site, from the engine's sample generator, loaded through the
same intake path core banking uses, with two years of history: tier changes, contact logs and the
follow-ups they closed (written set-based from ``engine.history``), and a few tier overrides, book
transfers and branch events that went through their forms and approval workflows as staff would."""

from __future__ import annotations

import datetime as dt
import secrets
from contextlib import contextmanager
from functools import partial

import frappe
import numpy as np
import pandas as pd
from frappe import _

from branch_crm import data_intake, store
from branch_crm.engine import history
from branch_crm.engine.sample import SampleData, credentials_by_role, generate_sample
from branch_crm.engine.text import format_columns
from branch_crm.engine.tiering import month_index, pivot_months
from branch_crm.install import ensure_erpnext_masters, install_defaults
from branch_crm.roles import ADMIN
from branch_crm.staff import bulk_user_creation, ensure_branches, ensure_staff, insert_desk_user

DEMO_COMPANY = "Demo Bank"
DEMO_ADMIN = "crm.admin@bank.example"
PROFILE = "Bank Customer Profile"
CONTACT_LOG = "Contact Log"
HISTORY_RUN = "demo-history"  # run id of the replayed Tier Change Log rows
HISTORY_CHUNK = 20_000  # contact logs per committed chunk


def set_up_site(
	company: str = DEMO_COMPANY,
	country: str = "China",
	currency: str = "CNY",
	time_zone: str = "Asia/Shanghai",
) -> bool:
	"""What ERPNext's setup wizard does, without the wizard: system settings, presets, a company with
	its fiscal year and defaults, and setup marked complete, so staff logins reach the desk. The
	wizard itself is not run: Frappe 15.92's pre-fills its user from the first non-admin user and
	renames every user to it. Does nothing on a site that has a company. Returns whether it set up."""
	from erpnext.setup.setup_wizard.setup_wizard import setup_company, setup_defaults, stage_fixtures
	from frappe.desk.page.setup_wizard.setup_wizard import (
		disable_future_access,
		enable_setup_wizard_complete,
		update_system_settings,
	)

	if frappe.db.a_row_exists("Company"):
		return False
	year = frappe.utils.getdate().year
	args = frappe._dict(
		country=country,
		currency=currency,
		timezone=time_zone,
		language="English",
		company_name=company,
		company_abbr="DB",
		chart_of_accounts="Standard",
		domain="Services",
		fy_start_date=f"{year}-01-01",  # China's fiscal year is the calendar year
		fy_end_date=f"{year}-12-31",
	)
	update_system_settings(args)
	if not frappe.db.a_row_exists("Customer"):
		# the app's install made these roots so the intake works on a bare site; ERPNext's presets
		# make them again, and fail noisily on the copies
		frappe.db.delete("Customer Group", {"name": ("in", ("Individual", "All Customer Groups"))})
		frappe.db.delete("Territory", {"name": "All Territories"})
	stage_fixtures(args)
	setup_company(args)
	setup_defaults(args)
	for app in ("frappe", "erpnext"):
		enable_setup_wizard_complete(app)
	disable_future_access()
	frappe.db.commit()
	return True


def _new_passwords(users: list[str]) -> dict[str, str]:
	"""A random password for each user just created, to print once."""
	from frappe.utils.password import update_password

	passwords = {user: secrets.token_urlsafe(9) for user in users}
	for user, password in passwords.items():
		update_password(user, password)
	return passwords


def last_complete_month(today: dt.date) -> dt.date:
	return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def load_demo_data(
	customers: int, months: int = 24, branches: int | None = None, seed: int = 7, progress=None
) -> dict:
	"""Set the site up (company, currency, time zone) if it is not, create branches, staff users (and
	a Branch CRM Admin), relationship managers and products, then customers, holdings and snapshots
	through the intake, two years of history (``load_history``), and run one night of every job.
	Safe to run twice: everything is keyed on natural keys and the history is not added again;
	passwords are set, and returned (also as one login per role in ``credentials``), only for users
	created by this run."""
	results = {"site": {"set_up": set_up_site()}}
	ensure_erpnext_masters()
	install_defaults()
	# several branches even for a small demo, so branch scopes show
	branches = branches or max(min(3, customers // 500 or 1), min(12, customers // 3000 + 1))
	sample = generate_sample(
		customers=customers,
		months=months,
		branches=branches,
		as_of=last_complete_month(frappe.utils.getdate()),
		seed=seed,
	)
	ensure_branches(sample.branches["branch"])
	existing = set(frappe.get_all("User", pluck="name"))
	ensure_staff(sample.staff)
	if DEMO_ADMIN not in existing:
		with bulk_user_creation():
			insert_desk_user(DEMO_ADMIN, "周敏", [ADMIN])  # named like the branch staff
	new_users = [u for u in [DEMO_ADMIN, *sample.staff["user"]] if u not in existing]
	results["passwords"] = _new_passwords(new_users)
	results["credentials"] = credentials_by_role(sample.staff, results["passwords"], {DEMO_ADMIN: ADMIN})
	frappe.db.commit()

	for kind, frame in (
		("customers", sample.customers),
		("holdings", sample.holdings),
		("snapshots", sample.snapshots),
	):
		records = _records(frame)
		results[kind] = data_intake.run_in_chunks(
			kind,
			records,
			progress=partial(progress, kind, total=len(records)) if progress else None,
		).as_dict()
	from branch_crm import followups
	from branch_crm.jobs import churn, needs, recompute
	from branch_crm.jobs.balances import refresh

	results["balances"] = refresh()
	results["history"] = load_history(sample, seed=seed)
	# one night, so that tiers, churn, needs and the day's follow-ups are there from the first login
	results["recompute"] = recompute.run()
	results["churn"] = churn.run()
	results["needs"] = needs.run()
	# a campaign launched weeks before the last month, measured against its control group
	results["campaign"] = finished_campaign(seed=seed)
	results["follow-ups"] = followups.run()
	frappe.db.commit()
	return results


def _records(frame: pd.DataFrame) -> list[dict]:
	frame = frame.astype(object).where(frame.notna(), None)
	return frame.to_dict("records")


# ---------------------------------------------------------------- two years of history


def load_history(sample: SampleData, seed: int = 7) -> dict:
	"""What two years of working the bank leave behind, before the first night runs: the tier
	changes each month's recompute would have made, contact logs and the follow-ups they closed,
	approved / rejected / pending tier overrides, an applied and a pending book transfer, past and
	upcoming branch events. Each part is skipped when the site already has its kind of record, so a
	second run adds nothing."""
	summary = {
		"tier_changes": _tier_history(sample),
		"contacts": _contact_history(sample, seed),
	}
	branches = _branch_staff()
	summary["contacts"]["missed_follow_ups"] = _missed_follow_ups(branches, seed)
	summary["overrides"] = _tier_overrides(branches)
	summary["book_transfers"] = _book_transfers(branches)
	summary["events"] = _branch_events(branches, seed)
	frappe.db.commit()
	return summary


@contextmanager
def _as_user(user: str):
	"""Act as a member of staff, so permissions, scopes and maker-checker apply as in the desk."""
	previous = frappe.session.user
	frappe.set_user(user)
	try:
		yield
	finally:
		frappe.set_user(previous)


def _tier_history(sample: SampleData) -> int:
	"""Replay each month's tiering over the loaded snapshots into the Tier Change Log (marked as
	notified: nobody is told two years of news), and leave every profile at the tier of the month
	before the last, so the first night's recompute continues from there."""
	from branch_crm.jobs.recompute import load_config

	if frappe.db.exists("Tier Change Log", {"run_id": HISTORY_RUN}):
		return 0
	config = load_config()
	profiles = store.read_frame(PROFILE, ["customer", "branch", "relationship_manager", "acquired_on"])
	customers = pd.Index(profiles["customer"])
	months = month_index(
		pd.to_datetime(sample.snapshots["month"]).max().date(), sample.snapshots["month"].nunique()
	)
	aum = pivot_months(sample.snapshots, "aum", customers, months)
	contribution = pivot_months(sample.snapshots, "contribution", customers, months)
	changes, final = history.tier_history(
		profiles, aum, contribution, config.tiers, config.rules, reason_templates=config.reason_templates
	)
	written = 0
	for chunk in store.chunked(changes, HISTORY_CHUNK):
		written += store.insert_rows(
			"Tier Change Log",
			chunk.assign(run_id=HISTORY_RUN, notified=1),
			[*history.TIER_CHANGE_COLUMNS, "run_id", "notified"],
		)
		frappe.db.commit()
	tiered = final.dropna(subset=["tier"]).rename(columns={"customer": "name"})
	store.update_rows(PROFILE, tiered, ["tier", "tier_reason", "tier_since"])
	frappe.db.commit()
	return written


def _note_templates() -> dict[str, str]:
	# notes as a manager would type them, in the site's language
	return {
		"Reached - Interested": _("Interested; send product details"),
		"Reached - Not Now": _("Not now; try again later"),
		"Reached - Declined": _("Declined the offer"),
		"No Answer": _("No answer"),
		"Complaint Raised": _("Raised a complaint; passed to the branch manager"),
		"Product Opened": _("Opened {product}"),
		"lead": _("Interested in {product}"),
	}


def _series_names(prefix_by_row: pd.Series) -> np.ndarray:
	"""Names from Frappe's naming series (``prefix`` + 5 digits), a block per prefix reserved in
	the Series table at once, as ``getseries`` would one by one."""
	names = np.empty(len(prefix_by_row), dtype=object)
	for prefix, rows in prefix_by_row.groupby(prefix_by_row, sort=True).groups.items():
		found = frappe.db.sql("select `current` from `tabSeries` where `name` = %s for update", prefix)
		current = int(found[0][0] or 0) if found else 0
		count = len(rows)
		if found:
			frappe.db.sql(
				"update `tabSeries` set `current` = %s where `name` = %s", (current + count, prefix)
			)
		else:
			frappe.db.sql("insert into `tabSeries` (`name`, `current`) values (%s, %s)", (prefix, count))
		numbers = np.arange(current + 1, current + count + 1)
		names[prefix_by_row.index.get_indexer(rows)] = [f"{prefix}{number:05d}" for number in numbers]
	return names


def _contact_history(sample: SampleData, seed: int) -> dict:
	"""Contact logs over the snapshots' months by each customer's manager, the closed follow-ups
	they answered, and each profile's last contact, all written set-based."""
	if frappe.db.exists(CONTACT_LOG, {"branch_event": ("is", "not set")}):
		return {"contact_logs": 0, "follow_ups": 0}
	profiles = store.read_frame(
		PROFILE,
		[
			"customer",
			"customer_name",
			"branch",
			"relationship_manager",
			"tier",
			"intent_level",
			"channel_preference",
			"do_not_contact",
			"acquired_on",
		],
	)
	tier_order = frappe.get_all("Customer Tier", order_by="`rank` asc", pluck="name")
	product_names = dict(frappe.get_all("Bank Product", fields=["name", "product_name"], as_list=True))
	today = frappe.utils.getdate()
	logs = history.contact_history(
		profiles,
		sample.holdings,
		tier_order,
		start=pd.to_datetime(sample.snapshots["month"]).min().date(),
		today=today,
		seed=seed,
		templates=_note_templates(),
		product_names=product_names,
	)
	if logs.empty:
		return {"contact_logs": 0, "follow_ups": 0}
	logs["naming_series"] = "CRM-CL-.YYYY.-"
	# named by the year each contact was made in, as the desk would have named it then
	logs["name"] = _series_names("CRM-CL-" + logs["contact_time"].dt.strftime("%Y") + "-")
	logs["customer_name"] = logs["customer"].map(profiles.set_index("customer")["customer_name"])
	columns = ["name", "naming_series", "customer", "customer_name", *history.HISTORY_COLUMNS[1:-1]]
	# made by the manager at the time of the contact
	made = {"creation": logs["contact_time"], "modified": logs["contact_time"]}
	made["owner"] = made["modified_by"] = logs["relationship_manager"].fillna("Administrator")
	logs = logs.assign(**made)
	for chunk in store.chunked(logs, HISTORY_CHUNK):
		store.insert_rows(CONTACT_LOG, chunk, columns)
		frappe.db.commit()

	followups = history.followup_history(logs, seed)
	followups["contact_log"] = logs["name"].to_numpy()[followups["log"].to_numpy()]
	followups["customer_name"] = followups["customer"].map(profiles.set_index("customer")["customer_name"])
	followups["branch"] = followups["customer"].map(profiles.set_index("customer")["branch"])
	for chunk in store.chunked(followups, HISTORY_CHUNK):
		store.insert_rows(
			"Customer Follow-up",
			chunk.assign(creation=chunk["closed_on"]),
			[*history.FOLLOWUP_HISTORY_COLUMNS[1:], "customer_name", "branch", "contact_log"],
		)
		frappe.db.commit()
	# each contact links the follow-up it closed, as one closed from its to-do does
	frappe.db.sql(
		"""update `tabContact Log` l join `tabCustomer Follow-up` f on f.`contact_log` = l.`name`
		set l.`follow_up` = f.`name` where l.`follow_up` is null"""
	)
	last = logs.groupby("customer", as_index=False)["contact_time"].max()
	store.update_rows(
		PROFILE,
		pd.DataFrame({"name": last["customer"], "last_contact_date": last["contact_time"].dt.date}),
		["last_contact_date"],
	)
	frappe.db.commit()
	asked = _feedback_history(logs, sample, seed)
	return {"contact_logs": len(logs), "follow_ups": len(followups), "feedback_requests": asked}


def _feedback_history(logs: pd.DataFrame, sample: SampleData, seed: int) -> int:
	"""The satisfaction asked after those contacts (docs/feedback.md), answered or expired, written
	set-based: customers whose balances drift away answered badly in their last months."""
	from branch_crm.engine.feedback import ASK_AFTER_OUTCOMES, VALID_DAYS

	# written once, with the contact history it follows (skipped when the site has one)
	truth = getattr(sample, "truth", None)
	unhappy = (
		truth.loc[truth["pattern"] == "drifting", "customer"].tolist()
		if truth is not None and "pattern" in truth
		else []
	)
	asked = history.feedback_history(
		logs.reset_index(drop=True),
		frappe.utils.now_datetime(),
		seed,
		unhappy=unhappy,
		ask_after=ASK_AFTER_OUTCOMES,
		comments={
			# what customers write, in the site's language
			"negative": [
				_("Waited too long at the counter"),
				_("Nobody explained the fees to me"),
				_("I was called too often"),
			],
			"positive": [_("Very helpful, thank you"), _("Clear advice")],
		},
		valid_days=VALID_DAYS,
	)
	if asked.empty:
		return 0
	asked["contact_log"] = logs["name"].to_numpy()[asked["log"].to_numpy()]
	asked["customer_name"] = asked["customer"].map(
		logs.drop_duplicates("customer").set_index("customer")["customer_name"]
	)
	asked["naming_series"] = "CRM-FB-.YYYY.-"
	asked["name"] = _series_names("CRM-FB-" + asked["asked_on"].dt.strftime("%Y") + "-")
	asked["channel"] = "Given by Staff"
	asked["staff_member"] = asked["staff_member"].fillna("Administrator")
	asked["owner"] = asked["modified_by"] = asked["staff_member"]
	asked["creation"] = asked["asked_on"]
	asked["modified"] = asked["answered_on"].fillna(asked["asked_on"])
	asked["answered_on"] = asked["answered_on"].astype(object).where(asked["answered_on"].notna(), None)
	columns = [
		"name",
		"naming_series",
		"customer",
		"customer_name",
		"contact_log",
		"staff_member",
		"channel",
		"status",
		"asked_on",
		"expires_on",
		"score",
		"answered_on",
		"comment",
		"owner",
		"modified_by",
		"creation",
		"modified",
	]
	for chunk in store.chunked(asked, HISTORY_CHUNK):
		store.insert_rows("Customer Feedback", chunk, columns)
		frappe.db.commit()
	return len(asked)


def _missed_follow_ups(staff: pd.DataFrame, seed: int) -> int:
	"""A few plan follow-ups of the last days nobody got to, queued with their to-dos as the job
	queued them then; the night's job finds them overdue and escalates the oldest."""
	from branch_crm.followups import insert_followups
	from branch_crm.language import coded
	from branch_crm.roles import FOLLOW_UP_ROLE_TYPES

	if frappe.db.exists("Customer Follow-up", {"status": "Open"}):
		return 0
	profiles = store.read_frame(
		PROFILE,
		[
			"customer",
			"customer_name",
			"branch",
			"tier",
			"relationship_manager",
			"channel_preference",
			"do_not_contact",
			"last_contact_date",
		],
		where="`status` != 'Closed'",
	)
	working = staff.loc[staff["role_type"].isin(FOLLOW_UP_ROLE_TYPES), "user"]
	missed = history.missed_followups(
		profiles, today=frappe.utils.getdate(), working_managers=working.tolist(), seed=seed
	)
	if missed.empty:
		return 0
	missed = missed.merge(profiles[["customer", "customer_name", "branch", "tier"]], on="customer")
	intervals = dict(frappe.get_all("Customer Tier", fields=["name", "contact_interval_days"], as_list=True))
	# the message the job wrote when it queued them, stored coded like the job's own
	missed["message"] = format_columns(
		coded("followup")["plan_due"],
		{
			"customer_name": missed["customer_name"].astype(str),
			"channel": missed["channel"].astype(str),
			"interval_days": missed["tier"].map(intervals).fillna(30).astype(int).astype(str),
		},
		missed.index,
	)
	created, _by_manager = insert_followups(missed.assign(occasion=None))
	frappe.db.commit()
	return created


def _branch_staff() -> pd.DataFrame:
	"""Active staff (user, branch, role_type), branch by branch in name order."""
	return store.read_frame(
		"Relationship Manager",
		["user", "branch", "role_type"],
		where="`is_active` = 1 order by `branch`, `user`",
	)


def _first(staff: pd.DataFrame, branch: str, role_type: str, last: bool = False) -> str | None:
	users = staff[(staff["branch"] == branch) & (staff["role_type"] == role_type)]["user"]
	return None if users.empty else users.iloc[-1 if last else 0]


def _apply(doc, action: str, user: str):
	from frappe.model.workflow import apply_workflow

	with _as_user(user):
		return apply_workflow(doc.as_dict(), action)


def _tier_overrides(staff: pd.DataFrame) -> dict:
	"""Requested by the branch managers, decided by the Branch CRM Admin through the "Tier Override
	Approval" workflow: approved ones (one since two months back), one rejected, one waiting."""
	if frappe.db.a_row_exists("Tier Override"):
		return {}
	tiers = frappe.get_all("Customer Tier", order_by="`rank` asc", pluck="name")
	if len(tiers) < 2:
		return {}
	today = frappe.utils.getdate()
	top, second = tiers[-1], tiers[-2]
	third = tiers[-3] if len(tiers) > 2 else tiers[0]
	# (tier of the customers picked, the override tier, months back it starts, reason, last action)
	requests = [
		(second, top, 2, _("Family business accounts moving to us over the next quarter"), "Approve"),
		(third, second, 0, _("Long-standing customer; mortgage with us renewed this month"), "Approve"),
		(second, top, 0, _("Inheritance expected; assets to be consolidated here"), "Approve"),
		(third, second, 0, _("Asked for a dedicated manager; no assets to support it yet"), "Reject"),
		(third, second, 0, _("Salary account of a senior executive moving to us"), None),
	]
	picked, states = set(), {}
	for number, (tier, override, months_back, reason, action) in enumerate(requests):
		candidates = store.read_frame(
			PROFILE,
			["customer", "branch"],
			where="`tier` = %(tier)s and `status` != 'Closed' order by `avg_aum` desc limit 20",
			values={"tier": tier},
		)
		candidates = candidates[~candidates["customer"].isin(picked)]
		if candidates.empty:
			continue
		customer, branch = candidates.iloc[number % len(candidates)]
		manager = _first(staff, branch, "Branch Manager")
		if not manager:
			continue
		picked.add(customer)
		valid_from = frappe.utils.add_months(today, -months_back)
		with _as_user(manager):
			doc = frappe.get_doc(
				{
					"doctype": "Tier Override",
					"customer": customer,
					"tier": override,
					"valid_from": valid_from,
					"valid_until": frappe.utils.add_months(valid_from, 12),
					"reason": reason,
				}
			).insert()
		_through_approval(doc, manager, action, states)
	return states


def _through_approval(doc, manager: str, decision: str | None, states: dict) -> None:
	"""Sent for approval by the branch manager who made it, then decided by the admin (or left
	waiting), counted by the state it ends in."""
	doc = _apply(doc, "Submit for Approval", manager)
	if decision:
		doc = _apply(doc, decision, DEMO_ADMIN)
	states[doc.workflow_state] = states.get(doc.workflow_state, 0) + 1
	frappe.db.commit()


def _book_transfers(staff: pd.DataFrame) -> dict:
	"""A relationship manager moved to another team: their book auto-balanced over the branch,
	approved and applied today; and, in another branch, a hand-over to a named colleague in two
	weeks, waiting for the admin's approval."""
	if frappe.db.exists("Book Transfer", {"mode": ("!=", "Re-homing")}):
		return {}
	managers = staff[staff["role_type"] == "Relationship Manager"]
	by_size = managers.groupby("branch").size().sort_values(ascending=False, kind="stable")
	if by_size.empty or by_size.iloc[0] < 2:
		return {}
	today = frappe.utils.getdate()
	plans = [
		(by_size.index[0], "Auto-balance", today, _("Moved to the corporate banking team"), "Approve"),
	]
	if len(by_size) > 1 and by_size.iloc[1] >= 2:
		plans.append(
			(
				by_size.index[1],
				"Named Managers",
				frappe.utils.add_days(today, 14),
				_("Going on parental leave; book handed to a colleague"),
				None,
			)
		)
	states = {}
	for branch, mode, effective_date, reason, action in plans:
		# the last manager of the branch hands over, so the first keeps a book to demo with
		from_rm = _first(staff, branch, "Relationship Manager", last=True)
		colleague = _first(staff, branch, "Relationship Manager")
		manager = _first(staff, branch, "Branch Manager")
		if not manager:
			continue
		with _as_user(manager):
			doc = frappe.get_doc(
				{
					"doctype": "Book Transfer",
					"branch": branch,
					"from_rm": from_rm,
					"mode": mode,
					"to_rms": [{"relationship_manager": colleague}] if mode == "Named Managers" else [],
					"effective_date": effective_date,
					"reason": reason,
				}
			).insert()
		if not doc.customers:
			continue
		_through_approval(doc, manager, action, states)
	return states


def _branch_events(staff: pd.DataFrame, seed: int) -> dict:
	"""Events the branch managers ran over the past year, with who came (each attendee gets a
	contact log through the event, as in the desk), and one coming up with its invitations."""
	if frappe.db.a_row_exists("Branch Event"):
		return {}
	tiers = frappe.get_all("Customer Tier", order_by="`rank` asc", pluck="name")
	today = frappe.utils.getdate()
	rng = np.random.default_rng(np.random.SeedSequence([seed, 18]))
	# (title, type, days from today, tier invited (from the top), how many invited, share who came)
	events = [
		(_("Wealth management salon: markets in the new year"), "Wealth Management Salon", -300, 2, 30, 0.7),
		(_("Pension planning lecture"), "Lecture", -200, 3, 40, 0.55),
		(_("Mid-autumn customer appreciation tea"), "Customer Appreciation", -80, 2, 40, 0.65),
		(_("New stable wealth product launch"), "Product Launch", -30, 2, 30, 0.6),
		(_("Year-end wealth management salon"), "Wealth Management Salon", 10, 2, 25, 0.0),
	]
	from branch_crm.followups import invite

	branches = sorted(staff["branch"].unique())
	counts = {}
	for number, (title, event_type, days, tier_from_top, limit, came) in enumerate(events):
		branch = branches[number % len(branches)]
		manager = _first(staff, branch, "Branch Manager")
		if not manager:
			continue
		tier = tiers[-min(tier_from_top, len(tiers))] if tiers else None
		event_date = frappe.utils.add_days(today, days)
		with _as_user(manager):
			doc = frappe.get_doc(
				{
					"doctype": "Branch Event",
					"naming_series": "EVT-.YYYY.-",
					"title": title,
					"event_type": event_type,
					"branch": branch,
					"event_date": event_date,
					"venue": _("Branch VIP lounge"),
					"invite_tier": tier,
					"invite_limit": limit,
					"status": "Planned",
				}
			)
			invite(doc, tier=tier, limit=limit)
			doc.insert()
			if days < 0:
				for row in doc.attendees:
					row.attended = int(rng.random() < came)
				doc.status = "Completed"
				doc.save()
		counts[doc.status] = counts.get(doc.status, 0) + 1
		frappe.db.commit()
	return counts


# ---------------------------------------------------------------- a finished campaign


def finished_campaign(seed: int = 7) -> dict:
	"""A campaign the Branch CRM Admin launched to every branch (docs/campaigns.md): wealth products
	for customers who lack what similar customers hold, launched ten days into the month two months
	before the last complete one, with a 15% control group drawn at launch. Its follow-ups were
	worked and closed; afterwards more of the campaign group than of the control group opened a
	wealth-management product (which brought part of its amount in as new money), on top of what
	the sample's customers open anyway. Skipped when the site has a launched campaign."""
	from branch_crm import campaigns
	from branch_crm.engine.campaigns import CAMPAIGN
	from branch_crm.jobs.balances import refresh
	from branch_crm.language import coded

	if frappe.db.exists("Campaign", {"bank_campaign_status": "Launched"}):
		return {}
	today = frappe.utils.getdate()
	launch = frappe.utils.add_days(frappe.utils.add_months(last_complete_month(today), -2), 9)
	products = frappe.get_all("Bank Product", filters={"category": "Wealth Management"}, pluck="name")
	if not products:
		return {}
	with _as_user(DEMO_ADMIN):
		doc = frappe.get_doc(
			{
				"doctype": "Campaign",
				"campaign_name": _("Stable wealth products for customers who lack them"),
				"description": _(
					"Customers who lack what similar customers hold are offered a stable wealth-management product."
				),
				"bank_gap_type": "Lacks what similar customers hold",
				"bank_target_category": "Wealth Management",
				"bank_follow_up_message": _("Offer the stable wealth product; explain its low risk"),
				"bank_control_share": 15,
				"bank_measure_weeks": 10,
				"bank_draw_seed": f"demo-{seed}",
			}
		)
		doc.flags.from_launch = True  # the demo fixes its seed, so every demo draws the same group
		doc.insert()
		counts = campaigns.run_launch(doc.name, user=DEMO_ADMIN, today=launch, queue_followups=False)
	members = store.read_frame(
		campaigns.MEMBER,
		["customer", "customer_name", "campaign_group", "branch", "relationship_manager", "had_target"],
		where="`campaign` = %(c)s",
		values={"c": doc.name},
	)
	rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
	reached = members[members["campaign_group"] == CAMPAIGN].reset_index(drop=True)
	# the campaign group's follow-ups, worked within the first two weeks and closed
	offset = rng.integers(0, 14, len(reached))
	scheduled = pd.to_datetime(launch) + pd.to_timedelta(offset, unit="D")
	followups = pd.DataFrame(
		{
			"customer": reached["customer"],
			"customer_name": reached["customer_name"],
			"reason": "Campaign",
			"status": "Closed",
			"due_date": launch,
			"scheduled_date": scheduled.date,
			"relationship_manager": reached["relationship_manager"],
			"branch": reached["branch"],
			"priority": 25,
			"message": format_columns(
				coded("followup")["campaign"],
				{
					"details": pd.Series(doc.campaign_name, index=reached.index),
					"customer_name": reached["customer_name"].fillna("").astype(str),
				},
				reached.index,
			),
			"closed_on": (scheduled + pd.Timedelta(hours=15)).to_pydatetime(),
			"campaign": doc.name,
		}
	)
	store.insert_rows("Customer Follow-up", followups, list(followups.columns))
	campaigns.link_follow_ups(doc.name)
	frappe.db.set_value("Campaign", doc.name, "bank_follow_ups_queued", len(followups))
	# who took the product up after launch: more of those the managers called
	end = min(today, frappe.utils.add_days(launch, 10 * 7))
	open_to = members[members["had_target"] == 0].reset_index(drop=True)
	# on top of what customers open anyway (the control group shows that rate)
	chance = np.where(open_to["campaign_group"] == CAMPAIGN, 0.18, 0.0)
	takers = open_to[rng.random(len(open_to)) < chance].reset_index(drop=True)
	days = max((end - launch).days, 1)
	opened = [frappe.utils.add_days(launch, int(d)) for d in rng.integers(3, days, len(takers))]
	amounts = np.round(rng.uniform(50, 300, len(takers))) * 1000
	holdings = [
		{
			"customer": customer,
			"product": str(rng.choice(products)),
			"account_no": f"CMP{seed}{number:05d}",
			"balance": float(amount),
			"opened_on": str(day),
		}
		for number, (customer, amount, day) in enumerate(
			zip(takers["customer"], amounts, opened, strict=True)
		)
	]
	if holdings:
		data_intake.run("holdings", holdings)
		_new_money(takers["customer"].tolist(), opened, amounts * 0.5)
		refresh(customers=takers["customer"].tolist())
	frappe.db.commit()
	return {**counts, "follow_ups": len(followups), "took_up": len(takers)}


def _new_money(customers: list[str], opened: list, amounts) -> None:
	"""The customers' snapshots from the month each opened the product on carry its new money."""
	snapshots = store.read_query(
		"""select `name`, `customer`, `month`, cast(`aum` as double) as `aum`,
		cast(`investments` as double) as `investments` from `tabCustomer Monthly Snapshot`
		where `customer` in %(customers)s""",
		{"customers": tuple(customers)},
	)
	start = pd.Series(
		[pd.Timestamp(day).replace(day=1) for day in opened], index=customers, dtype="datetime64[ns]"
	)
	added = pd.Series(amounts, index=customers)
	after = pd.to_datetime(snapshots["month"]) >= snapshots["customer"].map(start)
	rows = snapshots[after.to_numpy()].copy()
	extra = rows["customer"].map(added)
	rows["aum"] = rows["aum"] + extra
	rows["investments"] = rows["investments"] + extra
	store.update_rows(
		"Customer Monthly Snapshot", rows[["name", "aum", "investments"]], ["aum", "investments"]
	)
