"""The snapshot table's index on month alone duplicates the leading column of
``month_customer_activity`` and costs every intake insert: drop it."""

import frappe


def execute():
	table = "tabCustomer Monthly Snapshot"
	if frappe.db.sql(f"show index from `{table}` where Key_name = 'month_index'"):
		frappe.db.sql_ddl(f"alter table `{table}` drop index `month_index`")
