# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from branch_crm import testing
from branch_crm.testing import BRANCH_B

test_ignore = testing.TEST_IGNORE


class TestRelationshipManager(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.make_world()

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
