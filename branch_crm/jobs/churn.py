"""The nightly churn early warning (流失预警): a 0-100 score, a band and the top reasons in words for
every profile, stored on the profile (churn_score, churn_band, churn_reasons, churn_scored_on).

Per chunk of profiles (a contiguous name range): read the stored churn fields, the snapshot months
the score needs (``ChurnParameters.window_months`` ending with the latest month on the site, only
the columns it reads), the chunk's contact logs of those months (no-reply outcomes), the
complaints recorded in the CRM (ERPNext Issues of the customer and contact logs with outcome
"Complaint Raised", one complaint however many records it has: ``engine.feedback.
desk_complaint_events``; a month counts the larger of those and core banking's snapshot count,
which may hold the same complaints), the satisfaction answers of the last 15 months (Customer
Feedback: ``engine.feedback.satisfaction_measure``) and the holdings maturing in those months (a
matured deposit withdrawn is not churn); score with ``engine.churn.score_churn``; write only the
profiles whose score, band or reasons changed (UPDATE … JOIN), with churn_scored_on = today; commit.
The next two chunks are read meanwhile on reader connections of their own (``store.read_ahead``),
and a chunk's changes are written on a writer connection while the next chunk is scored
(``store.write_behind``). A failed chunk is rolled back and logged; the others go on. A second run
writes nothing.

The retention follow-ups for high-value customers at high risk are raised by the follow-up job from
the stored fields (``branch_crm.followups``), not here.
"""

from __future__ import annotations

import datetime as dt

import frappe
import pandas as pd

from branch_crm import store
from branch_crm.audit import logged_run
from branch_crm.engine.churn import (
	CHURN_SIGNALS,
	CHURN_SNAPSHOT_COLUMNS,
	STORED_COLUMNS,
	ChurnParameters,
	SnapshotMatrices,
	add_monthly_counts,
	churn_changes,
	score_churn,
)
from branch_crm.engine.feedback import desk_complaint_events
from branch_crm.jobs.chunks import run_chunks
from branch_crm.jobs.recompute import latest_month
from branch_crm.language import coded

PROFILE = "Bank Customer Profile"
LOG = "Contact Log"
HOLDING = "Customer Product Holding"
JOB_ID = "branch_crm:score_churn"
# 20,000 profiles a chunk: five to a part of the night, so the next is read and the last written
# while one is scored (two to a part left the first read and the last write waiting)
CHUNK_SIZE = 20_000
COMPLAINT_OUTCOMES = ("Complaint Raised",)
FEEDBACK = "Customer Feedback"
# satisfaction answers read: the last 90 days and the year before them (engine.feedback)
FEEDBACK_DAYS = 90 + 365
OUTPUT_COLUMNS = [*STORED_COLUMNS, "churn_scored_on"]


def parameters() -> ChurnParameters:
	"""The engine's defaults (weights, ramps, windows, bands: docs/needs_and_churn.md)."""
	return ChurnParameters()


def reason_templates() -> dict[str, str]:
	"""The reasons are stored coded: each reader gets them in their own language (branch_crm.language)."""
	return coded("churn")


def enqueue() -> str:
	"""Score every profile in the background, once at a time."""
	frappe.enqueue(
		"branch_crm.jobs.churn.run",
		queue="long",
		job_id=JOB_ID,
		deduplicate=True,
		timeout=4 * 3600,
	)
	return JOB_ID


def window(as_of: dt.date, params: ChurnParameters) -> pd.DatetimeIndex:
	"""The months scored: ``params.window_months`` ending with the month of ``as_of``."""
	end = pd.Timestamp(as_of).to_period("M").to_timestamp()
	return pd.date_range(end=end, periods=params.window_months, freq="MS")


def measured_signals(months: pd.DatetimeIndex, today: dt.date | None = None) -> tuple[str, ...]:
	"""The signals that count for everyone this run, whatever chunk a customer falls in: every
	snapshot column exists on the site (a bank that sends no logins gets a neutral login signal, not
	rescaled weights); the reply signal counts when the site has contact logs in the window, the
	satisfaction signal when it has answered feedback in the last 15 months."""
	start, end = months[0].date(), (months[-1] + pd.offsets.MonthBegin(1)).date()
	contacts = frappe.db.sql(
		f"select exists(select 1 from `tab{LOG}` where `contact_time` >= %(start)s and `contact_time` < %(end)s)",
		{"start": start, "end": end},
	)[0][0]
	answers = frappe.db.sql(
		f"""select exists(select 1 from `tab{FEEDBACK}` where `status` = 'Answered'
		and `answered_on` >= %(since)s)""",
		{"since": feedback_since(today)},
	)[0][0]
	left_out = {"reply_drop": not contacts, "satisfaction_drop": not answers}
	return tuple(s for s in CHURN_SIGNALS if not left_out.get(s))


def feedback_since(today: dt.date | None) -> dt.date:
	return frappe.utils.getdate(today or frappe.utils.today()) - dt.timedelta(days=FEEDBACK_DAYS)


def read_chunk(
	lo: str, hi: str, months: pd.DatetimeIndex, today: dt.date | None = None
) -> tuple[pd.DataFrame, SnapshotMatrices, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
	"""(stored churn fields, snapshot matrices, contact logs, CRM complaints, holdings maturing in
	the months, satisfaction answered since ``today`` - 15 months) for the profiles named lo … hi."""
	stored = store.read_frame_fast(
		PROFILE,
		["name", *STORED_COLUMNS],
		where="`name` between %(lo)s and %(hi)s",
		values={"lo": lo, "hi": hi},
	)
	customers = pd.Index(stored["name"])
	rows = store.read_month_rows(CHURN_SNAPSHOT_COLUMNS, months[0], months[-1], between=(lo, hi))
	matrices = SnapshotMatrices.from_long(rows, months=months, customers=customers)
	start, end = months[0].date(), (months[-1] + pd.offsets.MonthBegin(1)).date()
	values = {"lo": lo, "hi": hi, "start": start, "end": end}
	logs = store.read_query(
		f"""select `customer`, `contact_time`, `outcome` from `tab{LOG}`
		where `customer` between %(lo)s and %(hi)s and `contact_time` >= %(start)s and `contact_time` < %(end)s""",
		values,
	)
	complaints = logs.loc[logs["outcome"].isin(COMPLAINT_OUTCOMES), ["customer", "contact_time"]].rename(
		columns={"contact_time": "time"}
	)
	# a complaint names its bank customer (branch_crm.complaints); one registered outside the
	# app's form may only name the ERPNext Customer, which is the same number
	issues = store.read_query(
		"""select coalesce(nullif(`bank_customer`, ''), `customer`) as `customer`, `opening_date` as `time`
		from `tabIssue` where `opening_date` >= %(start)s and `opening_date` < %(end)s
		and (`bank_customer` between %(lo)s and %(hi)s or `customer` between %(lo)s and %(hi)s)""",
		values,
	)
	# only the holdings that mature in the window: the engine keeps those of the recent months
	maturing = store.read_query_fast(
		{
			"customer": "`parent`",
			"category": "`product_category`",
			"balance": "`balance`",
			"matures_on": "`matures_on`",
		},
		f"""from `tab{HOLDING}` where `parenttype` = %(parenttype)s and `parent` between %(lo)s and %(hi)s
		and `matures_on` >= %(start)s and `matures_on` < %(end)s""",
		{**values, "parenttype": PROFILE},
		text=["customer", "category", "matures_on"],
		dates=["matures_on"],
	)
	answers = store.read_query(
		f"""select `customer`, `answered_on`, `score` from `tab{FEEDBACK}`
		where `customer` between %(lo)s and %(hi)s and `status` = 'Answered' and `answered_on` >= %(since)s""",
		{**values, "since": feedback_since(today)},
	)
	return stored, matrices, logs, desk_complaint_events(issues, complaints), maturing, answers


def score_chunk(
	chunk: tuple[pd.DataFrame, SnapshotMatrices, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame],
	months: pd.DatetimeIndex,
	params: ChurnParameters,
	templates: dict[str, str],
	today: dt.date,
	signals: tuple[str, ...] = CHURN_SIGNALS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""(scored rows, the changed rows to write) for a chunk as ``read_chunk`` returns it."""
	stored, matrices, logs, complaints, maturing, answers = chunk
	# core banking's count may already hold the complaints registered in the desk: the larger counts
	add_monthly_counts(matrices, "complaints", complaints, how="max")
	scored = score_churn(
		matrices,
		logs,
		params,
		months[-1].date(),
		templates=templates,
		measured_signals=signals,
		holdings=maturing,
		feedback=answers,
		feedback_as_of=today,
	)
	return scored, churn_changes(scored, stored, today)


@logged_run("Score Churn")
def run(
	chunk_size: int | None = None,
	progress=None,
	today: dt.date | str | None = None,
	stop_after_chunks: int | None = None,
	as_of: dt.date | str | None = None,
	read_ahead: bool | None = None,
	write_behind: bool | None = None,
	between: tuple[str, str] | None = None,
) -> dict:
	"""Score every profile and store what changed. ``progress(n)`` is told the profiles done after
	each chunk; ``stop_after_chunks`` stops early, as a crash would, for tests of re-running.
	``as_of``: the last month scored (default: the latest month with snapshots on the site).
	``read_ahead``: read the next chunks on connections of their own while this one is scored and
	written (``store.read_ahead``); ``write_behind``: write a chunk's changes on a connection of its
	own while the next chunk is scored (``store.write_behind``). Both by default whenever this
	connection has nothing uncommitted and there is more than one chunk. ``between``: only the
	profiles named from … to (a part of the nightly pipeline)."""
	chunk_size = chunk_size or CHUNK_SIZE
	today = frappe.utils.getdate(today or frappe.utils.today())
	summary = {"profiles": 0, "scored": 0, "high": 0, "updated": 0, "failed_chunks": 0}
	as_of = frappe.utils.getdate(as_of) if as_of else latest_month()
	if not as_of:
		return summary
	params = parameters()
	months = window(as_of, params)
	templates = reason_templates()
	signals = measured_signals(months, today)
	summary["as_of"] = str(months[-1].date())
	ranges = store.name_ranges(
		PROFILE,
		chunk_size,
		**(
			{"where": "`name` between %(lo)s and %(hi)s", "values": {"lo": between[0], "hi": between[1]}}
			if between
			else {}
		),
	)
	if stop_after_chunks is not None:
		ranges = ranges[:stop_after_chunks]

	def failed(_chunk: tuple[str, str]) -> None:
		summary["failed_chunks"] += 1
		if progress:
			progress(0)

	def done(_chunk, decided: tuple[pd.DataFrame, pd.DataFrame], _written) -> None:
		scored, changed = decided
		summary["profiles"] += len(scored)
		summary["scored"] += int(scored["has_score"].sum())
		summary["high"] += int((scored["churn_band"] == "High").sum())
		summary["updated"] += len(changed)
		if progress:
			progress(len(scored))

	summary["seconds"] = run_chunks(
		ranges,
		read=lambda lo, hi: read_chunk(lo, hi, months, today),
		decide=lambda chunk: score_chunk(chunk, months, params, templates, today, signals),
		write=lambda decided: store.update_rows(PROFILE, decided[1], OUTPUT_COLUMNS),
		done=done,
		failed=failed,
		failure_title=lambda chunk: f"Branch CRM churn scoring: chunk {chunk[0]} … {chunk[1]} failed",
		read_ahead=read_ahead,
		write_behind=write_behind,
		# on a new month about half the profiles change: two chunks are written at once
		writers=2,
	)
	return summary
