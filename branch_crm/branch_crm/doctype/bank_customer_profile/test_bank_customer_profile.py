# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from itertools import pairwise

import frappe
from frappe.client import get as client_get
from frappe.tests.test_api import FrappeAPITestCase

from branch_crm import testing
from branch_crm.api import make_profile
from branch_crm.testing import BRANCH_A, user

test_ignore = testing.TEST_IGNORE
PROFILE = "Bank Customer Profile"


class TestBankCustomerProfile(testing.BranchCRMTestCase):
	def visible(self, key: str) -> set[str]:
		frappe.set_user(user(key))
		names = {p.name for p in frappe.get_list(PROFILE, filters={"name": ("like", "_T-CRM-%")}, pluck=None)}
		frappe.set_user("Administrator")
		return names

	def test_relationship_manager_sees_only_own_book(self):
		self.assertEqual(self.visible("rm1"), {"_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003"})
		self.assertEqual(self.visible("rm2"), {"_T-CRM-0004", "_T-CRM-0005"})
		frappe.set_user(user("rm2"))
		self.assertFalse(frappe.has_permission(PROFILE, "read", "_T-CRM-0001"))
		self.assertTrue(frappe.has_permission(PROFILE, "write", "_T-CRM-0004"))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc(PROFILE, "_T-CRM-0001").check_permission("read")

	def test_branch_manager_sees_branch(self):
		self.assertEqual(self.visible("bm"), {f"_T-CRM-000{i}" for i in range(1, 6)})
		frappe.set_user(user("bm"))
		self.assertFalse(frappe.has_permission(PROFILE, "read", "_T-CRM-0006"))

	def test_teller_sees_basic_fields_only(self):
		frappe.set_user(user("teller"))
		self.assertTrue(frappe.has_permission(PROFILE, "read", "_T-CRM-0001"))
		self.assertFalse(frappe.has_permission(PROFILE, "read", "_T-CRM-0006"))
		doc = client_get(PROFILE, "_T-CRM-0001")
		self.assertEqual(doc["branch"], BRANCH_A)
		for sensitive in ("id_number", "mobile_no", "date_of_birth", "aum", "holdings"):
			self.assertFalse(doc.get(sensitive), f"teller must not read {sensitive}")
		self.assertFalse(frappe.has_permission(PROFILE, "write", "_T-CRM-0001"))

	def test_relationship_manager_reads_sensitive_fields_of_own_customer_with_identity_masked(self):
		frappe.set_user(user("rm1"))
		doc = client_get(PROFILE, "_T-CRM-0001")
		self.assertEqual(str(doc["date_of_birth"]), "1980-05-17")
		self.assertEqual(doc["family_stage"], "Young Family")
		# identity in clear is revealed one field at a time, and logged (branch_crm.audit.reveal)
		self.assertEqual(doc["id_number_masked"], "**************0001")
		self.assertEqual(doc["mobile_masked"], "138****8000")
		self.assertFalse(doc.get("id_number") or doc.get("mobile_no"))

	def test_relationship_manager_cannot_move_a_customer_out_of_their_book(self):
		frappe.set_user(user("rm1"))
		doc = frappe.get_doc(PROFILE, "_T-CRM-0002")
		doc.relationship_manager = user("rm2")
		with self.assertRaises(frappe.PermissionError):
			doc.save()

	def test_profile_created_by_relationship_manager_lands_in_their_book(self):
		customer = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": "_T 新客户",
				"customer_type": "Individual",
				"customer_group": "Individual",
				"territory": "All Territories",
			}
		).insert(ignore_permissions=True)
		frappe.set_user(user("rm1"))
		profile = frappe.get_doc({"doctype": PROFILE, "customer": customer.name}).insert()
		self.assertEqual(profile.relationship_manager, user("rm1"))
		self.assertEqual(profile.branch, BRANCH_A)
		frappe.set_user("Administrator")
		frappe.delete_doc(PROFILE, profile.name, force=True)

	def test_profile_from_customer_is_one_click_and_unique(self):
		customer = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": "_T 一键客户",
				"customer_type": "Individual",
				"customer_group": "Individual",
				"territory": "All Territories",
			}
		).insert(ignore_permissions=True)
		name = make_profile(customer.name)
		self.assertEqual(name, customer.name)
		self.assertEqual(frappe.db.get_value(PROFILE, name, "customer_name"), "_T 一键客户")
		self.assertEqual(make_profile(customer.name), name)
		self.assertEqual(frappe.db.count(PROFILE, {"customer": customer.name}), 1)

	def test_converted_lead_gets_profile_with_acquisition(self):
		from erpnext.crm.doctype.lead.lead import make_customer

		lead = frappe.get_doc(
			{
				"doctype": "Lead",
				"first_name": "_T 线索",
				"source": "Walk In",
				"lead_owner": user("rm1"),
				"mobile_no": "13900139000",
			}
		).insert(ignore_permissions=True)
		customer = make_customer(lead.name)
		customer.customer_group = "Individual"
		customer.territory = "All Territories"
		customer.insert(ignore_permissions=True)
		profile = frappe.get_doc(PROFILE, customer.name)
		self.assertEqual(profile.lead, lead.name)
		self.assertEqual(profile.acquisition_channel, "Natural Walk-in")
		self.assertEqual(profile.first_served_by, user("rm1"))
		self.assertEqual(profile.branch, BRANCH_A)
		self.assertEqual(profile.mobile_no, "13900139000")

	def test_form_validation_names_record_and_field(self):
		doc = frappe.get_doc(PROFILE, "_T-CRM-0003")
		doc.date_of_birth = frappe.utils.add_days(frappe.utils.getdate(), 10)
		with self.assertRaisesRegex(frappe.ValidationError, "_T-CRM-0003.*Date of Birth"):
			doc.save()

	def test_defaults_installed(self):
		tiers = frappe.get_all("Customer Tier", fields=["name", "rank", "min_avg_aum"], order_by="rank asc")
		self.assertEqual([t.name for t in tiers][:4], ["Mass", "Core", "VIP", "Private Banking"])
		self.assertTrue(all(a.min_avg_aum < b.min_avg_aum for a, b in pairwise(tiers)))
		settings = frappe.get_single("Branch CRM Settings")
		self.assertEqual(len(settings.cadence_rules), 16)
		self.assertEqual(settings.default_customer_group, "Individual")


class TestProfileRESTAccess(FrappeAPITestCase):
	"""The same rules hold over REST, for lists and single documents."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.make_world()

	def test_second_manager_cannot_see_first_managers_customers_over_rest(self):
		headers = testing.api_headers(user("rm2"))
		listing = self.get(
			self.resource(PROFILE),
			{"limit_page_length": 100, "filters": '[["name", "like", "_T-CRM-%"]]'},
			headers=headers,
		)
		self.assertEqual(listing.status_code, 200)
		self.assertEqual({row["name"] for row in listing.json["data"]}, {"_T-CRM-0004", "_T-CRM-0005"})
		forbidden = self.get(self.resource(PROFILE, "_T-CRM-0001"), headers=headers)
		self.assertEqual(forbidden.status_code, 403)
		own = self.get(self.resource(PROFILE, "_T-CRM-0004"), headers=headers)
		self.assertEqual(own.status_code, 200)
		self.assertEqual(own.json["data"]["relationship_manager"], user("rm2"))

	def test_relationship_manager_cannot_call_intake(self):
		headers = testing.api_headers(user("rm1"))
		response = self.post(self.method("branch_crm.api.upsert_customers"), {"records": []}, headers=headers)
		self.assertEqual(response.status_code, 403)
