# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

"""Customer information kept current and reviewed, as the real roles use it: profile edits and change
requests saved from the desk (savedocs), approved through the workflow (apply_workflow), the intake
from core banking, and the daily review queueing "Update Information" follow-ups."""

import datetime as dt

import frappe
from frappe.desk.form.save import savedocs
from frappe.model.workflow import apply_workflow

from branch_crm import data_intake, information, testing
from branch_crm.testing import user

test_ignore = testing.TEST_IGNORE
PROFILE = "Bank Customer Profile"
REQUEST = "Profile Change Request"
LONG_AGO = dt.date(2024, 1, 15)
CONFIRMED = ("identity_confirmed_on", "contact_confirmed_on", "occupation_confirmed_on")


def save_as(key: str, doc: dict) -> frappe._dict:
	"""``doc`` saved from the desk form by ``key``'s user; the saved document."""
	frappe.set_user(user(key))
	frappe.response.docs = []
	savedocs(frappe.as_json(doc), "Save")
	return frappe._dict(frappe.response.docs[-1])


def workflow_as(key: str, name: str, action: str) -> frappe._dict:
	frappe.set_user(user(key))
	return frappe._dict(
		apply_workflow(frappe.as_json(frappe.get_doc(REQUEST, name).as_dict()), action).as_dict()
	)


class TestProfileChangeRequest(testing.BranchCRMTestCase):
	@classmethod
	def tearDownClass(cls):
		testing.clear_contacts()
		super().tearDownClass()

	def setUp(self):
		testing.clear_contacts()
		frappe.db.delete(REQUEST, {"customer": ("like", "_T-CRM-%")})
		result = data_intake.run("customers", [testing.customer_record(c) for c in testing.CUSTOMERS])
		self.assertFalse(result.rejected)
		frappe.db.sql(
			f"update `tab{PROFILE}` set {', '.join(f'`{f}` = %(d)s' for f in CONFIRMED)} where `name` like '_T-CRM-%%'",
			{"d": LONG_AGO},
		)
		self.today = frappe.utils.getdate()

	def confirmed(self, customer: str) -> dict:
		return frappe.db.get_value(PROFILE, customer, list(CONFIRMED), as_dict=True)

	def test_the_intake_confirms_what_core_banking_changed_and_is_never_held(self):
		record = testing.customer_record("_T-CRM-0001", mobile_no="13911112222", date_of_birth="1981-02-03")
		result = data_intake.run("customers", [record])
		self.assertEqual((result.updated, result.rejected), (1, []))
		self.assertEqual(
			self.confirmed("_T-CRM-0001"),
			{
				"identity_confirmed_on": self.today,
				"contact_confirmed_on": self.today,
				"occupation_confirmed_on": LONG_AGO,
			},
		)
		self.assertEqual(str(frappe.db.get_value(PROFILE, "_T-CRM-0001", "date_of_birth")), "1981-02-03")
		self.assertFalse(frappe.db.exists(REQUEST, {"customer": "_T-CRM-0001"}))
		# the same batch again changes nothing, dates included
		self.assertEqual(data_intake.run("customers", [record]).unchanged, 1)

	def test_desk_edits_of_identity_are_held_and_the_rest_confirmed(self):
		frappe.set_user(user("rm1"))
		doc = frappe.client.get(PROFILE, "_T-CRM-0002")
		doc.update({"email_id": "new@example.cn", "id_type": "Passport", "date_of_birth": "1979-01-01"})
		saved = save_as("rm1", doc)
		# the profile keeps its identity; the email counts, and is confirmed today
		self.assertEqual((saved.id_type, str(saved.date_of_birth)), ("Resident ID Card", "1980-05-17"))
		self.assertEqual(saved.email_id, "new@example.cn")
		self.assertEqual(
			self.confirmed("_T-CRM-0002"),
			{
				"identity_confirmed_on": LONG_AGO,
				"contact_confirmed_on": self.today,
				"occupation_confirmed_on": LONG_AGO,
			},
		)
		frappe.set_user("Administrator")
		request = frappe.get_doc(REQUEST, {"customer": "_T-CRM-0002"})
		self.assertEqual(
			(request.workflow_state, request.new_id_type, str(request.new_date_of_birth)),
			("Pending Approval", "Passport", "1979-01-01"),
		)
		self.assertEqual((request.requested_by, request.current_id_type), (user("rm1"), "Resident ID Card"))

		# the maker never approves; the branch manager of the branch does
		with self.assertRaises(frappe.ValidationError):
			workflow_as("rm1", request.name, "Approve")
		approved = workflow_as("bm", request.name, "Approve")
		self.assertEqual((approved.docstatus, approved.workflow_state), (1, "Approved"))
		frappe.set_user("Administrator")
		profile = frappe.db.get_value(
			PROFILE, "_T-CRM-0002", ["id_type", "date_of_birth", "identity_confirmed_on"], as_dict=True
		)
		self.assertEqual(
			(profile.id_type, str(profile.date_of_birth), profile.identity_confirmed_on),
			("Passport", "1979-01-01", self.today),
		)
		self.assertEqual(frappe.db.get_value(REQUEST, request.name, "approved_by"), user("bm"))

	def test_an_id_number_change_requested_in_the_desk_waits_for_approval(self):
		saved = save_as(
			"rm1",
			{
				"doctype": REQUEST,
				"name": "new-profile-change-request-1",
				"__islocal": 1,
				"customer": "_T-CRM-0003",
				"new_id_number": "110105198005170099",
				"reason": "New ID card shown at the counter",
			},
		)
		self.assertEqual((saved.workflow_state, saved.branch), ("Draft", testing.BRANCH_A))
		workflow_as("rm1", saved.name, "Submit for Approval")
		frappe.set_user("Administrator")
		self.assertNotEqual(frappe.db.get_value(PROFILE, "_T-CRM-0003", "id_number"), "110105198005170099")
		# another branch's relationship manager does not even see it; a direct submit is refused
		frappe.set_user(user("rm3"))
		with self.assertRaises(frappe.PermissionError):
			frappe.client.get(REQUEST, saved.name)
		frappe.set_user(user("rm1"))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc(REQUEST, saved.name).submit()
		workflow_as("bm", saved.name, "Approve")
		frappe.set_user("Administrator")
		profile = frappe.db.get_value(PROFILE, "_T-CRM-0003", ["id_number", "id_number_masked"], as_dict=True)
		self.assertEqual(profile.id_number, "110105198005170099")
		self.assertTrue(profile.id_number_masked.endswith("0099") and "*" in profile.id_number_masked)

	def test_a_rejected_request_changes_nothing_and_bad_values_are_named(self):
		with self.assertRaisesRegex(frappe.ValidationError, "New Date of Birth"):
			save_as(
				"rm1",
				{
					"doctype": REQUEST,
					"name": "new-profile-change-request-2",
					"__islocal": 1,
					"customer": "_T-CRM-0001",
					"new_date_of_birth": str(frappe.utils.add_days(self.today, 5)),
					"reason": "typo",
				},
			)
		with self.assertRaisesRegex(frappe.ValidationError, "at least one new value"):
			save_as(
				"rm1",
				{
					"doctype": REQUEST,
					"name": "new-profile-change-request-3",
					"__islocal": 1,
					"customer": "_T-CRM-0001",
					"new_id_type": "Resident ID Card",
					"reason": "same",
				},
			)
		saved = save_as(
			"rm1",
			{
				"doctype": REQUEST,
				"name": "new-profile-change-request-4",
				"__islocal": 1,
				"customer": "_T-CRM-0001",
				"new_customer_name": "王小芳",
				"reason": "Name changed",
			},
		)
		workflow_as("rm1", saved.name, "Submit for Approval")
		rejected = workflow_as("bm", saved.name, "Reject")
		self.assertEqual((rejected.workflow_state, rejected.docstatus), ("Rejected", 0))
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value(PROFILE, "_T-CRM-0001", "customer_name"), "测试客户 0001")

	def test_stale_profiles_get_an_update_information_follow_up_once_and_confirming_closes_it(self):
		fresh = ("_T-CRM-0004", "_T-CRM-0005", "_T-CRM-0006")
		frappe.db.sql(
			f"update `tab{PROFILE}` set {', '.join(f'`{f}` = %(d)s' for f in CONFIRMED)} where `name` in %(fresh)s",
			{"d": self.today, "fresh": fresh},
		)
		done = information.queue_stale(today=self.today)
		self.assertGreaterEqual(done["created"], 3)
		rows = frappe.get_all(
			"Customer Follow-up",
			filters={"reason": "Update Information", "status": "Open", "customer": ("like", "_T-CRM-%")},
			fields=["customer", "relationship_manager", "todo", "message"],
		)
		self.assertEqual({r.customer for r in rows}, {"_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003"})
		self.assertEqual({r.relationship_manager for r in rows}, {user("rm1")})
		self.assertTrue(all(frappe.db.exists("ToDo", r.todo) for r in rows))
		self.assertTrue(all(LONG_AGO.isoformat() in information_words(r.message) for r in rows))
		# a second run the same day creates nothing
		self.assertEqual(information.queue_stale(today=self.today)["created"], 0)

		frappe.set_user(user("rm1"))
		information.confirm_information("_T-CRM-0001")
		frappe.set_user("Administrator")
		self.assertEqual(set(self.confirmed("_T-CRM-0001").values()), {self.today})
		self.assertFalse(
			frappe.db.exists(
				"Customer Follow-up",
				{"customer": "_T-CRM-0001", "reason": "Update Information", "status": "Open"},
			)
		)
		# a teller reads the profile but does not write it: no confirming
		frappe.set_user(user("teller"))
		with self.assertRaises(frappe.PermissionError):
			information.confirm_information("_T-CRM-0002")


def information_words(stored: str) -> str:
	from branch_crm.language import render_text

	return render_text(stored, "en")
