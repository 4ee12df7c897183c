# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class BankCampaignMember(Document):
	"""Written set-based by a campaign's launch (branch_crm.campaigns); never made or edited by hand,
	so the control group drawn at launch stays as drawn."""

	def validate(self):
		frappe.throw(
			_("{0} records are written by the campaign's launch only").format(_("Bank Campaign Member")),
			frappe.PermissionError,
		)


def on_doctype_update():
	# one row per campaign and customer: a launch written twice (or by two workers) adds nothing
	frappe.db.add_unique(
		"Bank Campaign Member", ["campaign", "customer"], constraint_name="campaign_customer"
	)
