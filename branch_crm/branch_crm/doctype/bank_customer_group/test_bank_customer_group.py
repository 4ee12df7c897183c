# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing

test_ignore = testing.TEST_IGNORE


class TestBankCustomerGroup(testing.BranchCRMTestCase):
	def test_default_segments_end_with_a_catch_all(self):
		groups = frappe.get_all(
			"Bank Customer Group",
			filters={"is_active": 1},
			fields=["name", "priority", "familiarity", "life_stage", "occupation_category"],
			order_by="priority asc",
		)
		self.assertGreaterEqual(len(groups), 4)
		self.assertEqual(len({g.priority for g in groups}), len(groups))
		last = groups[-1]
		self.assertEqual((last.familiarity, last.life_stage, last.occupation_category), ("Any", "Any", "Any"))
