# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from branch_crm import followups


class ContactLog(Document):
	def validate(self):
		profile = frappe.db.get_value(
			"Bank Customer Profile", self.customer, ["customer_name", "relationship_manager"], as_dict=True
		)
		if not profile:
			frappe.throw(
				_("Contact Log {0}: customer {1} has no bank customer profile").format(
					self.name or _("(new)"), self.customer
				)
			)
		self.customer_name = profile.customer_name
		if not self.relationship_manager:
			self.relationship_manager = profile.relationship_manager
		if not self.contact_time:
			self.contact_time = frappe.utils.now_datetime()
		if frappe.utils.get_datetime(self.contact_time) > frappe.utils.add_to_date(
			frappe.utils.now_datetime(), hours=1
		):
			frappe.throw(
				_("Contact Log {0}: Contact Time {1} is in the future").format(
					self.name or _("(new)"), self.contact_time
				)
			)
		if self.follow_up:
			owner = frappe.db.get_value("Customer Follow-up", self.follow_up, "customer")
			if owner != self.customer:
				frappe.throw(
					_("Contact Log {0}: Follow-up {1} belongs to customer {2}, not {3}").format(
						self.name or _("(new)"), self.follow_up, owner, self.customer
					)
				)
			if not self.reason:
				self.reason = frappe.db.get_value("Customer Follow-up", self.follow_up, "reason")

	def after_insert(self):
		if not self.flags.replanned_by_caller:
			followups.on_contact_logged(self)
		# a contact that reached the customer: ask how it went (docs/feedback.md)
		from branch_crm.feedback import on_contact_logged

		on_contact_logged(self)


def on_doctype_update():
	frappe.db.add_index("Contact Log", ["customer", "contact_time"])
