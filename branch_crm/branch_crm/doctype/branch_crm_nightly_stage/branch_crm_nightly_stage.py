# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BranchCRMNightlyStage(Document):
	"""Written by ``branch_crm.jobs.pipeline`` with SQL while the night runs; read-only in the desk."""
