# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from branch_crm import books
from branch_crm.language import keep_coded, render_doc
from branch_crm.permissions import ensure_checker_approves


class BookTransfer(Document):
	"""A bulk hand-over of one relationship manager's book, approved through the "Book Transfer
	Approval" workflow; it applies on approval once its effective date has come."""

	def onload(self):
		# the planner stores each row's reason coded: shown in the reader's language
		render_doc(self, ("reason",), table="customers")

	def validate(self):
		keep_coded(self, ("reason",), table="customers")
		branch = frappe.db.get_value("Relationship Manager", self.from_rm, "branch")
		if branch != self.branch:
			frappe.throw(
				_("Book Transfer {0}: {1} works at {2}, not {3}").format(
					self.name or _("(new)"), self.from_rm, branch, self.branch
				)
			)
		if self.mode not in ("Reversal", "Re-homing") and (self.is_new() or not self.customers):
			books.plan(self)
		self.validate_rows_in_branch()

	def validate_rows_in_branch(self):
		"""Every customer row stays inside the transfer's branch (rows whose customer changed hands
		since the plan are skipped when it applies)."""
		customers = [row.customer for row in self.customers]
		if not customers:
			return
		branches = dict(
			frappe.get_all(
				"Bank Customer Profile",
				filters={"name": ("in", customers)},
				fields=["name", "branch"],
				as_list=True,
			)
		)
		for row in self.customers:
			if branches.get(row.customer) != self.branch:
				frappe.throw(
					_(
						"Book Transfer {0}, Customers row {1}: customer {2} is not a customer of branch {3}"
					).format(self.name or _("(new)"), row.idx, row.customer, self.branch)
				)

	def before_submit(self):
		ensure_checker_approves(self)

	def on_submit(self):
		if frappe.utils.getdate(self.effective_date) <= frappe.utils.getdate():
			books.apply(self)


@frappe.whitelist(methods=["POST"])
def refresh_plan(name: str) -> None:
	doc = frappe.get_doc("Book Transfer", name)
	doc.check_permission("write")
	if doc.docstatus != 0:
		frappe.throw(_("Book Transfer {0} is submitted; its plan can no longer change").format(name))
	books.plan(doc)
	doc.save()


@frappe.whitelist(methods=["POST"])
def make_reversal(name: str) -> str:
	frappe.has_permission("Book Transfer", "create", throw=True)
	return books.make_reversal(name)
