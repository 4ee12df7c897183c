# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class ContactLog(Document):
	pass


def on_doctype_update():
	frappe.db.add_index("Contact Log", ["customer", "contact_time"])
