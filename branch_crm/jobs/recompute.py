"""The nightly recompute of tiers, segments, value classes and lifetime value for every profile.

Per chunk of profiles (a contiguous name range): read the profiles and a 12-month customer × month
pivot of AUM and contribution in bulk, compute with ``engine.recompute``, write back only the rows
that changed (UPDATE … JOIN), add a Tier Change Log row per real tier change, commit. A failed chunk
is rolled back and logged; the others go on. Re-running gives the same state, and a run stopped
half-way and started again ends where an uninterrupted run would.
"""

from __future__ import annotations

import datetime as dt

import frappe
import pandas as pd
from frappe import _

from branch_crm import store
from branch_crm.audit import logged_run
from branch_crm.engine.recompute import (
	CHANGE_COLUMNS,
	OUTPUT_COLUMNS,
	PROFILE_COLUMNS,
	RecomputeConfig,
	recompute_chunk,
	what_if,
)
from branch_crm.engine.tiering import TierRules, migration_matrix, month_index
from branch_crm.engine.value import ValueParameters
from branch_crm.jobs.chunks import run_chunks
from branch_crm.language import coded, user_languages
from branch_crm.notifications import notify

PROFILE = "Bank Customer Profile"
SNAPSHOT = "Customer Monthly Snapshot"
CHANGE_LOG = "Tier Change Log"
JOB_ID = "branch_crm:recompute"


def load_config(tiers: list[dict] | None = None) -> RecomputeConfig:
	settings = frappe.get_single("Branch CRM Settings")
	tiers = tiers or frappe.get_all(
		"Customer Tier",
		fields=["tier_name", "rank", "min_avg_aum", "min_annual_contribution"],
		order_by="`rank` asc",
	)
	groups = frappe.get_all(
		"Bank Customer Group",
		fields=["group_name", "priority", "life_stage", "occupation_category", "is_active"],
	)
	percent = lambda value, default: (default if value is None else float(value)) / 100  # noqa: E731
	return RecomputeConfig(
		tiers=tuple(tiers),
		groups=tuple(groups),
		rules=TierRules(
			window_months=settings.tier_window_months or 3,
			downgrade_after_months=settings.downgrade_after_months or 3,
			use_contribution=bool(settings.use_contribution),
		),
		value=ValueParameters(
			horizon_years=settings.ltv_horizon_years or 5,
			discount_rate=percent(settings.ltv_discount_rate, 8),
			wallet_multiple=float(settings.ltv_wallet_multiple or 3),
			margin_rate=percent(settings.ltv_margin_rate, 0.8),
			capture_share=percent(settings.ltv_capture_share, 30),
			growth_cap=percent(settings.ltv_growth_cap, 100),
			mvc_top_share=percent(settings.mvc_top_share, 20),
			mgc_top_share=percent(settings.mgc_top_share, 20),
		),
		familiar_within_days=settings.familiar_contact_days or 180,
		reason_templates=coded("tier"),
	)


def latest_month() -> dt.date | None:
	return frappe.db.sql(f"select max(`month`) from `tab{SNAPSHOT}`")[0][0]


def enqueue(branch: str | None = None) -> str:
	"""Run the recompute in the background, once at a time per scope."""
	job_id = f"{JOB_ID}:{branch or 'all'}"
	frappe.enqueue(
		"branch_crm.jobs.recompute.run",
		queue="long",
		job_id=job_id,
		deduplicate=True,
		timeout=4 * 3600,
		branch=branch,
		publish_progress=True,
	)
	return job_id


def _branch_filter(branch: str | None) -> tuple[str, dict]:
	return ("`branch` = %(branch)s", {"branch": branch}) if branch else ("", {})


def chunk_ranges(
	branch: str | None, chunk_size: int, between: tuple[str, str] | None = None
) -> list[tuple[str, str]]:
	"""Contiguous name ranges of about ``chunk_size`` profiles (of a branch; within ``between``)."""
	where, values = _branch_filter(branch)
	if between:
		where = " and ".join(filter(None, [where, "`name` between %(lo)s and %(hi)s"]))
		values = {**values, "lo": between[0], "hi": between[1]}
	return store.name_ranges(PROFILE, chunk_size, where=where, values=values)


def read_chunk(config: RecomputeConfig, lo: str, hi: str, *, branch: str | None, as_of: dt.date):
	"""(profiles, aum, contribution, has_data, overrides) for the profiles named lo … hi. Balances
	are read as of the last complete month; overrides as of today, so an override approved today
	counts today, not once next month's data arrives."""
	where, values = _branch_filter(branch)
	condition = "`name` between %(lo)s and %(hi)s" + (f" and {where}" if where else "")
	profiles = store.read_frame_fast(
		PROFILE, PROFILE_COLUMNS, where=condition, values={"lo": lo, "hi": hi, **values}
	)
	profiles = profiles.sort_values("customer", kind="stable", ignore_index=True)
	months = month_index(as_of, config.months)
	# contribution month by month only when it can qualify for a tier; else its 12-month total
	monthly = ["aum", "contribution"] if config.rules.use_contribution else ["aum"]
	matrices, reported = store.read_month_matrix(
		profiles["customer"].tolist(),
		months,
		monthly,
		between=(lo, hi),
		totals=[] if config.rules.use_contribution else ["contribution"],
	)
	overrides = store.read_frame(
		"Tier Override",
		["customer", "tier", "valid_until", "reason"],
		where="`docstatus` = 1 and `customer` between %(lo)s and %(hi)s and `valid_from` <= %(today)s "
		"and `valid_until` >= %(today)s order by `valid_from`",
		values={"lo": lo, "hi": hi, "today": frappe.utils.getdate()},
	)
	return profiles, matrices["aum"], matrices["contribution"], (reported > 0).to_numpy(), overrides


def write_result(result, today: dt.date, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""Store a chunk's changed profiles and one Tier Change Log row per real tier change."""
	changed = result.changed.rename(columns={"customer": "name"})
	store.update_rows(PROFILE, changed, list(OUTPUT_COLUMNS))
	changes = result.tier_changes.assign(changed_on=today, run_id=run_id)
	store.upsert(CHANGE_LOG, changes, [*CHANGE_COLUMNS, "changed_on", "run_id"])
	return changed, changes


def recompute_customer(customer: str) -> int:
	"""One customer's tier, segment and value, now, in the caller's transaction: an override counts
	the day it is approved (and stops the day it is cancelled). Returns the tier changes written."""
	as_of = latest_month()
	if not as_of:
		return 0
	config = load_config()
	chunk = read_chunk(config, customer, customer, branch=None, as_of=as_of)
	today = frappe.utils.getdate()
	result = recompute_chunk(*chunk, config, as_of=as_of, today=today)
	return len(write_result(result, today, frappe.generate_hash(length=10))[1])


@logged_run("Recompute Tiers")
def run(
	branch: str | None = None,
	chunk_size: int | None = None,
	progress=None,
	publish_progress: bool = False,
	stop_after_chunks: int | None = None,
	between: tuple[str, str] | None = None,
	finish: bool = True,
	run_id: str | None = None,
	as_of: dt.date | str | None = None,
) -> dict:
	"""Recompute every profile (of one branch, if given; named within ``between``, if given).
	``stop_after_chunks`` stops early, as a crash would, for tests of re-running. The nightly
	pipeline runs it part by part with ``finish=False`` (no notifications, re-homing or "last
	recompute" yet: those come once, when the last part is done) and the night's ``as_of`` month."""
	settings = frappe.get_single("Branch CRM Settings")
	chunk_size = chunk_size or settings.recompute_chunk_size or 20000
	as_of = frappe.utils.getdate(as_of) if as_of else latest_month()
	summary = {"profiles": 0, "updated": 0, "tier_changes": 0, "failed_chunks": 0}
	if not as_of:
		return summary
	config = load_config()
	today = frappe.utils.getdate()
	run_id = run_id or frappe.generate_hash(length=10)
	total = frappe.db.count(PROFILE, {"branch": branch} if branch else None) if publish_progress else 0
	ranges = chunk_ranges(branch, chunk_size, between)
	if stop_after_chunks is not None:
		ranges = ranges[:stop_after_chunks]

	def failed(_chunk: tuple[str, str]) -> None:
		summary["failed_chunks"] += 1

	def done(_chunk, result, written: tuple[pd.DataFrame, pd.DataFrame]) -> None:
		changed, changes = written
		summary["profiles"] += len(result.profiles)
		summary["updated"] += len(changed)
		summary["tier_changes"] += len(changes)
		if progress:
			progress(len(result.profiles))
		if publish_progress:
			frappe.publish_progress(
				summary["profiles"] * 100 / max(total, 1),
				title=_("Recomputing tiers"),
				doctype="Branch CRM Settings",
				docname="Branch CRM Settings",
				description=_("{0} of {1} customers").format(summary["profiles"], total),
			)

	summary["seconds"] = run_chunks(
		ranges,
		read=lambda lo, hi: read_chunk(config, lo, hi, branch=branch, as_of=as_of),
		decide=lambda chunk: recompute_chunk(*chunk, config, as_of=as_of, today=today),
		write=lambda result: write_result(result, today, run_id),
		done=done,
		failed=failed,
		failure_title=lambda chunk: f"Branch CRM recompute: chunk {chunk[0]} … {chunk[1]} failed",
		# on a new month nearly every profile changes: two chunks are written at once
		writers=2,
	)
	if not finish:
		return summary
	from branch_crm.books import propose_rehoming

	summary["rehoming_transfers"] = len(propose_rehoming(branch))
	finish_run(summary)
	return summary


def finish_run(summary: dict) -> None:
	"""Once every profile is recomputed: tell the managers, and record the run on the settings."""
	notify_relationship_managers()
	frappe.db.set_single_value(
		"Branch CRM Settings",
		{
			"last_recompute_on": frappe.utils.now_datetime(),
			"last_recompute_summary": frappe.as_json(summary, indent=None),
		},
	)
	frappe.db.commit()


def notify_relationship_managers() -> int:
	"""One desk notification per relationship manager for the tier changes in their book not yet
	told, then mark them told. Changes left by an interrupted run are picked up by the next one."""
	pending = frappe.db.sql(
		f"""select `relationship_manager`, `direction`, count(*) as n, max(`name`) as latest
		from `tab{CHANGE_LOG}` where `notified` = 0 and `direction` in ('Upgrade', 'Downgrade', 'Override')
		and ifnull(`relationship_manager`, '') != '' group by `relationship_manager`, `direction`""",
		as_dict=True,
	)
	by_manager: dict[str, dict] = {}
	for row in pending:
		by_manager.setdefault(row.relationship_manager, {"latest": row.latest})[row.direction] = row.n
		by_manager[row.relationship_manager]["latest"] = max(
			by_manager[row.relationship_manager]["latest"], row.latest
		)
	languages = user_languages(list(by_manager))
	logs = pd.DataFrame(
		[
			{
				"for_user": manager,
				"subject": _(
					"Tier changes in your book: {0} upgrades, {1} downgrades, {2} overrides",
					lang=languages[manager],
				).format(counts.get("Upgrade", 0), counts.get("Downgrade", 0), counts.get("Override", 0)),
				"document_name": str(counts["latest"]),
			}
			for manager, counts in by_manager.items()
		],
		columns=["for_user", "subject", "document_name"],
	)
	notify(logs, notification_type="Alert", document_type=CHANGE_LOG)
	frappe.db.sql(f"update `tab{CHANGE_LOG}` set `notified` = 1 where `notified` = 0")
	return len(by_manager)


def preview(proposed_tiers: list[dict], branch: str | None = None, chunk_size: int = 50000) -> pd.DataFrame:
	"""The from → to matrix the next recompute would produce with ``proposed_tiers``."""
	config = load_config()
	as_of = latest_month() or frappe.utils.getdate()
	order = [t["tier_name"] for t in sorted(proposed_tiers, key=lambda t: t["rank"])]
	total = migration_matrix(pd.Series([], dtype=object), pd.Series([], dtype=object), order)
	for lo, hi in chunk_ranges(branch, chunk_size):
		chunk = read_chunk(config, lo, hi, branch=branch, as_of=as_of)
		matrix = what_if(*chunk, proposed_tiers, config.rules, as_of=as_of)
		total = total.add(matrix, fill_value=0).astype(int)
	return total
