# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _

from branch_crm import store
from branch_crm.report_utils import PROFILE, profile_scope, translated
from branch_crm.reports.plan_effect import build_plan_effect

ATTRIBUTION_DAYS = 30


def execute(filters=None):
	filters = frappe._dict(filters or {})
	to_date = frappe.utils.getdate(filters.to_date or frappe.utils.today())
	from_date = frappe.utils.getdate(filters.from_date or frappe.utils.add_days(to_date, -30))
	if from_date > to_date:
		frappe.throw(_("Plan Effect: From Date must be on or before To Date"))
	# the filters and the user's book or branch, applied in SQL on the profile
	scope, values = profile_scope(filters, table="p")
	values |= {
		"from_date": from_date,
		"to_date": to_date,
		"after": frappe.utils.add_days(to_date, 1),
		"opened_until": frappe.utils.add_days(to_date, ATTRIBUTION_DAYS),
	}
	plans = store.read_query(
		f"""select p.`name` as customer, p.`branch`, p.`relationship_manager`, ifnull(c.`status`, 'Active') as status
		from `tab{PROFILE}` p left join `tabContact Plan` c on c.`name` = p.`name` where {scope}""",
		values,
	)
	followups = store.read_query(
		f"""select f.`customer`, f.`reason`, f.`due_date`, f.`status`, f.`relationship_manager`, f.`branch`
		from `tabCustomer Follow-up` f join `tab{PROFILE}` p on p.`name` = f.`customer`
		where {scope} and f.`due_date` between %(from_date)s and %(to_date)s""",
		values,
	)
	logs = store.read_query(
		f"""select l.`customer`, l.`contact_time`, l.`outcome`, l.`relationship_manager`, l.`channel`, l.`reason`
		from `tabContact Log` l join `tab{PROFILE}` p on p.`name` = l.`customer`
		where {scope} and l.`contact_time` >= %(from_date)s and l.`contact_time` < %(after)s""",
		values,
	)
	holdings = store.read_query(
		f"""select h.`parent` as customer, h.`product`, h.`opened_on`
		from `tabCustomer Product Holding` h join `tab{PROFILE}` p on p.`name` = h.`parent`
		where {scope} and h.`parenttype` = %(parenttype)s and h.`opened_on` between %(from_date)s and %(opened_until)s
		and h.`parent` in (select l.`customer` from `tabContact Log` l
			where l.`contact_time` >= %(from_date)s and l.`contact_time` < %(after)s)""",
		{**values, "parenttype": PROFILE},
	)
	result = build_plan_effect(
		plans,
		followups,
		logs,
		holdings,
		filters={k: filters[k] for k in ("branch", "relationship_manager") if filters.get(k)},
		period=(from_date, to_date),
		today=frappe.utils.getdate(),
		attribution_days=ATTRIBUTION_DAYS,
	)
	return translated(result, filters=filters)
