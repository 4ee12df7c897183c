# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing
from branch_crm.testing import user

test_ignore = testing.TEST_IGNORE


class TestContactPlan(testing.BranchCRMTestCase):
	def test_one_plan_per_customer_visible_to_its_manager_only(self):
		plan = frappe.get_doc(
			{"doctype": "Contact Plan", "customer": "_T-CRM-0003", "relationship_manager": user("rm1")}
		).insert()
		self.assertEqual(plan.name, "_T-CRM-0003")
		with self.assertRaises(frappe.DuplicateEntryError):
			frappe.get_doc({"doctype": "Contact Plan", "customer": "_T-CRM-0003"}).insert()
		frappe.set_user(user("rm1"))
		self.assertTrue(frappe.has_permission("Contact Plan", "write", plan.name))
		frappe.set_user(user("rm3"))
		self.assertFalse(frappe.has_permission("Contact Plan", "read", plan.name))
