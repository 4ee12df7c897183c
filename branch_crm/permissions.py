"""Row-level access for the desk, reports and REST: enforced on the server through Frappe's
``permission_query_conditions`` (lists, reports, /api/resource) and ``has_permission`` (single
documents) hooks. Field-level access for tellers is the doctypes' perm levels."""

import frappe

from branch_crm.roles import access_scope

PROFILE = "Bank Customer Profile"


def get_scope(user: str | None = None) -> tuple[str, str | None]:
	"""(scope, value): ("all", None), ("branch", branch), ("book", user) or ("none", None).
	Not cached: roles are cached by Frappe and the staff record is one primary-key read, while a
	cache would outlive a role or branch change made in the same request."""
	user = user or frappe.session.user
	roles = set(frappe.get_roles(user))
	branch = frappe.db.get_value("Relationship Manager", {"user": user, "is_active": 1}, "branch")
	scope = access_scope(roles, branch)
	return scope, branch if scope == "branch" else user if scope == "book" else None


def profile_condition(user: str | None, table: str = f"`tab{PROFILE}`") -> str | None:
	scope, value = get_scope(user)
	if scope == "all":
		return None
	if scope == "branch":
		return f"{table}.`branch` = {frappe.db.escape(value)}"
	if scope == "book":
		return f"{table}.`relationship_manager` = {frappe.db.escape(value)}"
	return "1=0"


def profile_query(user: str | None = None, doctype: str | None = None) -> str:
	return profile_condition(user) or ""


def customer_fact_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Facts keyed on customer (snapshots, plans, logs) follow the profile's visibility."""
	condition = profile_condition(user, table="p")
	if condition is None:
		return ""
	return f"`tab{doctype}`.`customer` in (select p.`name` from `tab{PROFILE}` p where {condition})"


def profile_visible(profile: dict | frappe._dict | None, user: str | None = None) -> bool:
	scope, value = get_scope(user)
	if scope == "all":
		return True
	if scope == "none" or not profile:
		return False
	if scope == "branch":
		return profile.get("branch") == value
	return profile.get("relationship_manager") == value


def has_profile_permission(doc, ptype: str = "read", user: str | None = None, debug: bool = False) -> bool:
	# A new profile is checked against the values it is created with: staff may create profiles in
	# their own book or branch only. Left empty, the controller fills in the creator's book/branch.
	scope, _value = get_scope(user)
	if ptype == "create" and doc.is_new():
		empty = {"book": "relationship_manager", "branch": "branch"}.get(scope)
		if empty and not doc.get(empty):
			return True
	return profile_visible(doc, user)


def has_customer_fact_permission(
	doc, ptype: str = "read", user: str | None = None, debug: bool = False
) -> bool:
	if get_scope(user)[0] == "all":
		return True
	profile = frappe.db.get_value(PROFILE, doc.customer, ["branch", "relationship_manager"], as_dict=True)
	return profile_visible(profile, user)


def book_transfer_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Branch staff see their branch's transfers; a relationship manager those of their own book."""
	scope, value = get_scope(user)
	if scope == "all":
		return ""
	if scope == "branch":
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
	if scope == "branch":
		return doc.get("branch") == value
	return scope == "book" and doc.get("from_rm") == value and ptype == "read"


def _staff_branch(user: str | None) -> str | None:
	return frappe.db.get_value("Relationship Manager", {"user": user or frappe.session.user}, "branch")


def branch_event_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Branch events belong to their branch: staff see their own branch's events."""
	scope, _value = get_scope(user)
	if scope == "all":
		return ""
	branch = _staff_branch(user)
	return f"`tabBranch Event`.`branch` = {frappe.db.escape(branch)}" if branch else "1=0"


def has_branch_event_permission(
	doc, ptype: str = "read", user: str | None = None, debug: bool = False
) -> bool:
	if get_scope(user)[0] == "all":
		return True
	branch = _staff_branch(user)
	return bool(branch) and (doc.get("branch") or branch) == branch
