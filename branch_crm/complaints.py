"""Complaints on the site (docs/complaints_and_information.md): ERPNext Issues linked to a Bank
Customer Profile, with a response deadline by tier and escalation to the branch manager.

* ``ensure_setup`` (install, migrate, tests): the Issue's custom fields and what the app's roles may
  do with Issues; which Issues each one sees is ``permissions.complaint_query`` and
  ``has_complaint_permission`` (the customer's profile decides).
* ``validate`` (Issue.validate): links the ERPNext Customer, fixes the deadline when a complaint is
  registered (``engine.complaints``), and records the first response when the status leaves Open.
* ``escalate_overdue`` (hourly): unanswered complaints past their deadline become a ToDo of their
  branch's manager, once each, set-based.
"""

from __future__ import annotations

import datetime as dt

import frappe
import pandas as pd
from frappe import _

from branch_crm import roles, store
from branch_crm.engine.complaints import DEFAULT_RESPONSE_HOURS, due_escalations, response_deadlines
from branch_crm.language import user_languages
from branch_crm.notifications import notify

ISSUE = "Issue"
PROFILE = "Bank Customer Profile"
JOB_ID = "branch_crm:escalate_complaints"

CUSTOM_FIELDS = {
	ISSUE: [
		{
			"fieldname": "bank_customer_section",
			"fieldtype": "Section Break",
			"label": "Bank Customer",
			"insert_after": "description",
		},
		{
			"fieldname": "bank_customer",
			"fieldtype": "Link",
			"label": "Bank Customer",
			"options": PROFILE,
			"insert_after": "bank_customer_section",
			"in_list_view": 1,
			"in_standard_filter": 1,
			"search_index": 1,
			"description": "The customer who complains: their branch and book decide who sees the complaint.",
		},
		{
			"fieldname": "bank_customer_name",
			"fieldtype": "Data",
			"label": "Bank Customer Name",
			"fetch_from": "bank_customer.customer_name",
			"read_only": 1,
			"insert_after": "bank_customer",
		},
		{
			"fieldname": "complaint_tier",
			"fieldtype": "Link",
			"label": "Tier When Registered",
			"options": "Customer Tier",
			"read_only": 1,
			"insert_after": "bank_customer_name",
		},
		{
			"fieldname": "bank_complaint_column",
			"fieldtype": "Column Break",
			"insert_after": "complaint_tier",
		},
		{
			"fieldname": "complaint_response_by",
			"fieldtype": "Datetime",
			"label": "Answer Complaint By",
			"read_only": 1,
			"search_index": 1,
			"insert_after": "bank_complaint_column",
			"description": "Registration time plus the hours the customer's tier allows.",
		},
		{
			"fieldname": "complaint_escalated_on",
			"fieldtype": "Datetime",
			"label": "Escalated On",
			"read_only": 1,
			"insert_after": "complaint_response_by",
		},
		{
			"fieldname": "complaint_escalated_to",
			"fieldtype": "Link",
			"label": "Escalated To",
			"options": "User",
			"read_only": 1,
			"insert_after": "complaint_escalated_on",
		},
		{
			"fieldname": "complaint_escalation_todo",
			"fieldtype": "Link",
			"label": "Escalation To Do",
			"options": "ToDo",
			"read_only": 1,
			"hidden": 1,
			"insert_after": "complaint_escalated_to",
		},
	]
}

# who does what with Issues (their own customers' only: permissions.complaint_query)
ISSUE_RIGHTS = {
	roles.ADMIN: ("read", "write", "create", "report", "export", "delete"),
	**{role: ("read", "write", "create", "report") for role in roles.STAFF_ROLES},
}


def ensure_setup() -> None:
	"""The Issue's custom fields and the roles' rights on it; re-runnable."""
	from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
	from frappe.permissions import add_permission, update_permission_property

	create_custom_fields(CUSTOM_FIELDS, update=True)
	# the Issue form reads two switches of Support Settings when it loads (ERPNext's issue.js):
	# without read on them, every complaint opened by branch staff would end in "No permission"
	rights = {ISSUE: ISSUE_RIGHTS, "Support Settings": dict.fromkeys(ISSUE_RIGHTS, ("read",))}
	for doctype, by_role in rights.items():
		for role, granted in by_role.items():
			if not frappe.db.exists("Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0}):
				add_permission(doctype, role, 0)
			for right in granted:
				update_permission_property(doctype, role, 0, right, 1, validate=False)


def remove_setup() -> None:
	"""Uninstall: the Issue's custom fields (the roles' rights go with the roles)."""
	names = [f"{ISSUE}-{field['fieldname']}" for field in CUSTOM_FIELDS[ISSUE]]
	for name in names:
		frappe.delete_doc("Custom Field", name, ignore_missing=True, force=True, ignore_permissions=True)


def response_hours_config() -> tuple[dict, float]:
	"""(hours by tier, the settings' default hours)."""
	tiers = dict(frappe.get_all("Customer Tier", fields=["name", "complaint_response_hours"], as_list=True))
	default = frappe.db.get_single_value("Branch CRM Settings", "complaint_response_hours")
	return tiers, float(default or DEFAULT_RESPONSE_HOURS)


def _label(doc) -> str:
	return f"{_('Issue')} {doc.name or _('(new)')}"


def _staff_user(user: str) -> bool:
	user_roles = set(frappe.get_roles(user))
	return not user_roles & roles.UNRESTRICTED_ROLES and bool(user_roles & set(roles.STAFF_ROLES))


def validate(doc, method=None) -> None:
	"""Issue.validate: a complaint of a bank customer gets its ERPNext Customer, its tier and its
	response deadline when registered (or moved to another customer before it is answered); its
	first response is recorded when its status first leaves Open (a reply sent by email records it
	through ERPNext's Communication as well)."""
	if not doc.get("bank_customer"):
		if _staff_user(frappe.session.user):
			frappe.throw(
				_("{0}: Bank Customer is required for a complaint registered by branch staff").format(
					_label(doc)
				),
				frappe.MandatoryError,
			)
		return
	profile = frappe.db.get_value(
		PROFILE, doc.bank_customer, ["customer", "customer_name", "tier"], as_dict=True
	)
	if not profile:
		frappe.throw(
			_("{0}: Bank Customer {1} does not exist").format(_label(doc), doc.bank_customer),
			frappe.LinkValidationError,
		)
	doc.bank_customer_name = profile.customer_name
	if profile.customer and frappe.db.exists("Customer", profile.customer):
		doc.customer = profile.customer
		doc.customer_name = profile.customer_name
	now = frappe.utils.now_datetime()
	if doc.is_new() or (doc.has_value_changed("bank_customer") and not doc.first_responded_on):
		hours, default = response_hours_config()
		opened = frappe.utils.get_datetime(doc.creation) if doc.creation else now
		doc.complaint_tier = profile.tier
		doc.complaint_response_by = (
			response_deadlines(pd.Series([opened]), pd.Series([profile.tier]), hours, default)
			.iloc[0]
			.to_pydatetime()
		)
	if not doc.first_responded_on and doc.status and doc.status != "Open":
		doc.first_responded_on = now


def escalate_overdue_complaints() -> None:
	"""Hourly entry point: the escalation on the long queue, never twice at once."""
	frappe.enqueue("branch_crm.complaints.escalate_overdue", queue="long", job_id=JOB_ID, deduplicate=True)


def branch_managers() -> dict[str, str]:
	"""branch -> the user of its active branch manager (the first by name, if several)."""
	rows = frappe.get_all(
		"Relationship Manager",
		filters={"is_active": 1, "role_type": "Branch Manager"},
		fields=["branch", "name"],
		order_by="name asc",
		as_list=True,
	)
	managers: dict[str, str] = {}
	for branch, user in rows:
		managers.setdefault(branch, user)
	return managers


def escalate_overdue(now: dt.datetime | None = None) -> int:
	"""Complaints unanswered past their deadline, not yet escalated: one ToDo for the branch
	manager of the customer's branch (in their language), and the complaint records when and to
	whom. The rows are locked while read, so two runs never escalate one complaint twice; a second
	run finds nothing. Returns the number escalated."""
	now = now or frappe.utils.now_datetime()
	rows = store.read_query(
		f"""select i.`name`, i.`subject`, i.`status`, i.`bank_customer` as `customer`,
			p.`customer_name`, p.`branch`, i.`complaint_response_by` as `response_by`,
			i.`first_responded_on`, i.`complaint_escalated_on` as `escalated_on`
		from `tab{ISSUE}` i join `tab{PROFILE}` p on p.`name` = i.`bank_customer`
		where i.`complaint_escalated_on` is null and i.`first_responded_on` is null
		and i.`status` not in ('Resolved', 'Closed') and i.`complaint_response_by` < %(now)s
		for update""",
		{"now": now},
	)
	due = due_escalations(rows, branch_managers(), now)
	if due.empty:
		return 0
	due["todo"] = [frappe.generate_hash(length=10) for _i in range(len(due))]
	languages = user_languages(due["escalate_to"].unique().tolist())
	descriptions = [
		_(
			"Complaint {0} of {1} ({2}) was not answered by {3}: overdue by {4} hour(s).", lang=languages[bm]
		).format(
			name,
			customer_name or customer,
			subject,
			frappe.utils.format_datetime(deadline, "yyyy-MM-dd HH:mm"),
			hours,
		)
		for name, customer, customer_name, subject, deadline, hours, bm in zip(
			due["name"],
			due["customer"],
			due["customer_name"],
			due["subject"],
			due["response_by"],
			due["hours_overdue"],
			due["escalate_to"],
			strict=True,
		)
	]
	todos = pd.DataFrame(
		{
			"name": due["todo"].to_numpy(),
			"status": "Open",
			"priority": "High",
			"date": now.date(),
			"allocated_to": due["escalate_to"].to_numpy(),
			"description": descriptions,
			"reference_type": ISSUE,
			"reference_name": due["name"].to_numpy(),
			"assigned_by": "Administrator",
		}
	)
	store.insert_rows("ToDo", todos, list(todos.columns))
	store.update_rows(
		ISSUE,
		pd.DataFrame(
			{
				"name": due["name"],
				"complaint_escalated_on": now,
				"complaint_escalated_to": due["escalate_to"],
				"complaint_escalation_todo": due["todo"],
			}
		),
		["complaint_escalated_on", "complaint_escalated_to", "complaint_escalation_todo"],
	)
	# the list view's "Assigned To", as Frappe's ToDo controller keeps it
	for chunk in store.chunked(due["name"].tolist(), store.WRITE_CHUNK):
		frappe.db.sql(
			f"""update `tab{ISSUE}` i join (select `reference_name`, json_arrayagg(distinct `allocated_to`) as users
				from `tabToDo` where `reference_type` = %(doctype)s and `reference_name` in %(names)s
				and `status` = 'Open' group by `reference_name`) t on t.`reference_name` = i.`name`
			set i.`_assign` = t.users where i.`name` in %(names)s""",
			{"doctype": ISSUE, "names": tuple(chunk)},
		)
	_notify(due["escalate_to"].value_counts().to_dict(), languages)
	return len(due)


def _notify(by_manager: dict[str, int], languages: dict[str, str]) -> None:
	"""One bell notification per branch manager."""
	users = list(by_manager)
	logs = pd.DataFrame(
		{
			"for_user": users,
			"subject": [
				_(
					"{0} complaint(s) of your branch passed their response deadline", lang=languages.get(u)
				).format(by_manager[u])
				for u in users
			],
		}
	)
	notify(logs, notification_type="Assignment", document_type="ToDo")
