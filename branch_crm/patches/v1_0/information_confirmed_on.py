import frappe


def execute():
	"""Profiles stored before the information review: each part counts as confirmed when the
	profile was stored, so the first review comes a period after that rather than for every profile
	on the first night. One statement per part, set-based."""
	for field in ("identity_confirmed_on", "contact_confirmed_on", "occupation_confirmed_on"):
		frappe.db.sql(
			f"""update `tabBank Customer Profile` set `{field}` = date(`creation`)
			where `{field}` is null"""
		)
