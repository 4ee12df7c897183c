"""Scheduler entry points: find the work and enqueue it on the long queue. Each job reads in bulk,
computes with the engine, writes set-based in chunks that commit, and logs a failed chunk without
stopping the rest. Re-running a job gives the same result."""

from __future__ import annotations

import frappe
import pandas as pd

from branch_crm import store
from branch_crm.engine.balances import SUMMARY_COLUMNS, summarise_balances

PROFILE = "Bank Customer Profile"
SNAPSHOT = "Customer Monthly Snapshot"


def refresh_profile_balances():
	"""Daily: profiles show the latest balances and activity from the monthly snapshots."""
	frappe.enqueue(
		"branch_crm.tasks.run_profile_balance_refresh",
		queue="long",
		job_id="branch_crm:refresh_profile_balances",
		deduplicate=True,
		timeout=3600,
	)


def recompute_all():
	"""Daily: tiers, segments, value classes and lifetime value for every profile."""
	from branch_crm.recompute import enqueue

	enqueue()


def score_churn():
	"""Daily, after the recompute: churn score, band and reasons on every profile."""
	from branch_crm.churn import enqueue

	enqueue()


def screen_needs():
	"""Daily: product gaps, main-account likelihood, priority and next action on every profile."""
	from branch_crm.needs import enqueue

	enqueue()


def run_profile_balance_refresh(
	customers: list[str] | None = None,
	chunk_size: int | None = None,
	progress=None,
	between: tuple[str, str] | None = None,
	as_of=None,
) -> dict:
	"""Latest balances on the profiles (those named, or named within ``between``, or all), as of
	``as_of`` (default: the latest month with snapshots)."""
	settings = frappe.get_cached_doc("Branch CRM Settings")
	window = settings.tier_window_months or 3
	chunk_size = chunk_size or settings.recompute_chunk_size or 20000
	if customers is not None:
		names = customers
	elif between:
		names = frappe.db.sql(
			f"select `name` from `tab{PROFILE}` where `name` between %s and %s order by `name`",
			between,
			pluck="name",
		)
	else:
		names = sorted(store.existing_values(PROFILE))
	latest = frappe.utils.getdate(as_of) if as_of else _latest_month()
	columns = [
		"customer",
		"month",
		"aum",
		"deposits",
		"investments",
		"loans",
		"contribution",
		"salary_credit",
	]
	done, failed = 0, 0
	for chunk in store.chunked(names, chunk_size):
		try:
			# 12 months feed the annual contribution; older months are not needed
			snapshots = store.read_frame(
				SNAPSHOT,
				columns,
				where="`customer` in %(customers)s and `month` >= date_sub(%(latest)s, interval 11 month)",
				values={"customers": tuple(chunk), "latest": latest},
			)
			# a customer with nothing reported in the last 12 months shows no balances, not stale ones
			summary = (
				summarise_balances(snapshots, window_months=window)
				.set_index("customer")
				.reindex(pd.Index(chunk, name="customer"))
				.fillna({c: 0 for c in SUMMARY_COLUMNS if c not in ("customer", "as_of_month")})
				.reset_index()
				.rename(columns={"customer": "name"})
			)
			store.update_rows(PROFILE, summary, [c for c in SUMMARY_COLUMNS if c != "customer"])
			frappe.db.commit()
			done += len(chunk)
		except Exception:
			frappe.db.rollback()
			failed += len(chunk)
			frappe.log_error(
				title=f"Branch CRM: balance refresh failed for {len(chunk)} profiles from {chunk[0]}"
			)
		if progress:
			progress(len(chunk))
	return {"profiles": done, "failed": failed}


def _latest_month():
	return frappe.db.sql(f"select max(`month`) from `tab{SNAPSHOT}`")[0][0] or frappe.utils.getdate()


def apply_due_book_transfers():
	"""Daily: approved book transfers whose effective date has come are applied (few a day)."""
	from branch_crm import books

	due = frappe.get_all(
		"Book Transfer",
		filters={
			"docstatus": 1,
			"applied_on": ("is", "not set"),
			"effective_date": ("<=", frappe.utils.today()),
		},
		pluck="name",
	)
	for name in due:
		try:
			books.apply(frappe.get_doc("Book Transfer", name))
			frappe.db.commit()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(
				title=f"Branch CRM: book transfer {name} could not be applied",
				reference_doctype="Book Transfer",
			)
	return due


def queue_follow_ups():
	"""Daily: plans, care touches and retention become follow-ups in each manager's to-do list."""
	from branch_crm.followups import enqueue

	enqueue()
