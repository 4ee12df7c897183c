# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import time
from unittest.mock import patch

import frappe
import pandas as pd
from frappe.tests.test_api import FrappeAPITestCase

from branch_crm import data_intake, testing
from branch_crm.jobs.balances import refresh as run_profile_balance_refresh

test_ignore = testing.TEST_IGNORE
SNAPSHOT = "Customer Monthly Snapshot"
PROFILE = "Bank Customer Profile"


def snapshot(customer="_T-CRM-0001", month="2025-01", **values):
	return {
		"customer": customer,
		"month": month,
		"aum": 100_000,
		"deposits": 60_000,
		"investments": 40_000,
		**values,
	}


def clear_test_facts():
	# jobs under test commit, so start every test from no snapshots or holdings of the test world
	frappe.db.delete(SNAPSHOT, {"customer": ("like", "_T-CRM-%")})
	frappe.db.delete("Customer Product Holding", {"parent": ("like", "_T-CRM-%")})
	frappe.db.commit()


class TestSnapshotIntake(testing.BranchCRMTestCase):
	def setUp(self):
		clear_test_facts()

	def test_good_batch_then_repeat_changes_nothing(self):
		batch = [snapshot(month=f"2024-{m:02d}", aum=1000 * m) for m in range(1, 13)]
		first = data_intake.run("snapshots", batch).as_dict()
		self.assertEqual((first["inserted"], first["updated"], first["rejected_count"]), (12, 0, 0))
		stored = frappe.get_all(
			SNAPSHOT,
			filters={"customer": "_T-CRM-0001", "month": ("between", ["2024-01-01", "2024-12-01"])},
			fields=["name", "aum", "modified"],
		)
		self.assertEqual(sorted(float(s.aum) for s in stored), [1000.0 * m for m in range(1, 13)])

		again = data_intake.run("snapshots", batch).as_dict()
		self.assertEqual((again["inserted"], again["updated"], again["unchanged"]), (0, 0, 12))
		after = frappe.get_all(
			SNAPSHOT, filters={"name": ("in", [s.name for s in stored])}, fields=["name", "modified"]
		)
		self.assertEqual({s.name: s.modified for s in stored}, {s.name: s.modified for s in after})

	def test_changed_record_is_updated_in_place(self):
		data_intake.run("snapshots", [snapshot(month="2023-06", aum=500)])
		result = data_intake.run("snapshots", [snapshot(month="2023-06-15", aum=700)]).as_dict()
		self.assertEqual((result["inserted"], result["updated"]), (0, 1))
		self.assertEqual(frappe.db.count(SNAPSHOT, {"customer": "_T-CRM-0001", "month": "2023-06-01"}), 1)
		self.assertEqual(frappe.db.get_value(SNAPSHOT, "_T-CRM-0001-2023-06", "aum"), 700)

	def test_bad_records_rejected_with_index_field_and_reason_good_ones_saved(self):
		batch = [
			snapshot(month="2022-01"),
			snapshot(month="2022-02", aum=-5),
			snapshot(customer="_T-NO-SUCH", month="2022-03"),
			{"customer": "_T-CRM-0001"},
			snapshot(month="2022-01"),
		]
		result = data_intake.run("snapshots", batch).as_dict()
		self.assertEqual(result["inserted"], 1)
		problems = {(r["index"], r["field"]) for r in result["rejected"]}
		self.assertEqual(problems, {(1, "aum"), (2, "customer"), (3, "month"), (4, None)})
		self.assertIn("_T-NO-SUCH", next(r["reason"] for r in result["rejected"] if r["index"] == 2))
		self.assertFalse(frappe.db.exists(SNAPSHOT, "_T-CRM-0001-2022-02"))

	def test_batch_over_limit_is_refused_whole(self):
		with self.assertRaises(frappe.ValidationError):
			data_intake.run("snapshots", [snapshot(month="2021-01")] * 3, batch_limit=2)
		self.assertFalse(frappe.db.exists(SNAPSHOT, "_T-CRM-0001-2021-01"))

	def test_desk_form_follows_the_same_rules_and_unique_month(self):
		doc = frappe.get_doc({"doctype": SNAPSHOT, **snapshot(month="2020-05-20", aum=-1)})
		with self.assertRaisesRegex(frappe.ValidationError, "AUM"):
			doc.insert()
		doc = frappe.get_doc({"doctype": SNAPSHOT, **snapshot(month="2020-05-20")}).insert()
		self.assertEqual(doc.name, "_T-CRM-0001-2020-05")
		self.assertEqual(str(doc.month), "2020-05-01")
		with self.assertRaises(frappe.DuplicateEntryError):
			frappe.get_doc({"doctype": SNAPSHOT, **snapshot(month="2020-05-01")}).insert()

	def test_balance_refresh_sets_profile_from_latest_month(self):
		end = testing.last_complete_month()
		months = [frappe.utils.add_months(end, -i) for i in range(11, -1, -1)]
		data_intake.run(
			"snapshots",
			[
				snapshot(
					"_T-CRM-0005",
					str(m),
					aum=1000 * (i + 1),
					contribution=10,
					salary_credit=8000 if i == 11 else 0,
				)
				for i, m in enumerate(months)
			],
		)
		run_profile_balance_refresh(customers=["_T-CRM-0005", "_T-CRM-0004"])
		profile = frappe.get_doc("Bank Customer Profile", "_T-CRM-0005")
		self.assertEqual(profile.as_of_month, end)
		self.assertEqual(profile.aum, 12000)
		self.assertEqual(profile.avg_aum, 11000)  # the last three months
		self.assertEqual(profile.annual_contribution, 120)
		self.assertEqual(profile.salary_credited_here, 1)
		# no snapshot in the last 12 months: no balances shown, rather than stale ones
		stale = frappe.get_doc("Bank Customer Profile", "_T-CRM-0004")
		self.assertIsNone(stale.as_of_month)
		self.assertEqual(stale.aum, 0)

	def test_balance_refresh_skips_ranges_whose_inputs_are_unchanged(self):
		from branch_crm import store
		from branch_crm.jobs import unchanged

		unchanged.forget_all()
		end = testing.last_complete_month()
		data_intake.run("snapshots", [snapshot("_T-CRM-0005", str(end), aum=5000)])
		between = ("_T-CRM-0001", "_T-CRM-0009")
		ranges = store.name_ranges(
			PROFILE, 3, where="`name` between %(lo)s and %(hi)s", values={"lo": between[0], "hi": between[1]}
		)
		self.assertGreater(len(ranges), 1)

		checks = []

		def refresh():
			checks.clear()
			with patch.object(store, "month_rows_checksum", side_effect=checked_month_rows):
				return run_profile_balance_refresh(between=between, chunk_size=3)

		def checked_month_rows(*args, **kwargs):
			checks.append(kwargs["between"])
			return month_rows_checksum(*args, **kwargs)

		month_rows_checksum = store.month_rows_checksum
		self.assertEqual(refresh()["skipped"], 0)
		# nothing remembered: each range is read at once, its checksums taken by the read itself
		self.assertEqual(checks, [])
		again = refresh()
		self.assertEqual(len(checks), len(ranges))
		covered = frappe.db.count(PROFILE, {"name": ("between", between)})
		# every range checked, none read: its profiles counted as covered, nothing written
		self.assertEqual((again["skipped"], again["profiles"], again["updated"]), (len(ranges), covered, 0))
		# a corrected snapshot: its range alone is read again, and the profile shows it
		frappe.db.set_value(SNAPSHOT, data_intake.snapshot_name("_T-CRM-0005", end), "aum", 6000)
		corrected = refresh()
		self.assertEqual((corrected["skipped"], corrected["updated"]), (len(ranges) - 1, 1))
		self.assertEqual(frappe.db.get_value(PROFILE, "_T-CRM-0005", "aum"), 6000)
		# a stored figure changed by anything else is put right on the next run
		frappe.db.set_value(PROFILE, "_T-CRM-0005", "aum", 1, update_modified=False)
		self.assertEqual(refresh()["updated"], 1)
		self.assertEqual(frappe.db.get_value(PROFILE, "_T-CRM-0005", "aum"), 6000)
		# another window: every range is decided again
		settings = frappe.get_single("Branch CRM Settings")
		window = settings.tier_window_months or 3
		self.addCleanup(frappe.db.set_single_value, "Branch CRM Settings", "tier_window_months", window)
		frappe.db.set_single_value("Branch CRM Settings", "tier_window_months", window + 1)
		frappe.clear_document_cache("Branch CRM Settings", "Branch CRM Settings")
		self.assertEqual(refresh()["skipped"], 0)
		# remembered under another window, a range cannot be unchanged: it is not checked first
		self.assertEqual(checks, [])
		self.assertEqual(refresh()["skipped"], len(ranges))


class TestIntakeREST(FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.make_world()
		integration = "_test.crm.integration@bank.example"
		testing.ensure_user(integration, "Core Banking", roles=("Branch CRM Integration",))
		cls.headers = testing.api_headers(integration)

	def setUp(self):
		clear_test_facts()

	def test_rest_intake_good_bad_and_repeated(self):
		url = self.method("branch_crm.api.upsert_snapshots")
		batch = [snapshot("_T-CRM-0002", "2019-01"), snapshot("_T-CRM-0002", "2019-02", txn_count=-1)]
		first = self.post(url, {"records": batch}, headers=self.headers)
		self.assertEqual(first.status_code, 200, first.text)
		body = first.json["message"]
		self.assertEqual(body["inserted"], 1)
		self.assertEqual([(r["index"], r["field"]) for r in body["rejected"]], [(1, "txn_count")])
		second = self.post(url, {"records": batch}, headers=self.headers).json["message"]
		self.assertEqual((second["inserted"], second["updated"], second["unchanged"]), (0, 0, 1))
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(SNAPSHOT, "_T-CRM-0002-2019-01", "aum"), 100_000)

	def test_rest_customer_and_holdings_intake(self):
		customers = self.post(
			self.method("branch_crm.api.upsert_customers"),
			{"records": [testing.customer_record("_T-CRM-0006", hobbies="钓鱼")]},
			headers=self.headers,
		).json["message"]
		self.assertEqual(customers["rejected"], [])
		frappe.db.rollback()  # the request committed on its own connection: read a fresh snapshot
		self.assertEqual(frappe.db.get_value("Bank Customer Profile", "_T-CRM-0006", "hobbies"), "钓鱼")
		holdings = [
			{"customer": "_T-CRM-0006", "product": "DEP-DEMAND", "account_no": "6222-0001", "balance": 5000},
			{"customer": "_T-CRM-0006", "product": "NO-SUCH-PRODUCT", "balance": 1},
		]
		url = self.method("branch_crm.api.upsert_holdings")
		result = self.post(url, {"records": holdings}, headers=self.headers).json["message"]
		self.assertEqual((result["inserted"], [r["field"] for r in result["rejected"]]), (1, ["product"]))
		repeat = self.post(url, {"records": holdings[:1]}, headers=self.headers).json["message"]
		self.assertEqual((repeat["inserted"], repeat["updated"], repeat["unchanged"]), (0, 0, 1))
		frappe.db.rollback()
		profile = frappe.get_doc("Bank Customer Profile", "_T-CRM-0006")
		self.assertEqual(
			[(h.product, h.account_no, h.balance) for h in profile.holdings],
			[("DEP-DEMAND", "6222-0001", 5000)],
		)
		# the table's Category column is filled as the form's fetch would fill it
		self.assertEqual(
			profile.holdings[0].product_category,
			frappe.db.get_value("Bank Product", "DEP-DEMAND", "category"),
		)
		self.assertTrue(profile.holdings[0].product_category)


class TestFastReads(testing.BranchCRMTestCase):
	"""``store.read_frame_fast`` and ``read_month_rows`` read one delimited text: they must give what
	the ordinary read gives, and fall back to it when a value holds a separator."""

	COLUMNS = ["name", "customer_name", "branch", "aum", "date_of_birth", "churn_band"]

	def setUp(self):
		clear_test_facts()

	def tearDown(self):
		frappe.db.rollback()

	def read_both(self):
		from branch_crm import store

		where, values = "`name` like %(prefix)s", {"prefix": "_T-CRM-%"}
		fast = store.read_frame_fast("Bank Customer Profile", self.COLUMNS, where=where, values=values)
		plain = store.read_frame("Bank Customer Profile", self.COLUMNS, where=where, values=values)
		key = lambda frame: frame.sort_values("name").reset_index(drop=True)  # noqa: E731
		return key(fast), key(plain)

	def test_fast_read_matches_the_ordinary_read(self):
		frappe.db.set_value("Bank Customer Profile", "_T-CRM-0001", "customer_name", 'Wang, "Li"\nJr')
		fast, plain = self.read_both()
		self.assertEqual(len(fast), len(testing.CUSTOMERS))
		self.assertEqual(fast.to_dict("records"), plain.to_dict("records"))

	def test_a_value_holding_a_separator_falls_back_to_the_ordinary_read(self):
		for name in testing.CUSTOMERS:  # every row a field too many: the case pandas would misread
			frappe.db.set_value("Bank Customer Profile", name, "customer_name", "Zhang\x1fWei")
		fast, plain = self.read_both()
		self.assertEqual(fast.to_dict("records"), plain.to_dict("records"))
		self.assertEqual(fast["customer_name"].iloc[0], "Zhang\x1fWei")
		self.assert_read_checksum_is_the_checksum()

	def test_name_ranges_follow_the_database_order(self):
		from branch_crm import store

		where, values = "`name` like %(prefix)s", {"prefix": "_T-CRM-%"}
		ordered = frappe.db.sql(
			"select `name` from `tabBank Customer Profile` where `name` like %(prefix)s order by `name`",
			values,
			pluck=True,
		)
		expected = [(ordered[i], ordered[min(i + 2, len(ordered)) - 1]) for i in range(0, len(ordered), 2)]
		self.assertGreater(len(expected), 2)
		self.assertEqual(store.name_ranges("Bank Customer Profile", 2, where=where, values=values), expected)
		# a text of names that cannot be split back: read the ordinary way, the same ranges
		with patch.object(store, "_ROW", "-"):
			self.assertEqual(
				store.name_ranges("Bank Customer Profile", 2, where=where, values=values), expected
			)

	def test_a_read_gives_the_checksum_of_the_rows_it_read(self):
		# hashed from the text read: a multi-byte name and missing values hash as the database's do
		frappe.db.set_value(
			"Bank Customer Profile", "_T-CRM-0001", {"customer_name": "王小明", "churn_band": None}
		)
		self.assert_read_checksum_is_the_checksum()
		before = self.assert_read_checksum_is_the_checksum()
		frappe.db.set_value("Bank Customer Profile", "_T-CRM-0002", "aum", 123.45)
		self.assertNotEqual(self.assert_read_checksum_is_the_checksum(), before)

	def assert_read_checksum_is_the_checksum(self) -> tuple:
		"""The checksum a fast read takes of its rows is ``store.checksum`` of the same columns."""
		from branch_crm import store

		where, values = "`name` like %(prefix)s", {"prefix": "_T-CRM-%"}
		frame, checked = store.read_frame_fast(
			"Bank Customer Profile", self.COLUMNS, where=where, values=values, checksum=True
		)
		self.assertEqual(checked[0], len(frame))
		self.assertEqual(
			checked,
			store.checksum(
				[f"`{c}`" for c in self.COLUMNS], f"from `tabBank Customer Profile` where {where}", values
			),
		)
		self.assertEqual(frame.to_dict("records"), self.read_both()[1].to_dict("records"))
		return checked

	def test_month_rows_are_the_months_asked_for(self):
		from branch_crm import store

		batch = [snapshot(month=f"2024-{m:02d}", aum=1000.5 * m, txn_count=m) for m in range(1, 7)]
		batch.append(snapshot(customer="_T-CRM-0002", month="2024-03", aum=7.25))
		self.assertFalse(data_intake.run("snapshots", batch).rejected)
		rows = store.read_month_rows(
			["aum", "txn_count"],
			frappe.utils.getdate("2024-02-01"),
			frappe.utils.getdate("2024-04-01"),
			customers=["_T-CRM-0001", "_T-CRM-0002"],
		)
		rows = rows.sort_values(["customer", "month"]).reset_index(drop=True)
		self.assertEqual(
			[(r.customer, r.month.strftime("%Y-%m"), r.aum, r.txn_count) for r in rows.itertuples()],
			[
				("_T-CRM-0001", "2024-02", 2001.0, 2.0),
				("_T-CRM-0001", "2024-03", 3001.5, 3.0),
				("_T-CRM-0001", "2024-04", 4002.0, 4.0),
				("_T-CRM-0002", "2024-03", 7.25, 0.0),
			],
		)

	def test_month_rows_of_profiles_chosen_by_a_condition_are_the_same_rows(self):
		from branch_crm import store

		batch = [snapshot(month=f"2024-{m:02d}", aum=1000.5 * m, txn_count=m) for m in range(1, 7)]
		batch.append(snapshot(customer="_T-CRM-0002", month="2024-03", aum=7.25))
		self.assertFalse(data_intake.run("snapshots", batch).rejected)
		first, last = frappe.utils.getdate("2024-02-01"), frappe.utils.getdate("2024-04-01")
		customers = ["_T-CRM-0001", "_T-CRM-0002"]
		by_list = store.read_month_rows(["aum", "txn_count"], first, last, customers=customers)
		joined = store.read_month_rows(
			["aum", "txn_count"], first, last, profiles=("p.`name` in %(names)s", {"names": tuple(customers)})
		)
		self.assertEqual(len(joined), 4)
		# the checksums read with the rows are those month_rows_checksum takes without reading them
		columns, chosen = ["aum", "txn_count"], ("p.`name` in %(names)s", {"names": tuple(customers)})
		for arguments in ({"between": ("_T-CRM-0001", "_T-CRM-0002")}, {"profiles": chosen}):
			rows, checked = store.read_month_rows(columns, first, last, checksum=True, **arguments)
			self.assertEqual(len(rows), 4, arguments)
			self.assertEqual(sum(count for count, _forward, _backward in checked), len(rows), arguments)
			self.assertEqual(checked, store.month_rows_checksum(columns, first, last, **arguments), arguments)
		self.assertEqual(len(checked), 3, "one checksum per month read")
		order = ["customer", "month"]
		self.assertTrue(
			joined.sort_values(order, ignore_index=True).equals(by_list.sort_values(order, ignore_index=True))
		)

	def test_month_rows_refuse_an_in_list_too_long_for_a_lookup(self):
		from branch_crm import store

		too_many = [f"_T-CRM-X{i:05d}" for i in range(store.IN_LIST_LIMIT + 1)]
		first = frappe.utils.getdate("2024-01-01")
		with self.assertRaises(ValueError):
			store.read_month_rows(["aum"], first, first, customers=too_many)
		self.assertTrue(store.read_month_rows(["aum"], first, first, customers=too_many[:-1]).empty)

	def test_fast_join_matches_the_ordinary_read(self):
		from branch_crm import store

		holdings = [
			{"customer": "_T-CRM-0001", "product": "DEP-DEMAND", "account_no": "A-1", "balance": 1234.56},
			{"customer": "_T-CRM-0002", "product": "DEP-DEMAND", "account_no": "A-2", "balance": 0},
			{"customer": "_T-CRM-0006", "product": "DEP-DEMAND", "account_no": "B-1", "balance": 99},
		]
		self.assertFalse(data_intake.run("holdings", holdings).rejected)
		source = """from `tabCustomer Product Holding` h
			join `tabBank Customer Profile` p on p.`name` = h.`parent`
			where p.`branch` = %(branch)s and h.`parenttype` = 'Bank Customer Profile'"""
		values = {"branch": testing.BRANCH_A}
		fast = store.read_query_fast(
			{"customer": "h.`parent`", "product": "h.`product`", "balance": "h.`balance`"},
			source,
			values,
			text=["customer", "product"],
		)
		plain = store.read_query(
			f"select h.`parent` as customer, h.`product` as product, h.`balance` as balance {source}",
			values,
			floats=["balance"],
		)
		order = lambda frame: frame.sort_values("customer").reset_index(drop=True)  # noqa: E731
		self.assertEqual(
			order(fast).to_dict("records"),
			[
				{"customer": "_T-CRM-0001", "product": "DEP-DEMAND", "balance": 1234.56},
				{"customer": "_T-CRM-0002", "product": "DEP-DEMAND", "balance": 0.0},
			],
		)
		self.assertEqual(order(fast).to_dict("records"), order(plain).to_dict("records"))
		columns = {"customer": "h.`parent`", "product": "h.`product`", "balance": "h.`balance`"}
		_fast, checked = store.read_query_fast(
			columns, source, values, text=["customer", "product"], checksum=True
		)
		self.assertEqual(checked, store.checksum(list(columns.values()), source, values))


class TestReadAhead(testing.BranchCRMTestCase):
	"""``store.read_ahead``: the nightly jobs read the next chunks on connections of their own while
	they score this one; a second connection only sees committed rows."""

	CHUNKS = [(name,) for name in sorted(testing.CUSTOMERS)]

	def tearDown(self):
		frappe.db.rollback()

	@staticmethod
	def read(name):
		connection = frappe.db.sql("select connection_id()")[0][0]
		return frappe.db.get_value("Bank Customer Profile", name, "customer_name"), connection

	def test_chunks_come_in_order_read_on_other_connections_which_are_closed_after(self):
		import threading

		from branch_crm import store

		frappe.db.commit()
		this_connection = frappe.db.sql("select connection_id()")[0][0]
		threads = threading.active_count()
		results = [(chunk, pending.result()) for chunk, pending in store.read_ahead(self.read, self.CHUNKS)]
		self.assertEqual([chunk for chunk, _result in results], self.CHUNKS)
		self.assertEqual(
			[name for name, _connection in (result for _chunk, result in results)],
			[frappe.db.get_value("Bank Customer Profile", c, "customer_name") for (c,) in self.CHUNKS],
		)
		readers = {connection for _chunk, (_name, connection) in results}
		self.assertNotIn(this_connection, readers)
		self.assertEqual(len(readers), 2, "two reader connections by default")
		self.assertEqual(threading.active_count(), threads, "the reader threads are gone")
		alive = frappe.db.sql("select id from information_schema.processlist", pluck="id")
		self.assertFalse(readers & set(alive), "the reader connections are closed")

	def test_not_while_deciding_the_next_chunk_is_read_only_once_the_caller_comes_back(self):
		import threading

		from branch_crm import store

		frappe.db.commit()
		events, lock = [], threading.Lock()

		def read(name):
			with lock:
				events.append(("read", name))
			return name

		for chunk, pending in store.read_ahead(read, self.CHUNKS[:3], readers=1, while_deciding=False):
			pending.result()
			time.sleep(0.2)  # deciding: a read submitted now would be recorded before the decision
			with lock:
				events.append(("decided", chunk[0]))
		names = [name for (name,) in self.CHUNKS[:3]]
		self.assertEqual(
			events,
			[
				("read", names[0]),
				("decided", names[0]),
				("read", names[1]),
				("decided", names[1]),
				("read", names[2]),
				("decided", names[2]),
			],
		)

	def test_with_uncommitted_writes_every_chunk_is_read_in_line(self):
		from branch_crm import store

		frappe.db.set_value("Bank Customer Profile", "_T-CRM-0001", "customer_name", "Not yet committed")
		this_connection = frappe.db.sql("select connection_id()")[0][0]
		results = dict(
			(chunk[0], pending.result()) for chunk, pending in store.read_ahead(self.read, self.CHUNKS)
		)
		self.assertEqual({connection for _name, connection in results.values()}, {this_connection})
		self.assertEqual(results["_T-CRM-0001"][0], "Not yet committed")

	def test_a_failed_read_fails_its_own_chunk_and_stopping_early_stops_the_readers(self):
		import threading

		from branch_crm import store

		frappe.db.commit()
		broken = self.CHUNKS[1][0]

		def read(name):
			if name == broken:
				raise ValueError(f"cannot read {name}")
			return name

		threads = threading.active_count()
		outcomes = {}
		for (name,), pending in store.read_ahead(read, self.CHUNKS):
			try:
				outcomes[name] = pending.result()
			except ValueError as error:
				outcomes[name] = str(error)
		self.assertEqual(outcomes[broken], f"cannot read {broken}")
		self.assertEqual(
			[outcomes[c] for (c,) in self.CHUNKS if c != broken], [c for (c,) in self.CHUNKS if c != broken]
		)

		reads = store.read_ahead(read, self.CHUNKS)
		_chunk, first = next(reads)
		self.assertEqual(first.result(), self.CHUNKS[0][0])
		reads.close()
		self.assertEqual(threading.active_count(), threads)


class TestWriteBehind(testing.BranchCRMTestCase):
	"""``store.write_behind``: the nightly jobs write a chunk on a connection of their own while they
	score the next; each write is committed or rolled back whole."""

	NAMES = sorted(testing.CUSTOMERS)

	def setUp(self):
		self.original = {
			name: frappe.db.get_value("Bank Customer Profile", name, "customer_name") for name in self.NAMES
		}

	def tearDown(self):
		frappe.db.rollback()
		for name, customer_name in self.original.items():
			self.rename(name, customer_name)
		frappe.db.commit()

	@staticmethod
	def rename(name, customer_name):
		frappe.db.sql(
			"update `tabBank Customer Profile` set `customer_name` = %s where `name` = %s",
			(customer_name, name),
		)
		return frappe.db.sql("select connection_id()")[0][0]

	def stored_names(self):
		frappe.db.rollback()  # a fresh snapshot: see what the writer committed
		return {
			name: frappe.db.get_value("Bank Customer Profile", name, "customer_name") for name in self.NAMES
		}

	def test_writes_run_in_order_on_another_connection_each_committed_then_it_is_closed(self):
		import threading

		from branch_crm import store

		frappe.db.commit()
		this_connection = frappe.db.sql("select connection_id()")[0][0]
		threads = threading.active_count()
		first, second = self.NAMES[:2]
		# this connection's snapshot begins before the writes
		self.assertEqual(
			frappe.db.get_value("Bank Customer Profile", first, "customer_name"), self.original[first]
		)
		with store.write_behind() as submit:
			written = [
				submit(self.rename, first, "Written first"),
				submit(self.rename, first, "Written again"),  # after the first: the last word stays
				submit(self.rename, second, "Written too"),
			]
			writers = {future.result() for future in written}
		self.assertEqual(len(writers), 1, "one writer connection")
		self.assertNotIn(this_connection, writers)
		self.assertEqual(
			frappe.db.get_value("Bank Customer Profile", first, "customer_name"),
			"Written again",
			"leaving the block ends this connection's old snapshot",
		)
		stored = self.stored_names()
		self.assertEqual((stored[first], stored[second]), ("Written again", "Written too"))
		self.assertEqual(threading.active_count(), threads, "the writer thread is gone")
		# the client has closed it; the server drops it from its process list a moment later, which
		# takes longer on a busy machine
		for _attempt in range(50):
			alive = frappe.db.sql("select id from information_schema.processlist", pluck="id")
			if not writers & set(alive):
				break
			time.sleep(0.1)
		self.assertFalse(writers & set(alive), "the writer connection is closed")

	def test_two_writers_write_chunks_at_once_and_each_chunk_is_done_in_order(self):
		import threading

		from branch_crm.jobs.chunks import run_chunks

		frappe.db.commit()
		names = self.NAMES[:4]
		both_writing = threading.Barrier(2, timeout=10)
		finished = []

		def write(name):
			connection = self.rename(name, f"Written {name}")
			if name in names[:2]:
				# the first two chunks are in the database at the same time, or this times out
				both_writing.wait()
			return connection

		run_chunks(
			[(name,) for name in names],
			read=lambda name: name,
			decide=lambda name: name,
			write=write,
			done=lambda chunk, _decided, connection: finished.append((chunk[0], connection)),
			failed=lambda chunk: self.fail(f"chunk {chunk} failed"),
			failure_title=lambda chunk: f"test chunk {chunk}",
			read_ahead=False,
			writers=2,
		)
		self.assertEqual([name for name, _connection in finished], names, "done in the chunks' order")
		self.assertEqual(len({connection for _name, connection in finished}), 2, "two writer connections")
		stored = self.stored_names()
		self.assertEqual([stored[name] for name in names], [f"Written {name}" for name in names])

	def test_a_failed_write_leaves_nothing_behind_and_the_next_write_goes_on(self):
		from branch_crm import store

		frappe.db.commit()
		first, second = self.NAMES[:2]

		def half_then_fail(name):
			self.rename(name, "Half written")
			raise ValueError(f"cannot write {name}")

		with store.write_behind() as submit:
			failed = submit(half_then_fail, first)
			with self.assertRaisesRegex(ValueError, f"cannot write {first}"):
				failed.result()
			submit(self.rename, second, "Written after the failure").result()
		stored = self.stored_names()
		self.assertEqual(stored[first], self.original[first], "the failed write was rolled back")
		self.assertEqual(stored[second], "Written after the failure")

	def test_with_uncommitted_writes_each_write_runs_at_once_on_this_connection(self):
		from branch_crm import store

		first, second = self.NAMES[:2]
		self.rename(first, "Not yet committed")
		this_connection = frappe.db.sql("select connection_id()")[0][0]
		with store.write_behind() as submit:
			written = submit(self.rename, second, "Written in line")
			self.assertTrue(written.done(), "done before submit returned")
			self.assertEqual(written.result(), this_connection)
		# the write committed this connection's transaction, the caller's own writes with it
		stored = self.stored_names()
		self.assertEqual((stored[first], stored[second]), ("Not yet committed", "Written in line"))

	def test_a_large_chunk_is_written_in_shares_on_connections_of_their_own(self):
		from branch_crm import store

		frappe.db.commit()
		# this connection's snapshot begins before the writes
		self.assertEqual(
			frappe.db.get_value("Bank Customer Profile", self.NAMES[0], "customer_name"),
			self.original[self.NAMES[0]],
		)
		renamed = pd.DataFrame({"name": self.NAMES, "customer_name": [f"Share {n}" for n in self.NAMES]})
		connections = []
		update_rows = store.update_rows

		def recorded(*args, **kwargs):
			connections.append(frappe.db.sql("select connection_id()")[0][0])
			return update_rows(*args, **kwargs)

		with patch.object(store, "WRITE_CHUNK", 2), patch.object(store, "update_rows", recorded):
			written = store.update_rows_together("Bank Customer Profile", renamed, ["customer_name"])
		self.assertEqual(written, len(self.NAMES))
		self.assertEqual(len(set(connections)), 2, "two shares, each on a connection of its own")
		self.assertNotIn(frappe.db.sql("select connection_id()")[0][0], connections)
		# seen at once by the caller, whose old snapshot was ended
		self.assertEqual(
			frappe.db.get_value("Bank Customer Profile", self.NAMES[0], "customer_name"),
			f"Share {self.NAMES[0]}",
		)
		self.assertEqual(self.stored_names(), {n: f"Share {n}" for n in self.NAMES})

	def test_with_uncommitted_writes_a_large_chunk_is_written_on_this_connection(self):
		from branch_crm import store

		self.rename(self.NAMES[0], "Not yet committed")
		renamed = pd.DataFrame({"name": self.NAMES[1:], "customer_name": "In line"})
		with patch.object(store, "WRITE_CHUNK", 1):
			store.update_rows_together("Bank Customer Profile", renamed, ["customer_name"])
		self.assertTrue(frappe.db.transaction_writes, "written in the caller's transaction, not committed")
		frappe.db.rollback()
		self.assertEqual(self.stored_names(), self.original)

	def test_reads_together_each_on_a_connection_of_its_own(self):
		from branch_crm import store

		frappe.db.commit()
		this_connection = frappe.db.sql("select connection_id()")[0][0]
		reads = {
			name: lambda name=name: (
				frappe.db.get_value("Bank Customer Profile", name, "customer_name"),
				frappe.db.sql("select connection_id()")[0][0],
			)
			for name in self.NAMES
		}
		read = store.read_together(reads, readers=2)
		self.assertEqual({name: got[0] for name, got in read.items()}, self.original)
		readers = {connection for _name, connection in read.values()}
		self.assertEqual(len(readers), 2)
		self.assertNotIn(this_connection, readers)
		self.rename(self.NAMES[0], "Not yet committed")
		in_line = store.read_together(reads)
		self.assertEqual(in_line[self.NAMES[0]], ("Not yet committed", this_connection))
