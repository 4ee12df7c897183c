import frappe

from branch_crm.engine.defaults import DEFAULT_TIERS
from branch_crm.install import install_defaults


def execute():
	"""Sites installed before complaints: the default tiers get their response hours (VIP and
	Private Banking answered faster), tiers an admin made keep the settings' default, and the new
	settings get their defaults."""
	for tier in DEFAULT_TIERS:
		if frappe.db.exists("Customer Tier", tier["tier_name"]) and not frappe.db.get_value(
			"Customer Tier", tier["tier_name"], "complaint_response_hours"
		):
			frappe.db.set_value(
				"Customer Tier",
				tier["tier_name"],
				"complaint_response_hours",
				tier["complaint_response_hours"],
			)
	install_defaults()
