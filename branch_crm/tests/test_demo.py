# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
import pandas as pd
from frappe.model.naming import getseries
from frappe.tests.utils import FrappeTestCase

from branch_crm import testing
from branch_crm.demo import _series_names

test_ignore = testing.TEST_IGNORE


class TestDemoHistory(FrappeTestCase):
	"""The demo's bulk-written contact logs take their names from Frappe's naming series, so logs
	saved in the desk afterwards continue the numbering instead of colliding with them."""

	def tearDown(self):
		frappe.db.rollback()

	def test_names_are_reserved_in_the_series_per_prefix(self):
		frappe.db.sql("insert into `tabSeries` (`name`, `current`) values ('_T-DEMO-1999-', 7)")
		prefixes = pd.Series(["_T-DEMO-1999-", "_T-DEMO-1998-", "_T-DEMO-1999-", "_T-DEMO-1999-"])
		names = _series_names(prefixes)
		self.assertEqual(
			list(names),
			["_T-DEMO-1999-00008", "_T-DEMO-1998-00001", "_T-DEMO-1999-00009", "_T-DEMO-1999-00010"],
		)
		# the next name Frappe gives comes after the reserved block
		self.assertEqual(getseries("_T-DEMO-1999-", 5), "00011")
		self.assertEqual(getseries("_T-DEMO-1998-", 5), "00002")
