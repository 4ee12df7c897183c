# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from frappe.model.document import Document

from branch_crm import information


class ProfileChangeRequest(Document):
	"""An identity change (name, ID type and number, date of birth) to a profile, made in the desk:
	the profile keeps its values until the branch manager of its branch or a Branch CRM Admin,
	not the requester, approves it through the "Profile Change Approval" workflow (submit)."""

	def validate(self):
		information.validate_change_request(self)

	def before_submit(self):
		information.ensure_reviewer_approves(self)

	def on_submit(self):
		information.apply_change_request(self)
