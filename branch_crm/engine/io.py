"""The intake shapes as CSV files: one file per table in a folder, UTF-8, a header row of column names.

Intake files: ``customers.csv``, ``holdings.csv``, ``snapshots.csv`` (the REST intake shapes of
``schema``); optional files: ``staff.csv``, ``products.csv``, ``branches.csv`` and ``truth.csv``
(the sample generator's planted patterns).

Parsed frames follow the same conventions as ``engine.sample``: date columns are ``datetime64[ns]``
(``month`` and ``drift_start`` normalised to the first of the month, ``NaT`` when blank; a month may be
written 2026-11, 2026/11, 2026.11, 202611, 2026年11月 or as any day of it); text is
``object`` with ``None`` for blank; amounts are ``float64`` (blank -> 0.0, except
``declared_annual_income`` which stays NaN); counts are ``int32`` (blank -> 0); ``do_not_contact``
is ``int8`` 0/1. Optional columns absent from a file are added with those blank values, and the
columns come back in schema order.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from branch_crm.engine import schema


@dataclass(frozen=True)
class TableSpec:
	columns: tuple[str, ...]
	required: tuple[str, ...]
	dates: tuple[str, ...] = ()
	months: tuple[str, ...] = ()  # dates that mean a month: normalised to its first day
	floats: Mapping[str, float | None] = field(default_factory=dict)  # column -> value for blank
	ints: Mapping[str, str] = field(default_factory=dict)  # column -> dtype (blank -> 0)
	flags: tuple[str, ...] = ()  # 0/1 check boxes

	@property
	def text(self) -> tuple[str, ...]:
		typed = {*self.dates, *self.months, *self.floats, *self.ints, *self.flags}
		return tuple(c for c in self.columns if c not in typed)


TABLES: dict[str, TableSpec] = {
	"customers": TableSpec(
		schema.CUSTOMER_COLUMNS,
		required=("customer", "customer_name"),
		dates=("date_of_birth", "acquired_on"),
		floats={"declared_annual_income": None},
		flags=("do_not_contact",),
	),
	"holdings": TableSpec(
		schema.HOLDING_COLUMNS,
		required=("customer", "product"),
		dates=("opened_on", "matures_on"),
		floats={"balance": 0.0},
	),
	"snapshots": TableSpec(
		schema.SNAPSHOT_COLUMNS,
		# a snapshot file without AUM would put every customer in the lowest tier
		required=("customer", "month", "aum"),
		months=("month",),
		floats=dict.fromkeys(schema.SNAPSHOT_AMOUNT_COLUMNS, 0.0),
		ints=dict.fromkeys(schema.SNAPSHOT_COUNT_COLUMNS, "int32"),
	),
	"staff": TableSpec(
		schema.STAFF_COLUMNS,
		required=("user", "branch", "role_type"),
		floats={"max_aum": 0.0},
		ints={"max_customers": "int32"},
	),
	"products": TableSpec(schema.PRODUCT_COLUMNS, required=("product_code",)),
	"branches": TableSpec(("branch",), required=("branch",)),
	"truth": TableSpec(
		("customer", "pattern", "drift_start"), required=("customer", "pattern"), months=("drift_start",)
	),
}
INTAKE_FILES = schema.INTAKE_KINDS  # customers, holdings, snapshots

_TRUE = ("1", "1.0", "true", "yes", "y", "t", "on")
_FALSE = ("0", "0.0", "false", "no", "n", "f", "off")


def file_name(table: str) -> str:
	return f"{table}.csv"


def read_csv_dir(
	path: str | Path, *, required: Iterable[str] = INTAKE_FILES, parse: bool = True
) -> dict[str, pd.DataFrame]:
	"""Read every known table present in the folder ``path``.

	Raises ``FileNotFoundError`` when the folder or a ``required`` file is missing and
	``ValueError`` when a file lacks a required column or (with ``parse``) holds a value that is not
	a date or number where one is expected. Unknown columns are dropped with a warning.

	With ``parse=False`` every column comes back as text (``None`` for blank), as core banking sent
	it: what the intake validation wants to see, so that it can report bad values record by record.
	"""
	return {
		table: read_table(table, file, parse=parse) for table, file in find_tables(path, required).items()
	}


def find_tables(path: str | Path, required: Iterable[str] = INTAKE_FILES) -> dict[str, Path]:
	"""The files of known tables in the folder ``path``, by table; raises as ``read_csv_dir``."""
	folder = Path(path)
	if not folder.is_dir():
		raise FileNotFoundError(f"{folder}: no such folder")
	required = tuple(required)
	unknown = [t for t in required if t not in TABLES]
	if unknown:
		raise ValueError(f"unknown table(s): {', '.join(unknown)}; expected some of {', '.join(TABLES)}")
	missing = [file_name(t) for t in required if not (folder / file_name(t)).is_file()]
	if missing:
		raise FileNotFoundError(
			f"{folder}: missing {', '.join(missing)} (needed: {', '.join(file_name(t) for t in required)})"
		)
	return {table: folder / file_name(table) for table in TABLES if (folder / file_name(table)).is_file()}


def read_table(table: str, file: str | Path, *, parse: bool = True, nrows: int | None = None) -> pd.DataFrame:
	"""One CSV file of the ``table`` shape (see ``read_csv_dir``); its first ``nrows`` rows if given
	(0: the header, checked)."""
	spec = TABLES[table]
	file = Path(file)
	numeric = dict.fromkeys([*spec.floats, *spec.ints], "float64") if parse else {}
	try:
		try:
			raw = _read(file, numeric, nrows)
		except ValueError:
			raw = _read(file, {}, nrows)  # a bad number somewhere: read it as text so coerce_table names it
	except pd.errors.EmptyDataError:
		raise ValueError(
			f"{file.name}: the file is empty; expected a header row with {', '.join(spec.required)}"
		)
	except UnicodeDecodeError as error:
		raise ValueError(f"{file.name}: not UTF-8 text ({error.reason} at byte {error.start})")
	raw.columns = [str(c).strip() for c in raw.columns]
	absent = [c for c in spec.required if c not in raw.columns]
	if absent:
		raise ValueError(f"{file.name}: missing required column(s) {', '.join(absent)}")
	extra = [c for c in raw.columns if c not in spec.columns]
	if extra:
		warnings.warn(f"{file.name}: ignored unknown column(s) {', '.join(extra)}", UserWarning, stacklevel=2)
	absent = [c for c in spec.columns if c not in raw.columns]
	if table == "snapshots" and absent:
		warnings.warn(
			f"{file.name}: no column(s) {', '.join(absent)}; read as 0 on every row",
			UserWarning,
			stacklevel=2,
		)
	for column in absent:
		raw[column] = None
	raw = raw[list(spec.columns)]
	if not parse:
		return raw.astype(object).where(raw.notna(), None)
	return coerce_table(table, raw, source=file.name)


def _read(file: Path, numeric: dict[str, str], nrows: int | None = None) -> pd.DataFrame:
	# only blank cells are missing: a customer may well be called "NA"
	dtype = defaultdict(lambda: str, numeric)
	return pd.read_csv(
		file, dtype=dtype, keep_default_na=False, na_values=[""], encoding="utf-8-sig", nrows=nrows
	)


def coerce_table(table: str, frame: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
	"""Give a frame of the ``table`` shape the standard dtypes (see the module docstring). Accepts
	CSV text as well as validated intake frames (``datetime.date``, bool, float values). Missing
	columns are added blank; extra columns (such as ``_index``) are kept at the end."""
	spec = TABLES[table]
	source = source or file_name(table)
	out = {}
	for column in spec.columns:
		values = (
			frame[column] if column in frame.columns else pd.Series(None, index=frame.index, dtype=object)
		)
		if column in spec.dates or column in spec.months:
			out[column] = _dates(values, column in spec.months, source, column)
		elif column in spec.floats:
			out[column] = _numbers(values, source, column, spec.floats[column])
		elif column in spec.ints:
			numbers = _numbers(values, source, column, 0.0)
			_complain(numbers != np.floor(numbers), values, source, column, "is not a whole number")
			_complain(numbers < 0, values, source, column, "is negative")
			out[column] = numbers.astype(spec.ints[column])
		elif column in spec.flags:
			out[column] = _flags(values, source, column)
		else:
			out[column] = _text(values)
	result = pd.DataFrame(out, index=frame.index)
	extra = [c for c in frame.columns if c not in spec.columns]
	if extra:
		result = pd.concat([result, frame[extra]], axis=1)
	return result


def write_csv_dir(tables, path: str | Path) -> dict[str, Path]:
	"""Write each table to ``<path>/<name>.csv`` (UTF-8, ISO dates, blank for no value). ``tables``
	is a ``SampleData`` or a mapping of name to frame. Returns the paths written."""
	if hasattr(tables, "tables"):
		tables = tables.tables()
	folder = Path(path)
	folder.mkdir(parents=True, exist_ok=True)
	written = {}
	for name, frame in tables.items():
		if name in TABLES:
			spec = TABLES[name]
			frame = frame[
				[c for c in spec.columns if c in frame.columns]
				+ [c for c in frame.columns if c not in spec.columns]
			]
		target = folder / file_name(name)
		frame.to_csv(target, index=False, encoding="utf-8", date_format="%Y-%m-%d", lineterminator="\n")
		written[name] = target
	return written


# ---------------------------------------------------------------- value parsing


def _blank(values: pd.Series) -> pd.Series:
	"""NaN, None, NaT and whitespace-only text."""
	blank = values.isna()
	if values.dtype == object:
		text = values.map(lambda v: isinstance(v, str)).astype(bool)
		if text.any():
			blank |= text & values.where(text, "x").str.strip().eq("")
	return blank


def _complain(bad: pd.Series, values: pd.Series, source: str, column: str, problem: str) -> None:
	bad = bad.fillna(False).astype(bool)
	if not bad.any():
		return
	positions = np.flatnonzero(bad.to_numpy())
	# line numbers as a spreadsheet shows them: the header is line 1
	shown = ", ".join(f"line {p + 2}: {values.iloc[p]!r}" for p in positions[:3])
	more = f" and {len(positions) - 3} more" if len(positions) > 3 else ""
	raise ValueError(f"{source}: column {column} {problem} ({shown}{more})")


def _text(values: pd.Series) -> pd.Series:
	values = values.astype(object)
	if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
		values = values.map(lambda v: v if v is None or isinstance(v, str) or pd.isna(v) else str(v))
	return values.where(~_blank(values), None)


# the ways core-banking exports write a month: 2026-11, 2026/11, 2026.11, 2026-11-01 (any day, with
# or without a time), 202611, 20261101, 2026年11月
_MONTH_PATTERNS = (
	re.compile(
		r"^(?P<year>\d{4})[-/.](?P<month>\d{1,2})(?:[-/.](?P<day>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)?$"
	),
	re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})?$"),
	re.compile(r"^(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月(?:\s*(?P<day>\d{1,2})\s*日)?$"),
)
MONTH_SPELLINGS = "YYYY-MM, YYYY/MM, YYYYMM or a date in the month"


def month_of(value) -> dt.date | None:
	"""The first day of the month ``value`` names (text in one of the spellings above, a date or a
	timestamp); None when it is blank or names no month."""
	if value is None or value is pd.NaT:
		return None
	if isinstance(value, dt.datetime | pd.Timestamp):
		return value.date().replace(day=1)
	if isinstance(value, dt.date):
		return value.replace(day=1)
	if not isinstance(value, str):
		return None
	text = value.strip()
	for pattern in _MONTH_PATTERNS:
		match = pattern.match(text)
		if match:
			try:
				day = dt.date(int(match["year"]), int(match["month"]), int(match["day"] or 1))
			except ValueError:
				return None
			return day.replace(day=1)
	return None


def parse_months(values: pd.Series) -> pd.Series:
	"""``month_of`` over a column, vectorised: datetime64 first-of-month values, NaT where blank or not a
	month."""
	if pd.api.types.is_datetime64_any_dtype(values):
		return pd.Series(
			values.to_numpy().astype("datetime64[M]").astype("datetime64[ns]"), index=values.index
		)
	text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
	is_text = text.map(lambda v: isinstance(v, str)).astype(bool)
	out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
	# dates and timestamps (validated frames)
	others = ~is_text & text.notna()
	if others.any():
		out[others] = pd.to_datetime(text[others].map(month_of), errors="coerce")
	remaining = is_text.copy()
	for pattern in _MONTH_PATTERNS:
		if not remaining.any():
			break
		parts = text[remaining].astype(str).str.extract(pattern)
		matched = parts["year"].notna()
		if not matched.any():
			continue
		parts = parts[matched]
		day = pd.to_datetime(
			{
				"year": parts["year"].astype(int),
				"month": parts["month"].astype(int),
				"day": parts["day"].fillna("1").astype(int),
			},
			errors="coerce",
		)
		out[parts.index] = day.to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
		remaining[parts.index] = False
	return out


def _dates(values: pd.Series, month: bool, source: str, column: str) -> pd.Series:
	if month:
		parsed = parse_months(values)
		_complain(
			parsed.isna() & ~_blank(values),
			values,
			source,
			column,
			f"has values that are not months (use {MONTH_SPELLINGS})",
		)
		return parsed
	if pd.api.types.is_datetime64_any_dtype(values):
		parsed = values
	else:
		blank = _blank(values)
		parsed = pd.to_datetime(values.where(~blank, None), errors="coerce", format="ISO8601")
		_complain(
			parsed.isna() & ~blank, values, source, column, "has values that are not dates (use YYYY-MM-DD)"
		)
	return pd.Series(parsed.to_numpy().astype("datetime64[ns]"), index=values.index)


def _numbers(values: pd.Series, source: str, column: str, default: float | None) -> pd.Series:
	if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
		parsed = values.astype(float)
	else:
		blank = _blank(values)
		text = values.where(~blank, None)
		parsed = pd.to_numeric(text, errors="coerce").astype(float)
		retry = parsed.isna() & ~blank
		if retry.any():
			# "1,234.50" and padded cells
			cleaned = text[retry].map(lambda v: v.strip().replace(",", "") if isinstance(v, str) else v)
			parsed[retry] = pd.to_numeric(cleaned, errors="coerce").astype(float)
		_complain(parsed.isna() & ~blank, values, source, column, "has values that are not numbers")
	return parsed if default is None else parsed.fillna(default)


def _flags(values: pd.Series, source: str, column: str) -> pd.Series:
	if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
		parsed = values.astype(float).fillna(0.0)
	else:
		words = {**dict.fromkeys(_TRUE, 1.0), **dict.fromkeys(_FALSE, 0.0)}

		def flag(value):
			if value is None or (not isinstance(value, str) and pd.isna(value)):
				return 0.0
			if isinstance(value, str):
				text = value.strip().lower()
				return words.get(text, 0.0 if not text else np.nan)
			return float(value)

		parsed = values.map(flag).astype(float)
	_complain(~parsed.isin([0.0, 1.0]), values, source, column, "has values that are not 0/1 or true/false")
	return parsed.astype(np.int8)
