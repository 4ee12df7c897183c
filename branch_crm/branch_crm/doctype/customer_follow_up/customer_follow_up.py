# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from branch_crm import followups
from branch_crm.language import keep_coded, render_doc

# written coded by the daily job (branch_crm.language): shown in the reader's language
CODED_FIELDS = ("message", "occasion")


class CustomerFollowup(Document):
	"""Created by the daily job (set-based); closed by a contact log, by its ToDo, or here by hand."""

	def onload(self):
		render_doc(self, CODED_FIELDS)

	def validate(self):
		keep_coded(self, CODED_FIELDS)
		before = self.get_doc_before_save()
		if before and before.status != "Open" and self.status == "Open":
			frappe.throw(
				_("Customer Follow-up {0}: a closed or cancelled follow-up cannot be reopened").format(
					self.name
				)
			)
		if self.status != "Open":
			self.open_key = None
			self.closed_on = self.closed_on or frappe.utils.now_datetime()

	def on_update(self):
		before = self.get_doc_before_save()
		if before and before.status == "Open" and self.status != "Open":
			followups.close_todos([self.todo, self.escalation_todo], self.status, [self.customer])
