# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from branch_crm.roles import ROLE_TYPE_TO_ROLE
from branch_crm.staff import WORKSPACE_ROLES, give_staff_module_profile, workspace_for


class RelationshipManager(Document):
	def on_update(self):
		# the staff record and the desk role go together, so access follows the record
		role = ROLE_TYPE_TO_ROLE.get(self.role_type)
		if self.is_active and role and role not in frappe.get_roles(self.user):
			frappe.get_doc("User", self.user).add_roles(role)
		# a user made staff here sees the Branch CRM workspace alone, as one created as staff does
		if self.is_active:
			give_staff_module_profile(self.user)
		# staff land on their role's workspace unless they chose one that is not ours
		if self.is_active:
			current = frappe.db.get_value("User", self.user, "default_workspace")
			workspace = workspace_for(frappe.get_roles(self.user))
			if workspace and workspace != current and (not current or current in WORKSPACE_ROLES):
				frappe.db.set_value("User", self.user, "default_workspace", workspace)
