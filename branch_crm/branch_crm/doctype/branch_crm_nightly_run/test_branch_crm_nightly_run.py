# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import dataclasses
from unittest import mock

import frappe

from branch_crm import testing
from branch_crm.jobs import churn, pipeline, recompute
from branch_crm.testing import BranchCRMTestCase

RUN = "Branch CRM Nightly Run"
ADMIN_USER = "_test.crm.nightly.admin@bank.example"


class TestBranchCRMNightlyRun(BranchCRMTestCase):
	"""The night on the test site's few profiles, its chunk jobs run one after another in this
	process (``frappe.enqueue(now=True)`` under tests); the same code runs on real workers."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.ensure_user(ADMIN_USER, "Nightly Admin", roles=("Branch CRM Admin",))
		for number, customer in enumerate(list(testing.CUSTOMERS)[:3]):
			testing.set_history(customer, [100_000.0 * (number + 1)] * 12)
		frappe.db.commit()

	def setUp(self):
		# a night left running by an interrupted test would be resumed instead of a new one started
		frappe.db.sql(f"update `tab{RUN}` set `status` = 'Failed' where `status` = 'Running'")
		frappe.db.commit()
		profiles = frappe.db.count("Bank Customer Profile")
		# at least two chunks for every stage split by name range
		self.part_size = max(1, profiles // 3)

	def night(self):
		return frappe.get_doc(RUN, pipeline.start_night(part_size=self.part_size))

	def stages(self, run):
		return {row.stage: row for row in run.stages}

	def test_a_night_runs_every_stage_in_order_and_records_it(self):
		run = self.night()
		self.assertEqual(run.status, "Completed")
		stages = self.stages(run)
		self.assertEqual(list(stages), [stage.name for stage in pipeline.STAGES])
		for stage in pipeline.STAGES:
			row = stages[stage.name]
			self.assertEqual(row.status, "Completed", stage.name)
			self.assertEqual(row.chunks_done, row.chunks)
			for need in stage.needs:
				# a stage starts only once everything it needs has finished
				self.assertGreaterEqual(row.started_on, stages[need].finished_on, (stage.name, need))
		self.assertGreaterEqual(stages["Score Churn"].chunks, 2)
		self.assertEqual(stages["Refresh Balances"].rows_read, frappe.db.count("Bank Customer Profile"))
		self.assertTrue(all(chunk.status == "Done" and chunk.attempts == 1 for chunk in run.chunks))
		self.assertLessEqual(run.started_on, run.finished_on)
		logged = frappe.get_all(
			"Branch CRM Run Log", filters={"reference_doctype": RUN, "reference_name": run.name}, pluck="job"
		)
		self.assertEqual(sorted(logged), sorted(stage.name for stage in pipeline.STAGES))
		# the night stored what the jobs store: run again, they find nothing to change
		self.assertEqual(churn.run()["updated"], 0)
		self.assertEqual(recompute.run()["updated"], 0)

	def test_a_failed_chunk_fails_its_stage_skips_what_needs_it_and_a_rerun_converges(self):
		churn_stage = pipeline.STAGE_BY_NAME["Score Churn"]
		first = frappe.db.sql("select min(`name`) from `tabBank Customer Profile`")[0][0]

		def broken_first_part(night, scope):
			if scope[0] == first:
				raise ValueError("broken part")
			return churn_stage.run_part(night, scope)

		# every profile's churn fields differ from what scoring stores, so each is written again
		frappe.db.sql(
			"update `tabBank Customer Profile` set `churn_reasons` = 'stale', `churn_scored_on` = null"
		)
		frappe.db.commit()
		notified = frappe.db.count("Notification Log", {"for_user": ADMIN_USER, "document_type": RUN})
		broken = dataclasses.replace(churn_stage, run_part=broken_first_part)
		with mock.patch.dict(pipeline.STAGE_BY_NAME, {"Score Churn": broken}):
			run = self.night()
		self.assertEqual(run.status, "Failed")
		stages = self.stages(run)
		self.assertEqual(stages["Score Churn"].status, "Failed")
		self.assertEqual(stages["Score Churn"].chunks_failed, 1)
		self.assertEqual(stages["Score Churn"].chunks_done, stages["Score Churn"].chunks - 1)
		self.assertEqual(stages["Screen Needs"].status, "Completed")
		self.assertEqual(stages["Queue Follow-ups"].status, "Skipped")
		failed = [chunk for chunk in run.chunks if chunk.status == "Failed"]
		self.assertEqual(len(failed), 1)
		self.assertIn("broken part", failed[0].error)
		self.assertEqual(
			frappe.db.count("Notification Log", {"for_user": ADMIN_USER, "document_type": RUN}), notified + 1
		)

		self.assertEqual(pipeline.rerun_failed(run.name), 1)
		run.reload()
		self.assertEqual(run.status, "Completed")
		stages = self.stages(run)
		self.assertEqual(stages["Score Churn"].status, "Completed")
		self.assertEqual(stages["Queue Follow-ups"].status, "Completed")
		self.assertEqual(
			[
				chunk.attempts
				for chunk in run.chunks
				if chunk.chunk_no == failed[0].chunk_no and chunk.stage == "Score Churn"
			],
			[2],
		)
		self.assertEqual(frappe.db.count("Bank Customer Profile", {"churn_scored_on": ("is", "not set")}), 0)
		self.assertEqual(churn.run()["updated"], 0)

	def test_a_chunk_whose_worker_died_is_queued_again_and_the_night_completes(self):
		enqueue = pipeline._enqueue_chunk

		def lost_with_its_worker(run, stage, chunk):
			if stage == "Score Churn" and chunk == 1:
				return  # the job never reports back: its worker was killed
			enqueue(run, stage, chunk)

		with mock.patch.object(pipeline, "_enqueue_chunk", lost_with_its_worker):
			run = self.night()
		self.assertEqual(run.status, "Running")
		stages = self.stages(run)
		self.assertEqual(stages["Score Churn"].status, "Running")
		self.assertEqual(stages["Queue Follow-ups"].status, "Pending")
		# the worker had started it when it died
		frappe.db.sql(
			"""update `tabBranch CRM Nightly Chunk` set `status` = 'Running'
			where `parent` = %s and `stage` = 'Score Churn' and `chunk_no` = 1""",
			(run.name,),
		)
		frappe.db.commit()

		self.assertEqual(pipeline.resume_stalled(), 1)
		run.reload()
		self.assertEqual(run.status, "Completed")
		self.assertTrue(all(chunk.status == "Done" for chunk in run.chunks))
		self.assertEqual(churn.run()["updated"], 0)

	def test_a_late_night_is_told_to_the_admins_once(self):
		with mock.patch.object(pipeline, "_enqueue_chunk", lambda run, stage, chunk: None):
			run = self.night()
		frappe.db.set_value(
			RUN,
			run.name,
			"started_on",
			frappe.utils.add_to_date(None, minutes=-pipeline.LATE_AFTER_MINUTES - 5),
			update_modified=False,
		)
		told = lambda: frappe.db.count(  # noqa: E731
			"Notification Log", {"for_user": ADMIN_USER, "document_type": RUN, "document_name": run.name}
		)
		pipeline._tell_if_late(run.name)
		pipeline._tell_if_late(run.name)
		self.assertEqual(told(), 1)

	def test_only_admins_read_nights_and_rerun_them(self):
		frappe.set_user(testing.user("bm"))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_list(RUN)
		with self.assertRaises(frappe.PermissionError):
			pipeline.rerun_failed("NIGHT-none")
