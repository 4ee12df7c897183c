"""The loop every nightly stage runs over its chunks: read, decide, write, each chunk its own
committed transaction, with the database reading the next chunk and writing the last one while
Python decides on this one.

A stage gives three functions and two callbacks; the loop owns the order, the waiting and the
failures, so that a chunk whose read, decision or write fails is counted once, logged by the stage
and leaves nothing half-written (its write is rolled back), while the other chunks go on.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Sequence
from typing import Any

import frappe

from branch_crm import store


def run_chunks(
	chunks: Sequence[tuple],
	*,
	read: Callable[..., Any],
	decide: Callable[[Any], Any],
	write: Callable[[Any], Any],
	done: Callable[[tuple, Any, Any], None],
	failed: Callable[[tuple], None],
	failure_title: Callable[[tuple], str],
	read_ahead: bool | None = None,
	write_behind: bool | None = None,
	readers: int = 2,
	writers: int = 1,
	read_while_deciding: bool = True,
) -> dict[str, float]:
	"""For each chunk (a tuple of ``read``'s arguments): ``decided = decide(read(*chunk))``, then
	``write(decided)`` committed as one transaction, then ``done(chunk, decided, written)``.

	A chunk whose read, decision or write raised is logged to the Error Log under
	``failure_title(chunk)``, with the traceback, and committed at once (the log outlives a crash
	later in the night); then ``failed(chunk)`` lets the stage count it. Reads run ahead on connections of their own
	(``store.read_ahead``, ``readers`` chunks ahead) and writes behind on others
	(``store.write_behind``, ``writers`` chunks' writes at once, each chunk's ``done`` called in
	order), both by default when this connection has nothing uncommitted and there is more than one
	chunk; ``read_while_deciding=False`` reads the next chunk while this one is written, not while
	it is decided (``store.read_ahead``). Returns the seconds spent waiting for reads and deciding,
	and waiting for writes."""
	chunks = list(chunks)
	if write_behind is None and len(chunks) < 2:
		write_behind = False
	seconds = {"decide": 0.0, "write": 0.0}
	writing: collections.deque[tuple] = collections.deque()

	def log_failure(chunk: tuple) -> None:
		frappe.log_error(title=failure_title(chunk), reference_doctype="Bank Customer Profile")
		frappe.db.commit()
		failed(chunk)

	def settle(chunk: tuple, decided, written) -> None:
		started = time.perf_counter()
		try:
			result = written.result()
		except Exception:
			log_failure(chunk)
			return
		finally:
			seconds["write"] += time.perf_counter() - started
		done(chunk, decided, result)

	reads = store.read_ahead(
		read, chunks, enabled=read_ahead, readers=readers, while_deciding=read_while_deciding
	)
	with store.write_behind(enabled=write_behind, writers=writers) as submit:
		for chunk, pending in reads:
			started = time.perf_counter()
			try:
				decided = decide(pending.result())
			except Exception:
				log_failure(chunk)
				continue
			finally:
				seconds["decide"] += time.perf_counter() - started
			if len(writing) >= writers:
				settle(*writing.popleft())
			started = time.perf_counter()
			# in line, the write is done here; behind, it is only queued, and waited for in settle
			writing.append((chunk, decided, submit(write, decided)))
			seconds["write"] += time.perf_counter() - started
		while writing:
			settle(*writing.popleft())
	return {name: round(value, 2) for name, value in seconds.items()}
