# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.desk.query_report import run as run_report

from branch_crm import data_intake, testing
from branch_crm.branch_crm.report.churn_warning.churn_warning import execute
from branch_crm.engine.text import is_coded
from branch_crm.jobs import churn
from branch_crm.language import render_text
from branch_crm.testing import BRANCH_A, user

test_ignore = testing.TEST_IGNORE
PROFILE = "Bank Customer Profile"


def en(stored: str) -> str:
	"""A stored (coded) text as an English reader reads it."""
	return render_text(stored, "en")


STEADY = {"aum": 200_000, "inflow": 8_000, "outflow": 8_000, "txn_count": 30, "digital_logins": 20}


def set_snapshots(customer: str, months: list[dict]) -> None:
	"""Replace a test customer's snapshots: ``months`` oldest first, the last one being the last
	complete month (where the site's data end)."""
	frappe.db.delete("Customer Monthly Snapshot", {"customer": customer})
	end = testing.last_complete_month()
	records = [
		{"customer": customer, "month": str(frappe.utils.add_months(end, i - len(months) + 1)), **values}
		for i, values in enumerate(months)
	]
	result = data_intake.run("snapshots", records)
	assert not result.rejected, result.rejected


def drifting(months: int = 9) -> list[dict]:
	"""Steady for the baseline, then money, transactions and logins leave over the last 3 months."""
	recent = [
		{"aum": 120_000, "inflow": 2_000, "outflow": 82_000, "txn_count": 12, "digital_logins": 6},
		{"aum": 60_000, "inflow": 1_000, "outflow": 61_000, "txn_count": 6, "digital_logins": 2},
		{"aum": 20_000, "inflow": 0, "outflow": 40_000, "txn_count": 2, "digital_logins": 0},
	]
	return [dict(STEADY)] * (months - 3) + recent


class TestChurnWarning(testing.BranchCRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.clear_contacts()
		set_snapshots("_T-CRM-0001", [dict(STEADY)] * 9)
		set_snapshots("_T-CRM-0002", drifting())
		set_snapshots("_T-CRM-0003", [dict(STEADY)] * 3)  # joined three months ago
		set_snapshots("_T-CRM-0004", [dict(STEADY)] * 9)
		set_snapshots("_T-CRM-0005", drifting())
		set_snapshots("_T-CRM-0006", drifting())
		# two complaints the relationship manager logged last month, on top of core banking's zero
		last_month = frappe.utils.add_days(testing.last_complete_month(), 3)
		for hour in (10, 11):
			log = frappe.get_doc(
				{
					"doctype": "Contact Log",
					"customer": "_T-CRM-0004",
					"channel": "Phone",
					"outcome": "Complaint Raised",
					"contact_time": f"{last_month} {hour}:00:00",
				}
			)
			log.flags.replanned_by_caller = True
			log.insert(ignore_permissions=True)
		# and one of them the service desk also registered as an ERPNext Issue: counted once
		frappe.db.delete("Issue", {"customer": "_T-CRM-0004"})
		frappe.get_doc(
			{
				"doctype": "Issue",
				"subject": "_T-CRM complaint: card fee",
				"customer": "_T-CRM-0004",
				"opening_date": last_month,
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		cls.first = churn.run()
		cls.stored = {
			row.name: row
			for row in frappe.get_all(
				PROFILE,
				filters={"name": ("in", list(testing.CUSTOMERS))},
				fields=["name", "churn_score", "churn_band", "churn_reasons", "churn_scored_on", "modified"],
			)
		}

	@classmethod
	def tearDownClass(cls):
		testing.clear_contacts()
		frappe.db.delete("Issue", {"customer": "_T-CRM-0004"})
		frappe.db.commit()
		super().tearDownClass()

	def test_the_job_stores_score_band_and_reasons_in_words(self):
		today = frappe.utils.getdate()
		steady, drifted, short = (self.stored[c] for c in ("_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003"))
		self.assertEqual((steady.churn_band, steady.churn_score), ("Low", 0))
		self.assertEqual(en(steady.churn_reasons), "No warning signs against the customer's own past")
		self.assertEqual(drifted.churn_band, "High")
		self.assertGreaterEqual(drifted.churn_score, 70)
		self.assertTrue(
			en(drifted.churn_reasons).startswith("AUM down 90% over 3 months (from 200,000 to 20,000)")
		)
		self.assertEqual(len(en(drifted.churn_reasons).split("; ")), 3, "the top three reasons")
		self.assertIsNone(short.churn_band, "three months of data give no score")
		self.assertEqual(en(short.churn_reasons), "Not enough history: 3 of 6 months of data")
		self.assertTrue(all(row.churn_scored_on == today for row in self.stored.values()))
		self.assertEqual(self.first["failed_chunks"], 0)

	def test_complaints_logged_in_the_crm_and_erpnext_issues_count_once(self):
		complained = self.stored["_T-CRM-0004"]
		self.assertGreater(complained.churn_score, 0)
		# two logged complaints and an Issue of the same month: two complaints, not three
		self.assertIn("2 complaints in 3 months against 0 expected", en(complained.churn_reasons))

	def test_a_second_run_writes_nothing(self):
		again = churn.run()
		self.assertEqual(again["updated"], 0)
		self.assertEqual(again["profiles"], self.first["profiles"])
		for row in frappe.get_all(
			PROFILE,
			filters={"name": ("in", list(testing.CUSTOMERS))},
			fields=["name", "churn_score", "churn_band", "churn_reasons", "modified"],
		):
			before = self.stored[row.name]
			self.assertEqual(
				(row.churn_score, row.churn_band, row.churn_reasons, row.modified),
				(before.churn_score, before.churn_band, before.churn_reasons, before.modified),
			)

	def test_reading_ahead_stores_what_reading_in_line_stores(self):
		frappe.db.sql(
			"""update `tabBank Customer Profile` set `churn_score` = 0, `churn_band` = null,
			`churn_reasons` = null where `name` in %(customers)s""",
			{"customers": tuple(testing.CUSTOMERS)},
		)
		frappe.db.commit()
		# chunks read on the reader connections and written on the writer's, at least three chunks
		# whatever else the site holds
		ahead = churn.run(
			chunk_size=max(1, frappe.db.count(PROFILE) // 3), read_ahead=True, write_behind=True
		)
		self.assertEqual(ahead["failed_chunks"], 0)
		for row in frappe.get_all(
			PROFILE,
			filters={"name": ("in", list(testing.CUSTOMERS))},
			fields=["name", "churn_score", "churn_band", "churn_reasons"],
		):
			before = self.stored[row.name]
			self.assertEqual(
				(row.churn_score, row.churn_band, row.churn_reasons),
				(before.churn_score, before.churn_band, before.churn_reasons),
			)
		self.assertEqual(
			churn.run(read_ahead=False, write_behind=False)["updated"], 0, "in line, on this connection"
		)

	def test_write_behind_a_chunk_whose_write_fails_is_rolled_back_logged_and_the_others_written(self):
		from branch_crm import store

		chunk_size = max(1, frappe.db.count(PROFILE) // 3)
		ranges = store.name_ranges(PROFILE, chunk_size)
		self.assertGreater(len(ranges), 2)
		everyone = {"lo": ranges[0][0], "hi": ranges[-1][1]}
		# every profile has something to write: the first chunk's writes are real, then undone
		frappe.db.sql(
			"""update `tabBank Customer Profile` set `churn_reasons` = null
			where `name` between %(lo)s and %(hi)s""",
			everyone,
		)
		frappe.db.commit()
		original = store.update_rows
		writes = []

		def failing_after_the_first_write(*args, **kwargs):
			written = original(*args, **kwargs)
			writes.append(written)
			if len(writes) == 1:
				raise ValueError("the database went away half-way")
			return written

		errors = frappe.db.count("Error Log")
		store.update_rows = failing_after_the_first_write
		try:
			summary = churn.run(chunk_size=chunk_size, read_ahead=True, write_behind=True)
		finally:
			store.update_rows = original
		self.assertEqual(summary["failed_chunks"], 1)
		self.assertGreater(writes[0], 0, "the failed chunk had rows to write")
		self.assertEqual(summary["updated"], sum(writes[1:]), "only the committed chunks count")
		self.assertEqual(frappe.db.count("Error Log"), errors + 1)
		frappe.db.rollback()  # a fresh snapshot: see what the writer committed

		def unwritten(lo, hi):
			return frappe.db.sql(
				"""select count(*) from `tabBank Customer Profile`
				where `churn_reasons` is null and `name` between %(lo)s and %(hi)s""",
				{"lo": lo, "hi": hi},
			)[0][0]

		def profiles(lo, hi):
			return frappe.db.sql(
				"select count(*) from `tabBank Customer Profile` where `name` between %(lo)s and %(hi)s",
				{"lo": lo, "hi": hi},
			)[0][0]

		self.assertEqual(unwritten(*ranges[0]), profiles(*ranges[0]), "the failed chunk: nothing stays")
		self.assertEqual(unwritten(ranges[1][0], ranges[-1][1]), 0, "the chunks after it: all written")
		self.assertEqual(churn.run()["failed_chunks"], 0)
		frappe.db.rollback()
		self.assertEqual(unwritten(*everyone.values()), 0, "the failed chunk is written the next night")
		for row in frappe.get_all(
			PROFILE, filters={"name": ("in", list(testing.CUSTOMERS))}, fields=["name", "churn_reasons"]
		):
			self.assertEqual(row.churn_reasons, self.stored[row.name].churn_reasons, row.name)

	def test_reasons_are_stored_as_codes_and_read_in_the_readers_language(self):
		stored = frappe.db.get_value(PROFILE, "_T-CRM-0002", "churn_reasons")
		self.assertTrue(is_coded(stored), stored)
		site_language = frappe.db.get_default("lang")
		frappe.db.set_default("lang", "zh")
		frappe.local.lang = "en"  # as a background worker or a bench command starts
		try:
			churn.run()
			self.assertEqual(
				frappe.db.get_value(PROFILE, "_T-CRM-0002", "churn_reasons"),
				stored,
				"what is stored does not depend on the language of the site or the job",
			)
		finally:
			frappe.db.set_default("lang", site_language or "en")
		self.assertTrue(render_text(stored, "zh").startswith("3个月内资产下降90%（从200,000降至20,000）"))
		rm = user("rm1")
		filters = {"churn_band": "High"}
		for lang, expected in (("zh", "3个月内资产下降90%"), ("en", "AUM down 90%")):
			frappe.db.set_value("User", rm, "language", lang)
			frappe.set_user(rm)
			frappe.local.lang = lang
			try:
				result = run_report("Churn Warning", filters=filters)["result"]
			finally:
				frappe.set_user("Administrator")
				frappe.local.lang = "en"
				frappe.db.set_value("User", rm, "language", None)
			reasons = {row["customer"]: row["churn_reasons"] for row in result if isinstance(row, dict)}
			self.assertTrue(reasons["_T-CRM-0002"].startswith(expected), (lang, reasons["_T-CRM-0002"]))

	def test_columns_filters_chart_and_cards(self):
		frappe.set_user(user("rm1"))
		columns, data, _message, chart, summary = execute({})
		self.assertEqual(
			[c["fieldname"] for c in columns],
			[
				"customer",
				"customer_name",
				"branch",
				"relationship_manager",
				"tier",
				"value_class",
				"lifetime_value",
				"aum",
				"churn_score",
				"churn_band",
				"retention_priority",
				"churn_reasons",
			],
		)
		self.assertEqual(data[0]["customer"], "_T-CRM-0002", "highest risk first")
		self.assertEqual({row["customer"] for row in data}, {"_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003"})
		self.assertEqual(
			[d["name"] for d in chart["data"]["datasets"]], ["High", "Medium", "Low", "No Score"]
		)
		cards = {c["label"]: c["value"] for c in summary}
		self.assertEqual(
			(cards["Customers Scored"], cards["High Risk"], cards["No Score (Short History)"]), (2, 1, 1)
		)
		high = execute({"churn_band": "High"})[1]
		self.assertEqual([row["customer"] for row in high], ["_T-CRM-0002"])
		no_score = execute({"churn_band": "No Score"})[1]
		self.assertEqual([row["customer"] for row in no_score], ["_T-CRM-0003"])
		# listing some rows: their long texts are read for them alone, the cards still count everyone
		_columns, listed, _message, _chart, listed_cards = execute({"limit": 1})
		self.assertEqual(listed, [data[0]])
		self.assertTrue(listed[0]["churn_reasons"].startswith("AUM down"))
		self.assertEqual(listed_cards[0]["value"], 2, "cards count everyone")

	def test_a_relationship_manager_sees_only_their_book(self):
		frappe.set_user(user("rm1"))
		# another manager's book asked for by name: still only their own, i.e. nothing
		self.assertEqual(execute({"relationship_manager": user("rm2")})[1], [])
		frappe.set_user(user("rm3"))
		self.assertEqual([row["customer"] for row in execute({})[1]], ["_T-CRM-0006"])

	def test_a_branch_manager_sees_the_branch(self):
		frappe.set_user(user("bm"))
		customers = {row["customer"] for row in execute({})[1]}
		self.assertEqual(customers, {f"_T-CRM-000{i}" for i in range(1, 6)})
		rm2 = execute({"relationship_manager": user("rm2")})[1]
		self.assertEqual({row["customer"] for row in rm2}, {"_T-CRM-0004", "_T-CRM-0005"})
		self.assertEqual({row["branch"] for row in rm2}, {BRANCH_A})

	def test_a_teller_cannot_open_the_report(self):
		frappe.set_user(user("teller"))
		with self.assertRaises(frappe.PermissionError):
			run_report("Churn Warning", {})
		frappe.set_user(user("rm1"))
		self.assertTrue(run_report("Churn Warning", {})["result"])
