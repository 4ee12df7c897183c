# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt
"""The Campaign Effect report through the desk's query_report.run: a network campaign launched by
the admin, take-up planted after launch, and each reader sees the members of their own scope."""

from __future__ import annotations

import frappe
from frappe.desk.query_report import run

from branch_crm import campaigns, data_intake, testing
from branch_crm.tests import access_world
from branch_crm.tests.access_world import BRANCH, user

test_ignore = testing.TEST_IGNORE
MEMBER = "Bank Campaign Member"
REPORT = "Campaign Effect"


class TestCampaignEffect(testing.BranchCRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		access_world.make()
		campaigns.ensure_setup()

	def launched(self) -> str:
		frappe.set_user(access_world.user("admin"))
		doc = frappe.get_doc(
			{
				"doctype": "Campaign",
				"campaign_name": f"_Test Effect {frappe.generate_hash(length=6)}",
				"bank_target_category": "Wealth Management",
				"bank_control_share": 30,
				"bank_measure_weeks": 8,
			}
		).insert()
		campaigns.launch(doc.name)
		frappe.set_user("Administrator")
		return doc.name

	def test_each_reader_sees_their_own_scope_and_take_up_counts(self):
		name = self.launched()
		drawn = frappe.get_all(
			MEMBER, filters={"campaign": name}, fields=["customer", "campaign_group", "branch"]
		)
		in_branch = [m for m in drawn if m.branch == BRANCH]
		taker = next(m.customer for m in in_branch if m.campaign_group == "Campaign")
		product = frappe.get_all("Bank Product", filters={"category": "Wealth Management"}, pluck="name")[0]
		result = data_intake.run(
			"holdings",
			[
				{
					"customer": taker,
					"product": product,
					"account_no": "CAMPAIGN-TEST-1",
					"balance": 50000,
					"opened_on": str(frappe.utils.getdate()),
				}
			],
		)
		self.assertFalse(result.rejected, result.rejected)

		frappe.set_user(access_world.user("bm"))
		report = run(REPORT, filters={"campaign": name})
		rows = report["result"]
		# one branch in scope: the three measures, no per-branch rows
		self.assertEqual(len(rows), 3)
		take_up = rows[0]
		self.assertEqual(
			take_up["campaign_customers"] + take_up["control_customers"], len(in_branch), "branch C only"
		)
		campaign_group = sum(1 for m in in_branch if m.campaign_group == "Campaign")
		self.assertAlmostEqual(take_up["campaign_value"], round(100 / campaign_group, 1))
		self.assertEqual(take_up["control_value"], 0)
		self.assertEqual(len(report["chart"]["data"]["datasets"]), 2)
		self.assertTrue(report["report_summary"])

		# the branch manager of another branch: their own branch's members only
		frappe.set_user(testing.user("bm"))
		other = run(REPORT, filters={"campaign": name})["result"]
		in_a = [m for m in drawn if m.branch == testing.BRANCH_A]
		self.assertEqual(other[0]["campaign_customers"] + other[0]["control_customers"], len(in_a))
		self.assertEqual(other[0]["campaign_value"] if in_a else None, other[0]["campaign_value"])

		# a relationship manager: their own book
		frappe.set_user(user("rm"))
		book = run(REPORT, filters={"campaign": name})["result"]
		self.assertEqual(
			book[0]["campaign_customers"] + book[0]["control_customers"], len(access_world.book("rm"))
		)

	def test_the_admin_sees_every_branch_and_a_teller_nothing(self):
		name = self.launched()
		frappe.set_user(access_world.user("admin"))
		rows = run(REPORT, filters={"campaign": name})["result"]
		branches = {m.branch for m in frappe.get_all(MEMBER, filters={"campaign": name}, fields=["branch"])}
		self.assertEqual(len(rows), 3 * (1 + len(branches)) if len(branches) > 1 else 3)
		frappe.set_user(access_world.user("teller"))
		with self.assertRaises(frappe.PermissionError):
			run(REPORT, filters={"campaign": name})

	def test_a_draft_campaign_has_no_effect_yet(self):
		frappe.set_user(access_world.user("admin"))
		doc = frappe.get_doc({"doctype": "Campaign", "campaign_name": "_Test Draft Effect"}).insert()
		with self.assertRaisesRegex(frappe.ValidationError, "not launched yet"):
			run(REPORT, filters={"campaign": doc.name})
