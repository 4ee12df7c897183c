"""The nightly pipeline at scale: started the way the scheduler starts it, run by real RQ workers.

On a site loaded as in ``benchmarks/recompute.py`` (a million profiles, 24 months), start the workers
first, from the bench directory, one process per worker:

    bench worker --queue long            # once for one worker, twice for two

then start a night and wait for it:

    bench --site S execute branch_crm.benchmarks.nightly.run --kwargs "{'label': 'nothing changed'}"

It enqueues the pipeline's Scheduled Job Type exactly as the scheduler does when the night is due
(``ScheduledJobType.enqueue``), waits for the Branch CRM Nightly Run to finish, and prints the
night's wall time, each stage's time, chunks, rows read and written, and the highest peak memory of
a worker process that ran one of its chunks (recorded on each chunk by the job itself).

A night with a new month to read:

    bench --site S execute branch_crm.benchmarks.nightly.new_month --kwargs "{'month': '2026-12-01'}"

copies the latest month's snapshots into ``month`` with balances and activity moved by up to ±10%
per customer (set-based SQL), so the next night recomputes, scores and screens every profile.
"""

from __future__ import annotations

import json
import time

import frappe

from branch_crm.engine.parts import pack_branches
from branch_crm.jobs.pipeline import RUN, STAGE, branch_profiles, long_workers

START_NIGHT = "branch_crm.jobs.pipeline.start_night"
SNAPSHOT = "Customer Monthly Snapshot"


def run(label: str = "", timeout_minutes: int = 90) -> dict:
	"""Start a night through its Scheduled Job Type, wait for it, print its figures."""
	if frappe.db.exists(RUN, {"status": "Running"}):
		print("a night is already running: wait for it, or let resume_stalled finish it")
		return {}
	before = set(frappe.get_all(RUN, pluck="name"))
	job_type = frappe.get_doc("Scheduled Job Type", {"method": START_NIGHT})
	job_type.enqueue(force=True)
	frappe.db.commit()
	workers = long_workers()
	print(f"night enqueued by its Scheduled Job Type; long-queue workers: {workers}")
	deadline = time.monotonic() + timeout_minutes * 60
	name = None
	while time.monotonic() < deadline:
		time.sleep(2)
		frappe.db.rollback()  # a fresh snapshot: the workers commit as they go
		if not name:
			started = set(frappe.get_all(RUN, pluck="name")) - before
			name = started.pop() if started else None
			continue
		if frappe.db.get_value(RUN, name, "status") != "Running":
			break
	if not name:
		print("no night started: is a worker serving the long queue?")
		return {}
	return report(name, label=label, workers=workers)


def report(name: str, label: str = "", workers: int | None = None) -> dict:
	"""Print a night's figures from its record (also for a night run by the scheduler itself)."""
	night = frappe.get_doc(RUN, name)
	chunks = frappe.db.sql(
		"""select `stage`, max(`peak_memory_mb`), sum(`seconds`) from `tabBranch CRM Nightly Chunk`
		where `parent` = %s group by `stage`""",
		(name,),
	)
	peak = {stage: mb for stage, mb, _busy in chunks}
	busy_by_stage = {stage: busy for stage, _mb, busy in chunks}
	print(f"\n{label or name}: {night.status}, {night.seconds:.1f} s wall, as of {night.as_of_month}")
	# stage s: from its start to its last chunk's end, waits in the queue included; chunk s: the
	# time its chunk jobs ran, summed (the work, whatever the number of workers)
	print("| stage | status | stage s | chunk s | chunks | failed | rows read | rows written | peak MB |")
	print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for row in night.stages:
		print(
			f"| {row.stage} | {row.status} | {row.seconds or 0:.1f} | {busy_by_stage.get(row.stage) or 0:.1f} "
			f"| {row.chunks} | {row.chunks_failed} | {row.rows_read:,} | {row.rows_written:,} "
			f"| {peak.get(row.stage) or 0:,} |"
		)
	busy = sum(chunk.seconds or 0 for chunk in night.chunks)
	figures = {
		"night": name,
		"label": label,
		"workers": workers,
		"status": night.status,
		"wall_s": round(night.seconds or 0, 1),
		"chunk_seconds": round(busy, 1),
		"peak_mb": max(peak.values() or [0]),
		"stages": {row.stage: round(row.seconds or 0, 1) for row in night.stages},
		"chunk_seconds_by_stage": {stage: round(busy or 0, 1) for stage, busy in busy_by_stage.items()},
	}
	print(
		f"wall {figures['wall_s']} s; chunk jobs busy {figures['chunk_seconds']} s in all "
		f"(busy / wall = {busy / max(night.seconds or 1, 1):.2f} workers kept busy on average); "
		f"highest worker peak memory {figures['peak_mb']:,} MB"
	)
	return figures


def new_month(month: str, change: float = 0.10) -> None:
	"""A month of snapshots for every customer who reported the latest month, copied from it with
	each balance and activity count moved by a random factor within ±``change``."""
	latest = frappe.db.sql(f"select max(`month`) from `tab{SNAPSHOT}`")[0][0]
	month = frappe.utils.getdate(month)
	if month <= latest:
		print(f"{month} is not after the latest month {latest}")
		return
	started = time.perf_counter()
	moved = lambda column: f"greatest(0, `{column}` * (1 - %(change)s + 2 * %(change)s * rand()))"  # noqa: E731
	counted = lambda column: f"round({moved(column)})"  # noqa: E731
	amounts = [
		"aum",
		"deposits",
		"investments",
		"loans",
		"contribution",
		"inflow",
		"outflow",
		"salary_credit",
	]
	counts = ["txn_count", "large_txn_count", "bill_payments", "digital_logins"]
	columns = [*amounts, *counts, "complaints"]
	values = [*(moved(c) for c in amounts), *(counted(c) for c in counts), "`complaints`"]
	frappe.db.sql(
		f"""insert ignore into `tab{SNAPSHOT}` (`name`, `customer`, `month`, {", ".join(f"`{c}`" for c in columns)},
		`creation`, `modified`, `owner`, `modified_by`, `docstatus`, `idx`)
		select concat(`customer`, '-', %(label)s), `customer`, %(month)s, {", ".join(values)},
		now(), now(), 'Administrator', 'Administrator', 0, 0
		from `tab{SNAPSHOT}` where `month` = %(latest)s""",
		{"month": month, "latest": latest, "label": month.strftime("%Y-%m"), "change": change},
	)
	frappe.db.commit()
	count = frappe.db.count(SNAPSHOT, {"month": month})
	print(f"{count:,} snapshots for {month} in {time.perf_counter() - started:.1f} s")


def stage_order(name: str) -> list[tuple]:
	"""(stage, started, finished) in start order: to check the order on a real night."""
	return frappe.db.sql(
		f"select `stage`, `started_on`, `finished_on` from `tab{STAGE}` where `parent` = %s order by `started_on`",
		(name,),
	)


def projection(name: str, workers: tuple = (1, 2, 4, 8)) -> dict:
	"""What the night ``name`` would take on more workers, from its own chunk times: the chunks are
	replayed in the pipeline's order (a stage's chunks queue when its needs are done; each free
	worker takes the oldest queued chunk, as RQ does) with each chunk taking the time it took. That
	assumes every chunk keeps its speed, i.e. the database and the workers have a core each to spare:
	a bound for a bigger database server, not a forecast for this 2-core machine.

	The branch-wise stages are split into one part per worker when they start, so for each number
	of workers their time is packed again the way the pipeline would pack it, each part taking the
	stage's seconds per profile times its profiles (a part of one branch overlaps less than a part
	of several: slightly optimistic for them)."""
	rows = frappe.db.sql(
		"""select `stage`, `seconds`, `scope` from `tabBranch CRM Nightly Chunk` where `parent` = %s
		order by `idx`""",
		(name,),
	)
	part_size = frappe.db.get_value(RUN, name, "part_size") or 100_000
	branches = branch_profiles()
	chunks: dict[str, list[float]] = {}
	by_branch: dict[str, list[float]] = {}  # stage: [seconds, profiles] of its branch-wise parts
	for stage, seconds, scope in rows:
		part = json.loads(scope or "null")
		if isinstance(part, dict) and "branches" in part:
			totals = by_branch.setdefault(stage, [0.0, 0])
			totals[0] += float(seconds or 0)
			totals[1] += int(part.get("profiles") or 0)
		else:
			chunks.setdefault(stage, []).append(float(seconds or 0))

	def chunks_on(count: int) -> dict[str, list[float]]:
		packed = pack_branches(branches, parts=count, at_least=part_size)
		return chunks | {
			stage: [seconds * part["profiles"] / max(profiles, 1) for part in packed]
			for stage, (seconds, profiles) in by_branch.items()
		}

	figures = {count: round(_replay(chunks_on(count), count), 1) for count in workers}
	print(f"{name}: replayed on 1, 2, 4, 8 workers with each chunk at its measured speed: {figures}")
	return figures


def _replay(chunks: dict[str, list[float]], count: int) -> float:
	"""The night's length on ``count`` workers, its chunks taking ``chunks`` seconds (by stage)."""
	import heapq

	from branch_crm.jobs.pipeline import STAGES

	clock, queue, done, started = 0.0, [], set(), set()
	free = [0.0] * count  # when each worker is next free
	running: list[tuple[float, str]] = []  # (end, stage) of the chunks in flight
	left = {stage.name: len(chunks.get(stage.name, [])) for stage in STAGES}

	def start_ready() -> None:
		for stage in STAGES:
			if stage.name not in started and all(need in done for need in stage.needs):
				started.add(stage.name)
				if not left[stage.name]:
					done.add(stage.name)
					return start_ready()
				queue.extend((stage.name, seconds) for seconds in chunks[stage.name])

	start_ready()
	while queue or running:
		while queue and min(free) <= clock:
			worker = free.index(min(free))
			stage, seconds = queue.pop(0)
			free[worker] = clock + seconds
			heapq.heappush(running, (clock + seconds, stage))
		end, stage = heapq.heappop(running)
		clock = max(clock, end)
		left[stage] -= 1
		if not left[stage]:
			done.add(stage)
			start_ready()
	return clock
