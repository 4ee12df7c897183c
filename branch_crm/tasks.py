"""Scheduler entry points: find the work and enqueue it on the long queue. Each job reads in bulk,
computes with the engine, writes set-based in chunks that commit, and logs a failed chunk without
stopping the rest. Re-running a job gives the same result."""

from __future__ import annotations

import frappe


def refresh_profile_balances():
	"""Daily: profiles show the latest balances and activity from the monthly snapshots."""
	frappe.enqueue(
		"branch_crm.jobs.balances.refresh",
		queue="long",
		job_id="branch_crm:refresh_profile_balances",
		deduplicate=True,
		timeout=3600,
	)


def recompute_all():
	"""Daily: tiers, segments, value classes and lifetime value for every profile."""
	from branch_crm.jobs.recompute import enqueue

	enqueue()


def score_churn():
	"""Daily, after the recompute: churn score, band and reasons on every profile."""
	from branch_crm.jobs.churn import enqueue

	enqueue()


def screen_needs():
	"""Daily: product gaps, main-account likelihood, priority and next action on every profile."""
	from branch_crm.jobs.needs import enqueue

	enqueue()


def run_profile_balance_refresh(**kwargs) -> dict:
	"""Moved to ``branch_crm.jobs.balances.refresh``; this name stays for jobs queued before."""
	from branch_crm.jobs.balances import refresh

	return refresh(**kwargs)


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
