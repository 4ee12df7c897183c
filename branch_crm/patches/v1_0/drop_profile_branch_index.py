"""The profile table's index on branch alone duplicates the leading column of both branch report
indexes (``bank_customer_profile.BRANCH_REPORT_INDEXES``) and costs every intake insert: drop it.
(Migrating the doctype, whose branch field is no longer ``search_index``, drops it too; this patch
covers a site whose table kept it.)"""

import frappe


def execute():
	table = "tabBank Customer Profile"
	columns = frappe.db.sql(f"show index from `{table}` where Key_name = 'branch'", as_dict=True)
	if [c.Column_name for c in columns] == ["branch"]:
		frappe.db.sql_ddl(f"alter table `{table}` drop index `branch`")
