# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _

from branch_crm import store
from branch_crm.report_utils import PROFILE, profile_scope, translated
from branch_crm.reports.complaint_handling import build_complaint_handling


def execute(filters=None):
	"""Complaints registered in the period (ERPNext Issues of bank customers), by the customer's
	branch and relationship manager, within the user's book or branch."""
	filters = frappe._dict(filters or {})
	to_date = frappe.utils.getdate(filters.to_date or frappe.utils.today())
	from_date = frappe.utils.getdate(filters.from_date or frappe.utils.add_days(to_date, -90))
	if from_date > to_date:
		frappe.throw(_("Complaint Handling: From Date must be on or before To Date"))
	scope, values = profile_scope(filters, table="p")
	complaints = store.read_query(
		f"""select i.`name`, i.`bank_customer` as `customer`, p.`branch`, p.`relationship_manager`,
			i.`complaint_tier` as `tier`, i.`status`, i.`creation` as `opened`,
			i.`complaint_response_by` as `response_by`, i.`first_responded_on`,
			i.`complaint_escalated_on` as `escalated_on`
		from `tabIssue` i join `tab{PROFILE}` p on p.`name` = i.`bank_customer`
		where {scope} and i.`creation` >= %(from_date)s and i.`creation` < %(after)s""",
		{**values, "from_date": from_date, "after": frappe.utils.add_days(to_date, 1)},
	)
	result = build_complaint_handling(complaints, frappe.utils.now_datetime())
	return translated(result, translate_rows=("branch",), filters=filters)
