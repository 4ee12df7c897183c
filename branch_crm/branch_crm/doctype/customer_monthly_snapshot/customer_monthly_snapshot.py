# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from branch_crm.data_intake import snapshot_name
from branch_crm.validation import validate_doc_with

# the columns of the (customer, month, …) covering index the balance refresh and recompute read
BALANCE_INDEX = "customer_month_figures"
BALANCE_COLUMNS = ("aum", "contribution", "deposits", "investments", "loans", "salary_credit")
# the columns of the (month, customer, …) covering index: a read of only these never touches the rows
ACTIVITY_INDEX = "month_customer_activity"
ACTIVITY_COLUMNS = (
	"aum",
	"inflow",
	"outflow",
	"txn_count",
	"digital_logins",
	"complaints",
	"salary_credit",
	"bill_payments",
	"large_txn_count",
)


class CustomerMonthlySnapshot(Document):
	def autoname(self):
		self.month = frappe.utils.get_first_day(self.month)
		self.name = snapshot_name(self.customer, self.month)

	def validate(self):
		self.month = frappe.utils.get_first_day(self.month)
		validate_doc_with("snapshots", self)


def on_doctype_update():
	# one snapshot per customer and month, and the customer + month look-ups every job makes
	frappe.db.add_unique(
		"Customer Monthly Snapshot", ["customer", "month"], constraint_name="unique_customer_month"
	)
	# covers the nightly recompute's customer × month pivot and the balance refresh (its read and
	# the checksum that finds a range unchanged), so neither touches the table's rows
	frappe.db.add_index(
		"Customer Monthly Snapshot", ["customer", "month", *BALANCE_COLUMNS], index_name=BALANCE_INDEX
	)
	# covers the nightly churn scoring (a name range of customers, month by month) and needs
	# screening (a branch's customers over three months): the job never touches the table's rows;
	# its leading month serves every look-up by month, so no index on month alone is kept (each
	# index costs every intake insert)
	frappe.db.add_index(
		"Customer Monthly Snapshot", ["month", "customer", *ACTIVITY_COLUMNS], index_name=ACTIVITY_INDEX
	)
