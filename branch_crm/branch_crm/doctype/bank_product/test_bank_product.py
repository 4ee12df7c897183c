# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing
from branch_crm.engine.schema import PRODUCT_CATEGORIES

test_ignore = testing.TEST_IGNORE


class TestBankProduct(testing.BranchCRMTestCase):
	def test_default_catalogue_covers_every_category(self):
		categories = set(frappe.get_all("Bank Product", filters={"is_active": 1}, pluck="category"))
		self.assertEqual(categories, set(PRODUCT_CATEGORIES))
		with self.assertRaises(frappe.DuplicateEntryError):
			frappe.get_doc(
				{
					"doctype": "Bank Product",
					"product_code": "DEP-DEMAND",
					"product_name": "Again",
					"category": "Deposit",
				}
			).insert()
