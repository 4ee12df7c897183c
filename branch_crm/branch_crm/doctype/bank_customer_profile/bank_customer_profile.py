# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from branch_crm.validation import validate_doc_with


class BankCustomerProfile(Document):
	def before_validate(self):
		if self.is_new():
			self.set_owner_defaults()

	def validate(self):
		validate_doc_with("customers", self)

	def set_owner_defaults(self):
		"""A profile created by branch staff lands in their branch, and in their book if they keep one."""
		staff = frappe.db.get_value(
			"Relationship Manager",
			{"user": frappe.session.user, "is_active": 1},
			["name", "branch", "role_type"],
			as_dict=True,
		)
		if not staff:
			return
		self.branch = self.branch or staff.branch
		if staff.role_type in ("Relationship Manager", "Private Banker") and not self.relationship_manager:
			self.relationship_manager = staff.name
