# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class BranchCRMSettings(Document):
	def validate(self):
		for fieldname in (
			"tier_window_months",
			"downgrade_after_months",
			"intake_batch_limit",
			"recompute_chunk_size",
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
