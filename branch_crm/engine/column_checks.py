"""The intake models' checks, column by column over a whole frame.

Validating a million records one pydantic model at a time costs minutes and gigabytes; most records
are plainly valid. Here each column is checked vectorised against a conservative reading of its
model field (text of the right length, a number written as digits, an ISO date, a listed choice).
A record with any value outside that reading is validated by its model after all, so every
rejection, and every value accepted in an unusual spelling, comes from the model itself: this
module decides only which records are plain enough not to need it. ``tests/test_column_checks.py``
holds the two to the same results on batches full of edge cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from branch_crm.engine import schema


@dataclass(frozen=True)
class Text:
	max_length: int
	pattern: str | None = None


@dataclass(frozen=True)
class Choice:
	options: tuple[str, ...]


@dataclass(frozen=True)
class Flag:
	pass


@dataclass(frozen=True)
class Amount:
	negative: bool = False


@dataclass(frozen=True)
class Count:
	pass


@dataclass(frozen=True)
class Date:
	not_future: bool = False


@dataclass(frozen=True)
class Month:
	pass


NAME, TEXT = Text(140), Text(1000)
MOBILE = Text(30, r"^\+?[0-9][0-9 \-]{4,}$")
EMAIL = Text(140, r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# one entry per model field, in the models' order (a test holds them to the models)
FIELDS: dict[str, dict[str, Any]] = {
	"customers": {
		"customer": NAME,
		"customer_name": NAME,
		"branch": NAME,
		"relationship_manager": NAME,
		"status": Choice(schema.PROFILE_STATUSES),
		"gender": NAME,
		"date_of_birth": Date(not_future=True),
		"id_type": Choice(schema.ID_TYPES),
		"id_number": Text(40),
		"mobile_no": MOBILE,
		"email_id": EMAIL,
		"address": TEXT,
		"occupation_category": Choice(schema.OCCUPATION_CATEGORIES),
		"occupation": NAME,
		"employer": NAME,
		"income_band": Choice(schema.INCOME_BANDS),
		"declared_annual_income": Amount(),
		"family_stage": Choice(schema.FAMILY_STAGES),
		"risk_preference": Choice(schema.RISK_PREFERENCES),
		"investment_intent": TEXT,
		"hobbies": TEXT,
		"channel_preference": Choice(schema.CHANNELS),
		"do_not_contact": Flag(),
		"intent_level": Choice(schema.INTENT_LEVELS),
		"acquisition_channel": Choice(schema.ACQUISITION_CHANNELS),
		"acquired_on": Date(not_future=True),
		"first_served_by": NAME,
		"referred_by_staff": NAME,
		"referred_by_customer": NAME,
	},
	"holdings": {
		"customer": NAME,
		"product": NAME,
		"account_no": Text(140),
		"balance": Amount(),
		"opened_on": Date(not_future=True),
		"matures_on": Date(),
	},
	"snapshots": {
		"customer": NAME,
		"month": Month(),
		**{column: Amount() for column in ("aum", "deposits", "investments", "loans")},
		"contribution": Amount(negative=True),
		**{column: Amount() for column in ("inflow", "outflow", "salary_credit")},
		**{
			column: Count()
			for column in ("txn_count", "large_txn_count", "bill_payments", "digital_logins", "complaints")
		},
	},
}

# a date, or a date at midnight as databases and spreadsheets write it (the models take both: a
# datetime with no time is that date); anything else, a time of day included, goes to the model
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T]00:00:00)?"
_ISO_MONTH = r"^[0-9]{4}-(?:0[1-9]|1[0-2])(?:-[0-9]{2})?$"
_FLAGS = {"0": False, "1": True, "false": False, "true": True}
# the models' limits: what the site's decimal(21,9) and int(11) columns can hold, and the earliest
# date of a bank's records (an earlier one is a typo or a placeholder year)
AMOUNT_LIMIT = 10**12
COUNT_LIMIT = 2**31 - 1
EARLIEST = dt.date(1900, 1, 1)
_EARLIEST = pd.Timestamp(EARLIEST)


@dataclass
class _Cells:
	"""One column's values sorted by kind: blank, text, number (not bool), bool, anything else."""

	blank: np.ndarray
	is_text: np.ndarray
	text: pd.Series  # the text values, NaN elsewhere
	is_number: np.ndarray
	number: np.ndarray  # float values, NaN elsewhere
	is_bool: np.ndarray
	other: np.ndarray
	stripped: pd.Series  # the text values without surrounding whitespace


def _cells(values: pd.Series, strip: bool = True) -> _Cells:
	"""Without ``strip``, text of only whitespace is not taken for blank: the field's check refuses
	it, and the model (which does take it for blank) has the last word."""
	n = len(values)
	none = np.zeros(n, dtype=bool)
	no_text = pd.Series(None, index=values.index, dtype=object)
	if pd.api.types.is_bool_dtype(values):
		return _Cells(none, none, no_text, none, np.full(n, np.nan), ~none, none, no_text)
	if pd.api.types.is_numeric_dtype(values):
		number = values.to_numpy(dtype=float)
		blank = np.isnan(number)
		return _Cells(blank, none, no_text, ~blank, number, none, none, no_text)
	values = values.astype(object)  # dates, categories: judged value by value
	missing = values.isna().to_numpy()
	kind = pd.api.types.infer_dtype(values, skipna=True)
	if kind == "string" and not missing.any():  # all text (the distinct values of a column): no masks
		stripped = values.str.strip() if strip else values
		if not (stripped == "").any():
			all_text = ~none
			return _Cells(none, all_text, values, none, np.full(n, np.nan), none, none, stripped)
	if kind in ("string", "empty"):
		is_text = ~missing
		is_number = is_bool = other = none
		number = np.full(n, np.nan)
	else:  # a mixed column (JSON): sort element by element, batches are small
		types = [type(v) for v in values]
		is_text = np.fromiter((t is str for t in types), bool, n)
		is_bool = np.fromiter((t is bool or t is np.bool_ for t in types), bool, n)
		is_number = (
			~missing
			& ~is_text
			& ~is_bool
			& np.fromiter((issubclass(t, int | float | np.integer | np.floating) for t in types), bool, n)
		)
		other = ~missing & ~is_text & ~is_bool & ~is_number
		number = np.full(n, np.nan)
		if is_number.any():
			number[is_number] = values[is_number].astype(float).to_numpy()
	text = values.where(is_text)
	stripped = text.str.strip() if strip else text
	blank = missing | (is_text & (stripped == "").to_numpy())
	return _Cells(
		blank, is_text & ~blank, text.where(~blank), is_number, number, is_bool, other, stripped.where(~blank)
	)


def _text(cells: _Cells, spec: Text) -> tuple[pd.Series, np.ndarray]:
	stripped = cells.stripped
	# text with whitespace around it is left to the model, whose notion of whitespace is not Python's
	plain = (stripped == cells.text).to_numpy()
	ok = cells.is_text & plain & (stripped.str.len() <= spec.max_length).to_numpy()
	if spec.pattern:
		ok &= stripped.str.contains(spec.pattern, regex=True, na=False).to_numpy()
	return stripped, ok


def _choice(cells: _Cells, spec: Choice) -> tuple[pd.Series, np.ndarray]:
	return cells.text, cells.is_text & cells.text.isin(spec.options).to_numpy()


def _flag(cells: _Cells, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
	flags = cells.text.str.lower().map(_FLAGS)
	known = flags.notna().to_numpy()
	# 0 and 1 as numbers are flags too (core banking often sends them so)
	binary = cells.is_number & np.isin(cells.number, (0.0, 1.0))
	ok = cells.is_bool | (cells.is_text & known) | binary
	out = np.where(known, flags.to_numpy(dtype=object), False).astype(bool) | (binary & (cells.number == 1))
	if cells.is_bool.any():
		out[cells.is_bool] = values[cells.is_bool].astype(bool).to_numpy()
	return out, ok


def _parse(texts: pd.Series, parse) -> np.ndarray:
	"""``parse`` (float or int) of each text, NaN where it fails: the model reads numbers in text as
	Python does, but for digits other than ASCII ones, which it refuses (tests/test_column_checks.py
	holds the two together)."""
	numbers = np.full(len(texts), np.nan)
	present = texts.notna().to_numpy()
	words = texts.to_numpy()[present]
	if parse is float and "".join(words).isascii():
		try:
			numbers[present] = words.astype(float)
			return numbers
		except ValueError:
			pass  # some text is no number: one by one
	numbers[present] = [_parse_one(parse, word) for word in words]
	return numbers


def _parse_one(parse, word: str) -> float:
	if not word.isascii():
		return np.nan
	try:
		value = parse(word)
	except (ValueError, OverflowError):
		return np.nan
	return float(value) if abs(value) < 2**53 else np.nan


def _amount(cells: _Cells, spec: Amount) -> tuple[np.ndarray, np.ndarray]:
	number = cells.number.copy()
	spelled = cells.is_text
	if spelled.any():
		number[spelled] = _parse(cells.text[spelled], float)
	with np.errstate(invalid="ignore"):
		ok = (cells.is_number | spelled) & np.isfinite(number) & (number < AMOUNT_LIMIT)
		ok &= number > -AMOUNT_LIMIT if spec.negative else ~(number < 0)
	return number, ok


def _count(cells: _Cells) -> tuple[np.ndarray, np.ndarray]:
	number = cells.number.copy()
	spelled = cells.is_text
	if spelled.any():
		number[spelled] = _parse(cells.text[spelled], int)
	with np.errstate(invalid="ignore"):
		ok = (cells.is_number | spelled) & (number >= 0) & (number <= COUNT_LIMIT) & (np.mod(number, 1) == 0)
	return np.where(ok, number, 0).astype("int64"), ok


def _date(cells: _Cells, spec: Date, today: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray]:
	spelled = cells.is_text & cells.text.str.fullmatch(_ISO_DATE, na=False).to_numpy()
	days = cells.text.where(spelled).str.slice(0, 10)
	dates = pd.to_datetime(days, format="%Y-%m-%d", errors="coerce").to_numpy()
	ok = spelled & ~np.isnat(dates) & (dates >= _EARLIEST.to_datetime64())
	if spec.not_future and today is not None:
		ok &= dates <= today.to_datetime64()
	return dates, ok


def _month(cells: _Cells, today: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray]:
	spelled = cells.is_text & cells.text.str.match(_ISO_MONTH, na=False).to_numpy()
	text = cells.text.where(spelled)
	# a day, when given, must be a real one (2025-02-30 is no month)
	day_given = spelled & (text.str.len() == 10).to_numpy()
	dates = pd.to_datetime(text.where(day_given, text + "-01"), format="%Y-%m-%d", errors="coerce")
	months = dates.to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
	ok = spelled & ~np.isnat(months) & (months >= _EARLIEST.to_datetime64())
	if today is not None:
		ok &= months <= np.datetime64(today.date().replace(day=1), "ns")
	return months, ok


@dataclass
class Checked:
	"""What ``check_columns`` found: the plain records' values (``values``, typed: str/None, float,
	int64, bool, datetime64) and which records the models must see (``unplain``)."""

	values: pd.DataFrame
	unplain: np.ndarray


def check_columns(
	kind: str, frame: pd.DataFrame, *, today: dt.date | None, required: tuple[str, ...], defaults: dict
) -> Checked:
	"""Sort the records of ``frame`` (one column per field, values as sent) into plain ones, with
	their values typed and defaulted as the model would, and the rest."""
	specs = FIELDS[kind]
	n = len(frame)
	today_ts = pd.Timestamp(today) if today is not None else None
	unplain = np.zeros(n, dtype=bool)
	for column in frame.columns:
		if column not in specs:  # the model names the field that is not one
			unplain |= ~_cells(frame[column]).blank
	values: dict[str, Any] = {}
	for field, spec in specs.items():
		if field not in frame:
			unplain |= field in required
			values[field] = _default_column(spec, defaults.get(field), n)
			continue
		value, blank, ok = _judge_distinct(spec, frame[field], defaults.get(field), today_ts)
		if field in required:
			unplain |= blank
		unplain |= ~blank & ~ok
		values[field] = value
	out = pd.DataFrame(values, index=frame.index)
	if kind == "customers":  # a customer cannot refer themselves
		unplain |= (out["referred_by_customer"] == out["customer"]).to_numpy()
	if kind == "holdings":  # nothing matures before it opened
		unplain |= (out["matures_on"] < out["opened_on"]).to_numpy()
	return Checked(out, unplain)


def _judge_distinct(spec, column: pd.Series, default, today: pd.Timestamp | None):
	"""``_judge`` on each distinct text once (a month or a branch repeats a million times), spread
	back over the rows. Columns of numbers or of mixed types are judged as they are."""
	if column.dtype != object or pd.api.types.infer_dtype(column, skipna=True) != "string":
		return _judge(spec, column, default, today)
	codes, distinct = pd.factorize(column, use_na_sentinel=True)
	if not len(distinct):
		return _judge(spec, column, default, today)
	value, blank, ok = _judge(spec, pd.Series(distinct, dtype=object), default, today)
	missing = codes < 0
	at = np.where(missing, 0, codes)
	default_value = _default_column(spec, default, 1)[0]
	value = np.where(missing, default_value, value[at]) if value.dtype == object else value[at]
	if value.dtype != object and missing.any():
		value[missing] = default_value
	return value, missing | blank[at], ~missing & ok[at]


def _judge(spec, column: pd.Series, default, today: pd.Timestamp | None):
	"""(typed values with blanks defaulted, blank, plain) for one field's values."""
	cells = _cells(column, strip=isinstance(spec, Text))
	if isinstance(spec, Text | Choice):
		value, ok = _text(cells, spec) if isinstance(spec, Text) else _choice(cells, spec)
		value = np.where(cells.blank, default, value.to_numpy(dtype=object))
	elif isinstance(spec, Flag):
		value, ok = _flag(cells, column)
		value = np.where(cells.blank, bool(default), value)
	elif isinstance(spec, Amount):
		value, ok = _amount(cells, spec)
		value = np.where(cells.blank, _number_or_nan(default), value)
	elif isinstance(spec, Count):
		value, ok = _count(cells)
		value = np.where(cells.blank, int(default or 0), value)
	elif isinstance(spec, Date):
		value, ok = _date(cells, spec, today)
		value = np.where(cells.blank, np.datetime64("NaT", "ns"), value)
	else:
		value, ok = _month(cells, today)
	return value, cells.blank, ok


def _default_column(spec, default, n: int) -> np.ndarray:
	if isinstance(spec, Date | Month):
		return np.full(n, np.datetime64("NaT", "ns"))
	if isinstance(spec, Amount):
		return np.full(n, _number_or_nan(default))
	if isinstance(spec, Count):
		return np.full(n, int(default or 0), dtype="int64")
	if isinstance(spec, Flag):
		return np.full(n, bool(default))
	return np.full(n, default, dtype=object)


def _number_or_nan(default) -> float:
	return np.nan if default is None else float(default)
