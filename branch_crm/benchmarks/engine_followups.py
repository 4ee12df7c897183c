"""The daily follow-up job's engine part over a million contact plans, no site needed:

    python -m branch_crm.benchmarks.engine_followups [--plans 1000000] [--seed 5]

Synthetic plans: tiers and intent levels as in a branch network, a steady state where each last
contact lies within 1.15 intervals of today (so ~13 % of plans are overdue; ``--backlog`` spreads
last contacts over 150 days instead, the first-day worst case with most plans overdue), 3 % never
contacted, 2 % do-not-contact, 1 % paused; 250 branches with a default holiday list and 25 with lists
of their own, one relationship manager per ~450 customers, 25 follow-ups per day each.

It times ``plan_contacts``, ``care_touches``, ``due_followups`` (with 1 % retention and 2 %
needs-screening candidates) and ``schedule_with_capacity`` on the first run of a day, then the
same day's re-run, where every follow-up the first run scheduled is open and books its slot: the
re-run must schedule nothing new. ``escalations`` is timed on 5 % of the open follow-ups made late.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time

import numpy as np
import pandas as pd

from branch_crm.engine.cadence import cadence_table, calendars, plan_contacts
from branch_crm.engine.defaults import DEFAULT_CADENCE, DEFAULT_TIERS
from branch_crm.engine.followups import care_touches, due_followups, escalations, schedule_with_capacity
from branch_crm.engine.schema import CHANNELS, INTENT_LEVELS

TODAY = dt.date(2026, 10, 12)  # a Monday
ENGINE_PARTS = ("plan_contacts", "care_touches", "due_followups", "schedule_with_capacity")


def synthetic_plans(
	n: int, seed: int = 5, backlog: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
	"""plans (with customer context), holidays, capacity."""
	rng = np.random.default_rng(seed)
	branches = np.array([f"Branch {i:03d}" for i in range(250)], dtype=object)
	branch = rng.integers(0, len(branches), n)
	managers_per_branch = max(1, n // (len(branches) * 450))
	manager = branch * managers_per_branch + rng.integers(0, managers_per_branch, n)
	manager_names = np.array(
		[
			f"rm{m % managers_per_branch:02d}.b{m // managers_per_branch:03d}@bank.example"
			for m in range(len(branches) * managers_per_branch)
		],
		dtype=object,
	)
	tiers = np.array([t["tier_name"] for t in DEFAULT_TIERS], dtype=object)
	tier = tiers[rng.choice(len(tiers), n, p=[0.7, 0.22, 0.07, 0.01])]
	intent = np.asarray(INTENT_LEVELS, dtype=object)[rng.choice(4, n, p=[0.4, 0.25, 0.22, 0.13])]
	if backlog:
		ago = rng.integers(0, 150, n)
	else:
		interval = pd.Series(list(zip(tier, intent, strict=True))).map(
			{(r["tier"], r["intent_level"]): r["interval_days"] for r in DEFAULT_CADENCE}
		)
		ago = np.floor(rng.random(n) * interval.to_numpy() * 1.15).astype(np.int64)
	last = pd.Timestamp(TODAY) - pd.to_timedelta(ago, unit="D")
	last = last.where(rng.random(n) >= 0.03)
	channel = np.asarray(CHANNELS, dtype=object)[rng.integers(0, len(CHANNELS), n)]
	channel[rng.random(n) < 0.3] = None
	customers = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 9)).astype(object)
	birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, n).astype("timedelta64[D]")
	plans = pd.DataFrame(
		{
			"customer": customers,
			"customer_name": customers,
			"tier": tier,
			"intent_level": intent,
			"last_contact_date": last,
			"manual_interval_days": np.where(rng.random(n) < 0.01, 3.0, np.nan),
			"manual_channel": None,
			"channel_preference": channel,
			"do_not_contact": (rng.random(n) < 0.02).astype(np.int8),
			"branch": branches[branch],
			"status": np.where(rng.random(n) < 0.01, "Paused", "Active").astype(object),
			"relationship_manager": manager_names[manager],
			"value_class": np.array(["MVC", "MGC", "Standard", "BZC"], dtype=object)[
				rng.choice(4, n, p=[0.2, 0.2, 0.5, 0.1])
			],
			"lifetime_value": np.round(rng.lognormal(9, 1.5, n), 2),
			"date_of_birth": birth.astype("datetime64[ns]"),
		}
	)
	public = pd.to_datetime(
		["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2027-01-01"]
	)
	own = [(b, d) for b in branches[:25] for d in [*public, pd.Timestamp("2026-10-16")]]
	holidays = pd.DataFrame(
		{"branch": [None] * len(public) + [b for b, _ in own], "date": [*public, *(d for _, d in own)]}
	)
	capacity = pd.DataFrame(
		{
			"relationship_manager": manager_names,
			"capacity": 25,
			"branch": np.repeat(branches, managers_per_branch),
		}
	)
	return plans, holidays, capacity


def _timed(label: str, figures: dict, function, *args, **kwargs):
	started = time.perf_counter()
	result = function(*args, **kwargs)
	figures[label] = time.perf_counter() - started
	return result


def run(n: int = 1_000_000, seed: int = 5, backlog: bool = False) -> dict:
	started = time.perf_counter()
	plans, holidays, capacity = synthetic_plans(n, seed, backlog)
	print(
		f"engine follow-ups benchmark ({'backlog' if backlog else 'steady state'}): {n:,} plans, "
		f"{plans['branch'].nunique()} branches, "
		f"{len(capacity):,} relationship managers, {os.cpu_count()} CPUs "
		f"(synthetic data in {time.perf_counter() - started:.1f} s)"
	)
	cadence = cadence_table(DEFAULT_CADENCE, DEFAULT_TIERS)
	cals = calendars(holidays)
	retention = pd.DataFrame(
		{
			"customer": plans["customer"].sample(frac=0.01, random_state=1).to_numpy(),
			"details": "balances down 40%",
		}
	)
	needs = pd.DataFrame(
		{
			"customer": plans["customer"].sample(frac=0.02, random_state=2).to_numpy(),
			"details": "no insurance",
		}
	)
	festivals = [{"name": "Double Ninth Festival", "date": "2026-10-14", "tiers": "VIP, Private Banking"}]

	figures: dict = {}
	planned = _timed("plan_contacts", figures, plan_contacts, plans, cadence, DEFAULT_TIERS, cals, TODAY)
	context = pd.concat(
		[plans.drop(columns=["channel_preference"]), planned.drop(columns="customer")], axis=1
	)
	touches = _timed("care_touches", figures, care_touches, plans, festivals, TODAY, 3, holidays=cals)
	due = _timed("due_followups", figures, due_followups, context, touches, retention, needs, TODAY, None)
	scheduled = _timed(
		"schedule_with_capacity", figures, schedule_with_capacity, due, capacity, TODAY, 14, holidays=cals
	)
	first_total = sum(figures[k] for k in ENGINE_PARTS)

	opened = scheduled[scheduled["schedule_status"] == "scheduled"]
	open_rows = opened[["customer", "reason", "relationship_manager", "branch", "due_date"]]
	again = {}
	planned_again = _timed("plan_contacts", again, plan_contacts, plans, cadence, DEFAULT_TIERS, cals, TODAY)
	del planned_again
	touches_again = _timed("care_touches", again, care_touches, plans, festivals, TODAY, 3, holidays=cals)
	due_again = _timed(
		"due_followups", again, due_followups, context, touches_again, retention, needs, TODAY, open_rows
	)
	booked = opened[["relationship_manager", "scheduled_date"]].rename(columns={"scheduled_date": "date"})
	rescheduled = _timed(
		"schedule_with_capacity",
		again,
		schedule_with_capacity,
		due_again,
		capacity,
		TODAY,
		14,
		holidays=cals,
		booked=booked,
	)
	late = open_rows.sample(frac=0.05, random_state=3).assign(
		due_date=pd.Timestamp(TODAY) - pd.Timedelta(days=9)
	)
	managers = pd.DataFrame({"branch": capacity["branch"].unique(), "user": "bm@bank.example"})
	escalated = _timed("escalations", again, escalations, late, managers, TODAY, 7)
	second_total = sum(again[k] for k in ENGINE_PARTS)
	new_scheduled = int((rescheduled["schedule_status"] == "scheduled").sum())

	print(f"  first run of the day ({len(due):,} follow-ups due):")
	for label, seconds in figures.items():
		print(f"    {label:<24}{seconds:7.2f} s")
	print(f"    {'total (engine parts)':<24}{first_total:7.2f} s")
	status = scheduled["schedule_status"].value_counts().to_dict()
	print(
		f"    scheduled {status.get('scheduled', 0):,} over 14 days, beyond horizon {status.get('beyond_horizon', 0):,}, "
		f"unassigned {status.get('unassigned', 0):,}; by reason {due['reason'].value_counts().to_dict()}"
	)
	print(
		f"  same-day re-run with {len(open_rows):,} open follow-ups: {len(due_again):,} still due "
		f"(the ones beyond the horizon), {new_scheduled:,} newly scheduled"
	)
	for label, seconds in again.items():
		print(f"    {label:<24}{seconds:7.2f} s")
	print(f"    {'total (engine parts)':<24}{second_total:7.2f} s  (escalations: {len(escalated):,})")
	peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
	print(f"  peak memory {peak:,.0f} MB")
	return {
		"first_run": {k: round(v, 2) for k, v in figures.items()},
		"rerun": {k: round(v, 2) for k, v in again.items()},
		"due": len(due),
		"scheduled_on_rerun": new_scheduled,
		"peak_rss_mb": round(peak),
	}


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--plans", type=int, default=1_000_000)
	parser.add_argument("--seed", type=int, default=5)
	parser.add_argument(
		"--backlog", action="store_true", help="most plans overdue: the first day's worst case"
	)
	args = parser.parse_args()
	run(args.plans, args.seed, args.backlog)


if __name__ == "__main__":
	main()
