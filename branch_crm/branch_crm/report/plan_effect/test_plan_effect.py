# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import followups, testing
from branch_crm.branch_crm.report.plan_effect.plan_effect import execute
from branch_crm.testing import BRANCH_A, user

test_ignore = testing.TEST_IGNORE


class TestPlanEffect(testing.BranchCRMTestCase):
	@classmethod
	def tearDownClass(cls):
		testing.clear_contacts()
		super().tearDownClass()

	def setUp(self):
		testing.clear_contacts()

	def test_planned_done_and_products_opened_per_manager_in_their_own_book(self):
		today = frappe.utils.getdate()
		followups.run(today=str(today), branch=BRANCH_A)
		frappe.set_user(user("rm1"))
		frappe.get_doc(
			{
				"doctype": "Contact Log",
				"customer": "_T-CRM-0001",
				"channel": "Visit",
				"outcome": "Product Opened",
			}
		).insert()
		frappe.set_user("Administrator")
		profile = frappe.get_doc("Bank Customer Profile", "_T-CRM-0001")
		product = frappe.get_all("Bank Product", pluck="name", limit=1)[0]
		holding = profile.append("holdings", {"product": product, "balance": 1000, "opened_on": today})
		profile.save()
		# the follow-up job and clear_contacts commit: the holding would stay for the next run
		self.addCleanup(frappe.db.commit)
		self.addCleanup(frappe.db.delete, "Customer Product Holding", {"name": holding.name})

		period = {"from_date": today, "to_date": frappe.utils.add_days(today, 14)}
		frappe.set_user(user("rm1"))
		columns, data, _message, chart, summary = execute(period)
		self.assertEqual(
			[c["fieldname"] for c in columns[:9]],
			[
				"branch",
				"relationship_manager",
				"customers",
				"planned",
				"completed",
				"completion_rate",
				"overdue",
				"contacts",
				"customers_contacted",
			],
		)
		self.assertEqual([row["relationship_manager"] for row in data], [user("rm1")], "own book only")
		row = data[0]
		self.assertEqual((row["customers"], row["planned"], row["completed"]), (3, 3, 1))
		self.assertEqual((row["contacts"], row["products_opened"]), (1, 1))
		self.assertEqual(row["completion_rate"], 33.3)
		self.assertEqual([d["name"] for d in chart["data"]["datasets"]], ["Planned", "Completed", "Overdue"])
		self.assertEqual(summary[0]["value"], 3)

		frappe.set_user(user("bm"))
		managers = {row["relationship_manager"] for row in execute(period)[1]}
		self.assertEqual(managers, {user("rm1"), user("rm2")})
		with self.assertRaises(frappe.ValidationError):
			execute({"from_date": today, "to_date": frappe.utils.add_days(today, -1)})
