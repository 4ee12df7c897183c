"""Row-level access for the desk, reports and REST, enforced on the server through Frappe's
``permission_query_conditions`` (lists, reports, counts, search, /api/resource) and
``has_permission`` (single documents, writes) hooks. Field-level access is the doctypes' perm levels;
the Frappe paths that ignore either are closed in ``branch_crm.guards``. docs/security.md has the
whole model."""

import frappe
from frappe import _

from branch_crm import roles

PROFILE = "Bank Customer Profile"
STAFF = "Relationship Manager"
# Writes checked against the stored row as well as the new values: nobody moves a record into, or
# out of, what they may touch.
WRITE_TYPES = frozenset({"write", "submit", "cancel", "delete", "amend"})


def staff_record(user: str | None = None) -> frappe._dict | None:
	"""The user's staff record (named by user). Not cached: a role or branch change made in the same
	request must count at once, and this is one primary-key read."""
	return frappe.db.get_value(
		STAFF, user or frappe.session.user, ["branch", "is_active", "role_type"], as_dict=True
	)


def _scope_of(user: str | None, decide) -> tuple[str, str | None]:
	user = user or frappe.session.user
	user_roles = set(frappe.get_roles(user))
	staff = None if user_roles & roles.UNRESTRICTED_ROLES else staff_record(user)
	active = bool(staff and staff.is_active)
	branch = staff.branch if active else None
	scope = decide(user_roles, branch, active)
	return scope, branch if scope == "branch" else user if scope == "book" else None


def get_scope(user: str | None = None) -> tuple[str, str | None]:
	"""(scope, value) for profiles: ("all", None), ("branch", branch), ("book", user) or ("none", None)."""
	return _scope_of(user, roles.access_scope)


def get_fact_scope(user: str | None = None) -> tuple[str, str | None]:
	"""(scope, value) for a customer's working records (plans, logs, snapshots, overrides)."""
	return _scope_of(user, roles.fact_scope)


def scope_condition(scope: tuple[str, str | None], table: str = f"`tab{PROFILE}`") -> str | None:
	"""SQL condition on a profile table for a scope; None for everything."""
	kind, value = scope
	if kind == "all":
		return None
	if kind == "branch":
		return f"{table}.`branch` = {frappe.db.escape(value)}"
	if kind == "book":
		return f"{table}.`relationship_manager` = {frappe.db.escape(value)}"
	return "1=0"


def profile_condition(user: str | None, table: str = f"`tab{PROFILE}`") -> str | None:
	return scope_condition(get_scope(user), table)


def profile_query(user: str | None = None, doctype: str | None = None) -> str:
	return profile_condition(user) or ""


def _customer_in(scope: tuple[str, str | None], column: str) -> str:
	condition = scope_condition(scope, table="p")
	if condition is None:
		return ""
	return f"{column} in (select p.`name` from `tab{PROFILE}` p where {condition})"


def customer_fact_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Facts keyed on customer (snapshots, plans, logs, overrides) follow the profile's visibility;
	a book holder also works the customers whose open follow-up is assigned to them (a lobby manager
	the customers of the branch's tellers)."""
	scope = get_fact_scope(user)
	column = f"`tab{doctype}`.`customer`"
	condition = _customer_in(scope, column)
	if scope[0] != "book":
		return condition
	assigned = (
		f"{column} in (select f.`customer` from `tabCustomer Follow-up` f where f.`status` = 'Open' "
		f"and f.`relationship_manager` = {frappe.db.escape(scope[1])})"
	)
	return f"({condition} or {assigned})"


def fact_visible(customer: str | None, scope: tuple[str, str | None]) -> bool:
	"""Whether a customer's working records are within a fact scope (see ``customer_fact_query``)."""
	if customer_visible(customer, scope):
		return True
	return scope[0] == "book" and bool(
		frappe.db.exists(
			"Customer Follow-up", {"customer": customer, "status": "Open", "relationship_manager": scope[1]}
		)
	)


def follow_up_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Follow-ups are seen by whoever sees the profile: lobby managers and tellers their branch's at
	the basic level (the message, which may quote balances, is perm level 1)."""
	return _customer_in(get_scope(user), "`tabCustomer Follow-up`.`customer`")


def visible(row: dict | None, scope: tuple[str, str | None]) -> bool:
	kind, value = scope
	if kind == "all":
		return True
	if kind == "none" or not row:
		return False
	if kind == "branch":
		return bool(value) and row.get("branch") == value
	return bool(value) and row.get("relationship_manager") == value


def profile_visible(profile: dict | None, user: str | None = None) -> bool:
	return visible(profile, get_scope(user))


def _stored(doc, fields: list[str]) -> dict | None:
	"""The row as stored, for writes: what it was, not what the request says it should become."""
	if doc.is_new() or not doc.name:
		return None
	return frappe.db.get_value(doc.doctype, doc.name, fields, as_dict=True)


def has_profile_permission(doc, ptype: str = "read", user: str | None = None, debug: bool = False) -> bool:
	scope = get_scope(user)
	if scope[0] == "all":
		return True
	if doc.is_new():
		# Staff create profiles in their own branch or book only. Left empty, the controller fills in
		# the creator's branch and book.
		kind, value = scope
		if kind == "branch":
			return not doc.get("branch") or doc.get("branch") == value
		if kind == "book":
			return not doc.get("relationship_manager") or doc.get("relationship_manager") == value
		return False
	if not visible(doc, scope):
		return False
	if ptype in WRITE_TYPES:
		return visible(_stored(doc, ["branch", "relationship_manager"]), scope)
	return True


def _fact_permission(doc, ptype: str, scope: tuple[str, str | None], is_visible) -> bool:
	if scope[0] == "all":
		return True
	if not is_visible(doc.get("customer"), scope):
		return False
	if ptype in WRITE_TYPES and not doc.is_new():
		stored = _stored(doc, ["customer"])
		if stored and stored.customer != doc.get("customer"):
			return is_visible(stored.customer, scope)
	return True


def has_customer_fact_permission(
	doc, ptype: str = "read", user: str | None = None, debug: bool = False
) -> bool:
	return _fact_permission(doc, ptype, get_fact_scope(user), fact_visible)


def customer_visible(customer: str | None, scope: tuple[str, str | None]) -> bool:
	"""Whether the customer (profile name) is within a scope."""
	if scope[0] == "all":
		return True
	profile = (
		frappe.db.get_value(PROFILE, customer, ["branch", "relationship_manager"], as_dict=True)
		if customer
		else None
	)
	return visible(profile, scope)


def has_follow_up_permission(doc, ptype: str = "read", user: str | None = None, debug: bool = False) -> bool:
	return _fact_permission(doc, ptype, get_scope(user), customer_visible)


def book_transfer_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Branch managers see their branch's transfers; a relationship manager those of their own book."""
	scope, value = get_scope(user)
	if scope == "all":
		return ""
	if scope == "branch" and roles.BRANCH_MANAGER in frappe.get_roles(user):
		return f"`tabBook Transfer`.`branch` = {frappe.db.escape(value)}"
	if scope == "book":
		return f"`tabBook Transfer`.`from_rm` = {frappe.db.escape(value)}"
	return "1=0"


def has_book_transfer_permission(
	doc, ptype: str = "read", user: str | None = None, debug: bool = False
) -> bool:
	scope, value = get_scope(user)
	if scope == "all":
		return True
	if scope == "branch" and roles.BRANCH_MANAGER in frappe.get_roles(user):
		stored = _stored(doc, ["branch"]) if ptype in WRITE_TYPES else None
		return doc.get("branch") == value and (stored is None or stored.branch == value)
	return scope == "book" and doc.get("from_rm") == value and ptype == "read"


def branch_event_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Branch events belong to their branch: active staff see their own branch's events."""
	branch = staff_branch(user)
	if branch is True:
		return ""
	return f"`tabBranch Event`.`branch` = {frappe.db.escape(branch)}" if branch else "1=0"


def staff_branch(user: str | None = None) -> str | bool | None:
	"""The branch of the user's active staff record; True for the unrestricted roles."""
	user = user or frappe.session.user
	if set(frappe.get_roles(user)) & roles.UNRESTRICTED_ROLES:
		return True
	staff = staff_record(user)
	return staff.branch if staff and staff.is_active else None


def has_branch_event_permission(
	doc, ptype: str = "read", user: str | None = None, debug: bool = False
) -> bool:
	branch = staff_branch(user)
	if branch is True:
		return True
	if not branch or (doc.get("branch") or branch) != branch:
		return False
	stored = _stored(doc, ["branch"]) if ptype in WRITE_TYPES else None
	return stored is None or stored.branch == branch


def has_staff_permission(doc, ptype: str = "read", user: str | None = None, debug: bool = False) -> bool:
	"""Staff records are read by all staff (to pick colleagues); a branch manager changes only the
	records of their own branch, and never their own (its branch and role are the admin's call)."""
	if ptype not in WRITE_TYPES and ptype != "create":
		return True
	user = user or frappe.session.user
	branch = staff_branch(user)
	if branch is True:
		return True
	if not branch or doc.get("user") == user or doc.name == user:
		return False
	stored = _stored(doc, ["branch"])
	return doc.get("branch") == branch and (stored is None or stored.branch == branch)


# ERPNext's own doctypes. Every bank customer is also an ERPNext Customer (with Contacts and
# Addresses): those belong to the bank's access model, so only the unrestricted roles reach them
# through ERPNext; branch staff work on the profile. Other customers stay as ERPNext has them.


def _unrestricted(user: str | None = None) -> bool:
	return bool(set(frappe.get_roles(user or frappe.session.user)) & roles.UNRESTRICTED_ROLES)


def erpnext_customer_query(user: str | None = None, doctype: str | None = None) -> str:
	if _unrestricted(user):
		return ""
	return f"not exists (select 1 from `tab{PROFILE}` bcp where bcp.`name` = `tabCustomer`.`name`)"


def has_erpnext_customer_permission(doc, ptype="read", user=None, debug=False) -> bool:
	return _unrestricted(user) or not frappe.db.exists(PROFILE, doc.name)


def _linked_to_bank_customer(table: str) -> str:
	return f"""not exists (select 1 from `tabDynamic Link` bcdl join `tab{PROFILE}` bcp
		on bcp.`name` = bcdl.`link_name` where bcdl.`parent` = {table}.`name`
		and bcdl.`parenttype` = {frappe.db.escape(table[4:-1])} and bcdl.`link_doctype` = 'Customer')"""


def contact_query(user: str | None = None, doctype: str | None = None) -> str:
	return "" if _unrestricted(user) else _linked_to_bank_customer("`tabContact`")


def address_query(user: str | None = None, doctype: str | None = None) -> str:
	return "" if _unrestricted(user) else _linked_to_bank_customer("`tabAddress`")


def has_contact_or_address_permission(doc, ptype="read", user=None, debug=False) -> bool:
	if _unrestricted(user):
		return True
	return not any(
		link.link_doctype == "Customer" and frappe.db.exists(PROFILE, link.link_name)
		for link in doc.get("links") or []
	)


# Complaints are ERPNext Issues linked to a bank customer (branch_crm.complaints): staff see and
# register those of the customers whose profile they see (tellers and lobby managers their branch's,
# relationship managers their book's); an Issue of no bank customer is none of theirs. Users outside
# the bank's roles (ERPNext's Support Team) keep the Issues of no bank customer only.


def _bank_staff(user: str | None = None) -> bool:
	return bool(set(frappe.get_roles(user or frappe.session.user)) & set(roles.STAFF_ROLES))


def complaint_query(user: str | None = None, doctype: str | None = None) -> str:
	if _unrestricted(user):
		return ""
	if not _bank_staff(user):
		return "ifnull(`tabIssue`.`bank_customer`, '') = ''"
	return _customer_in(get_scope(user), "`tabIssue`.`bank_customer`") or "1=1"


def has_complaint_permission(doc, ptype="read", user=None, debug=False) -> bool:
	if _unrestricted(user):
		return True
	stored = _stored(doc, ["bank_customer"]) if ptype in WRITE_TYPES else None
	customers = [doc.get("bank_customer"), *([stored.bank_customer] if stored else [])]
	if not _bank_staff(user):
		return not any(customers)
	if doc.is_new() and not doc.get("bank_customer"):
		# the complaint's controller asks for the customer (a clear error, not "not permitted")
		return True
	scope = get_scope(user)
	return all(customer_visible(customer, scope) for customer in customers)


def change_request_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Profile Change Requests follow the profile: the branch manager sees the branch's, a
	relationship manager those of their book."""
	return _customer_in(get_scope(user), "`tabProfile Change Request`.`customer`")


def feedback_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Customer Feedback follows the profile: whoever sees the customer sees their answers (a
	branch manager the branch's, a relationship manager their book's, tellers their branch's)."""
	return _customer_in(get_scope(user), "`tabCustomer Feedback`.`customer`")


def has_feedback_permission(doc, ptype="read", user=None, debug=False) -> bool:
	return _fact_permission(doc, ptype, get_scope(user), customer_visible)


def has_change_request_permission(doc, ptype="read", user=None, debug=False) -> bool:
	return _fact_permission(doc, ptype, get_scope(user), customer_visible)


# Campaigns (branch_crm.campaigns): ERPNext's Campaign with the bank's selection. Branch staff read
# their branch's campaigns and those of every branch (no branch set); only the branch manager
# changes their branch's, and only the unrestricted roles the network-wide ones. Users outside the
# bank's roles (ERPNext's sales roles) keep Campaign as ERPNext has it. Members follow the profile.


def campaign_query(user: str | None = None, doctype: str | None = None) -> str:
	if _unrestricted(user) or not _bank_staff(user):
		return ""
	branch = staff_branch(user)
	if not branch:
		return "1=0"
	return f"ifnull(`tabCampaign`.`bank_campaign_branch`, '') in ('', {frappe.db.escape(branch)})"


def has_campaign_permission(doc, ptype="read", user=None, debug=False) -> bool:
	if _unrestricted(user) or not _bank_staff(user):
		return True
	branch = staff_branch(user)
	if not branch:
		return False
	if ptype in WRITE_TYPES or ptype == "create":
		if roles.BRANCH_MANAGER not in frappe.get_roles(user or frappe.session.user):
			return False
		stored = _stored(doc, ["bank_campaign_branch"])
		return doc.get("bank_campaign_branch") == branch and (
			stored is None or stored.bank_campaign_branch == branch
		)
	return (doc.get("bank_campaign_branch") or branch) == branch


def campaign_member_query(user: str | None = None, doctype: str | None = None) -> str:
	return _customer_in(get_scope(user), "`tabBank Campaign Member`.`customer`")


def has_campaign_member_permission(doc, ptype="read", user=None, debug=False) -> bool:
	return _fact_permission(doc, ptype, get_scope(user), customer_visible)


# Files attached to a customer's records (ID scans, statements) are sensitive: they follow the
# record's row rules and need its perm level 1 (tellers and lobby managers never get them).
FILE_GUARDED = (
	PROFILE,
	"Contact Log",
	"Customer Follow-up",
	"Tier Override",
	"Book Transfer",
	"Issue",
	"Profile Change Request",
)


def has_file_permission(doc, ptype="read", user=None, debug=False) -> bool:
	if doc.get("attached_to_doctype") not in FILE_GUARDED or _unrestricted(user):
		return True
	doctype, name = doc.attached_to_doctype, doc.attached_to_name
	if not frappe.db.exists(doctype, name):
		return False
	record = frappe.get_doc(doctype, name)
	if not record.has_permission("read", user=user):
		return False
	return 1 in readable_levels(PROFILE, user) if doctype == PROFILE else True


def file_query(user: str | None = None, doctype: str | None = None) -> str:
	if _unrestricted(user):
		return ""
	guarded = ", ".join(frappe.db.escape(d) for d in FILE_GUARDED)
	parts = [f"ifnull(`tabFile`.`attached_to_doctype`, '') not in ({guarded})"]
	if 1 in readable_levels(PROFILE, user):
		condition = profile_condition(user, table="p")
		parts.append(
			f"(`tabFile`.`attached_to_doctype` = {frappe.db.escape(PROFILE)} and `tabFile`.`attached_to_name` "
			f"in (select p.`name` from `tab{PROFILE}` p where {condition or '1=1'}))"
		)
	return "(" + " or ".join(parts) + ")"


def readable_levels(doctype: str, user: str | None = None) -> set[int]:
	"""The perm levels of ``doctype`` the user's roles read."""
	user_roles = set(frappe.get_roles(user or frappe.session.user))
	return {
		perm.permlevel
		for perm in frappe.get_meta(doctype).get_permissions()
		if perm.role in user_roles and perm.read
	}


APPROVER_ROLES = frozenset({roles.ADMIN, "System Manager"})


def ensure_checker_approves(doc) -> None:
	"""Maker-checker for approval workflows: a document counts (is submitted) only when a Branch CRM
	Admin other than its maker approves it through the workflow, whatever path submits it
	(``apply_workflow``, ``frappe.client.submit``, ``PUT {"docstatus": 1}``)."""
	user = frappe.session.user
	label = f"{_(doc.doctype)} {doc.name}"
	if not set(frappe.get_roles(user)) & APPROVER_ROLES:
		frappe.throw(_("{0}: only a Branch CRM Admin approves it").format(label), frappe.PermissionError)
	if user != "Administrator" and user in (doc.owner, doc.get("requested_by")):
		frappe.throw(_("{0}: you cannot approve what you requested").format(label), frappe.PermissionError)
	if doc.get("workflow_state") != "Approved":
		frappe.throw(_("{0}: approve it through its workflow").format(label), frappe.PermissionError)
