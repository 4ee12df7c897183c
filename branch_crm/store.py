"""The one module that moves data between the site database and pandas DataFrames, in bulk.

Reads are single set-based SELECTs per chunk; writes are multi-row ``INSERT ... ON DUPLICATE KEY
UPDATE`` or ``UPDATE ... JOIN`` statements, never a ``get_doc`` + ``save`` loop. Column names are
checked against the doctype's meta before they reach SQL; values are escaped by PyMySQL, as
parameters or, for the rows of a multi-row INSERT, column by column with its own escape functions
(``_value_rows``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import frappe
import numpy as np
import pandas as pd
from frappe.model import default_fields

WRITE_CHUNK = 1000
# names in one IN list: MariaDB's in_predicate_conversion_threshold (default 1000) turns longer ones
# into a join that reads the whole index range instead of looking each name up
IN_LIST_LIMIT = 900
READ_CHUNK = 5000


def chunked(values: Sequence, size: int) -> Iterator[Sequence]:
	for start in range(0, len(values), size):
		yield values[start : start + size]


class _InlineRead:
	"""A read done when its result is asked for, on this connection (the ``Future`` interface)."""

	def __init__(self, read: Callable, chunk: tuple):
		self.read, self.chunk = read, chunk

	def result(self):
		return self.read(*self.chunk)


@contextmanager
def _connected_threads(workers: int, name: str) -> Iterator[ThreadPoolExecutor]:
	"""A thread pool whose threads each open a connection of their own to this site, as this user;
	on leaving, the pool waits for its work and the connections are closed."""
	site, sites_path, user = frappe.local.site, frappe.local.sites_path, frappe.session.user
	connections = []

	def connect() -> None:
		frappe.init(site=site, sites_path=sites_path)
		frappe.connect(set_admin_as_user=False)
		frappe.set_user(user)
		connections.append(frappe.local.db)

	pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name, initializer=connect)
	try:
		yield pool
	finally:
		pool.shutdown(wait=True)
		for db in connections:
			db.close()


def _nothing_uncommitted() -> bool:
	# another connection sees only committed rows, and would wait on this one's row locks
	return not frappe.db.transaction_writes


def _read_and_release(read: Callable, *args):
	"""``read(*args)`` on a reader thread's connection, then its transaction ended, so that the
	reader holds no snapshot between reads."""
	try:
		return read(*args)
	finally:
		frappe.db.rollback()


def read_ahead(
	read: Callable,
	chunks: Sequence[tuple],
	*,
	enabled: bool | None = None,
	readers: int = 2,
	while_deciding: bool = True,
) -> Iterator[tuple[tuple, Future | _InlineRead]]:
	"""``(chunk, pending)`` for each chunk in order, where ``pending.result()`` is ``read(*chunk)``
	(or raises what it raised). With read-ahead, the next ``readers`` chunks are read on connections
	of their own, in threads, while the caller works on this one: one reader's query runs in the
	database while another parses its rows and the caller scores and writes, so both cores stay
	busy instead of taking turns. ``read`` must only read.

	A second connection sees only committed rows, so ``enabled=None`` reads ahead only when this
	connection has no uncommitted writes (as in a scheduled job) and there is more than one chunk;
	otherwise every chunk is read in line, on this connection.

	``while_deciding=False``: the next chunk is asked for only when the caller comes back for it,
	once it has decided this one (and handed its write over), not while it decides: for chunks so
	large that a worker should hold one chunk's decision at a time, the next one's read overlaps
	this one's write instead."""
	chunks = list(chunks)
	if enabled is None:
		enabled = len(chunks) > 1 and _nothing_uncommitted()
	if not enabled:
		for chunk in chunks:
			yield chunk, _InlineRead(read, chunk)
		return

	with _connected_threads(readers, "branch_crm_read") as pool:
		pending = [pool.submit(_read_and_release, read, *chunk) for chunk in chunks[:readers]]
		try:
			for number, chunk in enumerate(chunks):
				current = pending.pop(0)
				more = number + readers < len(chunks)
				if more and while_deciding:
					pending.append(pool.submit(_read_and_release, read, *chunks[number + readers]))
				yield chunk, current
				if more and not while_deciding:
					pending.append(pool.submit(_read_and_release, read, *chunks[number + readers]))
		finally:
			for future in pending:  # stopped early: the chunks read ahead are not wanted
				future.cancel()


def read_together(reads: dict[str, Callable], *, readers: int = 3) -> dict:
	"""``{key: read()}`` for each of ``reads``, read at the same time on connections of their own
	(at most ``readers``), so that one large chunk's several queries keep both the database and
	the parser busy instead of following each other. Each read sees the rows committed when it
	starts (its own transaction). With uncommitted writes on this connection, or a single read,
	they are read in line, on this connection. A read that fails raises here once the others end."""
	if len(reads) < 2 or not _nothing_uncommitted():
		return {key: read() for key, read in reads.items()}
	with _connected_threads(min(readers, len(reads)), "branch_crm_together") as pool:
		pending = {key: pool.submit(_read_and_release, read) for key, read in reads.items()}
		return {key: future.result() for key, future in pending.items()}


def _write_and_commit(write: Callable, *args):
	"""``write(*args)`` as one transaction: committed, or rolled back and the error raised."""
	try:
		result = write(*args)
		frappe.db.commit()
		return result
	except Exception:
		frappe.db.rollback()
		raise


@contextmanager
def write_behind(*, enabled: bool | None = None, writers: int = 1) -> Iterator[Callable[..., Future]]:
	"""``submit(write, *args)`` runs ``write(*args)`` and commits it as one transaction, and returns
	a ``Future``: its ``result()`` is what ``write`` returned, or raises what it raised after the
	transaction was rolled back, so nothing of a failed write stays.

	With write-behind, the writes run on ``writers`` connections of their own, in threads, while
	the caller scores the next chunk: the database updates rows while Python computes. One writer
	applies the writes one after another, in the order submitted, on one core of the database; two
	apply two chunks' writes at once (chunks write disjoint rows, each its own transaction), for a
	stage whose writes take longer than its reads and decisions. The caller should wait for a write
	before submitting more than ``writers``, so that few chunks wait in memory. ``enabled=None``
	writes behind only when this connection has no uncommitted writes; otherwise each write runs at
	once, on this connection.
	Leaving the block waits for the writes submitted, closes the writer's connection and commits this
	one, so that its next read is a fresh snapshot that sees what the writer committed."""
	if enabled is None:
		enabled = _nothing_uncommitted()
	if not enabled:

		def submit_in_line(write: Callable, *args) -> Future:
			done = Future()
			try:
				done.set_result(_write_and_commit(write, *args))
			except Exception as error:
				done.set_exception(error)
			return done

		yield submit_in_line
		return

	try:
		with _connected_threads(writers, "branch_crm_write") as pool:
			yield lambda write, *args: pool.submit(_write_and_commit, write, *args)
	finally:
		# a read in this connection's open transaction would still see the rows as they were
		frappe.db.commit()


def _table(doctype: str) -> str:
	return f"`tab{doctype}`"


def _checked_columns(doctype: str, columns: Iterable[str]) -> list[str]:
	"""Only real columns of the doctype may be named in SQL."""
	allowed = set(frappe.get_meta(doctype).get_valid_columns()) | set(default_fields)
	columns = list(columns)
	unknown = [c for c in columns if c not in allowed]
	if unknown:
		raise frappe.ValidationError(f"{doctype} has no column(s) {', '.join(unknown)}")
	return columns


def _numeric_columns(doctype: str, columns: Iterable[str]) -> set[str]:
	"""Frappe stores numbers NOT NULL DEFAULT 0: a missing number is written as 0, as the desk does."""
	meta = frappe.get_meta(doctype)
	numeric = {"Currency", "Float", "Int", "Check", "Percent", "Rating"}
	return {c for c in columns if (field := meta.get_field(c)) and field.fieldtype in numeric} | (
		{"idx", "docstatus"} & set(columns)
	)


def _decimal_columns(doctype: str, columns: Iterable[str]) -> set[str]:
	meta = frappe.get_meta(doctype)
	return {
		c
		for c in columns
		if (field := meta.get_field(c)) and field.fieldtype in ("Currency", "Float", "Percent")
	}


def _with_numeric_zeros(doctype: str, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
	numeric = _numeric_columns(doctype, columns)
	if not numeric:
		return frame
	frame = frame.copy()
	for column in numeric:
		frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0)
	return frame


def _sql_value(value):
	"""numpy/pandas scalars to what PyMySQL can escape; NaN/NaT to NULL."""
	if value is None or value is pd.NaT:
		return None
	if isinstance(value, np.generic):
		value = value.item()
	if isinstance(value, float) and np.isnan(value):
		return None
	if isinstance(value, pd.Timestamp):
		return value.to_pydatetime()
	return value


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
	return [tuple(_sql_value(v) for v in row) for row in frame[columns].itertuples(index=False, name=None)]


# what PyMySQL's escape_string escapes (converters._escape_table); text without any is left as it is
_ESCAPED = ("\\", "'", '"', "\0", "\n", "\r", "\x1a")


def _quoted(texts: list[str], conn) -> list[str]:
	joined = "".join(texts)
	if any(c in joined for c in _ESCAPED):
		return [f"'{conn.escape_string(text)}'" for text in texts]
	return [f"'{text}'" for text in texts]


def _column_literals(values: pd.Series, conn) -> list[str]:
	"""A column's values as SQL literals, exactly as PyMySQL's ``mogrify`` writes them (its own escape
	functions, the connection's for text), NULL for missing ones; a column of text, dates or
	datetimes writes each distinct value once."""
	kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else None
	if kind == "b":
		return ["1" if v else "0" for v in values.tolist()]
	if kind in ("i", "u"):
		return [str(v) for v in values.tolist()]
	if kind == "f":  # escape_float's text: repr, with "e0" so that the server reads a double
		texts = list(map(repr, values.tolist()))
		if np.isinf(values.to_numpy()).any():
			raise ValueError(f"{values.name}: an infinite number cannot be stored")
		return ["NULL" if t == "nan" else t if "e" in t else t + "e0" for t in texts]
	if kind == "M":  # datetimes (the stamped creation and modified): one per batch, mostly
		codes, distinct = pd.factorize(values, use_na_sentinel=True)
		texts = [conn.literal(_sql_value(v)) for v in distinct]
	else:
		values = values.astype(object)
		inferred = pd.api.types.infer_dtype(values, skipna=True)
		if inferred not in ("string", "date"):  # mixed types: each as PyMySQL would
			return [conn.literal(_sql_value(v)) for v in values.tolist()]
		codes, distinct = pd.factorize(values, use_na_sentinel=True)
		distinct = list(distinct)
		if inferred == "string":
			texts = _quoted(distinct, conn)
		elif all(type(v) is dt.date for v in distinct):  # escape_date's text: '2020-01-05'
			texts = [f"'{v.isoformat()}'" for v in distinct]
		else:
			texts = [conn.literal(v) for v in distinct]
	# code -1 (missing) takes the last: NULL
	return np.array([*texts, "NULL"], dtype=object)[codes].tolist()


def _value_rows(frame: pd.DataFrame, columns: list[str]) -> list[str]:
	"""The rows of ``frame`` as ``(v1, v2, ...)`` for a multi-row INSERT.

	Escaped column by column rather than passed as parameters: PyMySQL's ``mogrify`` looks up an
	escape function for every value (several µs each, most of the time of writing 5,000 rows)."""
	if not frappe.db._conn:
		frappe.db.connect()
	conn = frappe.db._conn
	texts = [_column_literals(frame[column], conn) for column in columns]
	return ["(" + ", ".join(row) + ")" for row in zip(*texts, strict=True)]


def _insert_values(
	doctype: str, frame: pd.DataFrame, columns: list[str], verb: str, tail: str, chunk_size: int
) -> int:
	"""``verb into table (columns) values (...), (...) tail`` per chunk of rows; returns the rows the
	database reports affected."""
	return sum(
		_execute_write(statement)
		for statement in _insert_statements(doctype, frame, columns, verb, tail, chunk_size)
	)


def _insert_statements(
	doctype: str, frame: pd.DataFrame, columns: list[str], verb: str, tail: str, chunk_size: int
) -> Iterator[str]:
	names, slots = list(columns), ""
	if "name" not in columns and frappe.get_meta(doctype).autoname == "autoincrement":
		# autoincrement doctypes draw their names from a MariaDB sequence, as Frappe's insert does
		names.insert(0, "name")
		slots = f"nextval(`{frappe.scrub(doctype)}_id_seq`), "
	head = f"{verb} into {_table(doctype)} ({', '.join(f'`{c}`' for c in names)}) values "

	def statements() -> Iterator[str]:
		# a chunk's rows are written when its statement is asked for, so that a statement can be
		# in the database while the next is being written (sent_behind)
		for start in range(0, len(frame), chunk_size):
			rows = _value_rows(frame.iloc[start : start + chunk_size], columns)
			if slots:
				rows = ["(" + slots + row[1:] for row in rows]
			yield head + ", ".join(rows) + tail

	return statements()


def _execute_write(query: str) -> int:
	"""One write statement whose values are already SQL literals, run as ``frappe.db.sql`` runs it
	(counted as a write of the transaction, deadlocks and timeouts raised as Frappe's errors), but
	without ``frappe.db.sql`` rewriting every ``ifnull(`` in the text to ``coalesce(``: in a
	statement of literals that would change a customer's text that happens to hold those letters,
	and scanning the text case-insensitively costs about 8 ms per 1,000 profiles. Returns the rows
	the database reports affected."""
	db = frappe.db
	if not db._conn:
		db.connect()
	db.check_transaction_status(query)
	try:
		db._cursor.execute(query)
	except Exception as error:
		if db.is_deadlocked(error):
			raise frappe.QueryDeadlockError(error) from error
		if db.is_timedout(error):
			raise frappe.QueryTimeoutError(error) from error
		raise
	return max(db._cursor.rowcount, 0)


class _Literals:
	"""Values already written as SQL literals (``_in_list``): PyMySQL puts them into the statement
	as they are, through the encoder ``_in_list`` registers on the connection."""

	__slots__ = ("text",)

	def __init__(self, text: str):
		self.text = text


def _as_written(value: _Literals, mapping=None) -> str:
	return value.text


def _in_list(values: Sequence) -> _Literals:
	"""``values`` as the parameter of an ``in %(...)s``: the same text PyMySQL writes for a tuple
	(each value escaped by the connection's own functions, column-wise as in ``_value_rows``), made
	without its lookup of an escape function for every value (a quarter of reading 5,000 rows by
	name). Substituted as a parameter, after ``frappe.db.sql`` has rewritten the statement, so a
	value's text is never rewritten."""
	if not frappe.db._conn:
		frappe.db.connect()
	conn = frappe.db._conn
	conn.encoders.setdefault(_Literals, _as_written)
	literals = _column_literals(pd.Series(list(values), dtype=object), conn)
	return _Literals("(" + ",".join(literals) + ")")


# ---------------------------------------------------------------- reads


def read_frame(
	doctype: str,
	columns: Sequence[str],
	*,
	where: str = "",
	values: dict | tuple | None = None,
) -> pd.DataFrame:
	"""SELECT columns FROM the doctype's table, as a DataFrame with those column names."""
	columns = _checked_columns(doctype, columns)
	decimals = _decimal_columns(doctype, columns)
	# DECIMAL columns come back as doubles: building a Python Decimal per value is the slow part of a read
	select = ", ".join(f"cast(`{c}` as double) as `{c}`" if c in decimals else f"`{c}`" for c in columns)
	query = f"select {select} from {_table(doctype)}" + (f" where {where}" if where else "")
	rows = frappe.db.sql(query, *([values] if values is not None else []), as_list=True)
	return pd.DataFrame(rows, columns=columns)


def read_query(query: str, values: dict | None = None, *, floats: Sequence[str] = ()) -> pd.DataFrame:
	"""A SELECT written for a join the single-doctype readers cannot express, as a DataFrame named by
	its result columns. ``floats``: columns to turn from DECIMAL into float."""
	result = frappe.db.sql(query, *([values] if values is not None else []), as_dict=False)
	names = [d[0] for d in frappe.db._cursor.description] if frappe.db._cursor.description else []
	frame = pd.DataFrame(list(result), columns=names)
	for column in floats:
		frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
	return frame


def read_by_values(
	doctype: str, columns: Sequence[str], key: str, keys: Iterable, *, fast: bool = False
) -> pd.DataFrame:
	"""Rows whose ``key`` column is one of ``keys``, read in chunks. ``fast``: each chunk read as one
	delimited text (``read_frame_fast``: numbers come back as floats), several times faster for
	thousands of rows."""
	keys = list(dict.fromkeys(k for k in keys if k is not None))
	_checked_columns(doctype, [key])
	read = read_frame_fast if fast else read_frame
	frames = [
		read(doctype, columns, where=f"`{key}` in %(keys)s", values={"keys": _in_list(chunk)})
		for chunk in chunked(keys, READ_CHUNK)
	]
	return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def existing_values(doctype: str, column: str = "name", keys: Iterable | None = None) -> set:
	"""The set of values of one column, optionally limited to ``keys``."""
	if keys is None:
		return set(read_frame(doctype, [column])[column])
	return set(read_by_values(doctype, [column], column, keys)[column])


# ---------------------------------------------------------------- writes


def _stamp(frame: pd.DataFrame, now: dt.datetime, user: str) -> pd.DataFrame:
	frame = frame.copy()
	for column, value in (("creation", now), ("modified", now), ("owner", user), ("modified_by", user)):
		if column not in frame:
			frame[column] = value
	if "docstatus" not in frame:
		frame["docstatus"] = 0
	return frame


def upsert(
	doctype: str,
	frame: pd.DataFrame,
	columns: Sequence[str],
	update_columns: Sequence[str] | None = None,
	*,
	chunk_size: int = WRITE_CHUNK,
) -> int:
	"""Insert rows, or update ``update_columns`` where the primary/unique key already exists.

	``modified``/``modified_by`` move only when a value really changes, so a repeated batch leaves
	the row exactly as it was. Returns the number of rows sent."""
	for statement in upsert_statements(doctype, frame, columns, update_columns, chunk_size=chunk_size):
		_execute_write(statement)
	return len(frame)


def upsert_statements(
	doctype: str,
	frame: pd.DataFrame,
	columns: Sequence[str],
	update_columns: Sequence[str] | None = None,
	*,
	chunk_size: int = WRITE_CHUNK,
) -> Iterator[str]:
	"""The statements ``upsert`` sends, each written when asked for, without using the database
	(the doctype's meta comes from the cache once read): for ``sent_behind``."""
	if frame.empty:
		return iter(())
	now, user = frappe.utils.now_datetime(), frappe.session.user
	frame = _stamp(frame, now, user)
	columns = _checked_columns(
		doctype, dict.fromkeys([*columns, "creation", "modified", "owner", "modified_by", "docstatus"])
	)
	update_columns = _checked_columns(doctype, update_columns if update_columns is not None else [])
	unchanged = " and ".join(f"`{c}` <=> values(`{c}`)" for c in update_columns) or "1"
	# MariaDB applies the assignments left to right: decide on modified before the values move.
	assignments = [
		f"`modified` = if({unchanged}, `modified`, values(`modified`))",
		f"`modified_by` = if({unchanged}, `modified_by`, values(`modified_by`))",
		*(f"`{c}` = values(`{c}`)" for c in update_columns),
	]
	if not update_columns:
		assignments = ["`name` = `name`"]
	frame = _with_numeric_zeros(doctype, frame, columns)
	tail = " on duplicate key update " + ", ".join(assignments)
	return _insert_statements(doctype, frame, columns, "insert", tail, chunk_size)


class _Sending:
	"""``frappe.db`` while ``sent_behind`` sends statements on the connection: escaping may read the
	connection's settings; anything else first hands the database back (the statements sent so far
	done, the later ones sent in line), so code that needs it (a meta missing from the cache) is
	slower, never wrong."""

	def __init__(self, db, hand_back: Callable[[], None]):
		self.__dict__.update(_db=db, _hand_back=hand_back)

	def __getattr__(self, name: str):
		db = self.__dict__["_db"]
		if name == "_conn":
			return db._conn
		self.__dict__["_hand_back"]()
		return getattr(db, name)

	def __setattr__(self, name: str, value):
		self.__dict__["_hand_back"]()
		setattr(self.__dict__["_db"], name, value)


@contextmanager
def sent_behind(statements: Iterable[str] = ()) -> Iterator[Callable[[str], None]]:
	"""Send ``statements`` (writes, as ``upsert_statements`` builds them), and those the block
	passes to the function it is given, on this connection, in this transaction, in order, from a
	thread, while the block computes: the database writes on one core while Python works on the
	other. The block should not need the database: ``frappe.db`` then waits for the statements sent
	so far and sends the later ones in line (``_Sending``). Leaving the block waits for the
	statements and raises the first error, if any, as ``_execute_write`` would; a block that raises
	sends nothing more."""
	db = frappe.local.db  # the connection itself, not the proxy that frappe.db is
	if not db._conn:
		db.connect()
	cursor = db._cursor
	pending: queue.Queue = queue.Queue()
	failed: list[BaseException] = []
	state = {"in_line": False, "stopped": False}

	def work() -> None:
		while True:
			statement = pending.get()
			try:
				if statement is None:
					return
				if not failed and not state["stopped"]:
					cursor.execute(statement)
			except BaseException as error:
				failed.append(error)
			finally:
				pending.task_done()

	def send(statement: str) -> None:
		db.check_transaction_status(statement)
		if not state["in_line"]:
			pending.put(statement)
			return
		if not failed:
			try:
				cursor.execute(statement)
			except Exception as error:
				failed.append(error)

	def hand_back() -> None:
		state["in_line"] = True
		pending.join()  # the connection is free: the thread waits for work that will not come
		frappe.local.db = db

	sender = threading.Thread(target=work, name="branch_crm_send", daemon=True)
	sender.start()
	try:
		for statement in statements:
			send(statement)
		frappe.local.db = _Sending(db, hand_back)
		yield send
	except BaseException:
		state["stopped"] = True
		raise
	finally:
		pending.put(None)
		sender.join()
		frappe.local.db = db
	if failed:
		error = failed[0]
		if db.is_deadlocked(error):
			raise frappe.QueryDeadlockError(error) from error
		if db.is_timedout(error):
			raise frappe.QueryTimeoutError(error) from error
		raise error


def insert_rows(
	doctype: str,
	frame: pd.DataFrame,
	columns: Sequence[str],
	*,
	ignore_duplicates: bool = False,
	chunk_size: int = WRITE_CHUNK,
) -> int:
	"""Plain multi-row INSERTs (with the standard columns stamped). ``ignore_duplicates``: INSERT
	IGNORE, so a row whose unique key already exists is skipped by the database, even when two
	workers race. Returns the number of rows the database took."""
	if frame.empty:
		return 0
	now, user = frappe.utils.now_datetime(), frappe.session.user
	frame = _stamp(frame, now, user)
	columns = _checked_columns(
		doctype, dict.fromkeys([*columns, "creation", "modified", "owner", "modified_by", "docstatus"])
	)
	frame = _with_numeric_zeros(doctype, frame, columns)
	verb = "insert ignore" if ignore_duplicates else "insert"
	return _insert_values(doctype, frame, columns, verb, "", chunk_size)


def update_rows(
	doctype: str,
	frame: pd.DataFrame,
	columns: Sequence[str],
	*,
	key: str = "name",
	chunk_size: int = WRITE_CHUNK,
) -> int:
	"""Set ``columns`` on existing rows matched by ``key``, set-based (UPDATE ... JOIN a derived
	table of the new values, written as SQL literals). Rows that no longer exist are skipped, never
	created."""
	if frame.empty:
		return 0
	columns = _checked_columns(doctype, columns)
	_checked_columns(doctype, [key])
	if not frappe.db._conn:
		frappe.db.connect()
	now = frappe.db._conn.literal(frappe.utils.now_datetime())
	user = frappe.db._conn.literal(frappe.session.user)
	unchanged = " and ".join(f"t.`{c}` <=> v.`{c}`" for c in columns)
	assignments = ", ".join(
		[
			f"t.`modified` = if({unchanged}, t.`modified`, {now})",
			f"t.`modified_by` = if({unchanged}, t.`modified_by`, {user})",
			*(f"t.`{c}` = v.`{c}`" for c in columns),
		]
	)
	frame = _with_numeric_zeros(doctype, frame, columns)
	for start in range(0, len(frame), chunk_size):
		# the values as SQL literals (_value_rows: PyMySQL's parameter escaping would take longer
		# than the database takes to apply them), in a table value constructor: one list of rows,
		# parsed much as a multi-row INSERT is (a UNION of SELECTs costs the server a block each)
		rows = _value_rows(frame.iloc[start : start + chunk_size], [key, *columns])
		derived = f"with v ({', '.join(f'`{c}`' for c in [key, *columns])}) as (values {', '.join(rows)}) select * from v"
		_execute_write(
			f"update {_table(doctype)} t join ({derived}) v on t.`{key}` = v.`{key}` set {assignments}"
		)
	return len(frame)


def update_rows_together(
	doctype: str, frame: pd.DataFrame, columns: Sequence[str], *, writers: int = 2
) -> int:
	"""``update_rows`` for one large chunk (a branch of 400,000 customers), its rows split into
	``writers`` contiguous shares, each written and committed on a connection of its own at the
	same time: one connection applies its rows on one core of the database, two on two. Each share
	commits whole, so a failure leaves whole rows written or not, and the caller re-runs the chunk.
	This connection then starts a fresh snapshot, to see what the writers committed. With
	uncommitted writes on this connection (a caller's transaction, a test), or few rows, it is
	``update_rows`` on this connection."""
	if writers < 2 or len(frame) < writers * WRITE_CHUNK or not _nothing_uncommitted():
		return update_rows(doctype, frame, columns)
	bounds = np.linspace(0, len(frame), writers + 1).astype(int)
	shares = [frame.iloc[lo:hi] for lo, hi in itertools.pairwise(bounds)]
	with _connected_threads(writers, "branch_crm_write_together") as pool:
		pending = [pool.submit(_write_and_commit, update_rows, doctype, share, columns) for share in shares]
		written = sum(future.result() for future in pending)
	frappe.db.rollback()  # nothing of its own to undo: a fresh snapshot sees the shares written
	return written


# ---------------------------------------------------------------- customer-month matrices


def name_ranges(
	doctype: str, chunk_size: int, *, where: str = "", values: dict | None = None
) -> list[tuple[str, str]]:
	"""Split a table into contiguous ranges of ``name`` of about ``chunk_size`` rows, so each chunk
	is one primary-key range scan rather than a long IN list."""
	source = f"from {_table(doctype)}" + (f" where {where}" if where else "")
	arguments = [values] if values else []
	# the names in the database's order (its collation, not Python's), as one text: PyMySQL takes
	# three seconds to hand over a million rows of one name each, this half a second
	frappe.db.sql("set session group_concat_max_len = @@global.max_allowed_packet")
	count, text = frappe.db.sql(
		f"select count(*), group_concat(`name` order by `name` separator '{_ROW}') {source}", *arguments
	)[0]
	if isinstance(text, bytes):
		text = text.decode("utf-8")
	names = text.split(_ROW) if text else []
	if len(names) != count:  # too long for the packet limit, or a name holding the separator
		names = frappe.db.sql(f"select `name` {source} order by `name`", *arguments, pluck="name")
	return [(names[i], names[min(i + chunk_size, len(names)) - 1]) for i in range(0, len(names), chunk_size)]


def read_month_matrix(
	customers: Sequence[str],
	months: Sequence,
	columns: Sequence[str],
	*,
	between: tuple[str, str] | None = None,
	totals: Sequence[str] = (),
	doctype: str = "Customer Monthly Snapshot",
) -> tuple[dict[str, pd.DataFrame], pd.Series]:
	"""customers × months frames for each of ``columns`` (0 where a month has no snapshot), and how
	many snapshots each customer has in those months. Pivoted in SQL over the covering
	(customer, month, …) index, so a million customers move as a million rows, not twelve million.

	``between``: the chunk's first and last name from ``name_ranges``, read as one index range (in
	the database's collation order, which is not Python's); without it, an IN list of ``customers``.
	``totals``: columns wanted only as their sum over the months, returned as one-column frames."""
	columns = _checked_columns(doctype, columns)
	totals = _checked_columns(doctype, totals)
	months = [pd.Timestamp(m).date() for m in months]
	names = [f"{c}__{i}" for c in columns for i in range(len(months))] + [f"{c}__total" for c in totals]
	parts = [f"sum(if(`month` = %(m{i})s, `{c}`, 0))" for c in columns for i in range(len(months))]
	parts += [f"sum(`{c}`)" for c in totals]
	# doubles, not DECIMALs: building a Python Decimal per value would dominate the read
	select = ", ".join(f"cast({part} as double) as `{name}`" for part, name in zip(parts, names, strict=True))
	values = {f"m{i}": m for i, m in enumerate(months)} | {"first": months[0], "last": months[-1]}
	if between:
		who = "`customer` between %(lo)s and %(hi)s"
		values |= {"lo": between[0], "hi": between[1]}
	else:
		who = "`customer` in %(customers)s"
		values["customers"] = tuple(customers) or ("",)
	pivot = (
		f"select `customer`, count(*) as reported, {select} from {_table(doctype)} "
		f"where {who} and `month` between %(first)s and %(last)s group by `customer`"
	)
	# one delimited text (_text_rows): a Python object per value would be most of the read
	frame, _ = _text_rows(
		["p.`customer`", "p.`reported`", *(f"p.`{n}`" for n in names)],
		f"from ({pivot}) p",
		values,
		["customer", "reported", *names],
		["customer"],
	)
	if frame is None:
		rows = frappe.db.sql(pivot, values, as_list=True)
		frame = pd.DataFrame(rows, columns=["customer", "reported", *names])
	frame = frame.set_index("customer")
	frame = frame.reindex(pd.Index(customers, name="customer"))
	matrices = {
		c: pd.DataFrame(
			frame[[f"{c}__{i}" for i in range(len(months))]].astype(float).fillna(0.0).to_numpy(),
			index=frame.index,
			columns=pd.DatetimeIndex(months),
		)
		for c in columns
	}
	for c in totals:
		matrices[c] = pd.DataFrame(
			{pd.Timestamp(months[-1]): frame[f"{c}__total"].astype(float).fillna(0.0).to_numpy()},
			index=frame.index,
		)
	return matrices, frame["reported"].fillna(0).astype(int)


# ---------------------------------------------------------------- checksums


def checksum(expressions: Sequence[str], source: str, values: dict | None = None) -> tuple[int, int, int]:
	"""(rows, and two sums of CRC32s over each row's ``expressions``) of ``select … source``,
	computed in the database through whatever index serves ``source``: what changed among the rows
	shows as a different triple, without moving them (``jobs.unchanged``). The second sum hashes
	the same text from another starting value, so that two changes that cancel in one sum do not
	in the other. The fast reads below give the same triple for the rows they read
	(``checksum=True``), computed from the text they read."""
	count, first, second = frappe.db.sql(
		f"select count(*), {_checksum_sums(expressions)} {source}",
		*([values] if values is not None else []),
	)[0]
	return _checksum_triple(count, first, second)


def _row_text(expressions: Sequence[str]) -> str:
	"""A row as one text: its values joined by the field separator, NULL as its own mark."""
	return f"concat_ws('{_FIELD}', {', '.join(f'ifnull({e}, {_NULL_SQL})' for e in expressions)})"


# the second sum's CRC32 starts from this value instead of 0 (MariaDB's ``crc32(seed, text)``,
# Python's ``zlib.crc32(text, seed)``): another hash of the same text, so that two changes that
# cancel in one sum do not in the other, without building the row's text twice
_SECOND_SEED = 2654435769


def _checksum_sums(expressions: Sequence[str]) -> str:
	text = _row_text(expressions)
	return f"sum(crc32({text})), sum(crc32({_SECOND_SEED}, {text}))"


def _text_checksum(count: int, blob: bytes) -> tuple[int, int, int] | None:
	"""``checksum``'s triple computed here from the text ``_text_rows`` read (each row's text is the
	very text the database hashes), or None when the text does not hold ``count`` rows. The CRCs
	cost the worker a fraction of a second per million rows; in the statement they cost the
	database as much again as the read itself."""
	rows = blob.split(_ROW.encode())
	if len(rows) != count:
		return None
	first = sum(map(zlib.crc32, rows))
	second = sum(map(zlib.crc32, rows, itertools.repeat(_SECOND_SEED)))
	return count, first, second


def _checksum_triple(count, first, second) -> tuple[int, int, int]:
	return int(count or 0), int(first or 0), int(second or 0)


# ---------------------------------------------------------------- fast reads of many rows

# ASCII unit, record and group separators: never part of a name, a code or a rendered reason
_FIELD, _ROW, _NULL = "\x1f", "\x1e", "\x1d"
_NULL_SQL = f"'{_NULL}'"


def _text_rows(
	expressions: Sequence[str],
	source: str,
	values: dict | None,
	names: Sequence[str],
	text: Sequence[str],
	with_checksum: bool = False,
) -> tuple[pd.DataFrame | None, tuple[int, int, int] | None]:
	"""(frame, None): the rows of ``select expressions source`` as a DataFrame, read as ONE
	delimited text that the database builds (GROUP_CONCAT) and pandas' C parser splits: PyMySQL
	builds a Python object per value (about 1 µs each), which makes a 100,000 × 10 read take a
	second; this is several times faster. ``text``: columns kept as text (the others are parsed as
	numbers). The frame is None when the text cannot carry the rows (too long for the packet limit,
	or a value holding a separator): the caller then reads them the ordinary way.

	``with_checksum``: (frame, ``checksum(expressions, source)``), computed from the very text read
	(``_text_checksum``), so that a stage that must remember what it read pays for one pass over
	the rows, not two; only when the text cannot carry them does the database hash them."""
	frappe.db.sql("set session group_concat_max_len = @@global.max_allowed_packet")
	# as bytes: nothing decodes the text into a str only for the parser to encode it again
	query = (
		f"select count(*), cast(group_concat({_row_text(expressions)} separator '{_ROW}') as binary) {source}"
	)
	count, blob = frappe.db.sql(query, *([values] if values is not None else []))[0]
	if isinstance(blob, str):
		blob = blob.encode("utf-8")
	frame = _parse_text_rows(count, blob, names, text)
	if not with_checksum:
		return frame, None
	if not count:
		return frame, _checksum_triple(0, 0, 0)
	checked = _text_checksum(count, blob) if frame is not None else None
	# the text could not carry the rows: the database hashes them (a second pass, rarely needed)
	return frame, checked or checksum(expressions, source, values)


def _parse_text_rows(
	count: int, blob: bytes | None, names: Sequence[str], text: Sequence[str]
) -> pd.DataFrame | None:
	if not count:
		return pd.DataFrame({n: pd.Series(dtype=object if n in text else float) for n in names})
	if blob is None:
		return None
	try:
		frame = pd.read_csv(
			# bytes, which the C parser reads in place: from a str it would hold the text several
			# times over (half a gigabyte more for a branch's 110 MB of profiles) and re-encode it
			io.BytesIO(blob),
			encoding="utf-8",
			sep=_FIELD,
			lineterminator=_ROW,
			header=None,
			names=list(names),
			quoting=csv.QUOTE_NONE,
			na_values=[_NULL],
			keep_default_na=False,
			dtype={n: object for n in text},
			engine="c",
		)
	except (ValueError, pd.errors.ParserError):
		return None
	# truncated at group_concat_max_len, or a separator inside a value: a row too many, or (when
	# every row has a field too many) pandas taking the first field for an index
	if len(frame) != count or not isinstance(frame.index, pd.RangeIndex):
		return None
	for name in text:
		frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
	return frame


def read_frame_fast(
	doctype: str,
	columns: Sequence[str],
	*,
	where: str = "",
	values: dict | None = None,
	checksum: bool = False,
):
	"""``read_frame`` for large reads (reports over a branch, nightly chunks): the same columns,
	numbers as floats, text as str or None, dates as ``datetime.date``; read as one delimited text
	(see ``_text_rows``), falling back to ``read_frame`` when that cannot carry the rows.
	``where`` must not end in ORDER BY / LIMIT (the rows come back in the database's order).
	``checksum``: (frame, ``checksum`` of the rows read, as of the columns named)."""
	columns = _checked_columns(doctype, columns)
	meta = frappe.get_meta(doctype)
	numeric = _numeric_columns(doctype, columns)
	dates = {c for c in columns if (field := meta.get_field(c)) and field.fieldtype == "Date"}
	text = [c for c in columns if c not in numeric]
	source = f"from {_table(doctype)}" + (f" where {where}" if where else "")
	frame, checked = _text_rows([f"`{c}`" for c in columns], source, values, columns, text, checksum)
	if frame is None:
		frame = read_frame(doctype, columns, where=where, values=values)
	else:
		for column in dates:
			frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce").dt.date
			frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
	return (frame, checked) if checksum else frame


def read_query_fast(
	columns: dict[str, str],
	source: str,
	values: dict | None = None,
	*,
	text: Sequence[str] = (),
	dates: Sequence[str] = (),
	checksum: bool = False,
):
	"""``read_query`` for large joins: ``columns`` maps each result column to its SQL expression,
	``source`` is the FROM … WHERE … part (no ORDER BY / LIMIT); ``text`` columns stay text, the
	others come back as floats; ``dates`` (among ``text``) as ``datetime.date`` or None. Read as one
	delimited text (``_text_rows``), falling back to an ordinary read when that cannot carry the rows.
	``checksum``: (frame, ``checksum`` of the rows read, as of ``columns``' expressions)."""
	names, expressions = list(columns), list(columns.values())
	frame, checked = _text_rows(expressions, source, values, names, list(text), checksum)
	if frame is None:
		select = ", ".join(f"{e} as `{n}`" for n, e in columns.items())
		frame = read_query(f"select {select} {source}", values)
	else:
		for name in dates:
			parsed = pd.to_datetime(frame[name], format="%Y-%m-%d", errors="coerce").dt.date
			frame[name] = parsed.astype(object).where(parsed.notna(), None)
	for name in names:
		if name not in text:
			frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
	return (frame, checked) if checksum else frame


def read_month_rows(
	columns: Sequence[str],
	first: dt.date,
	last: dt.date,
	*,
	between: tuple[str, str] | None = None,
	customers: Sequence[str] | None = None,
	profiles: tuple[str, dict] | None = None,
	doctype: str = "Customer Monthly Snapshot",
	checksum: bool = False,
):
	"""Long snapshot rows (customer, month as Timestamp, ``columns`` as floats, amounts to the cent)
	for the months ``first`` … ``last``: of the customers named ``between[0]`` … ``between[1]``
	(a chunk from ``name_ranges``) or of ``customers``, at most ``IN_LIST_LIMIT`` of them (MariaDB
	turns a longer IN list into a join that reads every customer of the month: several times
	slower than chunks, and than joining the profiles). Read as one delimited text per call.

	The months are named one by one, so the snapshot's (month, customer, activity…) covering index
	is read as one customer range (or list) per month: exactly the rows asked for, without touching
	the table's rows or the months outside the window.

	``profiles``: instead, the customers whose Bank Customer Profile (alias ``p``) meets a condition
	(``(sql, values)``, e.g. a branch), read one month at a time as a join from the profiles to the
	same index (an equality on the month and the customer for each profile: about a second for
	400,000 customers; a list of months in the join makes MariaDB scan instead).

	``checksum``: (frame, what ``month_rows_checksum`` gives for the same arguments), taken from
	the rows as they are read."""
	columns = _checked_columns(doctype, columns)
	expressions, sources, values = _month_row_sources(
		columns, first, last, between=between, customers=customers, profiles=profiles, doctype=doctype
	)
	named = dict(zip(["customer", "_month", *columns], expressions, strict=True))
	# each source as read_query_fast reads it: numbers as floats, the customer as text
	reads = [
		read_query_fast(named, source, values, text=["customer"], checksum=checksum) for source in sources
	]
	frames = [frame for frame, _checked in reads] if checksum else reads
	frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
	ordinal = pd.to_numeric(frame["_month"]).to_numpy(dtype=np.int64)
	frame.insert(1, "month", (ordinal - 1970 * 12).astype("datetime64[M]").astype("datetime64[ns]"))
	frame = frame.drop(columns="_month")
	return (frame, [checked for _frame, checked in reads]) if checksum else frame


def _month_row_sources(
	columns: list[str],
	first: dt.date,
	last: dt.date,
	*,
	between: tuple[str, str] | None,
	customers: Sequence[str] | None,
	profiles: tuple[str, dict] | None,
	doctype: str,
) -> tuple[list[str], list[str], dict]:
	"""(expressions, FROM … WHERE sources, values) that select the snapshot rows ``read_month_rows``
	reads: one source, or one per month when the customers are chosen by their profiles."""
	decimals = _decimal_columns(doctype, columns)
	months = pd.date_range(pd.Timestamp(first).replace(day=1), pd.Timestamp(last).replace(day=1), freq="MS")
	values: dict = {"months": tuple(m.date() for m in months) or (dt.date(1900, 1, 1),)}
	if profiles and len(months):
		condition, condition_values = profiles
	elif between:
		values |= {"lo": between[0], "hi": between[1]}
		who = "s.`customer` between %(lo)s and %(hi)s"
	else:
		if len(customers or ()) > IN_LIST_LIMIT:
			raise ValueError(f"read_month_rows takes at most {IN_LIST_LIMIT} customers a call")
		values["customers"] = tuple(customers or ()) or ("",)
		who = "s.`customer` in %(customers)s"
	expressions = [
		"s.`customer`",
		"year(s.`month`) * 12 + month(s.`month`) - 1",
		*(f"round(s.`{c}`, 2)" if c in decimals else f"s.`{c}`" for c in columns),
	]
	hint = ""
	if doctype == "Customer Monthly Snapshot":
		from branch_crm.branch_crm.doctype.customer_monthly_snapshot.customer_monthly_snapshot import (
			ACTIVITY_COLUMNS,
			ACTIVITY_INDEX,
			BALANCE_COLUMNS,
			BALANCE_INDEX,
		)

		if set(columns) <= set(ACTIVITY_COLUMNS):
			# the covering (month, customer, activity…) index, one customer range or list per month
			# (left to itself the optimizer takes the unique (customer, month) key and reads every row)
			hint = f" force index (`{ACTIVITY_INDEX}`)"
		elif set(columns) <= set(BALANCE_COLUMNS) and between and not profiles:
			# the covering (customer, month, balances…) index: a customer's months together
			hint = f" force index (`{BALANCE_INDEX}`)"
	if not (profiles and len(months)):
		return (
			expressions,
			[f"from {_table(doctype)} s{hint} where s.`month` in %(months)s and {who}"],
			values,
		)
	values = {**condition_values, **{f"m{i}": m.date() for i, m in enumerate(months)}}
	sources = [
		f"from `tabBank Customer Profile` p straight_join {_table(doctype)} s{hint} "
		f"on s.`month` = %(m{i})s and s.`customer` = p.`name` where {condition}"
		for i in range(len(months))
	]
	return expressions, sources, values


def month_rows_checksum(
	columns: Sequence[str],
	first: dt.date,
	last: dt.date,
	*,
	between: tuple[str, str] | None = None,
	profiles: tuple[str, dict] | None = None,
	doctype: str = "Customer Monthly Snapshot",
) -> list[tuple[int, int, int]]:
	"""``checksum`` of the rows ``read_month_rows`` would read with the same arguments, through the
	same index, without reading them: one per source (per month for ``profiles``)."""
	columns = _checked_columns(doctype, columns)
	expressions, sources, values = _month_row_sources(
		columns, first, last, between=between, customers=None, profiles=profiles, doctype=doctype
	)
	return [checksum(expressions, source, values) for source in sources]
