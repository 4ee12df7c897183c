# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from branch_crm.engine.masking import mask_one
from branch_crm.language import keep_coded, render_doc
from branch_crm.validation import validate_doc_with

# what the nightly jobs store coded (branch_crm.language): shown in the reader's language
CODED_FIELDS = ("tier_reason", "assignment_reason", "churn_reasons", "needs_gaps", "needs_next_action")


class BankCustomerProfile(Document):
	def before_validate(self):
		if self.is_new():
			self.set_owner_defaults()

	def onload(self):
		from branch_crm.audit import may_reveal

		self.set_onload("may_reveal", may_reveal(self))
		# satisfaction asked after contacts and events (docs/feedback.md)
		from branch_crm.feedback import profile_summary

		self.set_onload("satisfaction", profile_summary(self.name))
		render_doc(self, CODED_FIELDS)

	def validate(self):
		validate_doc_with("customers", self)
		keep_coded(self, CODED_FIELDS)
		self.id_number_masked = mask_one(self.id_number, "id_number")
		self.mobile_masked = mask_one(self.mobile_no, "mobile_no")
		# identity changes held for review; when each part was last confirmed
		from branch_crm.information import on_profile_validate

		on_profile_validate(self)

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


# The Churn Warning and Needs Screening reports read every scored customer of a branch: these
# indexes hold all they read (the long texts come later, for the listed rows only), so a branch of
# 100,000 is one index range instead of a row lookup per customer (about 1 s). They fit InnoDB's
# 3,072-byte key limit because the codes they hold are short (value class, band, gap types).
# Both lead with branch, so they serve every look-up by branch and no index on branch alone is kept
# (each index costs every intake insert); the intake's book loads are grouped in the order of
# branch_churn_report (books.branch_loads).
BRANCH_REPORT_INDEXES = {
	"branch_churn_report": [
		"branch",
		"churn_scored_on",
		"relationship_manager",
		"tier",
		"bank_customer_group",
		"value_class",
		"lifetime_value",
		"aum",
		"churn_score",
		"churn_band",
	],
	"branch_needs_report": [
		"branch",
		"needs_screened_on",
		"relationship_manager",
		"tier",
		"bank_customer_group",
		"aum",
		"needs_priority",
		"needs_gap_count",
		"main_account_score",
		"money_elsewhere_estimate",
		"needs_gap_types",
	],
}


def on_doctype_update():
	for index_name, columns in BRANCH_REPORT_INDEXES.items():
		frappe.db.add_index("Bank Customer Profile", columns, index_name=index_name)
