"""The night: one ordered pipeline of the nightly stages, fanned out as chunk jobs on the long queue.

refresh balances → recompute → churn scoring, needs screening and re-homing proposals (side by
side: each needs only the recompute's tiers) → follow-ups (which read what all three stored).

One scheduler entry (``start_night``, daily_long) writes a "Branch CRM Nightly Run" with a row per
stage and starts the stages that wait for nothing. A stage, when it starts, splits its work into
parts (name ranges of profiles, or groups of branches), writes one chunk row per part and enqueues
one job per part on the long queue, so any number of workers (on any machine that reaches the same
Redis and MariaDB) share it. A chunk job marks its row done or failed and commits; then, holding the
stage row's lock, it counts the stage's chunks still open. The job that finds none closes the stage
(the stage's finishing step runs there, once) and starts the stages that now have all they need. So
the order holds with one worker or twenty, and completion is tracked in the database, not by polling
job objects.

A failed chunk fails its stage (its other chunks still run); the stages that need it are skipped;
the run fails and Branch CRM Admins are notified, as they are when a night runs late. "Re-run
Failed" (``rerun_failed``) queues only the failed chunks again, and the skipped stages follow. A
chunk whose worker died (killed, machine lost) is neither done nor failed: ``resume_stalled``, every
few minutes from the scheduler, queues it again once RQ no longer has its job queued or running.
Every part is re-runnable with the same result (each stage writes only what changed, set-based, in
committed chunks), so a resumed night stores what an uninterrupted one would.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import frappe
from frappe import _

from branch_crm import store
from branch_crm.audit import record_run
from branch_crm.engine.parts import pack_branches

RUN = "Branch CRM Nightly Run"
STAGE = "Branch CRM Nightly Stage"
CHUNK = "Branch CRM Nightly Chunk"
PROFILE = "Bank Customer Profile"
ADMIN = "Branch CRM Admin"
# profiles per part: 10 parts per stage at a million customers, enough to keep 2-8 workers busy
# while each part stays long enough (≈ 10 s) for its read-ahead and write-behind to pay
PART_SIZE = 100_000
CHUNK_TIMEOUT = 2 * 3600
# a night still running this long after it started is late: the admins are told once
LATE_AFTER_MINUTES = 120
OPEN = ("Queued", "Running")


@dataclass(frozen=True)
class Night:
	"""What every part of one night shares: the day it runs for and the month it reads up to, fixed
	when the night starts, so a month that arrives mid-night does not split it in two."""

	name: str
	today: dt.date
	as_of: dt.date | None
	part_size: int


@dataclass(frozen=True)
class Stage:
	name: str  # also the job of the stage's Branch CRM Run Log row
	needs: tuple[str, ...]
	parts: Callable[[Night], list]  # JSON-able scopes, one chunk job each
	run_part: Callable[[Night, Any], dict]  # counts: read, written, failed (list of what failed)
	finish: Callable[[Night, dict], None] | None = None  # once, after the last part


# ---------------------------------------------------------------- the stages


def _name_ranges(night: Night) -> list:
	return [list(pair) for pair in store.name_ranges(PROFILE, night.part_size)]


def _branch_parts(night: Night) -> list:
	"""Branches packed into one part per long-queue worker, each at least ``part_size`` profiles
	(``engine.parts.pack_branches``; "" = no branch): a part of several branches reads the next
	branch while it writes this one, which separate parts on one worker cannot."""
	return pack_branches(branch_profiles(), parts=max(1, long_workers()), at_least=night.part_size)


def branch_profiles() -> dict[str, int]:
	"""Each branch's profiles ("" for those without a branch), in name order."""
	return dict(
		frappe.db.sql(f"select ifnull(`branch`, ''), count(*) from `tab{PROFILE}` group by 1 order by 1")
	)


def long_workers() -> int:
	"""The RQ workers listening on the long queue, on any machine that shares this Redis."""
	from frappe.utils.background_jobs import get_queue, get_workers

	return len(get_workers(get_queue("long")))


def _whole(night: Night) -> list:
	return [None]


def _failures(summary: dict, key: str, what: str) -> list[str]:
	failed = summary.get(key) or 0
	if isinstance(failed, list):
		return [f"{what}: {name}" for name in failed]
	return [f"{failed} {what} failed; their errors are in the Error Log"] if failed else []


def _refresh_balances(night: Night, scope: list) -> dict:
	from branch_crm.jobs import balances

	summary = balances.refresh(between=tuple(scope), as_of=night.as_of)
	return {
		"read": summary["profiles"],
		"written": summary["updated"],
		"failed": _failures(summary, "failed", "chunks"),
	}


def _recompute(night: Night, scope: list) -> dict:
	from branch_crm.jobs import recompute

	# the stage writes one Run Log row for the night, so a part calls the job without its own
	summary = recompute.run.__wrapped__(
		between=tuple(scope), finish=False, run_id=night.name, as_of=night.as_of
	)
	return {
		"read": summary["profiles"],
		"written": summary["updated"],
		"tier_changes": summary["tier_changes"],
		"failed": _failures(summary, "failed_chunks", "chunks"),
	}


def _finish_recompute(night: Night, totals: dict) -> None:
	from branch_crm.jobs import recompute

	recompute.finish_run(
		{"profiles": totals["read"], "updated": totals["written"], "nightly_run": night.name}
	)


def _score_churn(night: Night, scope: list) -> dict:
	from branch_crm.jobs import churn

	summary = churn.run.__wrapped__(between=tuple(scope), today=night.today, as_of=night.as_of)
	return {
		"read": summary["profiles"],
		"written": summary["updated"],
		"failed": _failures(summary, "failed_chunks", "chunks"),
	}


def _screen_needs(night: Night, scope: dict) -> dict:
	from branch_crm.jobs import needs

	branches = [branch or needs.NO_BRANCH for branch in scope["branches"]]
	summary = needs.run.__wrapped__(of_branches=branches, today=night.today, as_of=night.as_of)
	return {
		"read": summary["profiles"],
		"written": summary["updated"],
		"failed": _failures(summary, "failed_branches", "branches"),
	}


def _propose_rehoming(night: Night, scope: dict) -> dict:
	from branch_crm.books import propose_rehoming

	# profiles without a branch have no branch manager to approve a move
	touched = [name for branch in scope["branches"] if branch for name in propose_rehoming(branch)]
	return {"read": scope["profiles"], "written": len(touched), "failed": []}


def _queue_follow_ups(night: Night, scope: None) -> dict:
	from branch_crm import followups

	# one part: an ordinary day reads every branch's plans that can need work in one query
	summary = followups.run.__wrapped__(today=str(night.today))
	written = sum(summary.get(key, 0) for key in ("created", "plans_updated", "escalated", "cancelled"))
	return {
		"read": 0,
		"written": written,
		"failed": _failures(summary, "failed_branches", "branch"),
	}


STAGES: tuple[Stage, ...] = (
	Stage("Refresh Balances", (), _name_ranges, _refresh_balances),
	Stage("Recompute Tiers", ("Refresh Balances",), _name_ranges, _recompute, _finish_recompute),
	Stage("Score Churn", ("Recompute Tiers",), _name_ranges, _score_churn),
	Stage("Screen Needs", ("Recompute Tiers",), _branch_parts, _screen_needs),
	Stage("Propose Re-homing", ("Recompute Tiers",), _branch_parts, _propose_rehoming),
	Stage(
		"Queue Follow-ups", ("Score Churn", "Screen Needs", "Propose Re-homing"), _whole, _queue_follow_ups
	),
)
STAGE_BY_NAME = {stage.name: stage for stage in STAGES}


# ---------------------------------------------------------------- starting a night


def start_night(part_size: int | None = None) -> str | None:
	"""Scheduler entry (daily_long): record tonight's run and start the stages that need nothing.
	A night already running today is not started twice (its stalled chunks are resumed instead)."""
	today = frappe.utils.getdate()
	running = frappe.get_all(RUN, filters={"status": "Running"}, fields=["name", "run_date"])
	for run in running:
		if run.run_date == today:
			resume_stalled()
			return run.name
	for run in running:
		_give_up(run.name)
	from branch_crm.jobs.recompute import latest_month

	now = frappe.utils.now_datetime()
	run = frappe.get_doc(
		{
			"doctype": RUN,
			"run_date": today,
			"status": "Running",
			"started_on": now,
			"as_of_month": latest_month(),
			"part_size": part_size or PART_SIZE,
			"stages": [
				{"stage": stage.name, "needs": ", ".join(stage.needs), "status": "Pending"}
				for stage in STAGES
			],
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	start_ready(run.name)
	return run.name


def _give_up(run: str) -> None:
	"""A night of an earlier day still running when the next starts: closed as failed, and told."""
	frappe.db.sql(
		f"update `tab{STAGE}` set `status` = 'Skipped' where `parent` = %s and `status` = 'Pending'", (run,)
	)
	frappe.db.sql(
		f"update `tab{STAGE}` set `status` = 'Failed' where `parent` = %s and `status` = 'Running'", (run,)
	)
	frappe.db.sql(
		f"update `tab{CHUNK}` set `status` = 'Failed', `error` = %s where `parent` = %s and `status` in %s",
		("Not finished when the next night started", run, OPEN),
	)
	frappe.db.commit()
	_settle_run(run)


def _night(run: str) -> Night:
	row = frappe.db.get_value(RUN, run, ["run_date", "as_of_month", "part_size"], as_dict=True)
	return Night(run, frappe.utils.getdate(row.run_date), row.as_of_month, int(row.part_size or PART_SIZE))


def _stage_statuses(run: str) -> dict[str, str]:
	return dict(
		frappe.db.sql(f"select `stage`, `status` from `tab{STAGE}` where `parent` = %s", (run,), as_list=True)
	)


def start_ready(run: str) -> None:
	"""Start every pending stage whose needs have all completed."""
	statuses = _stage_statuses(run)
	for stage in STAGES:
		if statuses.get(stage.name) == "Pending" and all(
			statuses.get(need) == "Completed" for need in stage.needs
		):
			_start_stage(run, stage)


def _start_stage(run: str, stage: Stage) -> None:
	"""Claim the stage (one job wins when two finish at once), write its chunk rows, enqueue them."""
	now = frappe.utils.now_datetime()
	frappe.db.sql(
		f"""update `tab{STAGE}` set `status` = 'Running', `started_on` = %s, `finished_on` = null
		where `parent` = %s and `stage` = %s and `status` = 'Pending'""",
		(now, run, stage.name),
	)
	if frappe.db._cursor.rowcount != 1:
		frappe.db.rollback()
		return
	try:
		scopes = stage.parts(_night(run))
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=f"Branch CRM nightly run {run}: {stage.name} could not be split into parts")
		_mark_stage(run, stage.name, "Failed")
		_after_stage(run, stage.name, "Failed")
		return
	first = frappe.db.sql(f"select count(*) from `tab{CHUNK}` where `parent` = %s", (run,))[0][0]
	frappe.db.sql(f"delete from `tab{CHUNK}` where `parent` = %s and `stage` = %s", (run, stage.name))
	for number, scope in enumerate(scopes, start=1):
		frappe.get_doc(
			{
				"doctype": CHUNK,
				"parent": run,
				"parenttype": RUN,
				"parentfield": "chunks",
				"idx": first + number,
				"stage": stage.name,
				"chunk_no": number,
				"scope": json.dumps(scope, ensure_ascii=False),
				"status": "Queued",
			}
		).db_insert()
	frappe.db.sql(
		f"update `tab{STAGE}` set `chunks` = %s where `parent` = %s and `stage` = %s",
		(len(scopes), run, stage.name),
	)
	frappe.db.commit()
	for number in range(1, len(scopes) + 1):
		_enqueue_chunk(run, stage.name, number)
	if not scopes:
		settle_stage(run, stage.name)


def _job_id(run: str, stage: str, chunk: int) -> str:
	return f"branch_crm:night:{run}:{frappe.scrub(stage)}:{chunk}"


def _enqueue_chunk(run: str, stage: str, chunk: int) -> None:
	frappe.enqueue(
		"branch_crm.jobs.pipeline.run_chunk",
		queue="long",
		job_id=_job_id(run, stage, chunk),
		deduplicate=True,
		timeout=CHUNK_TIMEOUT,
		# site tests run the night in their own process, one chunk after another
		now=bool(frappe.flags.in_test),
		run=run,
		stage=stage,
		chunk=chunk,
	)


# ---------------------------------------------------------------- a chunk job


def run_chunk(run: str, stage: str, chunk: int) -> None:
	"""One part of one stage: run it, record how it went, and close the stage if it was the last."""
	found = frappe.db.sql(
		f"select `status`, `scope` from `tab{CHUNK}` where `parent` = %s and `stage` = %s and `chunk_no` = %s",
		(run, stage, chunk),
		as_dict=True,
	)
	if not found or found[0].status not in OPEN:
		return  # queued twice, and the other job already finished it
	frappe.db.sql(
		f"""update `tab{CHUNK}` set `status` = 'Running', `attempts` = `attempts` + 1, `started_on` = %s,
		`finished_on` = null, `error` = null where `parent` = %s and `stage` = %s and `chunk_no` = %s""",
		(frappe.utils.now_datetime(), run, stage, chunk),
	)
	frappe.db.commit()
	started = time.perf_counter()
	try:
		counts = STAGE_BY_NAME[stage].run_part(_night(run), json.loads(found[0].scope or "null"))
		frappe.db.commit()
		error = "\n".join(counts.get("failed") or []) or None
	except Exception:
		frappe.db.rollback()
		counts, error = {}, frappe.get_traceback()
		frappe.log_error(title=f"Branch CRM nightly run {run}: {stage} chunk {chunk} failed")
	frappe.db.sql(
		f"""update `tab{CHUNK}` set `status` = %s, `finished_on` = %s, `seconds` = %s, `rows_read` = %s,
		`rows_written` = %s, `peak_memory_mb` = %s, `error` = %s
		where `parent` = %s and `stage` = %s and `chunk_no` = %s""",
		(
			"Failed" if error else "Done",
			frappe.utils.now_datetime(),
			round(time.perf_counter() - started, 2),
			int(counts.get("read") or 0),
			int(counts.get("written") or 0),
			_peak_memory_mb(),
			error[-10000:] if error else None,
			run,
			stage,
			chunk,
		),
	)
	frappe.db.commit()
	settle_stage(run, stage)


def _peak_memory_mb() -> int:
	"""The highest resident memory of this process so far (RQ runs each job in a fresh fork)."""
	return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


# ---------------------------------------------------------------- closing stages and the night


def settle_stage(run: str, stage: str) -> None:
	"""Under the stage row's lock: show the stage's progress, and close it when no chunk is open."""
	locked = frappe.db.sql(
		f"select `status`, `started_on` from `tab{STAGE}` where `parent` = %s and `stage` = %s for update",
		(run, stage),
		as_dict=True,
	)
	if not locked or locked[0].status != "Running":
		frappe.db.commit()
		return
	# a locking read: the latest committed rows, whatever this transaction saw before
	rows = frappe.db.sql(
		f"""select `status`, count(*) as n, ifnull(sum(`rows_read`), 0) as `read`,
		ifnull(sum(`rows_written`), 0) as written
		from `tab{CHUNK}` where `parent` = %s and `stage` = %s group by `status` lock in share mode""",
		(run, stage),
		as_dict=True,
	)
	by_status = {row.status: row for row in rows}
	done, failed = by_status.get("Done"), by_status.get("Failed")
	totals = {
		"read": sum(int(row.read) for row in rows),
		"written": sum(int(row.written) for row in rows),
		"done": done.n if done else 0,
		"failed": failed.n if failed else 0,
	}
	progress = {
		"chunks_done": totals["done"],
		"chunks_failed": totals["failed"],
		"rows_read": totals["read"],
		"rows_written": totals["written"],
	}
	if any(status in by_status for status in OPEN):
		_update_stage(run, stage, progress)
		frappe.db.commit()
		return
	status = "Failed" if failed else "Completed"
	finish = STAGE_BY_NAME[stage].finish
	if status == "Completed" and finish:
		try:
			finish(_night(run), totals)
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=f"Branch CRM nightly run {run}: {stage} could not finish")
			_mark_stage(run, stage, "Failed")
			_after_stage(run, stage, "Failed")
			return
	finished = frappe.utils.now_datetime()
	seconds = (finished - locked[0].started_on).total_seconds() if locked[0].started_on else 0
	_update_stage(run, stage, {**progress, "status": status, "finished_on": finished, "seconds": seconds})
	record_run(
		stage,
		locked[0].started_on,
		{"nightly_run": run},
		{
			"profiles": totals["read"],
			"updated": totals["written"],
			"chunks": totals["done"] + totals["failed"],
			"failed_chunks": totals["failed"],
		},
		RUN,
		run,
	)
	frappe.db.commit()
	_after_stage(run, stage, status)


def _update_stage(run: str, stage: str, values: dict) -> None:
	assignments = ", ".join(f"`{column}` = %({column})s" for column in values)
	frappe.db.sql(
		f"update `tab{STAGE}` set {assignments} where `parent` = %(run)s and `stage` = %(stage)s",
		{**values, "run": run, "stage": stage},
	)


def _mark_stage(run: str, stage: str, status: str) -> None:
	_update_stage(run, stage, {"status": status, "finished_on": frappe.utils.now_datetime()})
	frappe.db.commit()


def _after_stage(run: str, stage: str, status: str) -> None:
	if status == "Failed":
		_skip_dependents(run)
	else:
		start_ready(run)
	_settle_run(run)


def _skip_dependents(run: str) -> None:
	"""Pending stages that need a failed or skipped one are skipped, and those that need them."""
	statuses = _stage_statuses(run)
	changed = True
	while changed:
		changed = False
		for stage in STAGES:
			if statuses.get(stage.name) == "Pending" and any(
				statuses.get(need) in ("Failed", "Skipped") for need in stage.needs
			):
				statuses[stage.name] = "Skipped"
				changed = True
				frappe.db.sql(
					f"update `tab{STAGE}` set `status` = 'Skipped' where `parent` = %s and `stage` = %s and `status` = 'Pending'",
					(run, stage.name),
				)
	frappe.db.commit()


def _settle_run(run: str) -> None:
	"""Under the run row's lock: once no stage is pending or running, the night is over."""
	locked = frappe.db.sql(
		f"select `status`, `started_on` from `tab{RUN}` where `name` = %s for update", (run,), as_dict=True
	)
	if not locked or locked[0].status != "Running":
		frappe.db.commit()
		return
	statuses = frappe.db.sql(
		f"select `stage`, `status` from `tab{STAGE}` where `parent` = %s lock in share mode", (run,)
	)
	if any(status in ("Pending", "Running") for _stage, status in statuses):
		frappe.db.commit()
		return
	failed = [stage for stage, status in statuses if status == "Failed"]
	finished = frappe.utils.now_datetime()
	frappe.db.set_value(
		RUN,
		run,
		{
			"status": "Failed" if failed else "Completed",
			"finished_on": finished,
			"seconds": (finished - locked[0].started_on).total_seconds(),
		},
		update_modified=False,
	)
	frappe.db.commit()
	if failed:
		notify_admins(run, "failed", failed)


# ---------------------------------------------------------------- re-running and resuming


@frappe.whitelist(methods=["POST"])
def rerun_failed(run: str) -> int:
	"""Queue again only what failed in ``run``: its failed chunks (and a failed stage's finishing
	step); the stages skipped because of them follow. Returns the chunks queued."""
	if not {ADMIN, "System Manager"} & set(frappe.get_roles()):
		frappe.throw(_("Only a Branch CRM Admin re-runs a night"), frappe.PermissionError)
	frappe.db.sql(f"select `name` from `tab{RUN}` where `name` = %s for update", (run,))
	failed_chunks = frappe.db.sql(
		f"select `stage`, `chunk_no` from `tab{CHUNK}` where `parent` = %s and `status` = 'Failed'", (run,)
	)
	statuses = _stage_statuses(run)
	frappe.db.sql(
		f"update `tab{CHUNK}` set `status` = 'Queued' where `parent` = %s and `status` = 'Failed'", (run,)
	)
	with_chunks = {
		stage
		for (stage,) in frappe.db.sql(
			f"select distinct `stage` from `tab{CHUNK}` where `parent` = %s", (run,)
		)
	}
	for stage, status in statuses.items():
		if status == "Skipped" or (status == "Failed" and stage not in with_chunks):
			_update_stage(run, stage, {"status": "Pending", "started_on": None, "finished_on": None})
		elif status == "Failed":
			_update_stage(run, stage, {"status": "Running", "finished_on": None})
	frappe.db.set_value(
		RUN,
		run,
		{"status": "Running", "finished_on": None, "failure_notified": 0},
		update_modified=False,
	)
	frappe.db.commit()
	for stage, chunk in failed_chunks:
		_enqueue_chunk(run, stage, chunk)
	# a stage that failed only in its finishing step has no chunk to run: it is closed again here
	for stage, status in statuses.items():
		if status == "Failed" and stage in with_chunks:
			settle_stage(run, stage)
	start_ready(run)
	_settle_run(run)
	return len(failed_chunks)


def resume_stalled() -> int:
	"""Scheduler entry (every few minutes): for each night still running, queue again the chunks
	whose job RQ no longer holds (their worker died), close stages whose last chunk finished but
	whose job died before closing them, start stages left ready, and tell the admins of a late
	night. Returns the chunks queued again."""
	from frappe.utils.background_jobs import get_queue, is_job_enqueued
	from rq.registry import StartedJobRegistry

	# a job whose worker died stays "started" in RQ until its heartbeat lapses (about 90 s) and
	# the registry is cleaned, which a worker does only every few minutes: clean it now
	StartedJobRegistry(queue=get_queue("long")).cleanup()
	queued = 0
	for run in frappe.get_all(RUN, filters={"status": "Running"}, pluck="name"):
		chunks = frappe.db.sql(
			f"select `stage`, `chunk_no` from `tab{CHUNK}` where `parent` = %s and `status` in %s",
			(run, OPEN),
		)
		for stage, chunk in chunks:
			if not is_job_enqueued(_job_id(run, stage, chunk)):
				frappe.db.sql(
					f"update `tab{CHUNK}` set `status` = 'Queued' where `parent` = %s and `stage` = %s and `chunk_no` = %s",
					(run, stage, chunk),
				)
				frappe.db.commit()
				_enqueue_chunk(run, stage, chunk)
				queued += 1
		for stage, status in _stage_statuses(run).items():
			if status == "Running":
				settle_stage(run, stage)
		start_ready(run)
		_settle_run(run)
		_tell_if_late(run)
	return queued


def _tell_if_late(run: str) -> None:
	row = frappe.db.get_value(RUN, run, ["status", "started_on", "late_notified"], as_dict=True)
	if row.status != "Running" or row.late_notified:
		return
	minutes = (frappe.utils.now_datetime() - row.started_on).total_seconds() / 60
	if minutes >= LATE_AFTER_MINUTES:
		frappe.db.set_value(RUN, run, "late_notified", 1, update_modified=False)
		frappe.db.commit()
		notify_admins(run, "late", int(minutes))


def notify_admins(run: str, what: str, detail) -> int:
	"""One bell notification per Branch CRM Admin, in their language: the night failed (which
	stages) or is late (minutes so far). Returns how many were told."""
	from branch_crm.language import user_languages

	if what == "failed":
		if frappe.db.get_value(RUN, run, "failure_notified"):
			return 0
		frappe.db.set_value(RUN, run, "failure_notified", 1, update_modified=False)
	admins = frappe.db.sql(
		"""select distinct u.`name` from `tabUser` u join `tabHas Role` r on r.`parent` = u.`name`
		and r.`parenttype` = 'User' where r.`role` = %s and u.`enabled` = 1""",
		(ADMIN,),
		pluck="name",
	)
	for admin, lang in user_languages(admins).items():
		if what == "failed":
			subject = _("Nightly run {0} failed: {1}", lang=lang).format(
				run, ", ".join(_(stage, lang=lang) for stage in detail)
			)
		else:
			subject = _("Nightly run {0} is still running after {1} minutes", lang=lang).format(run, detail)
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": admin,
				"type": "Alert",
				"subject": subject,
				"document_type": RUN,
				"document_name": run,
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()
	return len(admins)
