"""A small, committed test world shared by the site tests: two branches, staff in each role, and
customers in two relationship managers' books, all created through the intake. Idempotent."""

from __future__ import annotations

import frappe
from frappe.tests.utils import FrappeTestCase

from branch_crm import data_intake
from branch_crm.install import ensure_erpnext_masters, install_defaults

BRANCH_A = "_Test CRM Branch A"
BRANCH_B = "_Test CRM Branch B"
STAFF = {
	"rm1": ("_test.crm.rm1@bank.example", "Relationship Manager", BRANCH_A),
	"rm2": ("_test.crm.rm2@bank.example", "Relationship Manager", BRANCH_A),
	"rm3": ("_test.crm.rm3@bank.example", "Relationship Manager", BRANCH_B),
	"bm": ("_test.crm.bm@bank.example", "Branch Manager", BRANCH_A),
	"teller": ("_test.crm.teller@bank.example", "Teller", BRANCH_A),
}
# customer -> (staff key owning the book, branch)
CUSTOMERS = {
	"_T-CRM-0001": ("rm1", BRANCH_A),
	"_T-CRM-0002": ("rm1", BRANCH_A),
	"_T-CRM-0003": ("rm1", BRANCH_A),
	"_T-CRM-0004": ("rm2", BRANCH_A),
	"_T-CRM-0005": ("rm2", BRANCH_A),
	"_T-CRM-0006": ("rm3", BRANCH_B),
}
# test records of ERPNext's masters are not needed: the world below creates what it uses
TEST_IGNORE = [
	"Customer",
	"User",
	"Employee",
	"Branch",
	"Lead",
	"Gender",
	"ToDo",
	"Customer Group",
	"Territory",
]


class BranchCRMTestCase(FrappeTestCase):
	"""Site tests share one committed test world, and every test ends as Administrator."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_world()
		# jobs store words in the site's language (branch_crm.language); the tests read English
		cls.addClassCleanup(_restore_site_language, frappe.db.get_default("lang"))
		frappe.db.set_default("lang", "en")

	def tearDown(self):
		frappe.set_user("Administrator")
		super().tearDown()


def _restore_site_language(language: str | None) -> None:
	# runs before FrappeTestCase's own rollback: roll back first, so only the language is committed;
	# the cached defaults may still hold what was rolled back, and set_default keeps the cache when
	# the table already has the value
	frappe.db.rollback()
	frappe.clear_cache()
	frappe.db.set_default("lang", language or "en")
	frappe.db.commit()


def user(key: str) -> str:
	return STAFF[key][0]


def make_world() -> None:
	ensure_erpnext_masters()
	install_defaults()
	for branch in (BRANCH_A, BRANCH_B):
		if not frappe.db.exists("Branch", branch):
			frappe.get_doc({"doctype": "Branch", "branch": branch}).insert(ignore_permissions=True)
	for key, (email, role_type, branch) in STAFF.items():
		ensure_user(email, f"Test {key}")
		ensure_staff_record(email, role_type, branch)
	result = data_intake.run("customers", [customer_record(c) for c in CUSTOMERS])
	assert not result.rejected, result.rejected
	frappe.db.commit()


def ensure_staff_record(email: str, role_type: str, branch: str, **values) -> None:
	"""A test user's staff record, created once (saving it grants the role)."""
	if not frappe.db.exists("Relationship Manager", email):
		frappe.get_doc(
			{
				"doctype": "Relationship Manager",
				"user": email,
				"role_type": role_type,
				"branch": branch,
				"is_active": 1,
				**values,
			}
		).insert(ignore_permissions=True)


def ensure_user(email: str, first_name: str, roles: tuple[str, ...] = ()) -> str:
	"""A committed test user. Created as a bulk import, so that repeated test runs are not throttled
	by Frappe's limit on users created per hour."""
	from branch_crm.staff import bulk_user_creation, insert_desk_user

	if not frappe.db.exists("User", email):
		with bulk_user_creation():
			insert_desk_user(email, first_name, roles)
		frappe.db.commit()
	return email


def customer_record(customer: str, **overrides) -> dict:
	"""The intake record of a test-world customer; ``overrides`` may give it another ``customer``
	number, to make a new customer like it."""
	owner, branch = CUSTOMERS[customer]
	record = {
		"customer": customer,
		"customer_name": f"测试客户 {customer[-4:]}",
		"branch": branch,
		"relationship_manager": user(owner),
		"gender": "Female",
		"date_of_birth": "1980-05-17",
		"id_type": "Resident ID Card",
		"id_number": f"11010519800517{customer[-4:]}",
		"mobile_no": "13800138000",
		"occupation_category": "Salaried",
		"family_stage": "Young Family",
		"acquisition_channel": "Natural Walk-in",
	}
	record.update(overrides)
	return record


def api_headers(email: str) -> dict:
	"""Token auth for a test user, as an integration would call the REST API."""
	doc = frappe.get_doc("User", email)
	if not doc.api_key:
		doc.api_key = frappe.generate_hash(length=15)
	secret = frappe.generate_hash(length=15)
	doc.api_secret = secret
	doc.flags.ignore_permissions = True
	doc.save()
	frappe.db.commit()
	return {"Authorization": f"token {doc.api_key}:{secret}"}


def last_complete_month():
	from branch_crm.demo import last_complete_month as last

	return last(frappe.utils.getdate())


def set_history(customer: str, aum: list[float], contribution: float = 100.0) -> None:
	"""Replace a test customer's snapshots with ``aum`` month by month, the last value being the
	last complete month (the month the demo data and the recompute end at)."""
	frappe.db.delete("Customer Monthly Snapshot", {"customer": customer})
	end = last_complete_month()
	months = [frappe.utils.add_months(end, -i) for i in range(len(aum) - 1, -1, -1)]
	records = [
		{"customer": customer, "month": str(m), "aum": a, "deposits": a, "contribution": contribution}
		for m, a in zip(months, aum, strict=True)
	]
	result = data_intake.run("snapshots", records)
	assert not result.rejected, result.rejected


def clear_contacts() -> None:
	"""Remove the test world's plans, follow-ups, their to-dos, contact logs and events, and reset the
	profiles' contact fields; committed, because the follow-up job commits per branch."""
	customers = tuple(CUSTOMERS)
	for doctype in ("Customer Follow-up", "Contact Plan", "Contact Log"):
		frappe.db.delete(doctype, {"customer": ("in", customers)})
	frappe.db.delete("ToDo", {"reference_type": "Bank Customer Profile", "reference_name": ("in", customers)})
	for event in frappe.get_all(
		"Branch Event", filters={"branch": ("in", (BRANCH_A, BRANCH_B))}, pluck="name"
	):
		frappe.delete_doc("Branch Event", event, force=True, ignore_permissions=True)
	# last contacted long ago: every plan is due (a never-contacted customer's first contact is
	# spread over its first interval instead, engine.cadence.first_contact_offsets)
	frappe.db.sql(
		"""update `tabBank Customer Profile` set `last_contact_date` = %(long_ago)s, `next_contact_date` = null,
		`intent_level` = 'Unknown', `do_not_contact` = 0, `churn_band` = null, `churn_score` = 0,
		`churn_reasons` = null, `date_of_birth` = '1980-05-17', `_assign` = null where `name` in %(customers)s""",
		{"customers": customers, "long_ago": frappe.utils.add_days(frappe.utils.today(), -400)},
	)
	frappe.db.set_value("Relationship Manager", user("rm1"), "max_followups_per_day", 0)
	frappe.db.commit()
