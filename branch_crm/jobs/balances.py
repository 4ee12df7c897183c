"""Nightly stage: the latest balances on every profile (latest month's balances, average AUM over the
tiering window, 12-month contribution, salary credited here), from the monthly snapshots.

Per chunk of profiles (a contiguous name range): read the chunk's last 12 months of snapshots as one
range scan of the (customer, month) index, summarise with ``engine.balances``, compare with what the
profiles hold and write only the profiles whose figures changed (UPDATE … JOIN); commit. A customer
with nothing reported in the last 12 months shows no balances rather than stale ones. A failed chunk
is rolled back and logged; the others go on. A second run writes nothing. The next chunk is read,
and the last one written, on connections of their own while this one is summarised (``jobs.chunks``).
"""

from __future__ import annotations

import frappe
import pandas as pd

from branch_crm import store
from branch_crm.engine.balances import SUMMARY_COLUMNS, balance_changes, summarise_balances
from branch_crm.jobs import unchanged
from branch_crm.jobs.chunks import run_chunks

PROFILE = "Bank Customer Profile"
SNAPSHOT = "Customer Monthly Snapshot"
STORED = [c for c in SUMMARY_COLUMNS if c != "customer"]
STAGE = "balances"
SNAPSHOT_COLUMNS = ["aum", "deposits", "investments", "loans", "contribution", "salary_credit"]
# what the profiles hold, read and checked: which profiles there are, and their balances
STORED_CHECKED = ["name", *STORED]


def latest_month():
	return frappe.db.sql(f"select max(`month`) from `tab{SNAPSHOT}`")[0][0]


def refresh(
	customers: list[str] | None = None,
	chunk_size: int | None = None,
	progress=None,
	between: tuple[str, str] | None = None,
	as_of=None,
) -> dict:
	"""Latest balances on the profiles (those named, or named within ``between``, or all), as of
	``as_of`` (default: the latest month with snapshots). Returns profiles read, updated, failed."""
	settings = frappe.get_cached_doc("Branch CRM Settings")
	window = settings.tier_window_months or 3
	chunk_size = chunk_size or settings.recompute_chunk_size or 20000
	summary = {"profiles": 0, "updated": 0, "failed": 0, "skipped": 0}
	latest = frappe.utils.getdate(as_of) if as_of else latest_month()
	if not latest:
		return summary
	# 12 months feed the annual contribution; older months are not needed
	first = (pd.Timestamp(latest) - pd.DateOffset(months=11)).date()
	if customers is not None:
		# a list names few customers (a test, an intake batch): looked up in short IN lists
		chunks = [("in", list(names)) for names in store.chunked(sorted(customers), store.IN_LIST_LIMIT)]
	else:
		where = "`name` between %(lo)s and %(hi)s" if between else ""
		values = {"lo": between[0], "hi": between[1]} if between else None
		chunks = [
			("between", pair) for pair in store.name_ranges(PROFILE, chunk_size, where=where, values=values)
		]

	context = (str(latest), window)

	def read(kind: str, scope):
		"""(what the chunk's profiles hold, their snapshot rows of the 12 months, and for a range
		of profiles the range with the checksums of its snapshots and of what its profiles hold),
		or Skipped when the range has the inputs it was last refreshed with."""
		if kind == "in":
			held = store.read_frame_fast(
				PROFILE, STORED_CHECKED, where="`name` in %(names)s", values={"names": tuple(scope)}
			)
			return held, store.read_month_rows(SNAPSHOT_COLUMNS, first, latest, customers=scope), None
		if remembered := unchanged.remembered(STAGE, scope, context):
			# the very rows read below, checked where they are
			checked = store.month_rows_checksum(SNAPSHOT_COLUMNS, first, latest, between=scope)
			stored = _stored_checksum(*scope)
			if unchanged.fingerprint((checked, stored), context) == remembered:
				return unchanged.Skipped(chunk=scope, rows=stored[0])
		rows, checked = store.read_month_rows(SNAPSHOT_COLUMNS, first, latest, between=scope, checksum=True)
		held, stored = store.read_frame_fast(PROFILE, STORED_CHECKED, **_range(*scope), checksum=True)
		return held, rows, (scope, checked, stored)

	def decide(read):
		if isinstance(read, unchanged.Skipped):
			return read
		held, rows, snapshots = read
		latest_figures = (
			summarise_balances(rows, window_months=window)
			.set_index("customer")
			.reindex(pd.Index(held["name"], name="customer"))
			.fillna({c: 0 for c in STORED if c != "as_of_month"})
			.reset_index()
		)
		return held, balance_changes(latest_figures, held).rename(columns={"customer": "name"}), snapshots

	def write(decided) -> str | None:
		"""Store the changed balances; then, in the same transaction, the chunk's fingerprint as
		stored (None for a chunk skipped, or named by list)."""
		if isinstance(decided, unchanged.Skipped):
			return None
		_held, changed, snapshots = decided
		store.update_rows(PROFILE, changed, STORED)
		if snapshots is None:
			return None
		(lo, hi), checked, stored = snapshots
		# nothing written: the profiles hold what was read
		return unchanged.fingerprint((checked, _stored_checksum(lo, hi) if len(changed) else stored), context)

	def done(chunk: tuple, decided, stored_fingerprint: str | None) -> None:
		if isinstance(decided, unchanged.Skipped):
			summary["skipped"] += 1
			summary["profiles"] += decided.rows
		else:
			held, changed, _snapshots = decided
			summary["profiles"] += len(held)
			summary["updated"] += len(changed)
			if stored_fingerprint:
				unchanged.remember(STAGE, chunk[1], stored_fingerprint)
		if progress:
			progress(decided.rows if isinstance(decided, unchanged.Skipped) else len(decided[0]))

	def failed(_chunk: tuple) -> None:
		summary["failed"] += 1

	summary["seconds"] = run_chunks(
		chunks,
		read=read,
		decide=decide,
		write=write,
		done=done,
		failed=failed,
		# a new month changes every profile: writing takes longer than reading and deciding
		writers=2,
		failure_title=lambda chunk: f"Branch CRM: balance refresh failed for the profiles from {chunk[1][0]}",
	)
	return summary


def _range(lo: str, hi: str) -> dict:
	return {"where": "`name` between %(lo)s and %(hi)s", "values": {"lo": lo, "hi": hi}}


def _stored_checksum(lo: str, hi: str) -> tuple:
	"""What the profiles named lo … hi hold of the balances (and which profiles there are): the
	checksum ``read_frame_fast(…, checksum=True)`` gives when it reads them."""
	scope = _range(lo, hi)
	return store.checksum(
		[f"`{c}`" for c in STORED_CHECKED], f"from `tab{PROFILE}` where {scope['where']}", scope["values"]
	)
