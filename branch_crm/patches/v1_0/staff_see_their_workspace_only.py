import frappe

from branch_crm.install import ensure_staff_module_profile
from branch_crm.roles import STAFF_ROLES
from branch_crm.staff import give_staff_module_profile


def execute():
	"""Branch staff created before the staff Module Profile existed get it, so their sidebar shows
	the Branch CRM workspace instead of every ERPNext one. A profile a user already has is kept."""
	ensure_staff_module_profile()
	users = frappe.db.sql_list(
		"""select distinct u.`name` from `tabUser` u join `tabHas Role` r
		on r.`parent` = u.`name` and r.`parenttype` = 'User'
		where r.`role` in %(roles)s and ifnull(u.`module_profile`, '') = ''""",
		{"roles": STAFF_ROLES},
	)
	for name in users:
		give_staff_module_profile(name)
