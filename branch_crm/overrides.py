"""Controller overrides of Frappe doctypes (``override_doctype_class``)."""

from frappe.core.doctype.file.file import File

from branch_crm.permissions import has_file_permission


class BankCRMFile(File):
	"""A private file download asks ``File.is_downloadable``, which checks the attached record's
	row permission only: files on a customer's records also need the reader's perm level 1."""

	def is_downloadable(self):
		return super().is_downloadable() and has_file_permission(self, "read")
