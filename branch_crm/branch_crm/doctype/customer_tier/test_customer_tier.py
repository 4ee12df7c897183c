# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing

test_ignore = testing.TEST_IGNORE


class TestCustomerTier(testing.BranchCRMTestCase):
	def test_rank_is_unique_and_thresholds_not_negative(self):
		with self.assertRaisesRegex(frappe.ValidationError, "rank 20 is already used by Core"):
			frappe.get_doc({"doctype": "Customer Tier", "tier_name": "_T Tier", "rank": 20}).insert()
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be negative"):
			frappe.get_doc(
				{"doctype": "Customer Tier", "tier_name": "_T Tier", "rank": 25, "min_avg_aum": -1}
			).insert()
		tier = frappe.get_doc(
			{"doctype": "Customer Tier", "tier_name": "_T Tier", "rank": 25, "min_avg_aum": 500_000}
		).insert()
		self.assertEqual(tier.name, "_T Tier")
