# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document


class BankCampaignTier(Document):
	"""One value of a campaign's selection (a Table MultiSelect row of ERPNext's Campaign)."""
