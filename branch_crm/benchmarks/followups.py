"""The daily follow-up job at scale, on a real site (e.g. the one ``benchmarks.recompute`` loaded with a
million profiles):

    bench --site S execute branch_crm.benchmarks.followups.run
    bench --site S execute branch_crm.benchmarks.followups.run --kwargs "{'first_day': True}"

The default is an ordinary day: every profile has a Contact Plan whose last contact lies within
1.15 of its interval before today (set here in one UPDATE, with random intent levels), planned by
a full run the day before, and no follow-up is open yet (the day before's are removed). ``first_day`` is the day the feature is switched on: no plans at all, so every
customer is due at once. Either way it clears earlier follow-ups and their ToDos, then prints the
job's wall time and the follow-ups it created, runs it again the same day and prints that the second
run created none, and the peak memory.
"""

from __future__ import annotations

import os
import resource
import time

import frappe

from branch_crm import followups
from branch_crm.engine.cadence import cadence_table
from branch_crm.engine.schema import INTENT_LEVELS

PROFILE = "Bank Customer Profile"


def _clear_followups() -> None:
	frappe.db.sql("delete from `tabCustomer Follow-up`")
	frappe.db.sql("delete from `tabToDo` where `reference_type` = %s", PROFILE)
	frappe.db.sql(f"update `tab{PROFILE}` set `_assign` = null where `_assign` is not null")
	frappe.db.commit()


def _reset(first_day: bool, today) -> None:
	_clear_followups()
	frappe.db.sql("delete from `tabContact Plan`")
	frappe.db.sql(f"update `tab{PROFILE}` set `next_contact_date` = null")
	frappe.db.commit()
	if first_day:
		return
	followups.ensure_plans()
	config = followups.load_config(today)
	grid = cadence_table(config.cadence, config.tiers)
	cases = " ".join(
		f"when c.`tier` = {frappe.db.escape(r.tier)} and c.`intent_level` = {frappe.db.escape(r.intent_level)} "
		f"then {int(r.interval_days)}"
		for r in grid.itertuples()
	)
	intents = ", ".join(frappe.db.escape(level) for level in INTENT_LEVELS)
	frappe.db.sql(
		f"update `tabContact Plan` c set c.`intent_level` = elt(1 + floor(rand(11) * 4), {intents})"
	)
	# a steady state: each last contact within 1.15 intervals of today, so about 13% are overdue
	frappe.db.sql(
		f"""update `tabContact Plan` c set c.`last_contact_date` =
		date_sub(%(today)s, interval floor(rand(5) * 1.15 * (case {cases} else 30 end)) day)""",
		{"today": today},
	)
	frappe.db.commit()
	# yesterday's run planned every plan; today starts with no follow-up open
	followups.run(today=str(frappe.utils.add_days(today, -1)), full=True)
	_clear_followups()


def _timed_run(today) -> tuple[float, dict]:
	started = time.perf_counter()
	summary = followups.run(today=str(today))
	return time.perf_counter() - started, summary


def run(first_day: bool = False, today: str | None = None) -> dict:
	today = frappe.utils.getdate(today or frappe.utils.today())
	profiles = frappe.db.count(PROFILE)
	managers = frappe.db.count("Relationship Manager", {"is_active": 1})
	print(
		f"follow-up job benchmark on {frappe.local.site}: {profiles:,} profiles, {managers:,} staff, "
		f"{len(followups.branches())} branches, {os.cpu_count()} CPUs, day {today} "
		f"({'first day: no plans yet' if first_day else 'an ordinary day'})"
	)
	started = time.perf_counter()
	_reset(first_day, today)
	print(
		f"  set-up (plans {'removed' if first_day else 'in a steady state'}): {time.perf_counter() - started:.1f} s"
	)

	first_seconds, first = _timed_run(today)
	print(
		f"  first run:  {first_seconds:6.1f} s, created {first['created']:,} follow-ups (and their ToDos), "
		f"{'every plan read' if first['full'] else 'only the plans that can need work read'}"
	)
	print(
		f"              plans created {first['plans_created']:,}, plans updated {first['plans_updated']:,}, "
		f"beyond horizon {first['beyond_horizon']:,}, unassigned {first['unassigned']:,}, "
		f"failed branches {first['failed_branches']}"
	)
	second_seconds, second = _timed_run(today)
	print(
		f"  second run: {second_seconds:6.1f} s, created {second['created']:,} follow-ups, "
		f"plans updated {second['plans_updated']:,}, escalated {second['escalated']:,}"
	)
	peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
	print(f"  peak memory of this process: {peak:,.0f} MB")
	return {
		"first_seconds": round(first_seconds, 1),
		"first": first,
		"second_seconds": round(second_seconds, 1),
		"second": second,
		"peak_mb": round(peak),
	}
