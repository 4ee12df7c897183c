import frappe

from branch_crm.staff import WORKSPACE


def execute():
	"""Staff created before it land on the Branch CRM workspace, unless they chose another one."""
	if not frappe.db.exists("Workspace", WORKSPACE):
		return
	frappe.db.sql(
		"""update `tabUser` u join `tabRelationship Manager` r on r.`user` = u.`name`
		set u.`default_workspace` = %(workspace)s
		where r.`is_active` = 1 and ifnull(u.`default_workspace`, '') = ''""",
		{"workspace": WORKSPACE},
	)
