# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from branch_crm.language import render_doc


class TierChangeLog(Document):
	def onload(self):
		# the recompute stores the reason coded: shown in the reader's language
		render_doc(self, ("reason",))


def on_doctype_update():
	frappe.db.add_index("Tier Change Log", ["customer", "changed_on"])
