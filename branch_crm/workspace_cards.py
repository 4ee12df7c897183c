"""What the Branch CRM workspaces need beyond Frappe's own number cards and charts.

Their cards are "Document Type" cards and their charts "Group By" charts: Frappe counts them with
``frappe.get_list``, so the row rules scope them to the user's book or branch by themselves. Here:
the Run Log card, which is not a count, and the charts' group labels in the reader's language."""

from __future__ import annotations

import json

import frappe
from frappe import _

MODULE = "Branch CRM"
RUN_LOG = "Branch CRM Run Log"
# the stages of the night (jobs.pipeline): each leaves a Run Log row when it finishes
NIGHTLY_JOBS = (
	"Refresh Balances",
	"Recompute Tiers",
	"Score Churn",
	"Screen Needs",
	"Propose Re-homing",
	"Queue Follow-ups",
)
# a night's run is the one that started within this many hours
LAST_NIGHT_HOURS = 36


@frappe.whitelist()
def last_night_run(filters=None) -> str:
	"""How many nightly jobs finished in the last night, and how many of those left failed chunks or
	branches: "4 of 4 jobs ran" or "3 of 4 jobs ran, 1 with failures". A job that fails as a whole
	writes no Run Log row (its error goes to the Error Log), so it counts as not run."""
	frappe.has_permission(RUN_LOG, "read", throw=True)
	latest = latest_nightly_runs()
	failed = [job for job, run in latest.items() if has_failures(run.summary)]
	text = _("{0} of {1} jobs ran").format(len(latest), len(NIGHTLY_JOBS))
	if failed:
		text += ", " + _("{0} with failures").format(len(failed))
	return text


def latest_nightly_runs() -> dict:
	"""Each nightly job's latest run of the last night, by job (jobs that did not run are absent)."""
	since = frappe.utils.add_to_date(frappe.utils.now_datetime(), hours=-LAST_NIGHT_HOURS)
	runs = frappe.get_list(
		RUN_LOG,
		filters={"job": ("in", NIGHTLY_JOBS), "started_on": (">=", since)},
		fields=["job", "started_on", "finished_on", "summary"],
		order_by="started_on desc",
		limit_page_length=0,
	)
	latest = {}
	for run in runs:
		latest.setdefault(run.job, run)
	return latest


def has_failures(summary: str | None) -> bool:
	"""A run's summary counts what failed as ``failed_chunks`` / ``failed_branches`` (a number or a
	list of them)."""
	try:
		values = json.loads(summary or "{}")
	except ValueError:
		return False
	if not isinstance(values, dict):
		return False
	return any(value for key, value in values.items() if key.startswith("failed"))


@frappe.whitelist()
def get_chart(
	chart_name=None,
	chart=None,
	no_cache=None,
	filters=None,
	from_date=None,
	to_date=None,
	timespan=None,
	time_interval=None,
	heatmap_year=None,
	refresh=None,
):
	"""Frappe's ``dashboard_chart.get`` (hooks: ``override_whitelisted_methods``), with the group
	labels of this app's charts translated: tier names and follow-up reasons are stored in English,
	and the chart widget shows labels as they come."""
	from frappe.desk.doctype.dashboard_chart.dashboard_chart import get

	data = get(
		chart_name=chart_name,
		chart=chart,
		no_cache=no_cache,
		filters=filters,
		from_date=from_date,
		to_date=to_date,
		timespan=timespan,
		time_interval=time_interval,
		heatmap_year=heatmap_year,
		refresh=refresh,
	)
	if data and data.get("labels") and chart_name:
		if frappe.db.get_value("Dashboard Chart", chart_name, "module") == MODULE:
			data["labels"] = [_(label) if isinstance(label, str) else label for label in data["labels"]]
	return data
