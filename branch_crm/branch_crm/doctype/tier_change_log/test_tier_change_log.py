# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from branch_crm import testing
from branch_crm.testing import user

test_ignore = testing.TEST_IGNORE


class TestTierChangeLog(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.make_world()

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_staff_cannot_create_and_see_only_their_customers(self):
		log = frappe.get_doc(
			{
				"doctype": "Tier Change Log",
				"customer": "_T-CRM-0006",
				"changed_on": "2026-01-01",
				"from_tier": "Mass",
				"to_tier": "Core",
				"direction": "Upgrade",
			}
		).insert(ignore_permissions=True)
		frappe.set_user(user("rm3"))
		self.assertTrue(frappe.has_permission("Tier Change Log", "read", log.name))
		self.assertFalse(frappe.has_permission("Tier Change Log", "create"))
		frappe.set_user(user("rm1"))
		self.assertFalse(frappe.has_permission("Tier Change Log", "read", log.name))
