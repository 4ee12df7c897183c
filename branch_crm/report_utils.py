"""Glue between the pure report builders and Frappe script reports: translation and row scope."""

from __future__ import annotations

import frappe
from frappe import _

from branch_crm.permissions import profile_condition
from branch_crm.reports.base import ReportResult

PROFILE = "Bank Customer Profile"


def profile_scope(filters: dict, table: str = f"`tab{PROFILE}`") -> tuple[str, dict]:
	"""SQL condition on the profile table (or its alias ``table``) for the report's filters and the
	user's access: a relationship manager's report covers their book only, whatever the filters say."""
	conditions, values = [], {}
	for field in ("branch", "relationship_manager", "tier", "bank_customer_group"):
		if filters.get(field):
			conditions.append(f"{table}.`{field}` = %({field})s")
			values[field] = filters[field]
	access = profile_condition(frappe.session.user, table=table)
	if access:
		conditions.append(access)
	return " and ".join(conditions) or "1=1", values


def translated(result: ReportResult, translate_rows: tuple[str, ...] = ()) -> tuple:
	"""The builder's English labels in the user's language, as execute() returns them."""
	for col in result.columns:
		col["label"] = _(col["label"])
	for row in result.data:
		for field in translate_rows:
			if isinstance(row.get(field), str):
				row[field] = _(row[field])
	for item in result.summary:
		item["label"] = _(item["label"])
	if result.chart:
		data = result.chart["data"]
		data["labels"] = [_(label) if isinstance(label, str) else label for label in data["labels"]]
		for dataset in data["datasets"]:
			dataset["name"] = _(dataset["name"])
	return result.as_frappe()
