# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BranchCRMRunLog(Document):
	"""Written by ``branch_crm.audit.logged_run``; read-only in the desk."""
