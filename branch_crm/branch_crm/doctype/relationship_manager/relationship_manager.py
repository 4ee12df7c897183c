# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from branch_crm.roles import ROLE_TYPE_TO_ROLE
from branch_crm.staff import WORKSPACE_ROLES, staff_module_profile, workspace_for


class RelationshipManager(Document):
	def on_update(self):
		# the staff record and the desk role go together, so access follows the record
		role = ROLE_TYPE_TO_ROLE.get(self.role_type)
		if self.is_active and role and role not in frappe.get_roles(self.user):
			frappe.get_doc("User", self.user).add_roles(role)
		# a user made staff here sees the Branch CRM workspace alone, as one created as staff does;
		# a module profile the admin chose is theirs to keep
		if self.is_active:
			profile = staff_module_profile(frappe.get_roles(self.user))
			if profile and not frappe.db.get_value("User", self.user, "module_profile"):
				user = frappe.get_doc("User", self.user)
				user.module_profile = profile
				user.save(ignore_permissions=True)  # User.validate copies the profile's blocked modules
		# staff land on their role's workspace unless they chose one that is not ours
		if self.is_active:
			current = frappe.db.get_value("User", self.user, "default_workspace")
			workspace = workspace_for(frappe.get_roles(self.user))
			if workspace and workspace != current and (not current or current in WORKSPACE_ROLES):
				frappe.db.set_value("User", self.user, "default_workspace", workspace)
