"""The snapshot's (customer, month, …) covering index also holds deposits, investments, loans and
salary credited (``customer_monthly_snapshot.BALANCE_COLUMNS``), so that the balance refresh reads
and checks a range of customers without touching the rows; it replaces the narrower
``customer_month_balances`` (customer, month, aum, contribution)."""

import frappe

from branch_crm.branch_crm.doctype.customer_monthly_snapshot.customer_monthly_snapshot import (
	on_doctype_update,
)


def execute():
	on_doctype_update()  # adds the wider index when missing
	table = "tabCustomer Monthly Snapshot"
	if frappe.db.sql(f"show index from `{table}` where Key_name = 'customer_month_balances'"):
		frappe.db.sql_ddl(f"alter table `{table}` drop index `customer_month_balances`")
