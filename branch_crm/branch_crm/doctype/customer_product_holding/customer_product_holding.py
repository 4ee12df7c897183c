# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

# what the nightly needs screening (product, balance of a branch's customers) and churn scoring
# (category and maturity of a name range's holdings) read: covered, so a night never reads the
# holdings' rows (a branch of 400,000 customers holds over two million)
NIGHTLY_INDEX = "parent_nightly"
NIGHTLY_COLUMNS = ["parent", "parenttype", "product", "balance", "product_category", "matures_on"]


class CustomerProductHolding(Document):
	pass


def on_doctype_update():
	frappe.db.add_index("Customer Product Holding", NIGHTLY_COLUMNS, index_name=NIGHTLY_INDEX)
