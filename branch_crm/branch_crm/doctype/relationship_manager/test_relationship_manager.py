# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing
from branch_crm.testing import BRANCH_B

test_ignore = testing.TEST_IGNORE


class TestRelationshipManager(testing.BranchCRMTestCase):
	def test_staff_record_grants_the_matching_role(self):
		email = testing.ensure_user("_test.crm.pb@bank.example", "Test PB")
		frappe.db.delete("Relationship Manager", {"user": email})
		frappe.db.delete("Has Role", {"parent": email, "role": "Private Banker"})
		frappe.clear_cache(user=email)
		self.assertNotIn("Private Banker", frappe.get_roles(email))
		manager = frappe.get_doc(
			{
				"doctype": "Relationship Manager",
				"user": email,
				"role_type": "Private Banker",
				"branch": BRANCH_B,
			}
		).insert()
		self.assertEqual(manager.name, email)
		self.assertIn("Private Banker", frappe.get_roles(email))

	def test_book_of_business_report_counts_books_within_scope(self):
		from branch_crm.branch_crm.report.book_of_business.book_of_business import execute

		columns, data, _message, chart, summary = execute({"branch": testing.BRANCH_A})
		rows = {row.get("relationship_manager"): row for row in data}
		self.assertEqual(rows[testing.user("rm1")]["customers"], 3)
		self.assertEqual(rows[testing.user("rm2")]["customers"], 2)
		cards = {card["label"]: card["value"] for card in summary}
		self.assertGreaterEqual(cards["Customers"], 5)
		self.assertIn("relationship_manager", [c["fieldname"] for c in columns])
		self.assertTrue(chart["data"]["labels"])
		frappe.set_user(testing.user("rm2"))
		try:
			_columns, data, _message, _chart, _summary = execute({})
		finally:
			frappe.set_user("Administrator")
		books = {row.get("relationship_manager"): row["customers"] for row in data if row["customers"]}
		self.assertEqual(books, {testing.user("rm2"): 2})
