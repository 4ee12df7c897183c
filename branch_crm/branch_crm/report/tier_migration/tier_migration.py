# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _

from branch_crm import store
from branch_crm.report_utils import PROFILE, profile_scope, translated
from branch_crm.reports.tier_migration import build_tier_migration


def execute(filters=None):
	filters = frappe._dict(filters or {})
	to_date = frappe.utils.getdate(filters.to_date or frappe.utils.today())
	from_date = frappe.utils.getdate(filters.from_date or frappe.utils.add_months(to_date, -3))
	if from_date > to_date:
		frappe.throw(_("Tier Migration: From Date must be on or before To Date"))
	scope, values = profile_scope(filters)
	profiles = store.read_frame(PROFILE, ["customer", "tier"], where=scope, values=values)
	in_scope, _values = profile_scope(filters, table="p")
	changes = store.read_frame(
		"Tier Change Log",
		["customer", "changed_on", "from_tier", "to_tier"],
		where=f"`changed_on` >= %(from_date)s and `customer` in (select p.`name` from `tab{PROFILE}` p where {in_scope}) order by `name`",
		values={**values, "from_date": from_date},
	)
	tiers = frappe.get_all("Customer Tier", order_by="`rank` asc", pluck="name")
	result = build_tier_migration(profiles, changes, tiers, from_date, to_date)
	return translated(result, translate_rows=("from_tier",), filters=filters)
