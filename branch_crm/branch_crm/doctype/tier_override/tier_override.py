# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from branch_crm.permissions import ensure_checker_approves


class TierOverride(Document):
	"""A branch manager's manual tier for one customer, with a reason and an expiry. It counts once
	the workflow approves it (submitted); the nightly recompute applies it until valid_until."""

	def validate(self):
		profile = frappe.db.get_value(
			"Bank Customer Profile", self.customer, ["tier", "branch"], as_dict=True
		)
		if not profile:
			frappe.throw(
				_("Tier Override {0}: customer {1} has no Bank Customer Profile").format(
					self.name or _("(new)"), self.customer
				)
			)
		self.branch = profile.branch
		if self.is_new():
			self.current_tier = profile.tier
		if (
			self.valid_until
			and self.valid_from
			and frappe.utils.getdate(self.valid_until) < frappe.utils.getdate(self.valid_from)
		):
			frappe.throw(
				_("Tier Override {0}: Valid Until is before Valid From").format(self.name or _("(new)"))
			)
		if not (self.reason or "").strip():
			frappe.throw(_("Tier Override {0}: a reason is required").format(self.name or _("(new)")))
		self.validate_no_overlap()

	def validate_no_overlap(self):
		"""One approved override at a time per customer: two would leave the recompute to pick."""
		overlapping = frappe.db.get_value(
			"Tier Override",
			{
				"customer": self.customer,
				"docstatus": 1,
				"name": ("!=", self.name or ""),
				"valid_from": ("<=", self.valid_until or "9999-12-31"),
				"valid_until": (">=", self.valid_from),
			},
			"name",
		)
		if overlapping:
			frappe.throw(
				_("Tier Override {0}: customer {1} already has approved override {2} for these dates").format(
					self.name or _("(new)"), self.customer, overlapping
				)
			)

	def before_submit(self):
		ensure_checker_approves(self)

	def on_submit(self):
		# the customer's tier follows the approval today, not the next night's data
		from branch_crm.jobs.recompute import recompute_customer

		recompute_customer(self.customer)

	def on_cancel(self):
		from branch_crm.jobs.recompute import recompute_customer

		recompute_customer(self.customer)
