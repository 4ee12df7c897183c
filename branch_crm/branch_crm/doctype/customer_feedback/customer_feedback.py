# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

# what the customer answered (the survey page, branch_crm.feedback.submit_feedback): set once,
# never edited by anyone
ANSWER_FIELDS = ("score", "comment", "answered_on")


class CustomerFeedback(Document):
	def validate(self):
		label = f"{_('Customer Feedback')} {self.name or _('(new)')}"
		profile = frappe.db.get_value("Bank Customer Profile", self.customer, ["customer_name"], as_dict=True)
		if not profile:
			frappe.throw(_("{0}: customer {1} has no bank customer profile").format(label, self.customer))
		self.customer_name = profile.customer_name
		if self.contact_log:
			owner = frappe.db.get_value("Contact Log", self.contact_log, "customer")
			if owner != self.customer:
				frappe.throw(
					_("{0}: Contact Log {1} belongs to customer {2}, not {3}").format(
						label, self.contact_log, owner, self.customer
					)
				)
		if self.branch_event and not frappe.db.exists(
			"Branch Event Attendee", {"parent": self.branch_event, "customer": self.customer}
		):
			frappe.throw(
				_("{0}: customer {1} is not an attendee of Branch Event {2}").format(
					label, self.customer, self.branch_event
				)
			)
		if self.flags.answering:
			return
		stored = None if self.is_new() else self.get_doc_before_save()
		before = {f: stored.get(f) if stored else None for f in ANSWER_FIELDS}
		if any((self.get(f) or None) != (before[f] or None) for f in ANSWER_FIELDS) or (
			stored and stored.status == "Answered" and self.status != "Answered"
		):
			frappe.throw(
				_(
					"{0}: only the customer answers, through the survey link; an answer is never edited"
				).format(label),
				frappe.PermissionError,
			)
		if self.is_new():
			self.status = "Asked"


def on_doctype_update():
	frappe.db.add_index("Customer Feedback", ["customer", "answered_on"])
