# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _

from branch_crm import store
from branch_crm.audit import log_report_run
from branch_crm.engine.needs import NEEDS_GAP_LABEL_TEMPLATES, STORED_FIELDS
from branch_crm.report_utils import PROFILE, fill_listed, listed_only, profile_scope, translated
from branch_crm.reports.needs_screening import build_needs_screening, from_stored, gap_type_labels

CONTEXT = ["name", "branch", "relationship_manager", "tier", "bank_customer_group", "aum"]
# long texts, read for the listed rows only when the report lists some of its customers: field -> column
LISTED = {"customer_name": "customer_name", "gaps": "needs_gaps", "next_action": "needs_next_action"}


def execute(filters=None):
	"""Product gaps, main-account likelihood, merchant-like flows, priority and next action per
	customer, as the nightly needs screening stored them (``branch_crm.jobs.needs``), within the user's
	book or branch."""
	filters = dict(filters or {})
	log_report_run("Needs Screening", filters)
	scope, values = profile_scope(filters)
	later = list(LISTED.values()) if listed_only(filters) else []
	columns = [*CONTEXT, "customer_name", *STORED_FIELDS]
	columns = [c for c in columns if c not in later]
	profiles = store.read_frame_fast(
		PROFILE, columns, where=f"{scope} and `needs_screened_on` is not null", values=values
	).rename(columns={"name": "customer"})
	for column in later:
		profiles[column] = None
	try:
		result = build_needs_screening(
			from_stored(profiles), {k: filters.get(k) for k in ("gap_type", "limit") if filters.get(k)}
		)
	except ValueError as error:  # an unknown gap type
		frappe.throw(_("Needs Screening: {0}").format(error))
	if later:
		fill_listed(result.data, LISTED)
	labels = {code: _(label) for code, label in NEEDS_GAP_LABEL_TEMPLATES.items()}
	for row in result.data:
		row["gap_types"] = gap_type_labels(row["gap_types"], labels)
	return translated(result, translate_rows=("branch",), filters=filters, coded_rows=("gaps", "next_action"))
