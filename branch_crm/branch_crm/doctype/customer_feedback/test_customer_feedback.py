# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt
"""The site tests of customer feedback are in branch_crm/tests/test_feedback.py (asking as the
real roles, the guest survey endpoint, the profile and churn); this one checks the record itself."""

import frappe

from branch_crm import feedback, testing

test_ignore = testing.TEST_IGNORE


class TestCustomerFeedback(testing.BranchCRMTestCase):
	def test_nobody_types_an_answer_or_edits_one(self):
		doc = frappe.get_doc(
			{"doctype": "Customer Feedback", "customer": "_T-CRM-0001", "score": 5, "comment": "good"}
		)
		with self.assertRaisesRegex(frappe.PermissionError, "only the customer answers"):
			doc.insert()
		name = feedback.create_request("_T-CRM-0001")["name"]
		saved = frappe.get_doc("Customer Feedback", name)
		self.assertEqual((saved.status, saved.score, saved.channel), ("Asked", 0, "Given by Staff"))
		saved.score = 2
		with self.assertRaisesRegex(frappe.PermissionError, "never edited"):
			saved.save()

	def test_a_contact_of_another_customer_is_refused_naming_both(self):
		log = frappe.get_doc(
			{"doctype": "Contact Log", "customer": "_T-CRM-0004", "channel": "Phone", "outcome": "No Answer"}
		)
		log.flags.replanned_by_caller = True
		log.insert()
		with self.assertRaisesRegex(
			frappe.ValidationError, f"Contact Log {log.name} belongs to customer _T-CRM-0004, not _T-CRM-0001"
		):
			frappe.get_doc(
				{"doctype": "Customer Feedback", "customer": "_T-CRM-0001", "contact_log": log.name}
			).insert()
