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

	def test_a_manual_interval_sets_the_next_date_when_saved(self):
		plan = frappe.get_doc(
			{
				"doctype": "Contact Plan",
				"customer": "_T-CRM-0002",
				"last_contact_date": frappe.utils.today(),
				"manual_interval_days": 10,
				"manual_channel": "Visit",
			}
		).insert()
		self.assertEqual(plan.interval_days, 10)
		self.assertEqual(plan.channel, "Visit")
		self.assertEqual(plan.relationship_manager, user("rm1"))
		due = frappe.utils.getdate(frappe.utils.add_days(frappe.utils.today(), 10))
		self.assertGreaterEqual(plan.next_contact_date, due)
		self.assertLess((plan.next_contact_date - due).days, 7, "rolled to the next working day only")
		self.assertEqual(
			frappe.db.get_value("Bank Customer Profile", "_T-CRM-0002", "next_contact_date"),
			plan.next_contact_date,
		)
		plan.status = "Paused"
		plan.save()
		self.assertIsNone(plan.next_contact_date)
