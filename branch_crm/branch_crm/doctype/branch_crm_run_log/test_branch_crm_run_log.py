# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import json

import frappe

from branch_crm import data_intake, testing
from branch_crm.testing import BranchCRMTestCase

RUN_LOG = "Branch CRM Run Log"


class TestBranchCRMRunLog(BranchCRMTestCase):
	def last_run(self, job: str):
		return frappe.get_last_doc(RUN_LOG, filters={"job": job})

	def test_an_intake_batch_leaves_a_run_record_with_what_it_changed(self):
		before = frappe.db.count(RUN_LOG, {"job": "Intake"})
		record = testing.customer_record("_T-CRM-0001", hobbies="围棋 run-log")
		result = data_intake.run("customers", [record, {**record, "customer": "", "customer_name": ""}])
		self.assertEqual(frappe.db.count(RUN_LOG, {"job": "Intake"}), before + 1)
		run = self.last_run("Intake")
		summary = json.loads(run.summary)
		self.assertEqual(json.loads(run.parameters), {"kind": "customers", "records": 2})
		self.assertEqual(summary["updated"], result.as_dict()["updated"])
		self.assertEqual(summary["rejected_count"], 1)
		self.assertEqual(run.run_by, "Administrator")
		self.assertLessEqual(run.started_on, run.finished_on)

	def test_a_batch_that_fails_leaves_no_record_of_a_change_that_did_not_happen(self):
		before = frappe.db.count(RUN_LOG, {"job": "Intake"})
		with self.assertRaises(frappe.ValidationError):
			data_intake.run("accounts", [testing.customer_record("_T-CRM-0001")])
		self.assertEqual(frappe.db.count(RUN_LOG, {"job": "Intake"}), before)

	def test_staff_cannot_read_run_records(self):
		data_intake.run("customers", [testing.customer_record("_T-CRM-0001")])
		frappe.set_user(testing.user("bm"))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_list(RUN_LOG)
