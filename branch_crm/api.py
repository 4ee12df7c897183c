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


@frappe.whitelist(methods=["POST"])
def recompute_now(branch: str | None = None) -> str:
	"""The admin's "Recompute now": runs in the background; progress shows on Branch CRM Settings."""
	frappe.only_for(("System Manager", ADMIN))
	from branch_crm.jobs.recompute import enqueue

	return enqueue(branch)


@frappe.whitelist()
def preview_tiers(tiers) -> dict:
	"""What-if for tier thresholds before saving: how many customers would move from each tier to
	each other tier. ``tiers``: the full proposed list (tier_name, rank, min_avg_aum,
	min_annual_contribution)."""
	frappe.only_for(("System Manager", ADMIN))
	from branch_crm.jobs.recompute import preview

	if isinstance(tiers, str):
		tiers = json.loads(tiers)
	try:
		matrix = preview(tiers)
	except ValueError as error:
		frappe.throw(_("Customer Tier: {0}").format(_(str(error))))
	return {
		"tiers": [str(c) for c in matrix.columns],
		"rows": [{"from": str(index), "counts": [int(v) for v in row]} for index, row in matrix.iterrows()],
		"moving": int(
			matrix.to_numpy().sum() - sum(matrix.at[t, t] for t in matrix.index if t in matrix.columns)
		),
	}


@frappe.whitelist(methods=["POST"])
def ensure_contact_plan(customer: str) -> str:
	"""The customer's Contact Plan, created from the profile if it does not exist yet, for whoever
	may read the customer's plan (a lobby manager: their own book and the follow-ups they work)."""
	from branch_crm.permissions import fact_visible, get_fact_scope

	frappe.has_permission("Contact Plan", "read", throw=True)
	if not fact_visible(customer, get_fact_scope()):
		frappe.throw(
			_("Bank Customer Profile {0}: not in your book or branch").format(customer),
			frappe.PermissionError,
		)
	from branch_crm.followups import ensure_plans

	ensure_plans([customer])
	return customer


@frappe.whitelist(methods=["POST"])
def queue_follow_ups(customers, reason: str = "Needs Screening") -> dict:
	"""Queue follow-ups for chosen customers (e.g. rows picked in the Needs Screening report):
	``customers`` is a list of {"customer", "details"} (or of customer names). Only customers the
	user may read are queued."""
	import pandas as pd

	from branch_crm.followups import queue_for

	rows = frappe.parse_json(customers) if isinstance(customers, str) else customers
	rows = [row if isinstance(row, dict) else {"customer": row} for row in rows or []]
	for row in rows:
		frappe.get_doc("Bank Customer Profile", row["customer"]).check_permission("read")
	return queue_for(pd.DataFrame(rows, columns=["customer", "details"]), reason)
