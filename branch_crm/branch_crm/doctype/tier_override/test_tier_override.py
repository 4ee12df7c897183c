# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.workflow import (
	WorkflowPermissionError,
	WorkflowTransitionError,
	apply_workflow,
	get_transitions,
)

from branch_crm import testing
from branch_crm.jobs import recompute
from branch_crm.language import render_text
from branch_crm.testing import BRANCH_A, user

test_ignore = testing.TEST_IGNORE
ADMIN = "_test.crm.admin@bank.example"


class TestTierOverride(testing.BranchCRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.ensure_user(ADMIN, "Test CRM Admin", roles=("Branch CRM Admin",))
		testing.set_history("_T-CRM-0003", [50_000] * 12)
		frappe.db.commit()

	def tearDown(self):
		super().tearDown()
		frappe.db.rollback()

	def request(self, valid_until, valid_from="2020-01-01", tier="VIP"):
		frappe.set_user(user("bm"))
		doc = frappe.get_doc(
			{
				"doctype": "Tier Override",
				"customer": "_T-CRM-0003",
				"tier": tier,
				"valid_from": valid_from,
				"valid_until": valid_until,
				"reason": "战略客户家族",
			}
		).insert()
		self.assertEqual(doc.workflow_state, "Draft")
		doc = apply_workflow(doc, "Submit for Approval")
		self.assertEqual(doc.workflow_state, "Pending Approval")
		return doc

	def test_branch_manager_cannot_approve_own_request(self):
		doc = self.request("2099-12-31")
		self.assertNotIn(
			"Approve", [t.action for t in get_transitions(frappe.get_doc("Tier Override", doc.name))]
		)
		with self.assertRaises((WorkflowPermissionError, WorkflowTransitionError)):
			apply_workflow(frappe.get_doc("Tier Override", doc.name), "Approve")

	def test_approved_override_is_applied_until_it_expires(self):
		doc = self.request("2099-12-31")
		frappe.set_user(ADMIN)
		doc = apply_workflow(frappe.get_doc("Tier Override", doc.name), "Approve")
		self.assertEqual((doc.workflow_state, doc.docstatus), ("Approved", 1))
		frappe.set_user("Administrator")
		frappe.db.commit()
		try:
			recompute.run(branch=BRANCH_A)
			profile = frappe.get_doc("Bank Customer Profile", "_T-CRM-0003")
			self.assertEqual(profile.tier, "VIP")
			self.assertIn("战略客户家族", render_text(profile.tier_reason, "en"))
			# expired: back to what the balances say
			frappe.db.set_value("Tier Override", doc.name, "valid_until", "2020-12-31")
			frappe.db.commit()
			recompute.run(branch=BRANCH_A)
			self.assertEqual(frappe.db.get_value("Bank Customer Profile", "_T-CRM-0003", "tier"), "Mass")
		finally:
			frappe.db.delete("Tier Override", {"name": doc.name})
			frappe.db.commit()

	def test_override_needs_a_profile_and_a_sane_period(self):
		frappe.set_user(user("bm"))
		with self.assertRaisesRegex(frappe.ValidationError, "Valid Until is before Valid From"):
			frappe.get_doc(
				{
					"doctype": "Tier Override",
					"customer": "_T-CRM-0003",
					"tier": "VIP",
					"valid_from": "2026-05-01",
					"valid_until": "2026-01-01",
					"reason": "x",
				}
			).insert()

	def test_a_second_approved_override_for_the_same_dates_is_refused(self):
		first = self.request("2099-12-31")
		frappe.set_user(ADMIN)
		apply_workflow(frappe.get_doc("Tier Override", first.name), "Approve")
		# not even requested: the branch manager asks the admin to cancel the first one instead
		with self.assertRaisesRegex(frappe.ValidationError, first.name):
			self.request("2030-12-31")

	def test_an_override_counts_the_day_it_is_approved(self):
		recompute.run(branch=BRANCH_A)
		frappe.db.commit()
		before = frappe.db.get_value("Bank Customer Profile", "_T-CRM-0003", "tier")
		self.assertNotEqual(before, "Private Banking")
		today = frappe.utils.today()
		doc = self.request("2099-12-31", valid_from=today, tier="Private Banking")
		frappe.set_user(ADMIN)
		apply_workflow(frappe.get_doc("Tier Override", doc.name), "Approve")
		frappe.set_user("Administrator")
		# no recompute in between: the approval itself moves the tier, with its log row
		self.assertEqual(
			frappe.db.get_value("Bank Customer Profile", "_T-CRM-0003", "tier"), "Private Banking"
		)
		self.assertTrue(
			frappe.db.exists(
				"Tier Change Log",
				{"customer": "_T-CRM-0003", "to_tier": "Private Banking", "changed_on": today},
			)
		)
		# and the nightly recompute keeps it (the override is read as of today, not the data month)
		frappe.db.commit()
		try:
			recompute.run(branch=BRANCH_A)
			self.assertEqual(
				frappe.db.get_value("Bank Customer Profile", "_T-CRM-0003", "tier"), "Private Banking"
			)
			frappe.set_user(ADMIN)
			apply_workflow(frappe.get_doc("Tier Override", doc.name), "Cancel")
			frappe.set_user("Administrator")
			self.assertEqual(frappe.db.get_value("Bank Customer Profile", "_T-CRM-0003", "tier"), before)
		finally:
			frappe.set_user("Administrator")
			frappe.db.delete("Tier Override", {"customer": "_T-CRM-0003"})
			frappe.db.delete("Tier Change Log", {"customer": "_T-CRM-0003"})
			frappe.db.commit()
			recompute.run(branch=BRANCH_A)
			frappe.db.commit()
