"""The covering index the nightly needs screening and churn scoring read holdings through
(``customer_product_holding.NIGHTLY_COLUMNS``), on sites whose holdings table predates it."""

from branch_crm.branch_crm.doctype.customer_product_holding.customer_product_holding import (
	on_doctype_update,
)


def execute():
	on_doctype_update()  # frappe.db.add_index adds it only when missing
