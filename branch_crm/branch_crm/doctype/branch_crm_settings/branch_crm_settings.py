# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from branch_crm.engine.followups import FESTIVAL_PLACEHOLDERS
from branch_crm.engine.text import template_fields


class BranchCRMSettings(Document):
	def validate(self):
		for fieldname in (
			"tier_window_months",
			"downgrade_after_months",
			"intake_batch_limit",
			"recompute_chunk_size",
			"followup_horizon_days",
			"escalate_after_days",
		):
			if (self.get(fieldname) or 0) < 1:
				frappe.throw(
					_("Branch CRM Settings: {0} must be at least 1").format(_(self.meta.get_label(fieldname)))
				)
		seen = {}
		for rule in self.cadence_rules:
			key = (rule.tier, rule.intent_level)
			if key in seen:
				frappe.throw(
					_("Cadence Rules row {0}: {1} / {2} is already set in row {3}").format(
						rule.idx, rule.tier, _(rule.intent_level), seen[key]
					)
				)
			seen[key] = rule.idx
			if (rule.interval_days or 0) < 1:
				frappe.throw(_("Cadence Rules row {0}: Interval (Days) must be at least 1").format(rule.idx))
		for fieldname in ("plan_lookahead_days", "care_touch_lookahead_days"):
			if (self.get(fieldname) or 0) < 0:
				frappe.throw(
					_("Branch CRM Settings: {0} cannot be negative").format(_(self.meta.get_label(fieldname)))
				)
		self.validate_festivals()
		self.validate_holiday_lists()

	def validate_festivals(self):
		tiers = set(frappe.get_all("Customer Tier", pluck="name"))
		for row in self.festivals:
			named = [t.strip() for t in (row.tiers or "").split(",") if t.strip()]
			unknown = [t for t in named if t not in tiers and t.lower() != "all"]
			if unknown:
				frappe.throw(
					_("Festivals row {0} ({1}): unknown tier(s) {2}").format(
						row.idx, row.festival, ", ".join(unknown)
					)
				)
			try:
				fields = template_fields(row.message or "")
			except ValueError:
				fields = None
			if fields is None or any(f not in FESTIVAL_PLACEHOLDERS for f in fields):
				frappe.throw(
					_(
						"Festivals row {0} ({1}): the message may only use {{customer_name}} and {{festival}}"
					).format(row.idx, row.festival)
				)

	def validate_holiday_lists(self):
		seen = {}
		for row in self.branch_holiday_lists:
			if row.branch in seen:
				frappe.throw(
					_("Branch Holiday Lists row {0}: branch {1} is already mapped in row {2}").format(
						row.idx, row.branch, seen[row.branch]
					)
				)
			seen[row.branch] = row.idx
