# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

"""The intake's set-based write path (issue 15 point 9): rows escaped column by column say exactly
what PyMySQL would have sent, an upsert stores them as they were and moves nothing on a repeat, new
customers are placed from loads the database sums, and a batch of new and changed customers gets
the confirmation dates each would get alone."""

import datetime as dt
import decimal
import time

import frappe
import numpy as np
import pandas as pd
import pymysql

from branch_crm import books, data_intake, store, testing
from branch_crm.engine.assignment import assign_new_customers, book_loads
from branch_crm.engine.information import CONFIRMED_FIELDS

test_ignore = testing.TEST_IGNORE
PROFILE = "Bank Customer Profile"
TEXTS = [
	"plain",
	'O\'Brien \\ "quoted" %s %(x)s',
	"黄俊鹏 😀",
	"tab\tnew\nline\r\x00nul\x1a",
	"",
	None,
	"  spaced  ",
	"\\",
	"'",
	np.nan,
]


def new_customer(customer: str, **values) -> dict:
	"""A customer record like the test world's, under a new number."""
	return {**testing.customer_record("_T-CRM-0001"), "customer": customer, **values}


def edge_frame(prefix: str) -> pd.DataFrame:
	n = len(TEXTS)
	return pd.DataFrame(
		{
			"name": [f"{prefix}{i:02d}" for i in range(n)],
			"customer": [f"{prefix}{i:02d}" for i in range(n)],
			"customer_name": TEXTS,
			"address": TEXTS[::-1],
			"branch": [testing.BRANCH_A] * n,
			"date_of_birth": [
				dt.date(1980, 1, 2),
				None,
				pd.Timestamp("1990-05-06"),
				dt.datetime(1970, 1, 1, 0, 0, 0),
				np.nan,
				pd.NaT,
				dt.date(2000, 2, 29),
				None,
				None,
				dt.date(1955, 12, 31),
			],
			"declared_annual_income": [
				1.5,
				np.nan,
				0.1 + 0.2,
				123456789012.12345,
				1e-10,
				2946850.7,
				-0.0,
				99.999999999,
				5,
				7.25,
			],
			"do_not_contact": [True, False] * (n // 2),
			"aum": pd.Series(
				[
					decimal.Decimal("12.345678901"),
					3,
					4.5,
					None,
					np.float64(7.1),
					np.int64(9),
					"10.5",
					True,
					np.nan,
					0,
				],
				dtype=object,
			),
			"acquired_on": pd.to_datetime(["2020-01-01", None, "2021-03-04", "2019-12-31", None] * 2),
			"tier": pd.Categorical(["Mass", "VIP", None, "Mass", "Core"] * 2),
		}
	)


def branch_book(branch: str) -> pd.DataFrame:
	"""Every profile of the branch as the engine's placement and load counts read them."""
	return store.read_frame(
		PROFILE, ["customer", "relationship_manager", "aum"], where="`branch` = %(b)s", values={"b": branch}
	)


class TestSetBasedWrites(testing.BranchCRMTestCase):
	def tearDown(self):
		frappe.db.rollback()
		super().tearDown()

	def test_rows_are_written_as_pymysql_would_write_them(self):
		frame = edge_frame("_T-IW-A")
		frame["stamped"] = pd.Timestamp("2026-12-04 10:11:12.123456")
		columns = list(frame.columns)
		frappe.db.sql("select 1")  # connected
		cursor = frappe.db._conn.cursor()
		expected = [
			cursor.mogrify("(" + ", ".join(["%s"] * len(columns)) + ")", row)
			for row in store._rows(frame, columns)
		]
		self.assertEqual(store._value_rows(frame, columns), expected)

	def test_date_columns_are_written_as_pymysql_would_write_them(self):
		frame = pd.DataFrame(
			{
				"day": [
					dt.date(1980, 1, 2),
					None,
					dt.date(1, 1, 1),
					dt.date(2026, 12, 31),
					dt.date(1980, 1, 2),
				],
				"mixed": [
					dt.date(1980, 1, 2),
					dt.datetime(1970, 1, 1, 0, 0, 1),
					None,
					np.nan,
					dt.date(1, 1, 1),
				],
			}
		)
		frappe.db.sql("select 1")  # connected
		cursor = frappe.db._conn.cursor()
		expected = [cursor.mogrify("(%s, %s)", row) for row in store._rows(frame, ["day", "mixed"])]
		self.assertEqual(store._value_rows(frame, ["day", "mixed"]), expected)

	def test_upsert_stores_the_values_and_a_repeat_moves_nothing(self):
		frame = edge_frame("_T-IW-B")
		columns = list(frame.columns)
		store.upsert(PROFILE, frame, columns, update_columns=columns[2:])
		stored = store.read_frame(
			PROFILE,
			["name", "customer_name", "address", "date_of_birth", "aum", "tier"],
			where="`name` like '_T-IW-B%%'",
		).sort_values("name")
		self.assertEqual(stored["customer_name"].tolist(), [None if t is np.nan else t for t in TEXTS])
		self.assertEqual(stored["address"].tolist(), [None if t is np.nan else t for t in TEXTS[::-1]])
		self.assertEqual(stored["date_of_birth"].iloc[0], dt.date(1980, 1, 2))
		self.assertAlmostEqual(stored["aum"].iloc[0], 12.345678901)
		self.assertEqual(stored["tier"].tolist()[:3], ["Mass", "VIP", None])

		def modified():
			return dict(
				frappe.db.sql(f"select name, modified from `tab{PROFILE}` where name like '_T-IW-B%%'")
			)

		before = modified()
		time.sleep(0.01)
		store.upsert(PROFILE, frame, columns, update_columns=columns[2:])
		self.assertEqual(modified(), before)
		changed = frame.copy()
		changed.loc[3, "aum"] = 42
		store.upsert(PROFILE, changed, columns, update_columns=columns[2:])
		after = modified()
		self.assertEqual({name for name in after if after[name] != before[name]}, {"_T-IW-B03"})

	def test_text_holding_sql_words_is_stored_as_sent(self):
		# frappe.db.sql rewrites "ifnull(" to "coalesce(" anywhere in a statement; the intake's
		# statements of literals must not touch a customer's text
		texts = ["IFNULL(a, b)", "x ifnull( y", "coalesce(", "%s %%"]
		frame = pd.DataFrame({"name": [f"_T-IW-F{i}" for i in range(len(texts))], "customer_name": texts})
		frame["customer"] = frame["name"]
		writes = frappe.db.transaction_writes
		store.upsert(PROFILE, frame, ["name", "customer", "customer_name"], update_columns=["customer_name"])
		self.assertGreater(frappe.db.transaction_writes, writes)
		stored = store.read_frame(PROFILE, ["name", "customer_name"], where="`name` like '_T-IW-F%%'")
		self.assertEqual(stored.sort_values("name")["customer_name"].tolist(), texts)

	def test_in_lists_are_written_as_pymysql_would_write_them(self):
		keys = [t for t in TEXTS if isinstance(t, str)] + ["%(x)s %s ifnull(", "_T-CRM-0001"]
		frappe.db.sql("select 1")  # connected
		cursor = frappe.db._conn.cursor()
		self.assertEqual(
			cursor.mogrify("%(k)s", {"k": store._in_list(keys)}).replace(",", ""),
			cursor.mogrify("%(k)s", {"k": tuple(keys)}).replace(",", ""),
		)
		frame = pd.DataFrame({"name": [f"_T-IW-G{i}" for i in range(len(keys))], "customer_name": keys})
		frame["customer"] = frame["name"]
		store.upsert(PROFILE, frame, ["name", "customer", "customer_name"])
		for fast in (False, True):
			found = store.read_by_values(PROFILE, ["name", "customer_name"], "customer_name", keys, fast=fast)
			self.assertEqual(sorted(found["name"]), sorted(frame["name"]))

	def test_statements_sent_behind_are_part_of_the_transaction(self):
		frame = pd.DataFrame({"name": ["_T-IW-H1", "_T-IW-H2"], "customer_name": ["H1", "H2"]})
		frame["customer"] = frame["name"]
		statements = list(store.upsert_statements(PROFILE, frame, ["name", "customer", "customer_name"]))
		later = frame.assign(name=frame["name"] + "b", customer=frame["name"] + "b")
		last = frame.assign(name=frame["name"] + "c", customer=frame["name"] + "c")
		columns = ["name", "customer", "customer_name"]
		writes = frappe.db.transaction_writes
		with store.sent_behind(list(statements)) as send:
			masked = frame["customer_name"].str.lower().tolist()  # the block computes meanwhile
			for statement in store.upsert_statements(PROFILE, later, columns):
				send(statement)
			# a block that does need the database waits for the statements, then has it
			seen = frappe.db.sql(f"select count(*) from `tab{PROFILE}` where name like '_T-IW-H%%'")[0][0]
			for statement in store.upsert_statements(PROFILE, last, columns):
				send(statement)  # in line now
		self.assertEqual((masked, seen), (["h1", "h2"], 4))
		self.assertEqual(frappe.db.transaction_writes, writes + 3)
		self.assertEqual(
			frappe.db.sql(f"select count(*) from `tab{PROFILE}` where name like '_T-IW-H%%'")[0][0], 6
		)
		frappe.db.rollback()
		self.assertFalse(frappe.db.exists(PROFILE, "_T-IW-H1"))

	def test_a_statement_sent_behind_that_fails_raises_on_leaving(self):
		frame = pd.DataFrame({"name": ["_T-IW-J1"], "customer_name": ["J1"], "customer": ["_T-IW-J1"]})
		store.insert_rows(PROFILE, frame, ["name", "customer", "customer_name"])
		twice = store._insert_statements(
			PROFILE,
			store._stamp(frame, frappe.utils.now_datetime(), "Administrator"),
			["name", "customer", "customer_name", "creation", "modified", "owner", "modified_by"],
			"insert",
			"",
			10,
		)
		with self.assertRaises(pymysql.err.IntegrityError):
			with store.sent_behind(twice):
				pass
		# a block that raises has its own error raised
		with self.assertRaises(ZeroDivisionError):
			with store.sent_behind([]) as send:
				send(next(store.upsert_statements(PROFILE, frame.assign(name="_T-IW-J2"), ["name"])))
				1 / 0
		self.assertEqual(frappe.db.sql("select 1")[0][0], 1)  # the connection is still usable

	def test_insert_ignore_counts_the_rows_the_database_took(self):
		frame = edge_frame("_T-IW-C")
		columns = ["name", "customer", "customer_name", "branch"]
		self.assertEqual(store.insert_rows(PROFILE, frame, columns, ignore_duplicates=True), len(frame))
		self.assertEqual(store.insert_rows(PROFILE, frame, columns, ignore_duplicates=True), 0)

	def test_snapshot_names_follow_the_month(self):
		result = data_intake.run(
			"snapshots",
			[
				{"customer": "_T-CRM-0001", "month": "2021-03-15", "aum": 1},
				{"customer": "_T-CRM-0002", "month": "2021-04", "aum": 2},
			],
		)
		self.assertEqual((result.inserted, result.rejected), (2, []))
		for customer, month in (("_T-CRM-0001", "2021-03-01"), ("_T-CRM-0002", "2021-04-01")):
			name = data_intake.snapshot_name(customer, month)
			self.assertEqual(str(frappe.db.get_value("Customer Monthly Snapshot", name, "month")), month)

	def test_new_customers_are_placed_as_from_the_whole_books(self):
		new = [
			new_customer(f"_T-IW-D{i}", relationship_manager=None, acquisition_channel=channel, **extra)
			for i, (channel, extra) in enumerate(
				[
					("Customer Referral", {"referred_by_customer": "_T-CRM-0004"}),
					("Outbound Marketing", {}),
					("Outbound Marketing", {}),
					("Natural Walk-in", {"first_served_by": testing.user("rm2")}),
					("Customer Referral", {"referred_by_customer": "_T-IW-D0"}),
				]
			)
		]
		frame = pd.DataFrame(new)
		placed = books.assign_new(frame)
		# what the engine decides from every profile of the branch, as the intake read them before
		staff = books._staff(testing.BRANCH_A)
		whole = branch_book(testing.BRANCH_A)
		expected = assign_new_customers(
			frame.assign(aum=0.0, tier=None),
			staff,
			whole,
			books._tiers(),
			templates=books._templates(),
			labels=books._names(staff),
		)
		self.assertEqual(placed["relationship_manager"].tolist(), expected["relationship_manager"].tolist())
		self.assertEqual(placed["assignment_reason"].tolist(), expected["reason"].tolist())
		self.assertTrue(placed["relationship_manager"].notna().all())

	def test_branch_loads_count_books_as_the_engine_does(self):
		# scored on different days (the index the database groups in starts with branch and the
		# scoring date), a negative AUM (counts as 0), a blank manager and one in the other branch
		frappe.db.sql(
			f"update `tab{PROFILE}` set `churn_scored_on` = %(d)s, `aum` = -50 where name = '_T-CRM-0002'",
			{"d": dt.date(2026, 1, 31)},
		)
		store.upsert(
			PROFILE,
			pd.DataFrame(
				{
					"name": ["_T-IW-L1", "_T-IW-L2", "_T-IW-L3"],
					"customer_name": ["L1", "L2", "L3"],
					"branch": [testing.BRANCH_A, testing.BRANCH_A, testing.BRANCH_B],
					"relationship_manager": [testing.user("rm2"), "  ", testing.user("rm1")],
					"aum": [1000.5, 7.0, 99.0],
				}
			).assign(customer=lambda f: f["name"]),
			["name", "customer", "customer_name", "branch", "relationship_manager", "aum"],
		)
		staff = books._staff(testing.BRANCH_A)
		whole = branch_book(testing.BRANCH_A)
		expected = book_loads(whole)
		expected = expected[expected["user"].isin(staff["user"])].set_index("user").sort_index()
		loads = books.branch_loads((testing.BRANCH_A,), staff["user"]).set_index("user").sort_index()
		self.assertEqual(loads.index.tolist(), expected.index.tolist())
		self.assertEqual(loads["customers"].tolist(), expected["customers"].astype(float).tolist())
		np.testing.assert_allclose(loads["aum"].to_numpy(float), expected["aum"].to_numpy(float))
		self.assertTrue(books.branch_loads((), staff["user"]).empty)
		# a capped book is counted up to its cap, and whole below it
		rm1, rm2 = testing.user("rm1"), testing.user("rm2")
		capped = books.branch_loads((testing.BRANCH_A,), {rm1: 2, rm2: 50}).set_index("user")
		self.assertEqual(capped.at[rm1, "customers"], 2)
		self.assertEqual(capped.at[rm2, "customers"], expected.at[rm2, "customers"])
		self.assertAlmostEqual(capped.at[rm2, "aum"], expected.at[rm2, "aum"])
		whole_and_capped = books.branch_loads((testing.BRANCH_A,), {rm1: None, rm2: 50}).set_index("user")
		self.assertEqual(whole_and_capped.at[rm1, "customers"], expected.at[rm1, "customers"])

	def test_a_batch_of_new_and_changed_customers_confirms_each_as_alone(self):
		long_ago = dt.date(2020, 1, 1)
		confirmed = list(CONFIRMED_FIELDS.values())
		frappe.db.sql(
			f"update `tab{PROFILE}` set {', '.join(f'`{f}` = %(d)s' for f in confirmed)} where name = '_T-CRM-0002'",
			{"d": long_ago},
		)
		batch = [
			new_customer("_T-IW-E1"),
			testing.customer_record("_T-CRM-0002", mobile_no="13911110000"),
			new_customer("_T-IW-E2"),
		]
		result = data_intake.run("customers", batch)
		self.assertEqual((result.inserted, result.updated, result.rejected), (2, 1, []))
		today = frappe.utils.getdate()
		for customer in ("_T-IW-E1", "_T-IW-E2"):
			self.assertEqual(set(frappe.db.get_value(PROFILE, customer, confirmed)), {today})
		self.assertEqual(
			frappe.db.get_value(PROFILE, "_T-CRM-0002", confirmed, as_dict=True),
			{
				"identity_confirmed_on": long_ago,
				"contact_confirmed_on": today,
				"occupation_confirmed_on": long_ago,
			},
		)
