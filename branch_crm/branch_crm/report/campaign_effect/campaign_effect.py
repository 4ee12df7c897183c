# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _

from branch_crm import store
from branch_crm.engine.campaigns import measure_outcomes, month_start, window_end
from branch_crm.report_utils import PROFILE, profile_scope, translated
from branch_crm.reports.campaign_effect import build_campaign_effect

MEMBER = "Bank Campaign Member"
# the members a report reads, joined to their profile for the reader's scope
MEMBERS_OF = f"""`tab{MEMBER}` m join `tab{PROFILE}` p on p.`name` = m.`customer`"""


def execute(filters=None):
	"""A launched campaign's group against its control group (engine.campaigns), for the members
	within the reader's book or branch."""
	filters = frappe._dict(filters or {})
	if not filters.campaign:
		return translated(build_campaign_effect(_empty()), filters=filters)
	campaign = frappe.get_doc("Campaign", filters.campaign)
	campaign.check_permission("read")
	if campaign.get("bank_campaign_status") != "Launched" or not campaign.get("bank_launch_date"):
		frappe.throw(_("Campaign Effect: {0} is not launched yet").format(campaign.name))
	launch = frappe.utils.getdate(campaign.bank_launch_date)
	end = window_end(launch, campaign.bank_measure_weeks or 0, frappe.utils.getdate())
	scope, values = profile_scope({"branch": filters.branch} if filters.branch else {}, table="p")
	values |= {"campaign": campaign.name, "launch": launch, "end": end, "first_month": month_start(launch)}
	members = store.read_query(
		f"""select m.`customer`, m.`campaign_group` as `group`, m.`branch`, m.`tier`,
			cast(m.`baseline_aum` as double) as `baseline_aum`, p.`status`
		from {MEMBERS_OF} where m.`campaign` = %(campaign)s and {scope}""",
		values,
	)
	holdings = store.read_query(
		f"""select h.`parent` as `customer`, h.`product`, h.`product_category` as `category`, h.`opened_on`
		from `tabCustomer Product Holding` h join {MEMBERS_OF} on m.`customer` = h.`parent`
		where m.`campaign` = %(campaign)s and {scope} and h.`parenttype` = %(parenttype)s
		and h.`opened_on` between %(launch)s and %(end)s""",
		{**values, "parenttype": PROFILE},
	)
	snapshots = store.read_query(
		f"""select s.`customer`, s.`month`, cast(s.`aum` as double) as `aum`
		from `tabCustomer Monthly Snapshot` s join {MEMBERS_OF} on m.`customer` = s.`customer`
		where m.`campaign` = %(campaign)s and {scope} and s.`month` between %(first_month)s and %(end)s""",
		values,
	)
	outcomes = measure_outcomes(
		members,
		holdings,
		snapshots,
		launch,
		end,
		target_products=[campaign.bank_target_product] if campaign.get("bank_target_product") else [],
		target_categories=[campaign.bank_target_category] if campaign.get("bank_target_category") else [],
		statuses=members[["customer", "status"]],
	)
	columns, data, notice, chart, summary = translated(
		build_campaign_effect(outcomes, gettext=_),
		translate_rows=("branch", "measure", "unit", "verdict"),
		filters=filters,
	)
	target = campaign.get("bank_target_product") or campaign.get("bank_target_category")
	context = _(
		"Launched on {0}, measured up to {1}; take-up is a new holding of {2} opened in between."
	).format(
		frappe.utils.formatdate(launch), frappe.utils.formatdate(end), _(target) if target else _("(none)")
	)
	message = f"<p>{frappe.utils.escape_html(context)}</p>" + (notice or "")
	return columns, data, message, chart, summary


def _empty():
	import pandas as pd

	return pd.DataFrame(
		columns=["customer", "group", "branch", "took_up", "aum_change", "end_aum", "churned"]
	)
