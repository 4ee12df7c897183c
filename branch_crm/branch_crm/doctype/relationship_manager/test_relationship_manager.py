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
		frappe.db.set_value("User", email, "module_profile", None)
		frappe.db.delete("Block Module", {"parent": email})
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
		self.assertEqual(frappe.db.get_value("User", email, "default_workspace"), "Branch CRM")
		# and sees that workspace alone in the sidebar, not ERPNext's
		frappe.set_user(email)
		try:
			from frappe.desk.desktop import get_workspace_sidebar_items

			pages = {page["name"] for page in get_workspace_sidebar_items()["pages"]}
		finally:
			frappe.set_user("Administrator")
		self.assertEqual(pages, {"Branch CRM"})

	def test_staff_loaded_in_bulk_get_a_working_desk(self):
		import pandas as pd

		from branch_crm.staff import ensure_staff

		email = "_test.crm.bulk.desk@bank.example"
		frappe.db.delete("Relationship Manager", {"user": email})
		frappe.delete_doc("User", email, ignore_missing=True, force=True, ignore_permissions=True)
		ensure_staff(
			pd.DataFrame(
				[
					{
						"user": email,
						"full_name": "批量 员工",
						"branch": BRANCH_B,
						"role_type": "Relationship Manager",
						"max_customers": 100,
						"max_aum": 0,
					}
				]
			)
		)
		user = frappe.get_doc("User", email)
		for setting in (
			"search_bar",
			"notifications",
			"list_sidebar",
			"bulk_actions",
			"view_switcher",
			"form_sidebar",
			"timeline",
			"dashboard",
		):
			self.assertEqual(user.get(setting), 1, setting)
		self.assertEqual(user.default_workspace, "Branch CRM")
		self.assertEqual(user.time_zone, frappe.db.get_single_value("System Settings", "time_zone"))
		self.assertIn("Relationship Manager", frappe.get_roles(email))

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
