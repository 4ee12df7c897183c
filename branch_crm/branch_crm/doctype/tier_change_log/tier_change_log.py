# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class TierChangeLog(Document):
	pass


def on_doctype_update():
	frappe.db.add_index("Tier Change Log", ["customer", "changed_on"])
