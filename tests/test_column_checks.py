"""The column-wise validation must give exactly what the models give record by record: the same
valid records with the same values, and the same rejections in the same order. Batches are drawn
from values at and beyond each field's edges (blanks, spellings, limits, types, future and early
dates, duplicates, unknown fields, records that are not objects)."""

import datetime as dt
import math
import random

import pandas as pd
import pytest

from branch_crm.engine import column_checks, intake, schema

TODAY = dt.date(2026, 11, 20)

TEXT_VALUES = [
	"C1",
	"C2",
	" C1 ",
	"李娜",
	"\u3000李娜\u3000",
	"a\x1f",
	"",
	"   ",
	None,
	math.nan,
	5,
	3.5,
	True,
]
CHOICE_EXTRA = ["", None, " Active", "active", 1, "Nonsense"]
FLAG_VALUES = [True, False, "1", "0", "true", "false", "True", "yes", 1, 0, 2, 1.0, "", None, "x"]
AMOUNT_VALUES = [
	0,
	1,
	1.5,
	-1,
	-0.0,
	"12.5",
	"-3",
	"1e3",
	"inf",
	math.inf,
	math.nan,
	"abc",
	" 5",
	"1,000",
	"007",
	"0.1",
	True,
	None,
	"",
	10**20,
	"123456789012345.25",
	"999999999999.99",
	"1000000000000",
	"-999999999999",
	"１２",
	"\u300012",
	"1_000",
	"+5",
	".5",
	"5.",
	"Infinity",
	"nan",
	"1e400",
	" 12 ",
]
COUNT_VALUES = [
	0,
	3,
	3.0,
	3.5,
	-1,
	"4",
	"04",
	"4.0",
	"-2",
	"-0",
	"x",
	True,
	None,
	"",
	2**60,
	2**70,
	"2147483647",
	"2147483648",
	"１２",
	"1_000",
	"+5",
	" 7",
	"1e3",
]
DATE_VALUES = [
	"2020-01-05",
	"2020-02-30",
	"1899-12-31",
	"1900-01-01",
	"2026-11-20",
	"2026-11-21",
	"2030-01-01",
	"2020/01/05",
	"20200105",
	"2020-01-05T00:00:00",
	"2020-01-05 00:00:00",
	"2026-11-21 00:00:00",
	"2020-02-30 00:00:00",
	"1899-12-31T00:00:00",
	"2020-01-05 00:00:01",
	"2020-01-05 00:00",
	"2020-01-05 00:00:00\n",
	"2020-01-05\n",
	"2020-01-05t00:00:00",
	dt.date(2020, 1, 5),
	0,
	"",
	None,
	math.nan,
]
MONTH_VALUES = [
	"2025-03",
	"2025/03",
	"202503",
	"2025-03-17",
	"2025-02-30",
	"2026-11",
	"2026-12",
	"2031-01",
	"1899-12",
	"1900-01",
	"2025-13",
	"2025-3",
	"2025年3月",
	dt.date(2025, 3, 9),
	None,
	"",
	7,
]


def values_for(spec) -> list:
	if isinstance(spec, column_checks.Text):
		long = ["x" * spec.max_length, "x" * (spec.max_length + 1)]
		if spec.pattern and "@" in spec.pattern:
			return [*TEXT_VALUES, *long, "a@b.cn", "not-an-email", " a@b.cn"]
		if spec.pattern:
			return [*TEXT_VALUES, *long, "13800138000", "+86 138-0013-8000", "12", "abc12345"]
		return [*TEXT_VALUES, *long]
	if isinstance(spec, column_checks.Choice):
		return [*spec.options, *CHOICE_EXTRA]
	if isinstance(spec, column_checks.Flag):
		return FLAG_VALUES
	if isinstance(spec, column_checks.Amount):
		return AMOUNT_VALUES
	if isinstance(spec, column_checks.Count):
		return COUNT_VALUES
	if isinstance(spec, column_checks.Date):
		return DATE_VALUES
	return MONTH_VALUES


def plausible(kind: str, rng: random.Random) -> dict:
	"""A record most of whose fields are fine, so that the batch holds valid records too."""
	record = {"customer": rng.choice(["C1", "C2", "C3", "C4"])}
	if kind == "customers":
		record["customer_name"] = "张伟"
	elif kind == "holdings":
		record.update(product=rng.choice(["TD", "WM"]), account_no=rng.choice(["A1", "A2", ""]))
	else:
		record["month"] = rng.choice(["2025-01", "2025-02", "2026-10"])
	return record


def batch(kind: str, rng: random.Random, size: int) -> list:
	specs = column_checks.FIELDS[kind]
	records = []
	for _ in range(size):
		roll = rng.random()
		if roll < 0.02:
			records.append(rng.choice([["C1"], "C1", 3, None]))
			continue
		record = plausible(kind, rng)
		for field in rng.sample(list(specs), k=rng.randint(0, 4)):
			record[field] = rng.choice(values_for(specs[field]))
		if roll > 0.97:
			record[rng.choice(["nickname", "balance_usd"])] = rng.choice(["x", "", None])
		records.append(record)
	return records


def by_model_alone(kind: str, records: list) -> tuple[pd.DataFrame, list]:
	"""The reference: every record through its model, duplicates after the first valid one rejected."""
	rows, rejections = intake.validate_by_model(kind, dict(enumerate(records)), today=TODAY)
	first_seen: dict = {}
	kept = []
	for row in rows:
		key = tuple(row[c] for c in intake.KEYS[kind])
		if key in first_seen:
			rejections.append(
				intake.Rejection(
					row["_index"],
					intake.record_key(kind, row),
					None,
					"duplicate of record {first} in this batch",
					{"first": first_seen[key]},
				)
			)
			continue
		first_seen[key] = row["_index"]
		kept.append(row)
	rejections.sort(key=lambda r: r.index)
	return pd.DataFrame(kept, columns=[*intake.COLUMNS[kind], "_index"]), rejections


def as_csv_text(records: list) -> list:
	"""The records as a CSV file brings them: every value text, blanks None, only objects."""
	return [
		{k: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for k, v in r.items()}
		for r in records
		if isinstance(r, dict)
	]


def comparable(frame: pd.DataFrame) -> list[dict]:
	def same(value):
		if value is None or (isinstance(value, float) and math.isnan(value)):
			return None
		if hasattr(value, "item"):  # numpy scalars
			return value.item()
		return value

	return [{k: same(v) for k, v in row.items()} for row in frame.to_dict("records")]


@pytest.mark.parametrize("kind", schema.INTAKE_KINDS)
@pytest.mark.parametrize("seed", range(12))
def test_columns_and_models_agree(kind, seed):
	rng = random.Random(f"{kind}-{seed}")
	records = batch(kind, rng, 400)
	expected, expected_rejections = by_model_alone(kind, records)
	valid, rejections = intake.validate_records(kind, records, today=TODAY)
	assert [r.as_dict() for r in rejections] == [r.as_dict() for r in expected_rejections]
	assert comparable(valid) == comparable(expected)
	# the batches reach both sides of the checks
	assert len(valid) and len(rejections)


@pytest.mark.parametrize("kind", schema.INTAKE_KINDS)
@pytest.mark.parametrize("seed", range(6))
def test_columns_of_text_and_models_agree(kind, seed):
	"""Columns all of text (a CSV file) are judged once per distinct value."""
	records = as_csv_text(batch(kind, random.Random(f"text-{kind}-{seed}"), 400))
	expected, expected_rejections = by_model_alone(kind, records)
	valid, rejections = intake.validate_records(kind, records, today=TODAY)
	assert [r.as_dict() for r in rejections] == [r.as_dict() for r in expected_rejections]
	assert comparable(valid) == comparable(expected)
	assert len(valid) and len(rejections)


def test_every_model_field_has_a_column_check():
	for kind, model in intake.MODELS.items():
		assert list(column_checks.FIELDS[kind]) == list(model.model_fields) == list(intake.COLUMNS[kind])


def test_plain_records_do_not_reach_the_models(monkeypatch):
	seen = []
	real = intake.validate_by_model

	def counting(kind, records, *, today):
		seen.extend(records)
		return real(kind, records, today=today)

	monkeypatch.setattr(intake, "validate_by_model", counting)
	records = [
		{"customer": f"C{i}", "month": "2026-10", "aum": str(1000 + i), "txn_count": "3"} for i in range(1000)
	]
	records[10]["aum"] = "-5"
	valid, rejections = intake.validate_records("snapshots", records, today=TODAY)
	assert seen == [10]
	assert len(valid) == 999 and [(r.index, r.field) for r in rejections] == [(10, "aum")]
	assert valid["aum"].iloc[0] == 1000.0 and valid["month"].iloc[0] == dt.date(2026, 10, 1)


def test_dates_before_1900_are_rejected_by_the_model_too():
	_, rejections = intake.validate_records(
		"customers", [{"customer": "C1", "customer_name": "张伟", "date_of_birth": "1899-12-31"}], today=TODAY
	)
	assert [(r.field, r.reason) for r in rejections] == [("date_of_birth", "1899-12-31 is before 1900")]


def test_dates_at_midnight_are_plain():
	"""Dates as databases and spreadsheets write them ("2020-01-05 00:00:00") are judged column-wise,
	as the models judge them; a time of day still goes to the model."""
	seen = []
	real = intake.validate_by_model

	def counting(kind, records, *, today):
		seen.extend(records)
		return real(kind, records, today=today)

	records = [
		{"customer": "C1", "customer_name": "张伟", "date_of_birth": "1980-01-02 00:00:00"},
		{"customer": "C2", "customer_name": "张伟", "acquired_on": "2020-01-05T00:00:00"},
		{"customer": "C3", "customer_name": "张伟", "date_of_birth": "2026-11-21 00:00:00"},
		{"customer": "C4", "customer_name": "张伟", "date_of_birth": "1980-01-02 10:30:00"},
	]
	with pytest.MonkeyPatch.context() as patch:
		patch.setattr(intake, "validate_by_model", counting)
		valid, rejections = intake.validate_records("customers", records, today=TODAY)
	assert seen == [2, 3]  # every rejection comes from the model
	assert valid["date_of_birth"].tolist()[:2] == [dt.date(1980, 1, 2), None]
	assert valid["acquired_on"].tolist()[1] == dt.date(2020, 1, 5)
	assert [(r.index, r.field, r.reason) for r in rejections] == [
		(2, "date_of_birth", "2026-11-21 is in the future"),
		(3, "date_of_birth", "must be a valid date (YYYY-MM-DD)"),
	]
