import frappe

from branch_crm.roles import ADMIN, STAFF_ROLES
from branch_crm.staff import WORKSPACE_ROLES, workspace_for


def execute():
	"""Lobby managers and tellers have a workspace of their own ("Branch Front Desk"): users who
	land on one of ours, and users of the app's roles who land nowhere, go to their role's. A
	workspace a user chose that is not ours is left alone."""
	users = frappe.db.sql(
		"""select u.`name`, u.`default_workspace` from `tabUser` u
		where u.`default_workspace` in %(ours)s
			or (ifnull(u.`default_workspace`, '') = '' and u.`name` in (
				select r.`parent` from `tabHas Role` r
				where r.`parenttype` = 'User' and r.`role` in %(roles)s))""",
		{"ours": tuple(WORKSPACE_ROLES), "roles": (ADMIN, *STAFF_ROLES)},
		as_dict=True,
	)
	for user in users:
		workspace = workspace_for(frappe.get_roles(user.name))
		if workspace != (user.default_workspace or None):
			frappe.db.set_value("User", user.name, "default_workspace", workspace, update_modified=False)
