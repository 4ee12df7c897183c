"""The audit trail a compliance officer reads (docs/security.md):

- **Access Log** (Frappe's): every reveal of an identity number or mobile, every export of the app's
  script reports and every run of a report that lists customers (report name, filters, user, time);
  Frappe itself logs list exports and prints there.
- **View Log** (Frappe's, ``track_views`` on Bank Customer Profile): who opened which profile.
- **Version** (Frappe's, ``track_changes``): field changes made through forms and REST.
- **Branch CRM Run Log**: one row per set-based write (intake batch, nightly job, book transfer):
  who ran it, when, with which parameters, and what it changed.
"""

from __future__ import annotations

import functools
import json

import frappe
from frappe import _

from branch_crm import permissions

PROFILE = permissions.PROFILE
RUN_LOG = "Branch CRM Run Log"
# Reports that list customers one per row: each run is an access to customer data.
CUSTOMER_REPORTS = frozenset({"Needs Screening", "Churn Warning"})
REVEALABLE = {"id_number": "ID Number", "mobile_no": "Mobile"}


def log_access(
	method: str,
	*,
	document: str | None = None,
	report: str | None = None,
	filters=None,
	file_type: str | None = None,
) -> None:
	"""One Access Log row, through Frappe's own writer (which also commits it in a GET request)."""
	from frappe.core.doctype.access_log.access_log import _make_access_log

	_make_access_log(
		doctype=PROFILE if document else None,
		document=document,
		method=method,
		report_name=report,
		file_type=file_type,
		filters=json.dumps(filters, default=str, ensure_ascii=False) if filters is not None else None,
	)


def may_reveal(profile: dict, user: str | None = None) -> bool:
	"""Who may see a customer's identity number and mobile in clear: the unrestricted roles, the
	branch manager of the customer's branch, and whoever holds the customer's book (whatever their
	serving role: relationship manager, private banker, lobby manager or teller)."""
	user = user or frappe.session.user
	if permissions._unrestricted(user):
		return True
	staff = permissions.staff_record(user)
	if not staff or not staff.is_active:
		return False
	if profile.get("relationship_manager") == user:
		return True
	return (
		staff.role_type == "Branch Manager" and bool(staff.branch) and profile.get("branch") == staff.branch
	)


@frappe.whitelist(methods=["POST"])
def reveal(customer: str, field: str) -> str | None:
	"""The clear value of a masked field, for a user allowed to see it; every reveal is logged."""
	if field not in REVEALABLE:
		frappe.throw(_("{0} cannot be revealed").format(field))
	profile = frappe.db.get_value(
		PROFILE, customer, ["name", "branch", "relationship_manager", field], as_dict=True
	)
	if not profile or not may_reveal(profile):
		frappe.throw(
			_("Bank Customer Profile {0}: you may not reveal its {1}").format(customer, _(REVEALABLE[field])),
			frappe.PermissionError,
		)
	log_access(f"Reveal {field}", document=customer)
	return profile[field]


@frappe.whitelist(methods=["POST"])
def find_by_id_number(id_number: str) -> str | None:
	"""The customer (profile name) holding exactly this identity number, among those the user may
	see: a walk-in shows an ID card at the counter. Exact match only, so it is no prefix oracle; every
	look-up is logged, found or not. ``id_number`` is indexed, so this is one index read."""
	id_number = (id_number or "").strip()
	if len(id_number) < 6:
		frappe.throw(_("Enter the whole ID number"))
	found = frappe.db.get_value(
		PROFILE, {"id_number": id_number}, ["name", "branch", "relationship_manager"], as_dict=True
	)
	visible = bool(found) and permissions.profile_visible(found)
	log_access("Find by ID number", document=found.name if visible else None)
	return found.name if visible else None


@frappe.whitelist(methods=["POST"])
def export_report():
	"""``frappe.desk.query_report.export_query``, logged: which report, filters and format, by whom."""
	from frappe.desk import query_report

	form = frappe.local.form_dict
	log_access(
		"Export Report",
		report=form.get("report_name"),
		filters=frappe.parse_json(form.get("filters") or "{}"),
		file_type=form.get("file_format_type"),
	)
	return query_report.export_query()


def log_report_run(report_name: str, filters: dict) -> None:
	"""Called by the customer-listing reports: a report run is an access to the customers it lists."""
	if report_name in CUSTOMER_REPORTS and frappe.session.user != "Administrator":
		log_access("Run Report", report=report_name, filters=filters)


def logged_run(job: str, reference_doctype: str | None = None):
	"""Record a set-based write in Branch CRM Run Log: its parameters and the summary the function
	returns. The record is written in the job's own transaction, so a batch that rolls back leaves no
	record of a change that did not happen (its error goes to the Error Log as before)."""

	def decorate(function):
		@functools.wraps(function)
		def wrapper(*args, **kwargs):
			started = frappe.utils.now_datetime()
			parameters = {key: value for key, value in kwargs.items() if key not in ("progress", "records")}
			if "records" in kwargs or (args and isinstance(args[-1], list)):
				records = kwargs.get("records", args[-1] if args else None)
				parameters["records"] = len(records or [])
			if args and isinstance(args[0], str):
				parameters["kind"] = args[0]
			reference = getattr(args[0], "name", None) if reference_doctype and args else None
			result = function(*args, **kwargs)
			summary = result.as_dict() if hasattr(result, "as_dict") else result
			_write_run(job, started, parameters, summary, reference_doctype, reference)
			return result

		return wrapper

	return decorate


def record_run(job, started, parameters, summary, reference_doctype=None, reference=None) -> None:
	"""A Run Log row for work not done by one decorated call: a nightly stage, run as chunk jobs,
	records its totals when its last chunk is done."""
	_write_run(job, started, parameters, summary, reference_doctype, reference)


def _write_run(job, started, parameters, summary, reference_doctype, reference) -> None:
	if not frappe.db.table_exists(RUN_LOG):
		return
	frappe.get_doc(
		{
			"doctype": RUN_LOG,
			"job": job,
			"run_by": frappe.session.user,
			"started_on": started,
			"finished_on": frappe.utils.now_datetime(),
			"reference_doctype": reference_doctype if reference else None,
			"reference_name": reference,
			"parameters": json.dumps(parameters, default=str, ensure_ascii=False),
			"summary": json.dumps(_brief(summary), default=str, ensure_ascii=False),
		}
	).insert(ignore_permissions=True)


def _brief(summary):
	"""Counts, not the rows: rejected records are kept to their first 50."""
	if isinstance(summary, dict) and isinstance(summary.get("rejected"), list):
		return {**summary, "rejected": summary["rejected"][:50]}
	return summary
