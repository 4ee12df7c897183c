# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BranchCRMNightlyRun(Document):
	"""One night of ``branch_crm.jobs.pipeline``: written by its jobs, never saved from the desk
	(chunk jobs update its rows with SQL while it runs)."""
