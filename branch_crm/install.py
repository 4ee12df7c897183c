"""Install, uninstall and test set-up: sensible defaults, all editable afterwards."""

import frappe

from branch_crm.engine.defaults import DEFAULT_CADENCE, DEFAULT_GROUPS, DEFAULT_PRODUCTS, DEFAULT_TIERS
from branch_crm.roles import ADMIN, ALL_ROLES, STAFF_ROLES


def after_install():
	ensure_erpnext_masters()
	install_defaults()
	ensure_erpnext_permissions()
	ensure_complaints()
	ensure_staff_module_profile()
	fill_masked_identity()


def after_migrate():
	ensure_erpnext_permissions()
	ensure_complaints()
	ensure_staff_module_profile()
	fill_masked_identity()
	# global search checks only doctype-level read: customers are not indexed there (docs/security.md)
	frappe.db.delete("__global_search", {"doctype": "Bank Customer Profile"})


# What the app's roles read of ERPNext's own doctypes (docs/security.md): branch names, to pick a
# branch on a transfer, an event or a report filter; the admin, the Customer form that carries the
# "Bank Customer Profile" button. Nothing else: branch staff work on the profile, never on ERPNext's
# Customer, Contact or Address.
ERPNEXT_READS = {"Branch": (*STAFF_ROLES, ADMIN), "Customer": (ADMIN,)}


def ensure_erpnext_permissions() -> None:
	from frappe.permissions import add_permission, update_permission_property

	for doctype, readers in ERPNEXT_READS.items():
		for role in readers:
			if not frappe.db.exists("Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0}):
				add_permission(doctype, role, 0)
			update_permission_property(doctype, role, 0, "read", 1, validate=False)
	# branch names are read in each reader's language, like tiers and segments (translated_doctype)
	from frappe.custom.doctype.property_setter.property_setter import make_property_setter

	if not frappe.db.exists("Property Setter", {"doc_type": "Branch", "property": "translated_doctype"}):
		make_property_setter("Branch", None, "translated_doctype", 1, "Check", for_doctype=True)


STAFF_MODULE_PROFILE = "Branch CRM Staff"
# the modules whose workspaces branch staff see in the sidebar: their own
STAFF_MODULES = ("Branch CRM",)


def ensure_staff_module_profile() -> None:
	"""A Module Profile that shows branch staff the Branch CRM workspace alone: ERPNext's and
	Frappe's workspaces (Accounting, Quality, Support, Website, Build…) are not their work. Blocking a
	module only hides its workspace from the sidebar; access is the roles' business. Modules added
	since (another app installed) are blocked at the next migrate, and the users holding the profile
	get the new list as the User form would copy it."""
	blocked = sorted(set(frappe.get_all("Module Def", pluck="name")) - set(STAFF_MODULES))
	if frappe.db.exists("Module Profile", STAFF_MODULE_PROFILE):
		profile = frappe.get_doc("Module Profile", STAFF_MODULE_PROFILE)
		if sorted(row.module for row in profile.block_modules) == blocked:
			return
	else:
		profile = frappe.new_doc("Module Profile")
		profile.module_profile_name = STAFF_MODULE_PROFILE
	profile.set("block_modules", [{"module": module} for module in blocked])
	profile.save(ignore_permissions=True)
	for user in frappe.get_all("User", filters={"module_profile": STAFF_MODULE_PROFILE}, pluck="name"):
		frappe.get_doc("User", user).save(ignore_permissions=True)


def fill_masked_identity(chunk_size: int = 20000) -> None:
	"""Masked ID numbers and mobiles for profiles stored before masking existed (re-runnable)."""
	import pandas as pd

	from branch_crm import store
	from branch_crm.engine.masking import mask_id_numbers, mask_mobiles

	profile = "Bank Customer Profile"
	if not frappe.db.has_column(profile, "id_number_masked"):
		return
	while True:
		rows = store.read_query(
			"""select `name`, `id_number`, `mobile_no` from `tabBank Customer Profile`
			where (`id_number` is not null and `id_number_masked` is null)
			or (`mobile_no` is not null and `mobile_masked` is null) limit %(limit)s""",
			{"limit": chunk_size},
		)
		if rows.empty:
			return
		masked = pd.DataFrame(
			{
				"name": rows["name"],
				"id_number_masked": mask_id_numbers(rows["id_number"]).fillna(""),
				"mobile_masked": mask_mobiles(rows["mobile_no"]).fillna(""),
			}
		)
		store.update_rows(profile, masked, ["id_number_masked", "mobile_masked"])
		frappe.db.commit()


def before_tests():
	# run-tests only calls this app's before_tests; ERPNext's own (which completes the setup
	# wizard with a test company) is needed by the Customer records the tests create.
	if not frappe.db.a_row_exists("Company"):
		from erpnext.setup.utils import before_tests as erpnext_before_tests

		erpnext_before_tests()
	ensure_erpnext_masters()
	install_defaults()
	ensure_complaints()
	frappe.db.commit()


def ensure_complaints() -> None:
	"""Complaints are ERPNext Issues: their custom fields and the roles' rights (branch_crm.complaints);
	campaigns are ERPNext Campaigns: theirs likewise (branch_crm.campaigns)."""
	from branch_crm import campaigns
	from branch_crm.complaints import ensure_setup

	ensure_setup()
	campaigns.ensure_setup()


def before_uninstall():
	# The module's doctypes, workspace and reports go with the app. What lives outside the module
	# goes here: workflows on its doctypes (and the workflow_state custom fields they added),
	# customisations of its doctypes, and its roles with their assignments.
	doctypes = frappe.get_all("DocType", filters={"module": "Branch CRM"}, pluck="name")
	for workflow in frappe.get_all("Workflow", filters={"document_type": ("in", doctypes)}, pluck="name"):
		frappe.delete_doc("Workflow", workflow, force=True, ignore_permissions=True)
	frappe.db.delete("Custom Field", {"dt": ("in", doctypes)})
	from branch_crm import campaigns
	from branch_crm.complaints import remove_setup

	remove_setup()
	campaigns.remove_setup()
	frappe.db.delete("Property Setter", {"doc_type": ("in", doctypes)})
	for role in ALL_ROLES:
		frappe.db.delete("Has Role", {"role": role})
		frappe.db.delete("Custom DocPerm", {"role": role})
		frappe.delete_doc("Role", role, ignore_missing=True, force=True, ignore_permissions=True)


def ensure_erpnext_masters():
	"""Intake creates Customers in a default group and territory: make sure they exist even on a
	site whose setup wizard has not run."""
	for doctype, root, child, field in (
		("Customer Group", "All Customer Groups", "Individual", "customer_group_name"),
		("Territory", "All Territories", None, "territory_name"),
	):
		if not frappe.db.exists(doctype, root):
			frappe.get_doc({"doctype": doctype, field: root, "is_group": 1}).insert(ignore_permissions=True)
		if child and not frappe.db.exists(doctype, child):
			frappe.get_doc(
				{"doctype": doctype, field: child, "is_group": 0, f"parent_{frappe.scrub(doctype)}": root}
			).insert(ignore_permissions=True)
	for gender in ("Male", "Female"):
		if not frappe.db.exists("Gender", gender):
			frappe.get_doc({"doctype": "Gender", "gender": gender}).insert(ignore_permissions=True)


def install_defaults():
	"""Tiers, segments, the product catalogue and cadence rules: created only where missing, so an
	admin's edits survive re-installs and migrations."""
	for tier in DEFAULT_TIERS:
		_insert_if_missing("Customer Tier", tier["tier_name"], tier)
	for group in DEFAULT_GROUPS:
		_insert_if_missing("Bank Customer Group", group["group_name"], group)
	for product in DEFAULT_PRODUCTS:
		_insert_if_missing("Bank Product", product["product_code"], product)

	settings = frappe.get_single("Branch CRM Settings")
	# settings added by a later version start at their defaults (a Single stores no row for them yet)
	stored = set(
		frappe.db.sql("select `field` from `tabSingles` where `doctype` = 'Branch CRM Settings'", pluck=True)
	)
	for df in settings.meta.fields:
		if df.default and df.fieldname not in stored:
			settings.set(df.fieldname, frappe.utils.cast(df.fieldtype, df.default))
	settings.default_customer_group = settings.default_customer_group or "Individual"
	settings.default_territory = settings.default_territory or "All Territories"
	if not settings.cadence_rules:
		for rule in DEFAULT_CADENCE:
			settings.append("cadence_rules", rule)
	settings.flags.ignore_permissions = True
	settings.save()


def _insert_if_missing(doctype: str, name: str, values: dict) -> None:
	if not frappe.db.exists(doctype, name):
		frappe.get_doc({"doctype": doctype, **values}).insert(ignore_permissions=True)
