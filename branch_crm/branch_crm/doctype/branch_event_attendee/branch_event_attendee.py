# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BranchEventAttendee(Document):
	pass
