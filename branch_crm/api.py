"""Whitelisted REST endpoints.

Core banking pushes data with ``POST /api/method/branch_crm.api.upsert_<kind>`` and a JSON body
``{"records": [...]}``; see README.md for an example. Sending the same batch twice changes nothing.
"""

import json

import frappe
from frappe import _

from branch_crm import data_intake, profiles
from branch_crm.roles import ADMIN, INTEGRATION

INTAKE_ROLES = ("System Manager", ADMIN, INTEGRATION)


def _intake(kind: str, records) -> dict:
	frappe.only_for(INTAKE_ROLES)
	if isinstance(records, str):
		try:
			records = json.loads(records)
		except ValueError:
			frappe.throw(_("records must be a JSON list of objects"))
	return data_intake.run(kind, records).as_dict()


@frappe.whitelist(methods=["POST"])
def upsert_customers(records) -> dict:
	"""Create or update customers and their bank profiles, keyed on ``customer``."""
	return _intake("customers", records)


@frappe.whitelist(methods=["POST"])
def upsert_holdings(records) -> dict:
	"""Create or update product holdings, keyed on ``customer`` + ``product`` + ``account_no``."""
	return _intake("holdings", records)


@frappe.whitelist(methods=["POST"])
def upsert_snapshots(records) -> dict:
	"""Create or update monthly snapshots, keyed on ``customer`` + ``month``."""
	return _intake("snapshots", records)


@frappe.whitelist(methods=["POST"])
def make_profile(customer: str) -> str:
	"""The "Bank Customer Profile" button on Customer: returns the profile, creating it if needed."""
	return profiles.make_profile(customer)
