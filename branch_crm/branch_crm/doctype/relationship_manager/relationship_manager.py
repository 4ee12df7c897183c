# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from branch_crm.roles import ROLE_TYPE_TO_ROLE
from branch_crm.staff import WORKSPACE


class RelationshipManager(Document):
	def on_update(self):
		# the staff record and the desk role go together, so access follows the record
		role = ROLE_TYPE_TO_ROLE.get(self.role_type)
		if self.is_active and role and role not in frappe.get_roles(self.user):
			frappe.get_doc("User", self.user).add_roles(role)
		# staff land on the Branch CRM workspace unless they chose another
		if self.is_active and not frappe.db.get_value("User", self.user, "default_workspace"):
			if frappe.db.exists("Workspace", WORKSPACE):
				frappe.db.set_value("User", self.user, "default_workspace", WORKSPACE)
