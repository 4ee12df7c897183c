# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from unittest.mock import patch

import frappe
from frappe.desk.query_report import run as run_report

from branch_crm import data_intake, testing
from branch_crm.branch_crm.report.needs_screening.needs_screening import execute
from branch_crm.jobs import needs, unchanged
from branch_crm.language import render_text
from branch_crm.testing import BRANCH_A, BRANCH_B, user


def en(stored: str) -> str:
	"""A stored (coded) text as an English reader reads it."""
	return render_text(stored, "en")


test_ignore = testing.TEST_IGNORE
PROFILE = "Bank Customer Profile"
# salary credited here every month, bills paid here: the main bank, but no credit card
SALARIED = {"aum": 50_000, "inflow": 12_000, "outflow": 11_000, "salary_credit": 10_000, "bill_payments": 2}
# money parked here, nothing flowing: idle deposits, main bank elsewhere
PARKED = {"aum": 200_000, "deposits": 200_000, "inflow": 500, "outflow": 500}
FIELDS = [
	"name",
	"needs_priority",
	"needs_gap_count",
	"main_account_score",
	"needs_gaps",
	"needs_next_action",
	"needs_gap_types",
	"needs_screened_on",
	"modified",
]


def set_snapshots(customer: str, values: dict | None, months: int = 3) -> None:
	frappe.db.delete("Customer Monthly Snapshot", {"customer": customer})
	if not values:
		return
	end = testing.last_complete_month()
	records = [
		{"customer": customer, "month": str(frappe.utils.add_months(end, -i)), **values}
		for i in range(months)
	]
	result = data_intake.run("snapshots", records)
	assert not result.rejected, result.rejected


def set_holdings(customer: str, holdings: list[dict]) -> None:
	frappe.db.delete("Customer Product Holding", {"parent": customer, "parenttype": PROFILE})
	if holdings:
		result = data_intake.run("holdings", [{"customer": customer, **h} for h in holdings])
		assert not result.rejected, result.rejected


def stored() -> dict:
	return {
		row.name: row
		for row in frappe.get_all(PROFILE, filters={"name": ("in", list(testing.CUSTOMERS))}, fields=FIELDS)
	}


class TestNeedsScreening(testing.BranchCRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		set_snapshots("_T-CRM-0001", SALARIED)
		set_holdings("_T-CRM-0001", [{"product": "CARD-DEBIT", "account_no": "D1"}])
		set_snapshots("_T-CRM-0002", PARKED)
		set_holdings("_T-CRM-0002", [{"product": "DEP-DEMAND", "account_no": "A1", "balance": 200_000}])
		set_snapshots("_T-CRM-0003", None)  # nothing reported: nothing to judge by
		set_holdings("_T-CRM-0003", [])
		for customer in ("_T-CRM-0004", "_T-CRM-0005", "_T-CRM-0006"):
			set_snapshots(customer, SALARIED)
			set_holdings(customer, [{"product": "CARD-CREDIT", "account_no": "C1"}])
		# screened afresh: a result that stands is not stamped again (needs_screened_on is the day
		# it last changed), and an earlier run may have been on another day
		frappe.db.sql(
			f"update `tab{PROFILE}` set `needs_gap_types` = 'not screened', `needs_screened_on` = null "
			"where `name` in %(names)s",
			{"names": tuple(testing.CUSTOMERS)},
		)
		frappe.db.commit()
		cls.first = {branch: needs.run(branch=branch) for branch in (BRANCH_A, BRANCH_B)}
		cls.stored = stored()

	def test_the_job_stores_gaps_priority_and_next_action_in_words(self):
		salaried, parked, silent = (self.stored[c] for c in ("_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003"))
		self.assertEqual(salaried.needs_gap_types, "salary_no_card")
		self.assertEqual(en(salaried.needs_gaps), "Salary credited here, no credit card")
		self.assertEqual(en(salaried.needs_next_action), "Offer a credit card: salary is credited here")
		self.assertEqual(salaried.main_account_score, 100)
		self.assertGreater(salaried.needs_priority, 0)

		self.assertEqual(parked.needs_gap_types, "idle_deposits_no_wealth,main_bank_elsewhere")
		self.assertEqual(parked.needs_gap_count, 1, "main bank elsewhere is not a product gap")
		self.assertIn("200,000 idle in demand deposits, no wealth product", en(parked.needs_gaps))
		self.assertEqual(
			en(parked.needs_next_action),
			"Invite to make this the main bank: move salary and regular bills here",
		)
		self.assertGreater(parked.needs_priority, salaried.needs_priority)

		self.assertEqual((silent.needs_gap_types, silent.needs_gap_count), ("", 0))
		self.assertEqual(en(silent.needs_next_action), "No gap found: keep in touch as planned")
		self.assertTrue(all(r.needs_screened_on == frappe.utils.getdate() for r in self.stored.values()))
		self.assertEqual(self.first[BRANCH_A]["profiles"], 5)
		self.assertEqual(self.first[BRANCH_A]["failed_branches"], 0)

	def test_a_second_run_writes_nothing(self):
		# (other tests may have screened it since the class did: what stands now is the baseline);
		# its inputs forgotten, the second run reads and screens the branch again
		needs.run(branch=BRANCH_A)
		unchanged.forget_all()
		baseline = stored()
		with patch.object(needs, "read_facts_checksum", wraps=needs.read_facts_checksum) as checked:
			again = needs.run(branch=BRANCH_A)
			# nothing remembered: the branch is read at once, its checksums taken by the reads
			self.assertEqual(checked.call_count, 0)
			self.assertEqual((again["updated"], again["skipped"]), (0, 0))
			now = stored()
			for name, before in baseline.items():
				self.assertEqual(now[name], before)
			# nothing it reads has changed since: the branch is checked, and not read again
			self.assertEqual(needs.run(branch=BRANCH_A)["skipped"], 1)
			self.assertEqual(checked.call_count, 1)
		self.assertEqual(stored(), now)

	def test_a_changed_input_screens_the_branch_again(self):
		needs.run(branch=BRANCH_A)
		# a customer of the branch screened (not the first of stored(): get_all lists the last
		# modified first, which may be of another branch)
		name = frappe.db.get_value(
			PROFILE,
			{"branch": BRANCH_A, "name": ("in", list(testing.CUSTOMERS))},
			"name",
			order_by="name asc",
		)
		self.assertTrue(name)
		income = frappe.db.get_value(PROFILE, name, "declared_annual_income") or 0
		self.addCleanup(needs.run, branch=BRANCH_A)
		self.addCleanup(
			frappe.db.set_value, PROFILE, name, "declared_annual_income", income, update_modified=False
		)
		frappe.db.set_value(
			PROFILE, name, "declared_annual_income", income + 1_000_000, update_modified=False
		)
		self.assertEqual(needs.run(branch=BRANCH_A)["skipped"], 0)

	def test_a_failed_branch_is_logged_and_the_others_go_on(self):
		original = needs.read_branch
		seen = []

		def failing_a(branch, *args, **kwargs):
			seen.append(branch)
			if branch == BRANCH_A:
				raise ValueError("broken branch")
			return original(branch, *args, **kwargs)

		errors = frappe.db.count("Error Log")
		unchanged.forget_all()  # every branch is read, not skipped as unchanged
		needs.read_branch = failing_a
		try:
			summary = needs.run()
		finally:
			needs.read_branch = original
		self.assertEqual(summary["failed_branches"], 1)
		self.assertIn(BRANCH_B, seen)
		self.assertEqual(frappe.db.count("Error Log"), errors + 1)

	def test_columns_filters_chart_and_cards(self):
		frappe.set_user(user("rm1"))
		columns, data, _message, chart, summary = execute({})
		self.assertEqual(
			[c["fieldname"] for c in columns],
			[
				"customer",
				"customer_name",
				"branch",
				"relationship_manager",
				"tier",
				"bank_customer_group",
				"aum",
				"gap_count",
				"gaps",
				"main_account_score",
				"main_bank_likely",
				"money_elsewhere_estimate",
				"merchant_like",
				"priority_score",
				"next_action",
				"gap_types",
			],
		)
		self.assertEqual([row["customer"] for row in data], ["_T-CRM-0002", "_T-CRM-0001", "_T-CRM-0003"])
		parked, salaried, silent = data
		self.assertEqual(parked["gap_types"], "Idle deposits, no wealth product; Main bank likely elsewhere")
		self.assertEqual((parked["main_bank_likely"], salaried["main_bank_likely"]), (0, 1))
		self.assertEqual(parked["main_account_score"], 0)
		self.assertIsNone(silent["main_account_score"], "no data, no score")
		datasets = {d["name"]: d["values"] for d in chart["data"]["datasets"]}
		self.assertEqual(datasets["Customers"], [1, 1, 0, 0, 0, 1, 0])
		cards = {c["label"]: c["value"] for c in summary}
		self.assertEqual(
			(cards["Customers Screened"], cards["With Product Gaps"], cards["Main Bank Elsewhere"]), (3, 2, 1)
		)
		self.assertEqual([r["customer"] for r in execute({"gap_type": "salary_no_card"})[1]], ["_T-CRM-0001"])
		# listing some rows: their long texts are read for them alone, the cards still count everyone
		_columns, listed, _message, _chart, listed_cards = execute({"limit": 1})
		self.assertEqual(listed, [data[0]])
		self.assertEqual(listed_cards[0]["value"], 3)
		with self.assertRaises(frappe.ValidationError):
			execute({"gap_type": "no_such_gap"})

	def test_a_relationship_manager_sees_only_their_book(self):
		frappe.set_user(user("rm1"))
		self.assertEqual(execute({"relationship_manager": user("rm2")})[1], [])
		frappe.set_user(user("rm2"))
		self.assertEqual({r["customer"] for r in execute({})[1]}, {"_T-CRM-0004", "_T-CRM-0005"})
		frappe.set_user(user("bm"))
		self.assertEqual({r["branch"] for r in execute({})[1]}, {BRANCH_A})
		self.assertEqual(len(execute({})[1]), 5)

	def test_through_the_desk_a_teller_is_refused_and_a_manager_served(self):
		frappe.set_user(user("teller"))
		with self.assertRaises(frappe.PermissionError):
			run_report("Needs Screening", {})
		frappe.set_user(user("rm1"))
		self.assertEqual(len(run_report("Needs Screening", {})["result"]), 3)
