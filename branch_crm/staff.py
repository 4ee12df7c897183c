"""Branch staff: users with their desk role and a Relationship Manager record each, created in bulk
(demo data, benchmarks, and `bench … branch-crm import --staff`)."""

from __future__ import annotations

from contextlib import contextmanager

import frappe
import pandas as pd

from branch_crm.roles import (
	ADMIN,
	BRANCH_MANAGER,
	LOBBY_MANAGER,
	PRIVATE_BANKER,
	RELATIONSHIP_MANAGER,
	ROLE_TYPE_TO_ROLE,
	STAFF_ROLES,
	TELLER,
)


@contextmanager
def bulk_user_creation():
	"""A bulk load of staff: Frappe throttles interactive user creation past 60 a minute."""
	in_import, frappe.flags.in_import = frappe.flags.in_import, True
	try:
		yield
	finally:
		frappe.flags.in_import = in_import


def ensure_branches(branches) -> None:
	for branch in dict.fromkeys(branches):
		if branch and not frappe.db.exists("Branch", branch):
			frappe.get_doc({"doctype": "Branch", "branch": branch}).insert(ignore_permissions=True)


def ensure_staff(staff: pd.DataFrame) -> int:
	"""Users and Relationship Manager records for branch staff (user, full_name, branch,
	role_type, max_customers, max_aum); existing ones are left as they are. Returns how many
	staff records were created."""
	ensure_branches(staff["branch"])
	created = 0
	with bulk_user_creation():
		for row in staff.itertuples(index=False):
			created += _ensure_staff_member(row)
	return created


WORKSPACE = "Branch CRM"
# Lobby managers and tellers read the basic customer fields only (no balances, scores or needs), so
# they have a workspace of their own: the Branch CRM one would offer them cards they cannot count.
FRONT_DESK_WORKSPACE = "Branch Front Desk"
WORKSPACE_ROLES = {
	WORKSPACE: (ADMIN, "System Manager", BRANCH_MANAGER, RELATIONSHIP_MANAGER, PRIVATE_BANKER),
	FRONT_DESK_WORKSPACE: (LOBBY_MANAGER, TELLER),
}


def workspace_for(roles) -> str | None:
	"""The workspace a user with these roles lands on: the first of ours their roles open (the
	Branch CRM one before the front desk), none for a user with no branch role."""
	roles = set(roles)
	for workspace, allowed in WORKSPACE_ROLES.items():
		if roles.intersection(allowed):
			return workspace if frappe.db.exists("Workspace", workspace) else None
	return None


def staff_module_profile(roles) -> str | None:
	"""Branch staff see only the Branch CRM workspace in the sidebar (install.STAFF_MODULE_PROFILE);
	the admin, who also manages users and settings elsewhere in the desk, sees everything."""
	from branch_crm.install import STAFF_MODULE_PROFILE

	roles = set(roles)
	if roles & {ADMIN, "System Manager"} or not roles & set(STAFF_ROLES):
		return None
	return STAFF_MODULE_PROFILE if frappe.db.exists("Module Profile", STAFF_MODULE_PROFILE) else None


def give_staff_module_profile(user: str) -> None:
	"""Give a staff user without a module profile the staff one (``staff_module_profile``); a profile
	the admin chose is theirs to keep. User.validate copies the profile's blocked modules."""
	profile = staff_module_profile(frappe.get_roles(user))
	if profile and not frappe.db.get_value("User", user, "module_profile"):
		doc = frappe.get_doc("User", user)
		doc.module_profile = profile
		doc.save(ignore_permissions=True)


def insert_desk_user(email: str, first_name: str, roles=()) -> None:
	"""A desk user as the User form would make it, also inside a bulk load: Frappe applies no
	defaults to documents inserted during an import, which left staff without the search bar,
	notifications, sidebars, timeline and bulk actions. Staff land on their role's workspace, in the
	site's time zone."""
	user = frappe.new_doc("User")  # carries the doctype's defaults
	user.update(
		{
			"email": email,
			"first_name": first_name,
			"send_welcome_email": 0,
			"enabled": 1,
			"user_type": "System User",
			"time_zone": frappe.db.get_single_value("System Settings", "time_zone") or None,
			"default_workspace": workspace_for(roles),
			"module_profile": staff_module_profile(roles),
			"roles": [{"role": role} for role in roles],
		}
	)
	user.insert(ignore_permissions=True)


def _ensure_staff_member(row) -> int:
	if not frappe.db.exists("User", row.user):
		insert_desk_user(row.user, row.full_name, [ROLE_TYPE_TO_ROLE[row.role_type]])
	if not frappe.db.exists("Relationship Manager", row.user):
		frappe.get_doc(
			{
				"doctype": "Relationship Manager",
				"user": row.user,
				"branch": row.branch,
				"role_type": row.role_type,
				"max_customers": int(row.max_customers or 0),
				"max_aum": float(row.max_aum or 0),
				"is_active": 1,
			}
		).insert(ignore_permissions=True)
		return 1
	return 0
