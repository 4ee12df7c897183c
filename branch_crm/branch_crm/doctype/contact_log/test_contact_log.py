# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing
from branch_crm.testing import user

test_ignore = testing.TEST_IGNORE


class TestContactLog(testing.BranchCRMTestCase):
	def test_logs_follow_the_customers_book(self):
		for customer in ("_T-CRM-0001", "_T-CRM-0004"):
			frappe.get_doc(
				{
					"doctype": "Contact Log",
					"customer": customer,
					"channel": "Phone",
					"outcome": "Reached - Interested",
					"notes": "理财需求",
				}
			).insert()
		frappe.set_user(user("rm2"))
		seen = {
			log.customer
			for log in frappe.get_list(
				"Contact Log", fields=["customer"], filters={"customer": ("like", "_T-CRM-%")}
			)
		}
		self.assertEqual(seen, {"_T-CRM-0004"})
		other = frappe.get_all("Contact Log", filters={"customer": "_T-CRM-0001"}, pluck="name")[0]
		self.assertFalse(frappe.has_permission("Contact Log", "read", other))
		frappe.set_user(user("bm"))
		self.assertTrue(frappe.has_permission("Contact Log", "read", other))
