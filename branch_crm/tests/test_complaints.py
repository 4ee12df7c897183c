"""Complaints as ERPNext Issues of bank customers, as the real roles use them: registered in the desk
(savedocs), read through frappe.client, escalated by the hourly job, counted by Complaint Handling
(query_report.run)."""

from __future__ import annotations

import datetime as dt
import json

import frappe
from frappe.desk.form.save import savedocs
from frappe.desk.query_report import run as run_report
from frappe.tests.test_api import FrappeAPITestCase

from branch_crm import complaints, testing
from branch_crm.testing import BRANCH_A, user
from branch_crm.tests import access_world

test_ignore = [*testing.TEST_IGNORE, "Issue"]
PROFILE = "Bank Customer Profile"


def register(key: str, customer: str | None, subject: str = "Fee charged twice", **values) -> frappe._dict:
	"""A complaint saved from the desk form by ``key``'s user; the saved document."""
	frappe.set_user(user(key))
	frappe.response.docs = []
	doc = {
		"doctype": "Issue",
		"name": f"new-issue-{frappe.generate_hash(length=6)}",
		"__islocal": 1,
		"subject": subject,
		"bank_customer": customer,
		**values,
	}
	savedocs(frappe.as_json(doc), "Save")
	return frappe._dict(frappe.response.docs[-1])


class TestComplaints(testing.BranchCRMTestCase):
	def setUp(self):
		# each test starts with no complaints of the test world (rolled back at the class's end)
		for name in frappe.get_all("Issue", filters={"bank_customer": ("like", "_T-CRM-%")}, pluck="name"):
			frappe.db.delete("ToDo", {"reference_type": "Issue", "reference_name": name})
			frappe.db.delete("Issue", name)
		frappe.db.set_value(PROFILE, "_T-CRM-0001", "tier", "VIP")
		frappe.db.set_value(PROFILE, "_T-CRM-0004", "tier", "Mass")
		self.hours = dict(
			frappe.get_all("Customer Tier", fields=["name", "complaint_response_hours"], as_list=True)
		)

	def test_a_teller_registers_a_complaint_whose_deadline_follows_the_tier(self):
		vip = register("teller", "_T-CRM-0001")
		mass = register("teller", "_T-CRM-0004", "Queue too long")
		self.assertLess(self.hours["VIP"], self.hours["Mass"], "VIP complaints are answered faster")
		for saved, tier in ((vip, "VIP"), (mass, "Mass")):
			self.assertEqual(saved.complaint_tier, tier)
			self.assertEqual(saved.customer, saved.bank_customer, "the ERPNext Customer is linked too")
			self.assertEqual(
				frappe.utils.get_datetime(saved.complaint_response_by),
				frappe.utils.get_datetime(saved.creation) + dt.timedelta(hours=self.hours[tier]),
			)
			self.assertEqual(saved.owner, user("teller"))

	def test_staff_register_only_for_customers_they_see_and_always_name_one(self):
		with self.assertRaises(frappe.PermissionError):
			register("teller", "_T-CRM-0006")  # branch B
		with self.assertRaises(frappe.PermissionError):
			register("rm1", "_T-CRM-0004")  # rm2's book
		with self.assertRaisesRegex(frappe.MandatoryError, "Bank Customer is required"):
			register("teller", None)

	def test_each_role_reads_the_complaints_of_the_customers_it_sees(self):
		own = register("rm1", "_T-CRM-0001").name
		colleague = register("rm2", "_T-CRM-0004").name
		frappe.set_user("Administrator")
		other_branch = frappe.get_doc(
			{"doctype": "Issue", "subject": "ATM kept card", "bank_customer": "_T-CRM-0006"}
		).insert()
		no_bank_customer = frappe.get_doc({"doctype": "Issue", "subject": "Website typo"}).insert()
		mine = {own, colleague, other_branch.name, no_bank_customer.name}

		def listed(key: str) -> set:
			frappe.set_user(user(key))
			return {row["name"] for row in frappe.client.get_list("Issue", limit_page_length=0)} & mine

		self.assertEqual(listed("rm1"), {own})
		self.assertEqual(listed("rm2"), {colleague})
		self.assertEqual(listed("bm"), {own, colleague})
		self.assertEqual(listed("teller"), {own, colleague})
		self.assertEqual(listed("rm3"), {other_branch.name})
		frappe.set_user(user("rm1"))
		self.assertEqual(frappe.client.get("Issue", own)["bank_customer"], "_T-CRM-0001")
		for name in (colleague, other_branch.name, no_bank_customer.name):
			with self.assertRaises(frappe.PermissionError):
				frappe.client.get("Issue", name)

	def test_a_complaint_cannot_be_moved_to_a_customer_out_of_reach(self):
		saved = register("rm2", "_T-CRM-0004")
		frappe.set_user(user("rm2"))
		doc = frappe.client.get("Issue", saved.name)
		doc["bank_customer"] = "_T-CRM-0006"
		with self.assertRaises(frappe.PermissionError):
			savedocs(frappe.as_json(doc), "Save")
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Issue", saved.name, "bank_customer"), "_T-CRM-0004")

	def test_the_first_response_is_recorded_when_the_status_leaves_open(self):
		saved = register("teller", "_T-CRM-0004")
		self.assertFalse(saved.first_responded_on)
		frappe.set_user(user("rm2"))
		doc = frappe.client.get("Issue", saved.name)
		doc["status"] = "Replied"
		frappe.response.docs = []
		savedocs(frappe.as_json(doc), "Save")
		answered = frappe._dict(frappe.response.docs[-1])
		self.assertTrue(answered.first_responded_on)
		# the deadline was fixed at registration
		self.assertEqual(
			frappe.utils.get_datetime(answered.complaint_response_by),
			frappe.utils.get_datetime(saved.complaint_response_by),
		)

	def overdue(self, customer: str, hours_late: int = 2) -> str:
		saved = register("teller", customer)
		frappe.set_user("Administrator")
		frappe.db.set_value(
			"Issue",
			saved.name,
			"complaint_response_by",
			frappe.utils.now_datetime() - dt.timedelta(hours=hours_late),
		)
		return saved.name

	def test_overdue_complaints_go_to_the_branch_manager_once(self):
		late = self.overdue("_T-CRM-0004")
		answered = self.overdue("_T-CRM-0005")
		frappe.db.set_value("Issue", answered, "status", "Replied")
		frappe.db.set_value("Issue", answered, "first_responded_on", frappe.utils.now_datetime())
		not_due = register("teller", "_T-CRM-0002").name
		frappe.set_user("Administrator")

		complaints.escalate_overdue()
		escalated = {
			row.name: row
			for row in frappe.get_all(
				"Issue",
				filters={"name": ("in", [late, answered, not_due])},
				fields=["name", "complaint_escalated_to", "complaint_escalation_todo", "_assign"],
			)
		}
		self.assertEqual(escalated[late].complaint_escalated_to, user("bm"))
		self.assertFalse(escalated[answered].complaint_escalated_to)
		self.assertFalse(escalated[not_due].complaint_escalated_to)
		todo = frappe.get_doc("ToDo", escalated[late].complaint_escalation_todo)
		self.assertEqual(
			(todo.allocated_to, todo.reference_type, todo.reference_name), (user("bm"), "Issue", late)
		)
		self.assertIn(late, todo.description)
		self.assertIn(user("bm"), json.loads(escalated[late]._assign))

		complaints.escalate_overdue()
		self.assertEqual(frappe.db.count("ToDo", {"reference_type": "Issue", "reference_name": late}), 1)
		# the branch manager finds it in their to-do list
		frappe.set_user(user("bm"))
		self.assertIn(
			late,
			[
				row["reference_name"]
				for row in frappe.client.get_list(
					"ToDo",
					filters={"allocated_to": user("bm"), "status": "Open"},
					fields=["reference_name"],
					limit_page_length=0,
				)
			],
		)

	def test_complaint_handling_report_by_branch_and_manager_within_scope(self):
		self.overdue("_T-CRM-0004")
		register("rm1", "_T-CRM-0001")
		frappe.set_user("Administrator")
		filters = json.dumps({"from_date": frappe.utils.today(), "to_date": frappe.utils.today()})

		frappe.set_user(user("bm"))
		report = run_report("Complaint Handling", filters=filters)
		rows = {row["relationship_manager"]: row for row in report["result"]}
		self.assertEqual(set(rows), {user("rm1"), user("rm2")})
		self.assertEqual({row["branch"] for row in rows.values()}, {BRANCH_A})
		self.assertEqual((rows[user("rm2")]["open"], rows[user("rm2")]["overdue"]), (1, 1))
		self.assertEqual((rows[user("rm1")]["open"], rows[user("rm1")]["overdue"]), (1, 0))
		cards = {card["label"]: card["value"] for card in report["report_summary"]}
		self.assertEqual((cards["Complaints"], cards["Overdue"]), (2, 1))
		self.assertEqual(report["chart"]["data"]["datasets"][1]["name"], "Overdue")

		frappe.set_user(user("rm1"))
		mine = run_report("Complaint Handling", filters=filters)["result"]
		self.assertEqual([row["relationship_manager"] for row in mine], [user("rm1")])

		frappe.set_user(user("teller"))
		with self.assertRaises(frappe.PermissionError):
			run_report("Complaint Handling", filters=filters)


class TestComplaintsOverHTTP(FrappeAPITestCase):
	"""The REST paths an integration or the desk takes, through Frappe's whole request cycle (token
	auth, hooks, guards), as the access tests' roles and a user of ERPNext's Support Team."""

	SUPPORT = "_test.support@acc.bank.example"

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		access_world.make()
		testing.ensure_user(cls.SUPPORT, "Acc support", ("Support Team",))
		cls.headers = {}

	def setUp(self):
		self.created = []

	def tearDown(self):
		frappe.set_user("Administrator")
		for name in self.created:
			frappe.db.delete("ToDo", {"reference_type": "Issue", "reference_name": name})
			frappe.db.delete("Issue", name)
		frappe.db.commit()
		super().tearDown()

	def auth(self, key: str) -> dict:
		if key not in self.headers:
			email = self.SUPPORT if key == "support" else access_world.user(key)
			self.headers[key] = testing.api_headers(email)
		return self.headers[key]

	def create(self, key: str, **values):
		response = self.post(
			self.resource("Issue"), {"subject": "Card swallowed", **values}, headers=self.auth(key)
		)
		if response.status_code == 200:
			self.created.append(response.json["data"]["name"])
		return response

	def listed(self, key: str) -> set:
		response = self.get(
			self.resource("Issue"), {"fields": '["name"]', "limit_page_length": 0}, headers=self.auth(key)
		)
		self.assertEqual(response.status_code, 200, response.text[:300])
		return {row["name"] for row in response.json["data"]} & set(self.created)

	def test_rest_paths_follow_the_role_model(self):
		lobby = self.create("lobby", bank_customer="_T-ACC-0001")  # rm's customer, lobby's branch
		self.assertEqual(lobby.status_code, 200, lobby.text[:300])
		self.assertTrue(lobby.json["data"]["complaint_response_by"])
		pb = self.create("pb", bank_customer="_T-ACC-0004")
		self.assertEqual(pb.status_code, 200, pb.text[:300])
		plain = self.create("support")  # no bank customer: ERPNext's own support work
		self.assertEqual(plain.status_code, 200, plain.text[:300])
		lobby, pb, plain = (r.json["data"]["name"] for r in (lobby, pb, plain))

		# a teller of another branch's customer, or a user outside the bank's roles, cannot register
		self.assertIn(self.create("teller", bank_customer="_T-CRM-0001").status_code, (403,))
		self.assertIn(self.create("support", bank_customer="_T-ACC-0001").status_code, (403,))
		self.assertIn(self.create("rm", bank_customer="_T-ACC-0004").status_code, (403,))

		self.assertEqual(self.listed("rm"), {lobby})
		self.assertEqual(self.listed("pb"), {pb})
		self.assertEqual(self.listed("bm"), {lobby, pb})
		self.assertEqual(self.listed("teller"), {lobby, pb})
		self.assertEqual(self.listed("support"), {plain})
		self.assertEqual(self.listed("admin"), {lobby, pb, plain})
		# a desk user with no role on Issues reads none
		self.assertEqual(
			self.get(self.resource("Issue"), {"fields": '["name"]'}, headers=self.auth("desk")).status_code,
			403,
		)
		# no count oracle either
		count = self.post(
			self.method("frappe.client.get_count"),
			{"doctype": "Issue", "filters": json.dumps({"bank_customer": "_T-ACC-0004"})},
			headers=self.auth("rm"),
		)
		self.assertEqual(count.json["message"], 0)
		self.assertIn(self.get(self.resource("Issue", pb), headers=self.auth("rm")).status_code, (403,))
		# the desk form opens for those who see the complaint, with its deadline
		for key in ("teller", "bm", "rm"):
			form = self.post(
				self.method("frappe.desk.form.load.getdoc"),
				{"doctype": "Issue", "name": lobby},
				headers=self.auth(key),
			)
			self.assertEqual(form.status_code, 200, f"{key}: {form.text[:300]}")
			self.assertTrue(form.json["docs"][0]["complaint_response_by"])
			# what ERPNext's Issue form reads when it loads
			settings = self.post(
				self.method("frappe.client.get_value"),
				{
					"doctype": "Support Settings",
					"filters": json.dumps({"name": "Support Settings"}),
					"fieldname": json.dumps(
						["allow_resetting_service_level_agreement", "track_service_level_agreement"]
					),
				},
				headers=self.auth(key),
			)
			self.assertEqual(settings.status_code, 200, f"{key}: {settings.text[:300]}")
		form = self.post(
			self.method("frappe.desk.form.load.getdoc"),
			{"doctype": "Issue", "name": lobby},
			headers=self.auth("rm_other"),
		)
		self.assertIn(form.status_code, (403,))
