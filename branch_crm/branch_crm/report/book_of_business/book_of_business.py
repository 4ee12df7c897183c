# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import store
from branch_crm.permissions import get_scope
from branch_crm.report_utils import PROFILE, profile_scope, translated
from branch_crm.reports.book_of_business import build_book_of_business

STAFF_COLUMNS = ["user", "full_name", "branch", "role_type", "max_customers", "max_aum", "is_active"]


def execute(filters=None):
	"""Customers and AUM by relationship manager and tier, the unassigned, and load against capacity."""
	filters = frappe._dict(filters or {})
	scope, values = profile_scope({"branch": filters.branch, "tier": filters.tier})
	profiles = store.read_frame(
		PROFILE, ["customer", "relationship_manager", "tier", "aum", "branch"], where=scope, values=values
	)
	staff_where, staff_values = staff_scope(filters.branch)
	staff = store.read_frame("Relationship Manager", STAFF_COLUMNS, where=staff_where, values=staff_values)
	tiers = frappe.get_all(
		"Customer Tier",
		fields=["tier_name", "rank", "min_avg_aum", "min_annual_contribution", "serving_role"],
	)
	result = build_book_of_business(
		profiles,
		staff,
		tiers,
		{k: filters.get(k) for k in ("branch", "relationship_manager", "tier", "role_type")},
	)
	return translated(result, translate_rows=("full_name", "role_type"), filters=filters)


def staff_scope(branch: str | None) -> tuple[str, dict]:
	"""The staff rows the user may see beside their customers: a relationship manager their own, a
	branch manager their branch's, the admin every branch's (or the filtered one)."""
	kind, value = get_scope()
	conditions, values = [], {}
	if branch:
		conditions.append("`branch` = %(branch)s")
		values["branch"] = branch
	if kind == "branch":
		conditions.append("`branch` = %(own_branch)s")
		values["own_branch"] = value
	elif kind == "book":
		conditions.append("`user` = %(user)s")
		values["user"] = value
	elif kind == "none":
		conditions.append("1=0")
	return " and ".join(conditions), values
