"""Creating bank profiles from ERPNext Customers and converted Leads."""

import frappe
from frappe import _

from branch_crm.engine.defaults import LEAD_SOURCE_TO_ACQUISITION

PROFILE = "Bank Customer Profile"


def _staff_branch(user: str | None) -> str | None:
	return (
		frappe.db.get_value("Relationship Manager", {"user": user, "is_active": 1}, "branch")
		if user
		else None
	)


def make_profile(customer: str, *, ignore_permissions: bool = False) -> str:
	"""One profile per Customer: return the existing one or create it, filled from the Lead when the
	customer came from one."""
	if not frappe.db.exists("Customer", customer):
		frappe.throw(_("Customer {0} does not exist").format(customer), frappe.DoesNotExistError)
	if frappe.db.exists(PROFILE, customer):
		return customer
	if not ignore_permissions:
		frappe.has_permission("Customer", "read", customer, throw=True)
	erp = frappe.db.get_value(
		"Customer", customer, ["customer_name", "gender", "lead_name", "mobile_no", "email_id"], as_dict=True
	)
	profile = frappe.new_doc(PROFILE)
	profile.update(
		{
			"customer": customer,
			"customer_name": erp.customer_name,
			"gender": erp.gender,
			"mobile_no": erp.mobile_no,
			"email_id": erp.email_id,
			"acquired_on": frappe.utils.getdate(),
		}
	)
	if erp.lead_name:
		_fill_from_lead(profile, erp.lead_name)
	profile.insert(ignore_permissions=ignore_permissions)
	return profile.name


def _fill_from_lead(profile, lead_name: str) -> None:
	lead = frappe.db.get_value(
		"Lead", lead_name, ["source", "lead_owner", "mobile_no", "email_id"], as_dict=True
	)
	if not lead:
		return
	profile.lead = lead_name
	profile.acquisition_channel = LEAD_SOURCE_TO_ACQUISITION.get(lead.source or "", "Natural Walk-in")
	profile.first_served_by = lead.lead_owner
	if profile.acquisition_channel == "Staff Referral":
		profile.referred_by_staff = lead.lead_owner
	profile.branch = profile.branch or _staff_branch(lead.lead_owner)
	profile.mobile_no = profile.mobile_no or lead.mobile_no
	profile.email_id = profile.email_id or lead.email_id


def create_profile_for_converted_lead(doc, method=None) -> None:
	"""Customer.after_insert: a Lead converted to a Customer gets its bank profile at once."""
	if doc.get("lead_name") and not frappe.db.exists(PROFILE, doc.name):
		# a system action on conversion: whoever converts the Lead need not hold profile rights
		make_profile(doc.name, ignore_permissions=True)
