"""Glue between the pure report builders and Frappe script reports: translation and row scope."""

from __future__ import annotations

import frappe
from frappe import _

from branch_crm import store
from branch_crm.language import render
from branch_crm.permissions import get_scope, profile_condition, staff_record
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


def scope_notice(filters: dict) -> str | None:
	"""What the report leaves out because a filter asks for customers outside the user's access, in
	words: a filter beyond one's book or branch gives an empty report, never a silent other one."""
	kind, value = get_scope()
	if kind == "all":
		return None
	asked_manager, asked_branch = filters.get("relationship_manager"), filters.get("branch")
	if kind == "book" and asked_manager and asked_manager != value:
		return _("You see your own book only: {0} is not in your access.").format(asked_manager)
	if kind == "branch":
		if asked_branch and asked_branch != value:
			return _("You see branch {0} only: {1} is not in your access.").format(value, asked_branch)
		manager = staff_record(asked_manager) if asked_manager else None
		if manager and manager.branch != value:
			return _("You see branch {0} only: {1} is not in your access.").format(value, asked_manager)
	return None


def translated(
	result: ReportResult,
	translate_rows: tuple[str, ...] = (),
	filters: dict | None = None,
	coded_rows: tuple[str, ...] = (),
) -> tuple:
	"""The builder's English labels in the user's language, as execute() returns them, with a notice
	when the filters ask for more than the user may see. ``coded_rows``: fields the nightly jobs
	store coded (branch_crm.language), put into words in the user's language."""
	for col in result.columns:
		col["label"] = _(col["label"])
	words: dict[str, str] = {}  # a few distinct values over many rows: each looked up once
	for row in result.data:
		for field in translate_rows:
			value = row.get(field)
			if isinstance(value, str):
				if value not in words:
					words[value] = _(value)
				row[field] = words[value]
	for field in coded_rows:
		texts = render(row.get(field) for row in result.data)
		for row, text in zip(result.data, texts, strict=True):
			row[field] = text
	for item in result.summary:
		item["label"] = _(item["label"])
	if result.chart:
		data = result.chart["data"]
		data["labels"] = [_(label) if isinstance(label, str) else label for label in data["labels"]]
		for dataset in data["datasets"]:
			dataset["name"] = _(dataset["name"])
	columns, data, _message, chart, summary = result.as_frappe()
	notice = scope_notice(filters or {})
	return (
		columns,
		data,
		notice and f"<div class='alert alert-warning'>{frappe.utils.escape_html(notice)}</div>",
		chart,
		summary,
	)


def listed_only(filters: dict) -> bool:
	"""Whether the report lists only some customers (the "Rows Listed" filter): it then reads its long
	texts for those rows alone (``fill_listed``)."""
	return bool(frappe.utils.cint(filters.get("limit")))


def fill_listed(data: list[dict], fields: dict[str, str], key: str = "customer") -> None:
	"""Set the listed rows' ``fields`` (report field -> profile column) from their profiles, read
	for those customers only: a report over a branch reads the short columns of every customer for
	its cards and chart, and its long texts only for the few hundred rows it lists."""
	if not data:
		return
	columns = list(fields.values())
	found = store.read_by_values(PROFILE, ["name", *columns], "name", [row[key] for row in data])
	values = {row[0]: row[1:] for row in found.itertuples(index=False, name=None)}
	empty = (None,) * len(columns)
	for row in data:
		row.update(zip(fields, values.get(row[key], empty), strict=True))
