import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine import schema
from branch_crm.engine.intake import (
	NUMERIC_COLUMNS,
	Rejection,
	blank_unknown_references,
	check_references,
	record_key,
	split_changes,
	validate_keeping_records,
	validate_records,
)

TODAY = dt.date(2025, 3, 10)


def customer(**fields):
	return {"customer": "C00000001", "customer_name": "张伟", **fields}


def snapshot(**fields):
	return {"customer": "C00000001", "month": "2025-02", "aum": 1000.0, **fields}


def only(rejections: list[Rejection]) -> Rejection:
	assert len(rejections) == 1, [r.as_dict() for r in rejections]
	return rejections[0]


# ---------------------------------------------------------------- valid records


def test_valid_customer_keeps_every_column_and_applies_defaults():
	record = customer(
		branch="Chaoyang Branch",
		gender="Female",
		date_of_birth="1985-06-01",
		id_type="Resident ID Card",
		mobile_no="13800138000",
		email_id="zhang.wei@example.com",
		declared_annual_income="250000",
		do_not_contact="1",
		acquisition_channel="Customer Referral",
		referred_by_customer="C00000000",
	)
	frame, rejections = validate_records("customers", [record], today=TODAY)
	assert rejections == []
	assert list(frame.columns) == [*schema.CUSTOMER_COLUMNS, "_index"]
	row = frame.iloc[0]
	assert row["date_of_birth"] == dt.date(1985, 6, 1)
	assert row["declared_annual_income"] == 250000.0
	assert row["do_not_contact"] is True or row["do_not_contact"] == 1
	assert row["status"] == "Active"  # default
	assert row["intent_level"] == "Unknown"  # default
	assert row["employer"] is None
	assert row["_index"] == 0


def test_valid_holding_and_snapshot():
	holdings, rejected = validate_records(
		"holdings",
		[
			{
				"customer": "C1",
				"product": "DEP-DEMAND",
				"account_no": 6222001,
				"balance": "12.5",
				"opened_on": "2020-01-01",
			}
		],
		today=TODAY,
	)
	assert rejected == []
	assert holdings.iloc[0]["account_no"] == "6222001"  # account numbers are text
	assert holdings.iloc[0]["balance"] == 12.5
	snapshots, rejected = validate_records(
		"snapshots", [snapshot(txn_count="7", contribution=-3.5)], today=TODAY
	)
	assert rejected == []
	row = snapshots.iloc[0]
	assert row["month"] == dt.date(2025, 2, 1)
	assert row["txn_count"] == 7
	assert row["contribution"] == -3.5  # below-zero customers are allowed
	assert row["deposits"] == 0.0  # default


def test_blank_values_mean_missing():
	frame, rejections = validate_records(
		"customers",
		[customer(employer="", declared_annual_income=float("nan"), date_of_birth=pd.NaT, branch="  ")],
		today=TODAY,
	)
	assert rejections == []
	row = frame.iloc[0]
	assert row["employer"] is None and row["date_of_birth"] is None and row["branch"] is None
	assert pd.isna(row["declared_annual_income"])


def test_whitespace_is_stripped():
	frame, _ = validate_records("customers", [customer(customer_name="  李娜 ")], today=TODAY)
	assert frame.iloc[0]["customer_name"] == "李娜"


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize(
	"record, field, reason",
	[
		({"customer": "C2"}, "customer_name", "Field required"),
		(customer(customer_name=""), "customer_name", "Field required"),
		(customer(id_type="Driving Licence"), "id_type", "must be one of 'Resident ID Card'"),
		(customer(email_id="not-an-email"), "email_id", "is not in a valid format"),
		(customer(mobile_no="call me"), "mobile_no", "is not in a valid format"),
		(customer(declared_annual_income=-1), "declared_annual_income", "must be at least 0"),
		(customer(date_of_birth="1985-13-01"), "date_of_birth", "must be a valid date"),
		(customer(favourite_colour="red"), "favourite_colour", "is not a field of this record"),
		(customer(status="Sleeping"), "status", "must be one of 'Active', 'Dormant' or 'Closed'"),
	],
)
def test_each_kind_of_customer_rejection(record, field, reason):
	frame, rejections = validate_records("customers", [record], today=TODAY)
	assert frame.empty
	rejection = only(rejections)
	assert rejection.index == 0
	assert rejection.key == record["customer"]
	assert rejection.field == field
	assert reason in rejection.reason


def test_self_referral_is_rejected_without_a_field():
	_, rejections = validate_records("customers", [customer(referred_by_customer="C00000001")], today=TODAY)
	rejection = only(rejections)
	assert rejection.field is None
	assert rejection.reason == "a customer cannot refer themselves"


def test_record_that_is_not_an_object():
	_, rejections = validate_records("customers", [["C1", "张伟"]], today=TODAY)
	rejection = only(rejections)
	assert (rejection.index, rejection.key, rejection.field) == (0, None, None)
	assert rejection.reason == "record must be an object, got list"
	assert rejection.as_dict()["reason"] == rejection.reason
	assert rejection.as_dict()["params"] == {"type": "list"}


@pytest.mark.parametrize(
	"record, field, reason",
	[
		(snapshot(aum=-1), "aum", "must be at least 0"),
		(snapshot(txn_count=1.5), "txn_count", "not a fraction"),
		(snapshot(complaints=-2), "complaints", "must be at least 0"),
		(snapshot(aum=float("inf")), "aum", "finite number"),
		(snapshot(month="last month"), "month", "must be a month (YYYY-MM)"),
		({"month": "2025-01"}, "customer", "Field required"),
	],
)
def test_each_kind_of_snapshot_rejection(record, field, reason):
	_, rejections = validate_records("snapshots", [record], today=TODAY)
	rejection = only(rejections)
	assert rejection.field == field
	assert reason in rejection.reason


def test_holding_rejections():
	_, rejections = validate_records(
		"holdings",
		[
			{
				"customer": "C1",
				"product": "DEP-TIME-1Y",
				"account_no": "A1",
				"opened_on": "2024-06-01",
				"matures_on": "2024-01-01",
			},
			{"customer": "C1", "product": "DEP-TIME-1Y", "account_no": "A2", "balance": -5},
			{"customer": "C1", "account_no": "A3"},
		],
		today=TODAY,
	)
	by_index = {r.index: r for r in rejections}
	assert by_index[0].reason == "matures_on is before opened_on"
	assert by_index[0].key == "C1/DEP-TIME-1Y/A1"
	assert by_index[1].field == "balance"
	assert by_index[2].field == "product"


def test_one_bad_record_does_not_block_the_others():
	records = [
		customer(customer="C1"),
		customer(customer="C2", gender=None, email_id="bad"),
		customer(customer="C3"),
	]
	frame, rejections = validate_records("customers", records, today=TODAY)
	assert frame["customer"].tolist() == ["C1", "C3"]
	assert frame["_index"].tolist() == [0, 2]
	assert [r.index for r in rejections] == [1]


def test_several_problems_in_one_record_are_all_reported():
	_, rejections = validate_records(
		"customers", [{"customer": "C1", "email_id": "bad", "status": "?"}], today=TODAY
	)
	assert {r.field for r in rejections} == {"customer_name", "email_id", "status"}
	assert {r.index for r in rejections} == {0}


def test_duplicates_within_a_batch():
	records = [
		customer(customer="C1"),
		customer(customer="C2"),
		customer(customer="C1", customer_name="王芳"),
	]
	frame, rejections = validate_records("customers", records, today=TODAY)
	assert frame["customer"].tolist() == ["C1", "C2"]
	assert frame.iloc[0]["customer_name"] == "张伟"  # the first one wins
	rejection = only(rejections)
	assert rejection.index == 2
	assert rejection.key == "C1"
	assert rejection.reason == "duplicate of record 0 in this batch"


def test_duplicate_holdings_use_the_whole_key():
	records = [
		{"customer": "C1", "product": "FUND-MONEY", "account_no": "A1"},
		{"customer": "C1", "product": "FUND-MONEY", "account_no": "A2"},
		{"customer": "C1", "product": "FUND-MONEY", "account_no": "A1", "balance": 9},
	]
	frame, rejections = validate_records("holdings", records, today=TODAY)
	assert len(frame) == 2
	assert only(rejections).index == 2


@pytest.mark.parametrize(
	"month",
	[
		"2025-03",
		"2025-03-01",
		"2025-03-17",
		" 2025-03 ",
		dt.date(2025, 3, 31),
		pd.Timestamp("2025-03-05"),
		# the spellings core-banking exports use
		"2025/03",
		"2025/3",
		"2025.03",
		"202503",
		"20250331",
		"2025/03/31",
		"2025-03-01 00:00:00",
		"2025年3月",
	],
)
def test_month_is_normalised_to_the_first(month):
	frame, rejections = validate_records("snapshots", [snapshot(month=month)], today=TODAY)
	assert rejections == []
	assert frame.iloc[0]["month"] == dt.date(2025, 3, 1)


def test_months_that_normalise_to_the_same_month_are_duplicates():
	_, rejections = validate_records(
		"snapshots", [snapshot(month="2025-02"), snapshot(month="2025-02-20")], today=TODAY
	)
	rejection = only(rejections)
	assert rejection.index == 1
	assert rejection.reason == "duplicate of record 0 in this batch"


def test_future_months_and_dates_are_rejected():
	_, rejections = validate_records(
		"snapshots", [snapshot(month="2025-03"), snapshot(month="2025-04")], today=TODAY
	)
	rejection = only(rejections)  # the current month is fine, next month is not
	assert (rejection.index, rejection.field) == (1, "month")
	assert rejection.reason == "month 2025-04 is in the future"

	_, rejections = validate_records(
		"customers",
		[
			customer(customer="C1", date_of_birth="2025-03-11"),
			customer(customer="C2", acquired_on="2026-01-01"),
			customer(customer="C3", acquired_on="2025-03-10"),
		],
		today=TODAY,
	)
	assert [(r.index, r.field) for r in rejections] == [(0, "date_of_birth"), (1, "acquired_on")]
	assert rejections[0].reason == "2025-03-11 is in the future"

	_, rejections = validate_records(
		"holdings", [{"customer": "C1", "product": "P", "opened_on": "2025-04-01"}], today=TODAY
	)
	assert only(rejections).field == "opened_on"


def test_without_today_dates_are_not_checked():
	frame, rejections = validate_records("snapshots", [snapshot(month="2099-01")], today=None)
	assert rejections == []
	assert frame.iloc[0]["month"] == dt.date(2099, 1, 1)


def test_unknown_kind_and_batch_limit():
	with pytest.raises(ValueError, match="unknown intake kind"):
		validate_records("loans", [], today=TODAY)
	with pytest.raises(ValueError, match="at most 2 records; this one has 3"):
		validate_records("customers", [customer()] * 3, today=TODAY, batch_limit=2)


def test_empty_batch_gives_an_empty_frame_with_the_columns():
	frame, rejections = validate_records("holdings", [], today=TODAY)
	assert frame.empty and rejections == []
	assert list(frame.columns) == [*schema.HOLDING_COLUMNS, "_index"]


def test_record_key():
	assert record_key("snapshots", {"customer": "C1", "month": "2025-01"}) == "C1/2025-01"
	assert record_key("holdings", {"customer": "C1", "product": "P"}) == "C1/P/"
	assert record_key("customers", {"customer_name": "x"}) is None
	assert record_key("customers", "C1") is None


# ---------------------------------------------------------------- references


def test_check_references():
	frame, _ = validate_records(
		"customers",
		[
			customer(customer="C1", branch="Chaoyang Branch", relationship_manager="rm01@bank.example"),
			customer(customer="C2", branch="Nowhere Branch"),
			customer(customer="C3", referred_by_customer="C1", relationship_manager="ghost@bank.example"),
			customer(customer="C4"),  # blank links are not checked
		],
		today=TODAY,
	)
	known = {
		"branch": {"Chaoyang Branch"},
		"relationship_manager": {"rm01@bank.example"},
		"referred_by_customer": set(frame["customer"]),
	}
	kept, rejections = check_references("customers", frame, known, labels={"branch": "Branch"})
	assert kept["customer"].tolist() == ["C1", "C4"]
	assert sorted((r.index, r.field) for r in rejections) == [(1, "branch"), (2, "relationship_manager")]
	by_field = {r.field: r for r in rejections}
	assert by_field["branch"].reason == "Branch Nowhere Branch does not exist"
	assert by_field["branch"].key == "C2"
	# without a label the column name is used
	assert by_field["relationship_manager"].reason == "relationship_manager ghost@bank.example does not exist"


def test_check_references_reports_each_bad_link_of_a_row():
	frame, _ = validate_records("holdings", [{"customer": "C9", "product": "NOPE"}], today=TODAY)
	kept, rejections = check_references("holdings", frame, {"customer": {"C1"}, "product": {"FUND-MONEY"}})
	assert kept.empty
	assert sorted(r.field for r in rejections) == ["customer", "product"]
	assert {r.index for r in rejections} == {0}


def _references_row_by_row(kind, frame, known, labels):
	"""check_references as it was written first, a row at a time: the reference for the vectorised one."""
	bad = pd.Series(False, index=frame.index)
	rejections = []
	for column, values in known.items():
		present = frame[column].notna() & (frame[column] != "")
		missing = present & ~frame[column].isin(values)
		for idx in frame.index[missing]:
			rejections.append(
				Rejection(
					int(frame.at[idx, "_index"]),
					record_key(kind, frame.loc[idx].to_dict()),
					column,
					"{doctype} {value} does not exist",
					{"doctype": labels.get(column, column), "value": frame.at[idx, column]},
				)
			)
		bad |= missing
	return frame[~bad], rejections


@pytest.mark.parametrize("kind", schema.INTAKE_KINDS)
def test_check_references_rejects_as_row_by_row(kind):
	rng = np.random.default_rng(7)
	n = 600
	if kind == "customers":
		records = [
			customer(
				customer=f"C{i:05d}",
				branch=rng.choice(["Chaoyang Branch", "Nowhere", None, ""]),
				relationship_manager=rng.choice(["rm01@bank.example", "ghost@bank.example", None]),
				referred_by_customer=rng.choice([f"C{(i + 7) % n:05d}", "C99999", None]),
			)
			for i in range(n)
		]
		known = {
			"branch": {"Chaoyang Branch"},
			"relationship_manager": {"rm01@bank.example"},
			"referred_by_customer": {f"C{i:05d}" for i in range(0, n, 2)},
		}
	elif kind == "holdings":
		records = [
			{
				"customer": f"C{i % 50:05d}",
				"product": rng.choice(["TD", "WM", "NOPE"]),
				"account_no": rng.choice(["", f"A{i}"]),
			}
			for i in range(n)
		]
		known = {"customer": {f"C{i:05d}" for i in range(0, 50, 3)}, "product": {"TD", "WM"}}
	else:
		records = [snapshot(customer=f"C{i % 300:05d}", month=f"2024-{1 + i // 300:02d}") for i in range(n)]
		known = {"customer": {f"C{i:05d}" for i in range(0, 300, 4)}}
	frame, _ = validate_records(kind, records, today=TODAY)
	labels = {"branch": "Branch", "customer": "Bank Customer Profile"}
	kept, rejections = check_references(kind, frame, known, labels)
	expected_kept, expected = _references_row_by_row(kind, frame, known, labels)
	assert [r.as_dict() for r in rejections] == [r.as_dict() for r in expected]
	assert kept.equals(expected_kept)
	assert rejections and len(kept)


def test_comparable_text_is_as_mapped_value_by_value():
	from branch_crm.engine.intake import _comparable, _is_blank

	def mapped(series):
		text = series.map(lambda v: "" if _is_blank(v) else str(v))
		return text.str.replace(r" 00:00:00$", "", regex=True)

	columns = [
		["C1", " ", "", None, np.nan, "2025-02-01 00:00:00", "x 00:00:00 y", "李娜", "a 00:00:00\n"],
		[None, None],
		[np.nan, None, pd.NaT],
		[dt.date(2025, 2, 1), "2025-02-01 00:00:00", None, pd.Timestamp("2025-02-01"), Decimal("1.50"), 3],
		[],
	]
	for values in columns:
		series = pd.Series(values, dtype=object)
		assert _comparable(series, False).tolist() == mapped(series).tolist(), values
	dates = pd.Series([pd.Timestamp("2025-02-01"), pd.NaT, pd.Timestamp("2025-03-04 10:00")])
	assert _comparable(dates, False).tolist() == mapped(dates).tolist()


# ---------------------------------------------------------------- change detection


def snapshots_frame(rows):
	frame, rejections = validate_records("snapshots", rows, today=TODAY)
	assert rejections == []
	return frame


def stored(frame: pd.DataFrame) -> pd.DataFrame:
	"""What the database would return for these rows."""
	return frame.drop(columns="_index").copy()


def test_split_changes_new_changed_unchanged():
	existing = stored(snapshots_frame([snapshot(month="2025-01", aum=10), snapshot(month="2025-02", aum=20)]))
	incoming = snapshots_frame(
		[
			snapshot(month="2025-01", aum=10),
			snapshot(month="2025-02", aum=25),
			snapshot(customer="C2", month="2025-02", aum=5),
		]
	)
	new, changed, unchanged = split_changes(incoming, existing, schema.SNAPSHOT_KEY, schema.SNAPSHOT_COLUMNS)
	assert new["customer"].tolist() == ["C2"]
	assert changed["month"].tolist() == [dt.date(2025, 2, 1)]
	assert unchanged["month"].tolist() == [dt.date(2025, 1, 1)]
	assert len(new) + len(changed) + len(unchanged) == len(incoming)


def test_repeated_batch_is_fully_unchanged():
	records = [
		customer(customer="C1", date_of_birth="1980-01-02", declared_annual_income=120000, employer=None),
		customer(customer="C2", referred_by_customer="C1", do_not_contact=True),
	]
	first, _ = validate_records("customers", records, today=TODAY)
	again, _ = validate_records("customers", records, today=TODAY)
	new, changed, unchanged = split_changes(
		again, stored(first), schema.CUSTOMER_KEY, schema.CUSTOMER_COLUMNS
	)
	assert new.empty and changed.empty
	assert unchanged["customer"].tolist() == ["C1", "C2"]


def test_split_changes_normalises_numbers_text_and_dates():
	incoming = snapshots_frame([snapshot(aum=10, txn_count=3)])
	database = stored(incoming).astype(object)
	database.loc[0, "aum"] = Decimal("10.000000")  # MariaDB decimals
	database.loc[0, "deposits"] = None  # NULL is 0 for numbers
	database.loc[0, "txn_count"] = 3.0
	database.loc[0, "month"] = "2025-02-01 00:00:00"  # a datetime rendered as text
	new, changed, unchanged = split_changes(incoming, database, schema.SNAPSHOT_KEY, schema.SNAPSHOT_COLUMNS)
	assert new.empty and changed.empty and len(unchanged) == 1

	frame, _ = validate_records(
		"customers", [customer(employer="", hobbies=None, declared_annual_income=10)], today=TODAY
	)
	database = stored(frame)
	database["employer"] = ""  # "" and None are both "no value"
	database["hobbies"] = np.nan
	database["declared_annual_income"] = 10.0  # 10 vs 10.0
	new, changed, unchanged = split_changes(frame, database, schema.CUSTOMER_KEY, schema.CUSTOMER_COLUMNS)
	assert new.empty and changed.empty and len(unchanged) == 1

	database["employer"] = "美团"
	new, changed, unchanged = split_changes(frame, database, schema.CUSTOMER_KEY, schema.CUSTOMER_COLUMNS)
	assert len(changed) == 1 and unchanged.empty


def test_split_changes_small_numeric_differences_count():
	incoming = snapshots_frame([snapshot(aum=10.01)])
	database = stored(snapshots_frame([snapshot(aum=10.0)]))
	_, changed, _ = split_changes(incoming, database, schema.SNAPSHOT_KEY, schema.SNAPSHOT_COLUMNS)
	assert len(changed) == 1


def test_split_changes_with_nothing_stored_inserts_everything():
	incoming = snapshots_frame([snapshot(month="2025-01"), snapshot(month="2025-02")])
	empty = pd.DataFrame(columns=list(schema.SNAPSHOT_COLUMNS))
	new, changed, unchanged = split_changes(incoming, empty, schema.SNAPSHOT_KEY, schema.SNAPSHOT_COLUMNS)
	assert len(new) == 2 and changed.empty and unchanged.empty


def test_split_changes_keeps_the_incoming_index_and_rows():
	incoming = snapshots_frame(
		[snapshot(month="2025-01", aum=1), snapshot(month="2025-02", aum=2)]
	).set_index(pd.Index([10, 20]))
	database = stored(incoming.iloc[[1]])
	new, changed, unchanged = split_changes(incoming, database, schema.SNAPSHOT_KEY, schema.SNAPSHOT_COLUMNS)
	assert changed.empty
	assert new.index.tolist() == [10]
	assert unchanged.index.tolist() == [20]
	assert unchanged.iloc[0]["aum"] == 2


def test_every_rejection_is_a_translatable_template_with_its_params():
	records = [customer(status="Sleeping", declared_annual_income=-5, date_of_birth="2099-01-01")]
	_, rejections = validate_records("customers", records, today=TODAY)
	by_field = {r.field: r for r in rejections}
	assert by_field["status"].template == "must be one of {expected}"
	assert by_field["declared_annual_income"].params == {"ge": "0"}
	assert by_field["date_of_birth"].template == "{value} is in the future"
	assert by_field["date_of_birth"].reason == "2099-01-01 is in the future"


def test_numbers_left_empty_compare_with_the_stored_zero():
	# core banking sends no declared income; the database stores 0: a repeat changes nothing
	frame, _ = validate_records("customers", [customer()], today=TODAY)
	stored = frame.drop(columns="_index").assign(declared_annual_income=0.0, do_not_contact=0)
	inserted, updated, unchanged = split_changes(
		frame, stored, ("customer",), schema.CUSTOMER_COLUMNS, NUMERIC_COLUMNS["customers"]
	)
	assert (len(inserted), len(updated), len(unchanged)) == (0, 0, 1)


@pytest.mark.parametrize("month", ["2025-13", "2025/02/30", "March 2025", "2025", "2025031", "25-03"])
def test_what_is_not_a_month_is_rejected_as_such(month):
	_, rejections = validate_records("snapshots", [snapshot(month=month)], today=TODAY)
	rejection = only(rejections)
	assert (rejection.field, rejection.reason) == ("month", "must be a month (YYYY-MM)")


# ---------------------------------------------------------------- keeping customers (offline analysis)


def test_a_customer_with_a_bad_optional_value_is_kept_with_it_blank():
	records = [
		customer(customer="C1", date_of_birth="2031-01-01", occupation_category="Astronaut"),
		customer(customer="C2", customer_name=""),  # no name: rejected
		customer(customer="C3", do_not_contact="maybe"),  # never guessed: rejected
		customer(customer="C4", date_of_birth="1980-02-03"),
	]
	frame, rejections, blanked = validate_keeping_records("customers", records, today=TODAY)
	assert frame["customer"].tolist() == ["C1", "C4"]
	assert frame["_index"].tolist() == [0, 3]
	kept = frame.set_index("customer")
	assert pd.isna(kept.at["C1", "date_of_birth"]) and pd.isna(kept.at["C1", "occupation_category"])
	assert kept.at["C4", "date_of_birth"] == dt.date(1980, 2, 3)
	assert sorted((r.index, r.key, r.field) for r in blanked) == [
		(0, "C1", "date_of_birth"),
		(0, "C1", "occupation_category"),
	]
	assert next(r for r in blanked if r.field == "date_of_birth").reason == "2031-01-01 is in the future"
	assert sorted((r.index, r.field) for r in rejections) == [(1, "customer_name"), (2, "do_not_contact")]


def test_a_kept_customer_never_doubles_a_valid_one():
	records = [customer(customer="C1"), customer(customer="C1", date_of_birth="2031-01-01")]
	frame, rejections, blanked = validate_keeping_records("customers", records, today=TODAY)
	assert frame["_index"].tolist() == [0]
	assert blanked == []
	assert any(r.index == 1 and r.reason == "duplicate of record 0 in this batch" for r in rejections)


def test_other_kinds_are_validated_as_before():
	records = [snapshot(aum=-5), snapshot(month="2025-01")]
	frame, rejections, blanked = validate_keeping_records("snapshots", records, today=TODAY)
	assert frame["_index"].tolist() == [1] and blanked == []
	assert only(rejections).field == "aum"


def test_unknown_links_are_blanked_not_rejected():
	frame, _ = validate_records(
		"customers",
		[
			customer(customer="C1", relationship_manager="ghost"),
			customer(customer="C2", relationship_manager="rm1"),
		],
		today=TODAY,
	)
	kept, problems = blank_unknown_references(
		"customers", frame, {"relationship_manager": {"rm1"}}, {"relationship_manager": "staff member"}
	)
	assert kept["customer"].tolist() == ["C1", "C2"]
	assert kept["relationship_manager"].tolist() == [None, "rm1"]
	problem = only(problems)
	assert (problem.index, problem.field, problem.reason) == (
		0,
		"relationship_manager",
		"staff member ghost does not exist",
	)
