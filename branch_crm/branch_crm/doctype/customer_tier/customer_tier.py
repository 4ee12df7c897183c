# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class CustomerTier(Document):
	def validate(self):
		for fieldname in ("min_avg_aum", "min_annual_contribution", "contact_interval_days"):
			if (self.get(fieldname) or 0) < 0:
				frappe.throw(
					_("Customer Tier {0}: {1} cannot be negative").format(
						self.name or self.tier_name, _(self.meta.get_label(fieldname))
					)
				)
		clash = frappe.db.get_value(
			"Customer Tier", {"rank": self.rank, "name": ("!=", self.name or "")}, "name"
		)
		if clash:
			frappe.throw(
				_("Customer Tier {0}: rank {1} is already used by {2}").format(
					self.tier_name, self.rank, clash
				)
			)
