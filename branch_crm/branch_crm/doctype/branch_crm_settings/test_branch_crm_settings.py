# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing

test_ignore = testing.TEST_IGNORE


class TestBranchCRMSettings(testing.BranchCRMTestCase):
	def test_cadence_rules_are_unique_per_tier_and_intent(self):
		settings = frappe.get_single("Branch CRM Settings")
		first = settings.cadence_rules[0]
		settings.append(
			"cadence_rules", {"tier": first.tier, "intent_level": first.intent_level, "interval_days": 3}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "already set in row 1"):
			settings.save()

	def test_window_must_be_positive(self):
		settings = frappe.get_single("Branch CRM Settings")
		settings.tier_window_months = 0
		with self.assertRaisesRegex(frappe.ValidationError, "at least 1"):
			settings.save()
