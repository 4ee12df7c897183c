"""Validation and change detection for core-banking intake batches (REST API and CSV import).

Each record is validated on its own, so one bad record never blocks the good ones. Problems come back
as ``Rejection`` rows naming the record's index, its key, the field and the reason. The Frappe layer
translates ``template`` and fills in ``params``; ``reason`` is the same text in English, for logs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
	BaseModel,
	ConfigDict,
	Field,
	ValidationError,
	ValidationInfo,
	field_validator,
	model_validator,
)
from pydantic_core import PydanticCustomError

from branch_crm.engine import column_checks, schema
from branch_crm.engine.io import month_of


@dataclass(frozen=True)
class Rejection:
	index: int
	key: str | None
	field: str | None
	template: str
	params: dict[str, Any] = field(default_factory=dict)

	@property
	def reason(self) -> str:
		return self.template.format(**self.params)

	def as_dict(self) -> dict:
		row = asdict(self)
		row["reason"] = self.reason
		return row


# Every validation problem as a template the Frappe layer translates, keyed by pydantic's error type.
VALIDATION_TEMPLATES = {
	"missing": "Field required",
	"extra_forbidden": "is not a field of this record",
	"literal_error": "must be one of {expected}",
	"greater_than_equal": "must be at least {ge}",
	"greater_than": "must be more than {gt}",
	"less_than_equal": "must be at most {le}",
	"less_than": "must be less than {lt}",
	"string_too_long": "must be at most {max_length} characters",
	"string_too_short": "must not be empty",
	"string_pattern_mismatch": "is not in a valid format",
	"string_type": "must be text",
	"bool_parsing": "must be true or false",
	"bool_type": "must be true or false",
	"float_parsing": "must be a number",
	"float_type": "must be a number",
	"finite_number": "must be a finite number",
	"int_parsing": "must be a whole number",
	"int_type": "must be a whole number",
	"int_from_float": "must be a whole number, not a fraction",
	"date_parsing": "must be a valid date (YYYY-MM-DD)",
	"date_type": "must be a valid date (YYYY-MM-DD)",
	"date_from_datetime_parsing": "must be a valid date (YYYY-MM-DD)",
	"date_from_datetime_inexact": "must be a valid date (YYYY-MM-DD)",
	"month_parsing": "must be a month (YYYY-MM)",
	"in_future": "{value} is in the future",
	"month_in_future": "month {month} is in the future",
	"too_early": "{value} is before 1900",
	"self_referral": "a customer cannot refer themselves",
	"matures_before_opened": "matures_on is before opened_on",
}


def describe_problem(problem: dict) -> tuple[str, dict]:
	"""(template, params) for one pydantic error; unknown kinds keep pydantic's English text."""
	template = VALIDATION_TEMPLATES.get(problem["type"])
	if template is None:
		return "{message}", {"message": problem["msg"].removeprefix("Value error, ")}
	context = problem.get("ctx") or {}
	params = {
		key: str(context[key])
		for key in ("expected", "ge", "gt", "le", "lt", "max_length", "value", "month")
		if key in context
	}
	for bound in ("ge", "gt", "le", "lt"):
		if bound in params:
			params[bound] = f"{float(params[bound]):,.15g}"
	return template, params


Name = Annotated[str, Field(min_length=1, max_length=140)]
Text = Annotated[str, Field(max_length=1000)]
AMOUNT_LIMIT, COUNT_LIMIT, EARLIEST = (
	column_checks.AMOUNT_LIMIT,
	column_checks.COUNT_LIMIT,
	column_checks.EARLIEST,
)
Amount = Annotated[float, Field(ge=0, lt=AMOUNT_LIMIT, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=COUNT_LIMIT)]


def _select(options: tuple[str, ...]):
	return Literal[options]  # type: ignore[valid-type]


def _is_blank(value: Any) -> bool:
	if value is None or value is pd.NaT:
		return True
	if isinstance(value, str):
		return not value.strip()
	return isinstance(value, float) and np.isnan(value)


class _Record(BaseModel):
	model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

	@model_validator(mode="before")
	@classmethod
	def _blank_is_missing(cls, data: Any) -> Any:
		# CSV cells and some integrations send "", NaN or null for "no value": treat them as absent, so
		# that optional fields take their default and required ones fail with "Field required".
		if isinstance(data, dict):
			return {k: v for k, v in data.items() if not _is_blank(v)}
		return data


def _not_too_early(value: dt.date | None) -> dt.date | None:
	if value is not None and value < EARLIEST:
		raise PydanticCustomError("too_early", "{value} is before 1900", {"value": value.isoformat()})
	return value


def _not_future(value: dt.date | None, info: ValidationInfo) -> dt.date | None:
	today = (info.context or {}).get("today")
	if value is not None and today is not None and value > today:
		raise PydanticCustomError("in_future", "{value} is in the future", {"value": value.isoformat()})
	return value


class CustomerRecord(_Record):
	customer: Name
	customer_name: Name
	branch: Name | None = None
	relationship_manager: Name | None = None
	status: _select(schema.PROFILE_STATUSES) = "Active"
	gender: Name | None = None
	date_of_birth: dt.date | None = None
	id_type: _select(schema.ID_TYPES) | None = None
	id_number: Annotated[str, Field(max_length=40)] | None = None
	mobile_no: Annotated[str, Field(max_length=30, pattern=r"^\+?[0-9][0-9 \-]{4,}$")] | None = None
	email_id: Annotated[str, Field(max_length=140, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
	address: Text | None = None
	occupation_category: _select(schema.OCCUPATION_CATEGORIES) | None = None
	occupation: Name | None = None
	employer: Name | None = None
	income_band: _select(schema.INCOME_BANDS) | None = None
	declared_annual_income: Amount | None = None
	family_stage: _select(schema.FAMILY_STAGES) | None = None
	risk_preference: _select(schema.RISK_PREFERENCES) | None = None
	investment_intent: Text | None = None
	hobbies: Text | None = None
	channel_preference: _select(schema.CHANNELS) | None = None
	do_not_contact: bool = False
	intent_level: _select(schema.INTENT_LEVELS) = "Unknown"
	acquisition_channel: _select(schema.ACQUISITION_CHANNELS) | None = None
	acquired_on: dt.date | None = None
	first_served_by: Name | None = None
	referred_by_staff: Name | None = None
	referred_by_customer: Name | None = None

	_dob_not_future = field_validator("date_of_birth", "acquired_on")(_not_future)
	_dates_not_too_early = field_validator("date_of_birth", "acquired_on")(_not_too_early)

	@model_validator(mode="after")
	def _not_self_referred(self):
		if self.referred_by_customer and self.referred_by_customer == self.customer:
			raise PydanticCustomError("self_referral", "a customer cannot refer themselves")
		return self


class HoldingRecord(_Record):
	customer: Name
	product: Name
	account_no: Annotated[str, Field(max_length=140)] = ""
	balance: Amount = 0.0
	opened_on: dt.date | None = None
	matures_on: dt.date | None = None

	_opened_not_future = field_validator("opened_on")(_not_future)
	_dates_not_too_early = field_validator("opened_on", "matures_on")(_not_too_early)

	@field_validator("account_no", mode="before")
	@classmethod
	def _account_no_text(cls, value: Any) -> str:
		return "" if value is None else str(value)

	@model_validator(mode="after")
	def _matures_after_opening(self):
		if self.opened_on and self.matures_on and self.matures_on < self.opened_on:
			raise PydanticCustomError("matures_before_opened", "matures_on is before opened_on")
		return self


class SnapshotRecord(_Record):
	customer: Name
	month: dt.date
	aum: Amount = 0.0
	deposits: Amount = 0.0
	investments: Amount = 0.0
	loans: Amount = 0.0
	# contribution may be negative: below-zero customers cost the bank money
	contribution: Annotated[float, Field(gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT, allow_inf_nan=False)] = 0.0
	inflow: Amount = 0.0
	outflow: Amount = 0.0
	salary_credit: Amount = 0.0
	txn_count: Count = 0
	large_txn_count: Count = 0
	bill_payments: Count = 0
	digital_logins: Count = 0
	complaints: Count = 0

	@field_validator("month", mode="before")
	@classmethod
	def _month_start(cls, value: Any) -> Any:
		# "2025-03", "2025/03", "202503", "2025-03-01" and "2025-03-17" all mean March 2025
		if isinstance(value, str | dt.date):
			month = month_of(value)
			if month is None:
				raise PydanticCustomError("month_parsing", "must be a month (YYYY-MM)")
			return month
		return value

	@field_validator("month")
	@classmethod
	def _first_of_month(cls, value: dt.date, info: ValidationInfo) -> dt.date:
		value = _not_too_early(value.replace(day=1))
		today = (info.context or {}).get("today")
		if today is not None and value > today.replace(day=1):
			raise PydanticCustomError(
				"month_in_future", "month {month} is in the future", {"month": f"{value:%Y-%m}"}
			)
		return value


MODELS: dict[str, type[_Record]] = {
	"customers": CustomerRecord,
	"holdings": HoldingRecord,
	"snapshots": SnapshotRecord,
}
COLUMNS = {
	"customers": schema.CUSTOMER_COLUMNS,
	"holdings": schema.HOLDING_COLUMNS,
	"snapshots": schema.SNAPSHOT_COLUMNS,
}
# numbers in the database (NOT NULL DEFAULT 0), whatever a batch sends for them
NUMERIC_COLUMNS = {
	"customers": ("declared_annual_income", "do_not_contact"),
	"holdings": ("balance",),
	"snapshots": (*schema.SNAPSHOT_AMOUNT_COLUMNS, *schema.SNAPSHOT_COUNT_COLUMNS),
}
KEYS = {
	"customers": schema.CUSTOMER_KEY,
	"holdings": schema.HOLDING_KEY,
	"snapshots": schema.SNAPSHOT_KEY,
}


def record_key(kind: str, record: Any) -> str | None:
	if not isinstance(record, dict):
		return None
	parts = [record.get(col) for col in KEYS[kind]]
	if all(p in (None, "") for p in parts):
		return None
	return "/".join("" if p is None else str(p) for p in parts)


def _model_rejections(kind: str, index: int, record: dict, error: ValidationError) -> list[Rejection]:
	key = record_key(kind, record)
	found = []
	for problem in error.errors(include_url=False):
		loc = ".".join(str(part) for part in problem["loc"]) or None
		template, params = describe_problem(problem)
		found.append(Rejection(index, key, loc, template, params))
	return found


def validate_by_model(
	kind: str, records: dict[int, Any], *, today: dt.date | None
) -> tuple[list[dict], list[Rejection]]:
	"""The records (by position) validated one by one by their model: the valid ones dumped (with
	``_index``), a rejection per problem of the others. No duplicate check."""
	model = MODELS[kind]
	context = {"today": today}
	rows: list[dict] = []
	rejections: list[Rejection] = []
	for index, record in records.items():
		if not isinstance(record, dict):
			rejections.append(
				Rejection(
					index, None, None, "record must be an object, got {type}", {"type": type(record).__name__}
				)
			)
			continue
		try:
			row = model.model_validate(record, context=context).model_dump()
		except ValidationError as error:
			rejections.extend(_model_rejections(kind, index, record, error))
			continue
		row["_index"] = index
		rows.append(row)
	return rows, rejections


def validate_frame(
	kind: str, frame: pd.DataFrame, *, today: dt.date | None, records: Any = None
) -> tuple[pd.DataFrame, list[Rejection]]:
	"""Validate the records of ``frame`` (one column per field as sent, indexed by each record's
	position in its batch or file) as their models would, column by column: see ``column_checks``.
	Records the columns cannot judge go to the model, as ``records[position]`` when given (the
	record as sent), else as the frame's row. Returns the valid records, typed (dates as datetime64),
	with ``_index``, and the rejections in record order. No duplicate check (see ``reject_duplicates``)."""
	model = MODELS[kind]
	fields = model.model_fields
	checked = column_checks.check_columns(
		kind,
		frame,
		today=today,
		required=tuple(name for name, info in fields.items() if info.is_required()),
		defaults={name: info.default for name, info in fields.items() if not info.is_required()},
	)
	plain = checked.values[~checked.unplain]
	plain.insert(len(plain.columns), "_index", plain.index.to_numpy())
	others = frame.index[checked.unplain]
	if records is None:
		by_model = {i: {k: v for k, v in frame.loc[i].items() if not _is_blank(v)} for i in others}
	else:
		by_model = {i: records[i] for i in others}
	rows, rejections = validate_by_model(kind, by_model, today=today)
	if rows:
		judged = pd.DataFrame(rows, columns=[*COLUMNS[kind], "_index"], index=[r["_index"] for r in rows])
		valid = pd.concat([plain, _typed_like(judged, plain)]).sort_index(kind="stable")
	else:
		valid = plain
	return valid[[*COLUMNS[kind], "_index"]], rejections


def _typed_like(rows: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
	"""Model-dumped rows in the column types of the vectorised result (dates as datetime64)."""
	out = rows.copy()
	for column in like.columns:
		if pd.api.types.is_datetime64_any_dtype(like[column]):
			out[column] = pd.to_datetime(out[column])
		elif like[column].dtype != object:
			out[column] = out[column].astype(like[column].dtype)
	return out


def reject_duplicates(kind: str, valid: pd.DataFrame) -> tuple[pd.DataFrame, list[Rejection]]:
	"""Keep the first valid record of each key (in ``_index`` order); the later ones are rejected
	as duplicates of it."""
	key = list(KEYS[kind])
	valid = valid.sort_values("_index", kind="stable")
	later = valid.duplicated(key, keep="first").to_numpy()
	if not later.any():
		return valid, []
	first = valid.groupby(key, sort=False, dropna=False)["_index"].transform("first")
	repeats = valid[later]
	texts = [_key_text(repeats[c]) for c in key]
	rejections = [
		Rejection(
			int(index),
			"/".join(parts),
			None,
			"duplicate of record {first} in this batch",
			{"first": int(first_index)},
		)
		for index, first_index, *parts in zip(repeats["_index"], first[later], *texts, strict=True)
	]
	return valid[~later], rejections


def _key_text(values: pd.Series) -> list[str]:
	"""A key column as ``record_key`` spells it from a validated record (dates as YYYY-MM-DD)."""
	if pd.api.types.is_datetime64_any_dtype(values):
		return values.dt.strftime("%Y-%m-%d").fillna("").tolist()
	return ["" if v is None else str(v) for v in values]


def validate_records(
	kind: str, records: list[Any], *, today: dt.date, batch_limit: int | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
	"""Validate each record on its own. Returns the valid records as a frame (with ``_index``, the
	record's position in the batch; dates as ``datetime.date``) and a rejection per problem found."""
	if kind not in MODELS:
		raise ValueError(f"unknown intake kind {kind!r}; expected one of {', '.join(MODELS)}")
	if batch_limit is not None and len(records) > batch_limit:
		raise ValueError(f"a batch holds at most {batch_limit} records; this one has {len(records)}")

	objects = [i for i, record in enumerate(records) if isinstance(record, dict)]
	_rows, rejections = validate_by_model(
		kind, {i: r for i, r in enumerate(records) if not isinstance(r, dict)}, today=today
	)
	frame = pd.DataFrame([records[i] for i in objects], index=objects)
	valid, found = validate_frame(kind, frame, today=today, records=records)
	valid, duplicates = reject_duplicates(kind, valid)
	rejections = sorted([*rejections, *found, *duplicates], key=lambda r: r.index)
	return _with_dates(valid.reset_index(drop=True)), rejections


def _with_dates(valid: pd.DataFrame) -> pd.DataFrame:
	"""Dates as ``datetime.date`` (None when blank), as a record's model gives them."""
	for column in valid.columns:
		if pd.api.types.is_datetime64_any_dtype(valid[column]):
			dates = valid[column]
			valid[column] = pd.Series(dates.dt.date, dtype=object).where(dates.notna(), None)
	return valid


# fields a customer record can lose and still be analysed: all but its key, its name, and the
# do-not-contact flag (a blank one would make the customer contactable)
KEEP_WITHOUT = {
	"customers": frozenset(CustomerRecord.model_fields) - {"customer", "customer_name", "do_not_contact"},
}


def validate_keeping_frame(
	kind: str, frame: pd.DataFrame, *, today: dt.date | None
) -> tuple[pd.DataFrame, list[Rejection], list[Rejection]]:
	"""``validate_frame``, but a record whose only problems lie in fields it can do without
	(``KEEP_WITHOUT``) is kept with those fields blank. Returns the valid records, the rejections, and
	the problems whose field was blanked (one per field). The offline analysis reads customers so:
	one date of birth in the future must not drop the customer and, with them, their holdings and
	snapshots. No duplicate check (see ``reject_duplicates``)."""
	valid, rejections = validate_frame(kind, frame, today=today)
	fields = KEEP_WITHOUT.get(kind, frozenset())
	problems: dict[int, list[Rejection]] = {}
	for r in rejections:
		problems.setdefault(r.index, []).append(r)
	repairable = [index for index, found in problems.items() if all(r.field in fields for r in found)]
	if not repairable:
		return valid, rejections, []
	trimmed = {}
	for index in repairable:
		blanked_fields = {r.field for r in problems[index]}
		trimmed[index] = {
			k: v for k, v in frame.loc[index].items() if k not in blanked_fields and not _is_blank(v)
		}
	rows, still = validate_by_model(kind, trimmed, today=today)
	kept = {row["_index"] for row in rows}
	blanked = [r for r in rejections if r.index in kept]
	rejections = sorted(
		[r for r in rejections if r.index not in kept and r.index not in trimmed] + still,
		key=lambda r: r.index,
	)
	if rows:
		repaired = pd.DataFrame(rows, columns=[*COLUMNS[kind], "_index"], index=[r["_index"] for r in rows])
		valid = pd.concat([valid, _typed_like(repaired, valid)]).sort_index(kind="stable")
	return valid, rejections, blanked


def validate_keeping_records(
	kind: str, records: list[Any], *, today: dt.date
) -> tuple[pd.DataFrame, list[Rejection], list[Rejection]]:
	"""``validate_keeping_frame`` over a list of records, with the duplicate check (the first valid
	record of a key counts)."""
	objects = [i for i, record in enumerate(records) if isinstance(record, dict)]
	_rows, rejections = validate_by_model(
		kind, {i: r for i, r in enumerate(records) if not isinstance(r, dict)}, today=today
	)
	frame = pd.DataFrame([records[i] for i in objects], index=objects)
	valid, found, blanked = validate_keeping_frame(kind, frame, today=today)
	valid, duplicates = reject_duplicates(kind, valid)
	rejections = sorted([*rejections, *found, *duplicates], key=lambda r: r.index)
	return _with_dates(valid.reset_index(drop=True)), rejections, not_duplicates(blanked, duplicates)


def not_duplicates(blanked: list[Rejection], duplicates: list[Rejection]) -> list[Rejection]:
	"""The blanked fields of the records kept: a record rejected as a duplicate keeps nothing."""
	gone = {r.index for r in duplicates}
	return [r for r in blanked if r.index not in gone]


def blank_unknown_references(
	kind: str,
	frame: pd.DataFrame,
	known: dict[str, set[str] | frozenset[str]],
	labels: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, list[Rejection]]:
	"""``check_references``, but the unknown links are blanked instead of their rows rejected; the
	problems come back as rejections of the field."""
	_kept, problems = check_references(kind, frame, known, labels)
	if not problems:
		return frame, []
	frame = frame.copy()
	for column, values in known.items():
		unknown = frame[column].notna() & (frame[column] != "") & ~frame[column].isin(values)
		frame.loc[unknown, column] = None
	return frame, problems


def check_references(
	kind: str,
	frame: pd.DataFrame,
	known: dict[str, set[str] | frozenset[str]],
	labels: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, list[Rejection]]:
	"""Reject rows whose link columns name records that do not exist. ``known`` maps a column to the
	set of values that exist (in the site, or earlier in the same batch)."""
	labels = labels or {}
	bad = np.zeros(len(frame), dtype=bool)
	rejections: list[Rejection] = []
	for column, values in known.items():
		present = frame[column].notna() & (frame[column] != "")
		missing = (present & ~frame[column].isin(values)).to_numpy()
		if missing.any():
			rows = frame[missing]
			doctype = labels.get(column, column)
			rejections.extend(
				Rejection(
					int(index),
					key,
					column,
					"{doctype} {value} does not exist",
					{"doctype": doctype, "value": value},
				)
				for index, key, value in zip(
					rows["_index"].tolist(), _record_keys(kind, rows), rows[column].tolist(), strict=True
				)
			)
		bad |= missing
	return (frame[~bad] if bad.any() else frame), rejections


def _record_keys(kind: str, rows: pd.DataFrame) -> list[str | None]:
	"""``record_key`` of each validated row, a column at a time rather than a row's dict at a time."""
	parts = zip(*(rows[column].tolist() for column in KEYS[kind]), strict=True)
	return [
		None
		if all(p in (None, "") for p in values)
		else "/".join("" if p is None else str(p) for p in values)
		for values in parts
	]


def _is_numeric(series: pd.Series) -> bool:
	return pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)


_MIDNIGHT = re.compile(r" 00:00:00$")


def _comparable(series: pd.Series, numeric: bool) -> pd.Series:
	"""Normalise values so that what the database returns (Decimal, date, NULL) compares equal to
	what a batch sends (float, date, None)."""
	if numeric:
		return pd.to_numeric(series, errors="coerce").astype(float).round(6).fillna(0.0)
	values = series.astype(object)
	# a datetime rendered as text compares as its date (plain lists: pandas' string methods infer
	# the column's type again on every call, most of the time of comparing a batch)
	if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
		# text and blanks only (names, codes, ids), each distinct text once; what is not text is missing
		codes, distinct = pd.factorize(values, use_na_sentinel=True)
		text = [_MIDNIGHT.sub("", v) if " 00:00:00" in v else v if v.strip() else "" for v in distinct]
		return pd.Series(np.array([*text, ""], dtype=object)[codes], index=series.index, dtype=object)
	# dates, numbers, mixed: each value as str() writes it
	text = ["" if _is_blank(v) else str(v) for v in values.tolist()]
	text = [_MIDNIGHT.sub("", t) if " 00:00:00" in t else t for t in text]
	return pd.Series(text, index=series.index, dtype=object)


def _comparable_frame(frame: pd.DataFrame, columns: list[str], numeric: dict[str, bool]) -> pd.DataFrame:
	return pd.DataFrame({c: _comparable(frame[c], numeric[c]) for c in columns}, index=frame.index)


def split_changes(
	incoming: pd.DataFrame,
	existing: pd.DataFrame,
	key: list[str] | tuple[str, ...],
	columns: list[str] | tuple[str, ...],
	numeric_columns: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
	"""Split a validated batch into rows to insert, rows to update and rows already up to date.

	``existing`` holds the stored rows for the batch's keys (same column names). Comparing first is
	what makes a repeated batch a no-op: unchanged rows are not written at all. ``numeric_columns``
	compare as numbers even when the batch leaves them all empty (the database stores 0)."""
	key, columns = list(key), [c for c in columns if c not in key]
	if existing.empty or incoming.empty:
		return incoming, incoming.iloc[0:0], incoming.iloc[0:0]
	# the batch decides how a column compares: numbers as numbers, everything else as text
	numeric = {c: c in numeric_columns or _is_numeric(incoming[c]) for c in key + columns}
	stored = _comparable_frame(existing, key + columns, numeric).drop_duplicates(key)
	merged = (
		_comparable_frame(incoming, key, numeric)
		.reset_index()
		.merge(stored, on=key, how="left", indicator=True)
		.set_index("index")
		.reindex(incoming.index)
	)
	is_new = merged["_merge"] == "left_only"
	incoming_values = _comparable_frame(incoming, columns, numeric)
	differs = pd.Series(False, index=incoming.index)
	for column in columns:
		differs |= merged[column] != incoming_values[column]
	return incoming[is_new], incoming[~is_new & differs], incoming[~is_new & ~differs]
