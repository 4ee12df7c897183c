# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from branch_crm import followups
from branch_crm.permissions import customer_visible, get_scope


class BranchEvent(Document):
	def validate(self):
		scope, value = get_scope()
		if scope == "branch" and self.branch != value:
			frappe.throw(
				_("Branch Event {0}: you can only organise events for branch {1}").format(
					self.name or self.title, value
				)
			)
		self.validate_attendees_in_scope()
		seen = {}
		for row in self.attendees:
			if row.customer in seen:
				frappe.throw(
					_("Branch Event {0}, Attendees row {1}: customer {2} is already in row {3}").format(
						self.name or self.title, row.idx, row.customer, seen[row.customer]
					)
				)
			seen[row.customer] = row.idx
			if (
				row.attended
				and self.status == "Planned"
				and frappe.utils.getdate(self.event_date) > frappe.utils.getdate()
			):
				frappe.throw(
					_(
						"Branch Event {0}, Attendees row {1}: attendance cannot be recorded before the event date"
					).format(self.name or self.title, row.idx)
				)
		self.invited_count = len(self.attendees)
		self.attended_count = sum(1 for row in self.attendees if row.attended)

	def validate_attendees_in_scope(self):
		"""Staff add, and mark the attendance of, only customers they may see: attendance writes a
		Contact Log on the customer, and a row fetches the customer's name and manager."""
		before = self.get_doc_before_save()
		was = {row.customer: row.attended for row in before.attendees} if before else {}
		scope = get_scope()
		for row in self.attendees:
			touched = row.customer not in was or (row.attended and not was[row.customer])
			if touched and not customer_visible(row.customer, scope):
				frappe.throw(
					_(
						"Branch Event {0}, Attendees row {1}: customer {2} is not in your book or branch"
					).format(self.name or self.title, row.idx, row.customer),
					frappe.PermissionError,
				)

	def on_update(self):
		if self.status == "Completed":
			recorded = followups.record_event_attendance(self)
			if recorded:
				self.reload()
				frappe.msgprint(
					_("{0} contact log(s) recorded for the attendees").format(recorded), alert=True
				)

	@frappe.whitelist()
	def invite_customers(self):
		self.check_permission("write")
		added = followups.invite(
			self,
			tier=self.invite_tier,
			group=self.invite_group,
			relationship_manager=self.invite_relationship_manager,
			limit=self.invite_limit or 200,
		)
		self.save()
		return added
