"""Customer feedback as the real roles and a guest use it (docs/feedback.md): asked after a contact
saved in the desk (savedocs) or from a button (the whitelisted ``ask``), read through frappe.client
within the role model, answered once on the public page through the guest endpoint (valid, expired,
reused, tampered), shown on the profile, and read by the churn job."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import frappe
from frappe.desk.form.save import savedocs

from branch_crm import feedback, testing
from branch_crm.jobs import churn
from branch_crm.testing import user

test_ignore = testing.TEST_IGNORE
FEEDBACK = "Customer Feedback"
PROFILE = "Bank Customer Profile"


def log_contact(key: str, customer: str, outcome: str = "Reached - Interested") -> frappe._dict:
	"""A contact logged from the desk form by ``key``'s user; the saved log."""
	frappe.set_user(user(key))
	frappe.response.docs = []
	doc = {
		"doctype": "Contact Log",
		"name": f"new-contact-log-{frappe.generate_hash(length=6)}",
		"__islocal": 1,
		"customer": customer,
		"channel": "Phone",
		"outcome": outcome,
	}
	savedocs(frappe.as_json(doc), "Save")
	return frappe._dict(frappe.response.docs[-1])


def token_of(url: str) -> str:
	return parse_qs(urlparse(url).query)["t"][0]


def as_guest(token: str | None, score=4, comment: str | None = "很好") -> dict:
	frappe.set_user("Guest")
	frappe.local.response = frappe._dict()
	try:
		return feedback.submit_feedback(token=token, score=score, comment=comment)
	finally:
		frappe.set_user("Administrator")


class TestFeedback(testing.BranchCRMTestCase):
	def setUp(self):
		frappe.db.delete(FEEDBACK, {"customer": ("like", "_T-CRM-%")})
		frappe.db.delete("Contact Log", {"customer": ("like", "_T-CRM-%")})
		frappe.db.sql(
			"update `tabBank Customer Profile` set `do_not_contact` = 0, `email_id` = null where `name` like '\\_T-CRM-%%'"
		)

	def asked_about(self, log: str) -> frappe._dict:
		rows = frappe.get_all(FEEDBACK, filters={"contact_log": log}, fields=["*"])
		self.assertEqual(len(rows), 1, f"one request about {log}")
		return rows[0]

	def test_a_contact_that_reached_the_customer_asks_for_feedback_once_a_month(self):
		log = log_contact("rm1", "_T-CRM-0001")
		request = self.asked_about(log.name)
		self.assertEqual(
			(request.customer, request.staff_member, request.status, request.channel),
			("_T-CRM-0001", user("rm1"), "Asked", "Given by Staff"),
		)
		self.assertEqual(
			frappe.utils.get_datetime(request.expires_on).date(),
			(frappe.utils.get_datetime(request.asked_on) + dt.timedelta(days=14)).date(),
		)
		# the staff member was shown the link to pass on
		self.assertTrue(any("/feedback?t=" in str(m) for m in frappe.message_log))
		again = log_contact("rm1", "_T-CRM-0001")
		self.assertFalse(frappe.db.exists(FEEDBACK, {"contact_log": again.name}), "asked lately")
		no_answer = log_contact("rm1", "_T-CRM-0002", outcome="No Answer")
		self.assertFalse(frappe.db.exists(FEEDBACK, {"contact_log": no_answer.name}))

	def test_do_not_contact_is_respected(self):
		frappe.db.set_value(PROFILE, "_T-CRM-0002", "do_not_contact", 1)
		log = log_contact("rm1", "_T-CRM-0002")
		self.assertFalse(frappe.db.exists(FEEDBACK, {"customer": "_T-CRM-0002"}))
		frappe.set_user(user("rm1"))
		with self.assertRaisesRegex(frappe.ValidationError, "_T-CRM-0002 is marked do-not-contact"):
			feedback.ask(contact_log=log.name)

	def test_a_customer_with_an_email_gets_the_link_by_email(self):
		frappe.db.set_value(PROFILE, "_T-CRM-0003", "email_id", "kehu@example.com")
		log = log_contact("rm1", "_T-CRM-0003", outcome="No Answer")
		frappe.set_user(user("rm1"))
		if not feedback._email_configured():
			# no outgoing account on this site: the staff member is given the link instead
			self.assertEqual(feedback.ask(customer="_T-CRM-0003")["channel"], "Given by Staff")
			# the bank sets up its outgoing account (rolled back with the test class)
			frappe.set_user("Administrator")
			frappe.get_doc(
				{
					"doctype": "Email Account",
					"email_account_name": "_Test CRM Outgoing",
					"email_id": "crm@bank.example",
					"enable_outgoing": 1,
					"default_outgoing": 1,
					"smtp_server": "localhost",
					"no_smtp_authentication": 1,
				}
			).insert(ignore_permissions=True)
			frappe.set_user(user("rm1"))
		result = feedback.ask(contact_log=log.name)
		self.assertEqual(result["channel"], "Email")
		frappe.set_user("Administrator")
		mail = frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": FEEDBACK, "reference_name": result["name"]},
			fields=["name", "message"],
		)
		self.assertEqual(len(mail), 1)
		self.assertIn("/feedback?t=", mail[0].message)
		with self.assertRaisesRegex(frappe.ValidationError, "already asked"):
			frappe.set_user(user("rm1"))
			feedback.ask(contact_log=log.name)

	def test_staff_ask_and_read_only_for_customers_they_see(self):
		own = log_contact("rm1", "_T-CRM-0001")
		colleague = log_contact("rm2", "_T-CRM-0004")
		frappe.set_user("Administrator")
		other_branch = feedback.create_request("_T-CRM-0006")["name"]
		mine = {self.asked_about(own.name).name, self.asked_about(colleague.name).name, other_branch}

		def listed(key: str) -> set:
			frappe.set_user(user(key))
			return {row["name"] for row in frappe.client.get_list(FEEDBACK, limit_page_length=0)} & mine

		self.assertEqual(listed("rm1"), {self.asked_about(own.name).name})
		self.assertEqual(listed("bm"), mine - {other_branch})
		self.assertEqual(listed("teller"), mine - {other_branch})
		self.assertEqual(listed("rm3"), {other_branch})
		frappe.set_user(user("rm1"))
		with self.assertRaises(frappe.PermissionError):
			frappe.client.get(FEEDBACK, self.asked_about(colleague.name).name)
		with self.assertRaises(frappe.PermissionError):
			feedback.ask(contact_log=colleague.name)
		with self.assertRaises(frappe.PermissionError):
			feedback.ask(customer="_T-CRM-0006")

	def test_no_one_edits_an_answer_through_the_desk(self):
		log = log_contact("rm1", "_T-CRM-0001")
		request = self.asked_about(log.name)
		frappe.set_user(user("rm1"))
		doc = frappe.client.get(FEEDBACK, request.name)
		doc["score"] = 5
		with self.assertRaises(frappe.PermissionError):
			savedocs(frappe.as_json(doc), "Save")
		with self.assertRaises(frappe.PermissionError):
			frappe.client.set_value(FEEDBACK, request.name, "score", 5)
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value(FEEDBACK, request.name, "score"), 0)

	def test_the_survey_link_is_answered_once_and_rejects_expiry_and_tampering(self):
		frappe.set_user(user("rm1"))
		log = log_contact("rm1", "_T-CRM-0002", outcome="No Answer")
		frappe.set_user(user("rm1"))
		asked = feedback.ask(contact_log=log.name)
		token = token_of(asked["url"])

		other = asked["name"][:-1] + ("1" if asked["name"][-1] != "1" else "2")  # another request
		tampered = token.replace(asked["name"], other)
		self.assertNotEqual(tampered, token)
		self.assertEqual(as_guest(tampered)["state"], "invalid")
		self.assertEqual(frappe.local.response.get("http_status_code"), 403)
		self.assertEqual(as_guest(token[:-2] + "00")["state"], "invalid")
		self.assertEqual(as_guest(token, score=7)["state"], "score")

		answer = as_guest(token, score=2, comment="排队太久")
		self.assertEqual((answer["ok"], answer["state"]), (True, "thanks"))
		self.assertNotIn("_T-CRM", str(answer), "the guest is told nothing about the customer")
		stored = frappe.db.get_value(FEEDBACK, asked["name"], ["status", "score", "comment"], as_dict=True)
		self.assertEqual((stored.status, stored.score, stored.comment), ("Answered", 2, "排队太久"))

		reused = as_guest(token, score=5, comment="changed my mind")
		self.assertEqual((reused["ok"], reused["state"]), (False, "answered"))
		self.assertEqual(frappe.db.get_value(FEEDBACK, asked["name"], "score"), 2)

		late = feedback.create_request("_T-CRM-0003")
		frappe.db.set_value(
			FEEDBACK, late["name"], "expires_on", frappe.utils.add_days(frappe.utils.now_datetime(), -1)
		)
		# the link carries its own expiry: the stored one moved, so the old link no longer holds
		self.assertEqual(as_guest(token_of(late["url"]))["state"], "invalid")
		expired = feedback.create_request("_T-CRM-0005")
		past = frappe.utils.get_datetime(expired["expires_on"]) - dt.timedelta(days=30)
		frappe.db.set_value(FEEDBACK, expired["name"], "expires_on", past)
		result = as_guest(token_of(feedback.survey_url(expired["name"], past)))
		self.assertEqual(result["state"], "expired")
		self.assertEqual(frappe.db.get_value(FEEDBACK, expired["name"], "status"), "Expired")

	def test_a_guest_reads_nothing_but_the_page(self):
		name = feedback.create_request("_T-CRM-0001")["name"]
		frappe.set_user("Guest")
		try:
			with self.assertRaises(frappe.PermissionError):
				frappe.client.get(FEEDBACK, name)
			with self.assertRaises(frappe.PermissionError):
				frappe.client.get_list(FEEDBACK)
		finally:
			frappe.set_user("Administrator")

	def test_the_page_shows_the_question_for_a_valid_link_and_a_message_otherwise(self):
		from branch_crm.www import feedback as page

		asked = feedback.create_request("_T-CRM-0001")
		for token, state in ((token_of(asked["url"]), "valid"), ("CRM-FB-2026-00001.1.abc", "invalid")):
			frappe.set_user("Guest")
			frappe.form_dict.t = token
			context = page.get_context(frappe._dict())
			frappe.set_user("Administrator")
			self.assertEqual(context.state, state)
			self.assertEqual(context.no_cache, 1)
			self.assertNotIn("测试客户", str(dict(context)), "no customer name on the page")
		self.assertEqual(context.message, feedback.MESSAGES["invalid"])

	def test_the_daily_job_expires_unanswered_requests(self):
		name = feedback.create_request("_T-CRM-0004")["name"]
		fresh = feedback.create_request("_T-CRM-0005")["name"]
		frappe.db.set_value(
			FEEDBACK, name, "expires_on", frappe.utils.add_days(frappe.utils.now_datetime(), -1)
		)
		feedback.expire_requests()
		self.assertEqual(frappe.db.get_value(FEEDBACK, name, "status"), "Expired")
		self.assertEqual(frappe.db.get_value(FEEDBACK, fresh, "status"), "Asked")

	def test_the_profile_shows_the_satisfaction_trend_to_those_who_see_it(self):
		for score in (5, 4, 1):
			asked = feedback.create_request("_T-CRM-0001")
			as_guest(token_of(asked["url"]), score=score, comment="态度差" if score == 1 else None)
		feedback.create_request("_T-CRM-0001")
		frappe.set_user(user("rm1"))
		doc = frappe.get_doc(PROFILE, "_T-CRM-0001")
		doc.check_permission("read")
		doc.run_method("onload")
		summary = doc.get_onload().satisfaction
		self.assertEqual([r["score"] for r in summary["recent"]], [5, 4, 1])
		self.assertEqual(summary["average"], 3.3)
		self.assertEqual(summary["trend"], "down")
		self.assertEqual(summary["unanswered"], 1)
		self.assertEqual(summary["last_negative"]["comment"], "态度差")
		frappe.set_user(user("rm2"))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc(PROFILE, "_T-CRM-0001").check_permission("read")


class TestDemoFeedback(testing.BranchCRMTestCase):
	"""The demo's feedback history, written set-based, reads like requests made one by one."""

	def setUp(self):
		# requests other tests' jobs left committed (event attendance asks too)
		frappe.db.delete(FEEDBACK, {"customer": ("like", "_T-CRM-%")})

	def tearDown(self):
		frappe.db.delete(FEEDBACK, {"customer": ("like", "_T-CRM-%")})
		frappe.db.delete("Contact Log", {"customer": ("like", "_T-CRM-%")})
		frappe.db.commit()
		super().tearDown()

	def test_the_demo_writes_answered_and_expired_requests_after_its_contacts(self):
		from types import SimpleNamespace

		import pandas as pd

		from branch_crm.demo import _feedback_history

		logs = []
		for i, customer in enumerate(("_T-CRM-0001", "_T-CRM-0004", "_T-CRM-0005")):
			log = frappe.get_doc(
				{
					"doctype": "Contact Log",
					"customer": customer,
					"channel": "Phone",
					"outcome": "No Answer",
					"contact_time": frappe.utils.add_days(frappe.utils.now_datetime(), -20 - i),
				}
			)
			log.flags.replanned_by_caller = True
			log.insert()
			logs.append({**log.as_dict(), "outcome": "Reached - Interested"})
		frame = pd.DataFrame(logs)[
			["name", "customer", "customer_name", "relationship_manager", "contact_time", "outcome"]
		]
		truth = pd.DataFrame({"customer": ["_T-CRM-0004"], "pattern": ["drifting"]})
		written = _feedback_history(frame, SimpleNamespace(truth=truth), seed=5)
		self.assertEqual(written, 3)
		rows = frappe.get_all(
			FEEDBACK,
			filters={"customer": ("like", "_T-CRM-%")},
			fields=["name", "customer", "contact_log", "status", "score", "staff_member"],
		)
		self.assertEqual({r.contact_log for r in rows}, set(frame["name"]))
		self.assertTrue(all(r.name.startswith("CRM-FB-") for r in rows))
		self.assertTrue(all(r.status in ("Answered", "Expired") for r in rows))
		unhappy = next(r for r in rows if r.customer == "_T-CRM-0004")
		self.assertIn(unhappy.score, (0, 1, 2), "drifting customers answer badly (or not at all)")
		frappe.set_user(user("rm2"))
		self.assertEqual(
			{
				r["customer"]
				for r in frappe.client.get_list(FEEDBACK, fields=["customer"], limit_page_length=0)
			},
			{"_T-CRM-0004", "_T-CRM-0005"},
		)


class TestSatisfactionInChurn(testing.BranchCRMTestCase):
	"""The churn job reads the answers and says why in words; desk complaints are counted once."""

	CUSTOMER = "_T-CRM-0002"

	@classmethod
	def tearDownClass(cls):
		frappe.db.delete(FEEDBACK, {"customer": cls.CUSTOMER})
		frappe.db.delete("Issue", {"bank_customer": cls.CUSTOMER})
		testing.clear_contacts()
		super().tearDownClass()

	def test_a_low_score_raises_the_churn_risk_with_the_reason(self):
		testing.clear_contacts()
		frappe.db.delete(FEEDBACK, {"customer": self.CUSTOMER})
		testing.set_history(self.CUSTOMER, [100_000.0] * 9)
		asked = feedback.create_request(self.CUSTOMER)
		as_guest(token_of(asked["url"]), score=1, comment="再也不来了")
		frappe.db.commit()
		churn.run(between=(self.CUSTOMER, self.CUSTOMER), read_ahead=False, write_behind=False)
		stored = frappe.db.get_value(
			PROFILE, self.CUSTOMER, ["churn_score", "churn_band", "churn_reasons"], as_dict=True
		)
		self.assertEqual((stored.churn_score, stored.churn_band), (60.0, "Medium"))
		from branch_crm.language import render

		self.assertIn("Satisfaction falling: latest score 1 of 5", render([stored.churn_reasons], "en")[0])
		self.assertIn("满意度下降", render([stored.churn_reasons], "zh")[0])
