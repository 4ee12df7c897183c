"""A committed test world for the access tests: a branch with staff in every serving role, a second
branch, users with no staff record, and customers in each serving role's book. Idempotent; its
customers (``_T-ACC-…``) are apart from the other site tests' world so their counts stay theirs."""

from __future__ import annotations

import frappe

from branch_crm import data_intake, testing

BRANCH = "_Test CRM Branch C"
OTHER_BRANCH = testing.BRANCH_A
DOMAIN = "acc.bank.example"
STAFF = {
	"bm": ("Branch Manager", BRANCH, 1),
	"rm": ("Relationship Manager", BRANCH, 1),
	"rm_other": ("Relationship Manager", BRANCH, 1),
	"pb": ("Private Banker", BRANCH, 1),
	"lobby": ("Lobby Manager", BRANCH, 1),
	"teller": ("Teller", BRANCH, 1),
	"rm_gone": ("Relationship Manager", BRANCH, 0),
}
# users with no staff record
OTHERS = {
	"admin": ("Branch CRM Admin",),
	"integration": ("Branch CRM Integration",),
	"sales": ("Sales User",),
	"desk": (),
}
CUSTOMERS = {
	"_T-ACC-0001": "rm",
	"_T-ACC-0002": "rm",
	"_T-ACC-0003": "rm_other",
	"_T-ACC-0004": "pb",
	"_T-ACC-0005": "lobby",
	"_T-ACC-0006": "teller",
	"_T-ACC-0007": "rm_gone",
}


def user(key: str) -> str:
	return f"_test.{key}@{DOMAIN}"


def book(key: str) -> set[str]:
	return {c for c, owner in CUSTOMERS.items() if owner == key}


def make() -> None:
	testing.make_world()
	if not frappe.db.exists("Branch", BRANCH):
		frappe.get_doc({"doctype": "Branch", "branch": BRANCH}).insert(ignore_permissions=True)
	for key, (role_type, branch, active) in STAFF.items():
		email = testing.ensure_user(user(key), f"Acc {key}")
		testing.ensure_staff_record(email, role_type, branch, max_followups_per_day=50)
		frappe.db.set_value("Relationship Manager", email, "is_active", active, update_modified=False)
	for key, roles in OTHERS.items():
		testing.ensure_user(user(key), f"Acc {key}", roles)
	records = [
		{
			**testing.customer_record("_T-CRM-0001"),
			"customer": name,
			"customer_name": f"权限客户 {name[-4:]}",
			"branch": BRANCH,
			"relationship_manager": user(owner),
			"id_number": f"31010519900101{name[-4:]}",
			"mobile_no": f"1390000{name[-4:]}",
		}
		for name, owner in CUSTOMERS.items()
	]
	result = data_intake.run("customers", records)
	assert not result.rejected, result.rejected
	frappe.db.commit()
