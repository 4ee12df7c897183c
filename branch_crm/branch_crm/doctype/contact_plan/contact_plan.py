# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from branch_crm import followups


class ContactPlan(Document):
	def validate(self):
		if (self.manual_interval_days or 0) < 0:
			frappe.throw(
				_("Contact Plan {0}: Manual Interval (Days) cannot be negative").format(
					self.name or self.customer
				)
			)
		if not frappe.db.exists("Bank Customer Profile", self.customer):
			frappe.throw(
				_("Contact Plan {0}: customer {1} has no bank customer profile").format(
					self.name or self.customer, self.customer
				)
			)
		followups.plan_one(self)

	def on_update(self):
		# the profile shows the plan's next date
		frappe.db.set_value(
			"Bank Customer Profile",
			self.customer,
			{"next_contact_date": self.next_contact_date, "intent_level": self.intent_level},
			update_modified=False,
		)
