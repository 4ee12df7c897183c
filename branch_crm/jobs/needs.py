"""The nightly needs screening (需求排查): product gaps, main-account likelihood, merchant-like flows,
priority and the suggested next action for every profile, stored on the profile (needs_priority,
needs_gap_count, main_account_score, money_elsewhere_estimate, needs_gaps, needs_next_action,
needs_gap_types, needs_screened_on) for the Needs Screening report to read.

Screened branch by branch, because peers are the customers of the same branch and customer group
with a comparable balance (``engine.needs``: a peer set under ``min_peers`` falls back to the group,
then to the branch's customers with a comparable balance, then to the whole branch): read the
branch's profiles, their holdings and the last ``window_months`` months of snapshots in bulk, screen
with ``engine.needs.screen_needs`` (gaps and actions in words in the site's language), write only the
profiles whose result changed (UPDATE … JOIN) with needs_screened_on = today, commit. Since a branch
cannot be split, its own queries run side by side (``store.read_together``: profiles, holdings, each
month) and its changes are written in two shares on two connections (``store.update_rows_together``).
A branch's changes are written on connections of their own (``store.write_behind``) while the
next branch is read on another (``store.read_ahead``) and screened. The next branch is read only
once this one is screened, not while: a worker holds one branch's screening at a time (under 2 GB
with 400,000 customers), and the pipeline gives one worker all its branches in one part, so that
reading and writing overlap across them. A failed branch is logged and the others go on; what it wrote is whole rows, and it is
screened again on the next run. A second run writes nothing.

Computing it at night keeps the report within two seconds for a branch of 100,000 customers: the
report reads the stored result instead of three tables (docs/needs_and_churn.md).
"""

from __future__ import annotations

import datetime as dt

import frappe
import pandas as pd

from branch_crm import store
from branch_crm.audit import logged_run
from branch_crm.engine.needs import (
	NEEDS_SNAPSHOT_COLUMNS,
	STORED_FIELDS,
	NeedsParameters,
	needs_changes,
	screen_needs,
)
from branch_crm.jobs import unchanged
from branch_crm.jobs.chunks import run_chunks
from branch_crm.jobs.recompute import latest_month
from branch_crm.language import coded

PROFILE = "Bank Customer Profile"
HOLDING = "Customer Product Holding"
JOB_ID = "branch_crm:screen_needs"
STAGE = "needs"
NO_BRANCH = "\x00no-branch"  # profiles without a branch are screened together
CUSTOMER_COLUMNS = [
	"name",
	"branch",
	"relationship_manager",
	"tier",
	"bank_customer_group",
	"date_of_birth",
	"occupation_category",
	"declared_annual_income",
	"lifetime_value",
	"acquired_on",  # history length: a customer who came this month is not judged on a partial month
]
OUTPUT_COLUMNS = [*STORED_FIELDS, "needs_screened_on"]
# a branch's profiles as screening reads them and checks them: their facts and what it stored
PROFILE_COLUMNS = list(dict.fromkeys([*CUSTOMER_COLUMNS, *OUTPUT_COLUMNS]))


def parameters() -> NeedsParameters:
	"""The engine's defaults (rules, peers, scores, priority: docs/needs_and_churn.md)."""
	return NeedsParameters()


def templates() -> dict:
	"""Gaps and next actions are stored coded, product categories by their names: each reader gets
	them in their own language (branch_crm.language)."""
	return {"gap_templates": coded("gap"), "action_templates": coded("action")}


def enqueue() -> str:
	"""Screen every branch in the background, once at a time."""
	frappe.enqueue(
		"branch_crm.jobs.needs.run",
		queue="long",
		job_id=JOB_ID,
		deduplicate=True,
		timeout=4 * 3600,
	)
	return JOB_ID


def branches(branch: str | None = None) -> list[str]:
	"""The branches to screen, one chunk each (``NO_BRANCH`` for profiles without one)."""
	if branch:
		return [branch]
	found = frappe.db.sql(f"select distinct ifnull(`branch`, '') from `tab{PROFILE}`", pluck=True)
	return sorted({b or NO_BRANCH for b in found})


def _label(branch: str) -> str:
	return "(no branch)" if branch == NO_BRANCH else branch


def _branch_condition(branch: str, alias: str = "") -> tuple[str, dict]:
	"""The profiles of ``branch`` as a condition, their columns prefixed with ``alias``."""
	if branch == NO_BRANCH:
		return f"ifnull({alias}`branch`, '') = ''", {}
	return f"{alias}`branch` = %(branch)s", {"branch": branch}


def _months(params: NeedsParameters, as_of: dt.date) -> tuple[dt.date, dt.date]:
	"""The first and last month of snapshots screened."""
	end = pd.Timestamp(as_of).to_period("M").to_timestamp()
	return (end - pd.offsets.MonthBegin(params.window_months - 1)).date(), end.date()


def _holdings_source(branch: str) -> tuple[str, dict]:
	"""The branch's holdings, joined to its profiles, read through the holdings' covering index."""
	of_branch, values = _branch_condition(branch, "p.")
	return (
		f"""from `tab{HOLDING}` h join `tab{PROFILE}` p on p.`name` = h.`parent`
		where h.`parenttype` = %(parenttype)s and {of_branch}""",
		{**values, "parenttype": PROFILE},
	)


HOLDING_COLUMNS = {"customer": "h.`parent`", "product": "h.`product`", "balance": "h.`balance`"}
PRODUCT_COLUMNS = ["product_code", "category", "subcategory"]


def read_branch(branch: str, params: NeedsParameters, as_of: dt.date):
	"""((profiles with their stored screening, holdings, long snapshot rows, products) of a branch,
	(checksums of its facts as ``read_facts_checksum`` gives them, of its profiles as
	``_stored_checksum`` does)), the checksums taken by the reads themselves.

	A branch is one chunk (its customers are each other's peers), so its queries are read side by
	side (``store.read_together``): the profiles, the holdings and each month of snapshots."""
	where, values = _branch_condition(branch)
	months = pd.date_range(*_months(params, as_of), freq="MS").date
	of_branch = _branch_condition(branch, "p.")
	reads = {
		"profiles": lambda: store.read_frame_fast(
			PROFILE, PROFILE_COLUMNS, where=where, values=values, checksum=True
		),
		"holdings": lambda: store.read_query_fast(
			HOLDING_COLUMNS, *_holdings_source(branch), text=["customer", "product"], checksum=True
		),
		**{
			month: lambda month=month: store.read_month_rows(
				NEEDS_SNAPSHOT_COLUMNS, month, month, profiles=of_branch, checksum=True
			)
			for month in months
		},
	}
	read = store.read_together(reads)
	profiles, held = read["profiles"]
	profiles = profiles.sort_values("name", kind="stable").reset_index(drop=True)
	holdings, held_products = read["holdings"]
	snapshots = pd.concat([read[month][0] for month in months], ignore_index=True)
	# one checksum per month, as month_rows_checksum gives them for the window
	month_checksums = [checked for month in months for checked in read[month][1]]
	products, products_checksum = store.read_frame_fast("Bank Product", PRODUCT_COLUMNS, checksum=True)
	facts = (held_products, month_checksums, products_checksum)
	return (profiles, holdings, snapshots, products), (facts, held)


def _stored_checksum(branch: str) -> tuple:
	"""The branch's profiles as screening reads them, with what it stored on them."""
	where, values = _branch_condition(branch)
	return store.checksum([f"`{c}`" for c in PROFILE_COLUMNS], f"from `tab{PROFILE}` where {where}", values)


def read_facts_checksum(branch: str, params: NeedsParameters, as_of: dt.date) -> tuple:
	"""Checksums of everything else ``read_branch`` reads of the branch: holdings, snapshots, products."""
	return (
		store.checksum(list(HOLDING_COLUMNS.values()), *_holdings_source(branch)),
		store.month_rows_checksum(
			NEEDS_SNAPSHOT_COLUMNS, *_months(params, as_of), profiles=_branch_condition(branch, "p.")
		),
		store.checksum([f"`{c}`" for c in PRODUCT_COLUMNS], "from `tabBank Product`"),
	)


def screen_read(
	read: tuple, params: NeedsParameters, as_of: dt.date, words: dict, today: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""(screened rows, the changed rows to write) for a branch as ``read_branch`` returns it."""
	profiles, holdings, snapshots, products = read
	customers = profiles[CUSTOMER_COLUMNS].rename(columns={"name": "customer"})
	screened = screen_needs(
		customers,
		holdings,
		snapshots,
		products if not products.empty else None,
		params,
		as_of,
		**words,
	)
	stored = profiles[["name", *STORED_FIELDS]]
	return screened, needs_changes(screened, stored, today)


@logged_run("Screen Needs")
def run(
	branch: str | None = None,
	progress=None,
	today: dt.date | str | None = None,
	as_of: dt.date | str | None = None,
	of_branches: list[str] | None = None,
	read_ahead: bool | None = None,
	write_behind: bool | None = None,
) -> dict:
	"""Screen every branch (or one, or ``of_branches``) and store what changed. ``progress(n)`` is
	told after each branch. ``as_of``: the last month read (default: the latest month with snapshots
	on the site). A branch's changes are written on connections of their own (``write_behind``)
	while the next branch is read on another (``read_ahead``, once this one is screened) and
	screened; both by default when this connection has nothing uncommitted."""
	today = frappe.utils.getdate(today or frappe.utils.today())
	summary = {
		"profiles": 0,
		"with_gaps": 0,
		"high_priority": 0,
		"updated": 0,
		"failed_branches": 0,
		"skipped": 0,
	}
	as_of = frappe.utils.getdate(as_of) if as_of else latest_month()
	if not as_of:
		return summary
	params = parameters()
	words = templates()
	summary["as_of"] = str(as_of)
	names = of_branches if of_branches is not None else branches(branch)

	def failed(_chunk: tuple[str]) -> None:
		summary["failed_branches"] += 1
		if progress:
			progress(1)

	def done(chunk: tuple[str], decided, stored_fingerprint: str | None) -> None:
		if isinstance(decided, unchanged.Skipped):
			summary["skipped"] += 1
			summary["profiles"] += decided.rows
			if progress:
				progress(1)
			return
		counts, changed, _name, _facts, _held = decided
		unchanged.remember(STAGE, chunk, stored_fingerprint)
		for key, count in counts.items():
			summary[key] += count
		summary["updated"] += len(changed)
		if progress:
			progress(1)

	context = (str(as_of), repr(params), repr(sorted(words.items())))

	def read(name: str):
		"""The branch's reads (and its facts' checksum), or Skipped when it has the inputs it was
		last screened with: the screening depends on the month, not the day."""
		if remembered := unchanged.remembered(STAGE, (name,), context):
			facts, held = read_facts_checksum(name, params, as_of), _stored_checksum(name)
			if unchanged.fingerprint((facts, held), context) == remembered:
				return unchanged.Skipped(chunk=(name,), rows=held[0])
		branch_read, (facts, held) = read_branch(name, params, as_of)
		return branch_read, name, facts, held

	def decide(read):
		if isinstance(read, unchanged.Skipped):
			return read
		branch_read, name, facts, held = read
		screened, changed = screen_read(branch_read, params, as_of, words, today)
		# counted now, so that a branch's screening is not held while its changes are written
		counts = {
			"profiles": len(screened),
			"with_gaps": int((screened["gap_count"] > 0).sum()),
			"high_priority": int((screened["priority_score"] >= params.high_priority).sum()),
		}
		return counts, changed, name, facts, held

	def write(decided) -> str | None:
		"""Store the changed screenings, then the branch's fingerprint as stored."""
		if isinstance(decided, unchanged.Skipped):
			return None
		_counts, changed, name, facts, held = decided
		# a branch is one chunk, however large: its changes are written on two connections at once
		store.update_rows_together(PROFILE, changed, OUTPUT_COLUMNS)
		# nothing written: the profiles hold what was read
		return unchanged.fingerprint((facts, _stored_checksum(name) if len(changed) else held), context)

	summary["seconds"] = run_chunks(
		[(name,) for name in names],
		read=read,
		decide=decide,
		write=write,
		done=done,
		failed=failed,
		failure_title=lambda chunk: f"Branch CRM needs screening: branch {_label(chunk[0])} failed",
		read_ahead=read_ahead,
		write_behind=write_behind,
		# one branch read ahead, not two, and only once this one is screened: a large branch's
		# reads and screening are the biggest frames of the night, and a worker stays under 2 GB
		readers=1,
		read_while_deciding=False,
	)
	return summary
