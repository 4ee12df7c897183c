"""bench commands: ``bench --site S branch-crm import|demo-data|refresh-balances|recompute|score-churn|
screen-needs|queue-follow-ups``."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import click
from frappe.commands import get_site, pass_context

KINDS = ("customers", "holdings", "snapshots")


def _connect(context):
	import frappe

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	return frappe


class _Bars:
	"""One click progress bar per kind of record."""

	def __init__(self):
		self.bars = {}

	def __call__(self, kind: str, done: int, total: int):
		if kind not in self.bars:
			self.bars[kind] = click.progressbar(length=total, label=f"{kind:<10}", show_pos=True)
			self.bars[kind].__enter__()
		self.bars[kind].update(done)
		if self.bars[kind].pos >= total:
			self.bars[kind].__exit__(None, None, None)


@click.group("branch-crm")
def branch_crm():
	"""Branch CRM: data intake, demo data and maintenance jobs."""


@branch_crm.command("import")
@click.option(
	"--customers", "customers_file", type=click.Path(exists=True, dir_okay=False), help="customers.csv"
)
@click.option(
	"--holdings", "holdings_file", type=click.Path(exists=True, dir_okay=False), help="holdings.csv"
)
@click.option(
	"--snapshots", "snapshots_file", type=click.Path(exists=True, dir_okay=False), help="snapshots.csv"
)
@click.option(
	"--staff",
	"staff_file",
	type=click.Path(exists=True, dir_okay=False),
	help="staff.csv: user, full_name, branch, role_type, max_customers, max_aum",
)
@click.option(
	"--dir",
	"directory",
	type=click.Path(exists=True, file_okay=False),
	help="A folder with any of staff.csv, customers.csv, holdings.csv, snapshots.csv",
)
@click.option(
	"--errors",
	"errors_file",
	default="branch-crm-import-errors.csv",
	show_default=True,
	help="Where rejected rows are written",
)
@click.option("--chunk-size", default=5000, show_default=True, help="Rows per committed batch")
@pass_context
def import_csv(
	context, customers_file, holdings_file, snapshots_file, staff_file, directory, errors_file, chunk_size
):
	"""Import core-banking CSV files (the REST intake shapes): staff, then customers, holdings, snapshots."""
	files = {"customers": customers_file, "holdings": holdings_file, "snapshots": snapshots_file}
	if directory and not staff_file and (Path(directory) / "staff.csv").exists():
		staff_file = str(Path(directory) / "staff.csv")
	if directory:
		for kind in KINDS:
			candidate = Path(directory) / f"{kind}.csv"
			if not files[kind] and candidate.exists():
				files[kind] = str(candidate)
	if not any(files.values()) and not staff_file:
		raise click.UsageError(
			"Name at least one CSV file, or a --dir that holds customers.csv, holdings.csv or snapshots.csv"
		)

	frappe = _connect(context)
	try:
		from branch_crm import data_intake

		errors = []
		bars = _Bars()
		if staff_file:
			errors += _import_staff(frappe, staff_file)
		for kind in KINDS:
			if not files[kind]:
				continue
			result = data_intake.run_in_chunks(
				kind,
				_read_csv(files[kind]),
				chunk_size=chunk_size,
				progress=partial(bars, kind, total=_count_rows(files[kind])),
			)
			summary = result.as_dict()
			click.echo(
				f"{kind}: {summary['received']} rows, {summary['inserted']} inserted, {summary['updated']} updated, "
				f"{summary['unchanged']} unchanged, {summary['rejected_count']} rejected"
			)
			# line numbers as a spreadsheet shows them: the header is line 1
			errors += [{"file": files[kind], "line": r["index"] + 2, **r} for r in result.rejected]
		if errors:
			with open(errors_file, "w", newline="", encoding="utf-8") as handle:
				writer = csv.DictWriter(
					handle, fieldnames=["file", "line", "index", "key", "field", "reason"]
				)
				writer.writeheader()
				writer.writerows(errors)
			click.echo(f"{len(errors)} problems written to {errors_file}")
	finally:
		frappe.destroy()


def _import_staff(frappe, path: str) -> list[dict]:
	"""Branches, users and Relationship Manager records; a bad row is reported, not imported."""
	import pandas as pd

	from branch_crm.engine.schema import STAFF_COLUMNS, STAFF_ROLE_TYPES
	from branch_crm.staff import ensure_staff

	staff = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
	missing = [c for c in ("user", "full_name", "branch", "role_type") if c not in staff]
	if missing:
		raise click.ClickException(f"{path}: missing column(s) {', '.join(missing)}")
	errors = []
	for index, row in staff.iterrows():
		for field, ok, reason in (
			("user", "@" in row["user"], "user must be an email address"),
			("branch", bool(row["branch"].strip()), "branch is required"),
			(
				"role_type",
				row["role_type"] in STAFF_ROLE_TYPES,
				f"role_type must be one of {', '.join(STAFF_ROLE_TYPES)}",
			),
		):
			if not ok:
				errors.append(
					{
						"file": path,
						"line": index + 2,
						"index": index,
						"key": row["user"],
						"field": field,
						"reason": reason,
					}
				)
	bad = {e["index"] for e in errors}
	good = staff.drop(index=list(bad)).reindex(columns=list(STAFF_COLUMNS))
	good[["max_customers", "max_aum"]] = (
		good[["max_customers", "max_aum"]].apply(pd.to_numeric, errors="coerce").fillna(0)
	)
	created = ensure_staff(good)
	frappe.db.commit()
	click.echo(
		f"staff: {len(staff)} rows, {created} created, {len(good) - created} already there, {len(bad)} rejected"
	)
	return errors


def _read_csv(path: str) -> Iterator[dict]:
	"""The file's rows one at a time: the import commits a chunk before it reads the next."""
	with open(path, newline="", encoding="utf-8-sig") as handle:
		yield from csv.DictReader(handle)


def _count_rows(path: str) -> int:
	"""Data rows for the progress bar, counted without parsing (a quoted field may hold a line
	break, so this can overcount; the bar is only a guide)."""
	with open(path, "rb") as handle:
		lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
	return max(lines - 1, 0)


@branch_crm.command("demo-data")
@click.option("--customers", default=2000, show_default=True, help="How many customers to generate")
@click.option("--months", default=24, show_default=True, help="Months of snapshots per customer")
@click.option("--branches", type=int, help="How many branches (default: one per 3,000 customers)")
@click.option("--seed", default=7, show_default=True)
@click.option(
	"--credentials-file",
	type=click.Path(dir_okay=False, writable=True),
	help="Also write one login per role of the users created, as JSON (mode 0600), for scripted checks",
)
@pass_context
def demo_data(context, customers, months, branches, seed, credentials_file):
	"""Generate a realistic demo branch network with planted patterns and two years of history."""
	frappe = _connect(context)
	try:
		from branch_crm.demo import load_demo_data

		results = load_demo_data(customers, months=months, branches=branches, seed=seed, progress=_Bars())
		passwords = results.pop("passwords", {})
		credentials = results.pop("credentials", {})
		if credentials_file:
			_write_credentials(credentials_file, credentials)
		for kind, summary in results.items():
			shown = {k: v for k, v in summary.items() if k != "rejected"}
			click.echo(f"{kind}: {shown}")
			for problem in summary.get("rejected", [])[:5]:
				click.echo(f"  rejected: {problem}")
		if passwords:
			click.echo("desk users created (passwords shown this once; change them after the first login):")
			for user, password in passwords.items():
				click.echo(f"  {user}  {password}")
	finally:
		frappe.destroy()


def _write_credentials(path: str, credentials: dict) -> None:
	"""The logins as JSON, readable by the owner only (created so, not narrowed after writing)."""
	import json
	import os

	if not credentials:
		click.echo(f"{path}: not written, no desk user was created by this run (passwords are set only once)")
		return
	descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
	os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
	with os.fdopen(descriptor, "w", encoding="utf-8") as file:
		json.dump(credentials, file, indent=2)
	click.echo(f"{path}: logins of {', '.join(credentials)}")


@branch_crm.command("refresh-balances")
@pass_context
def refresh_balances(context):
	"""Refresh every profile's latest balances from the monthly snapshots, now."""
	frappe = _connect(context)
	try:
		from branch_crm.jobs.balances import refresh

		click.echo(refresh())
	finally:
		frappe.destroy()


@branch_crm.command("recompute")
@click.option("--branch", help="Only the profiles of this branch")
@click.option(
	"--chunk-size", type=int, help="Profiles per committed chunk (default from Branch CRM Settings)"
)
@pass_context
def recompute(context, branch, chunk_size):
	"""Recompute tiers, segments, value classes and lifetime value now."""
	frappe = _connect(context)
	try:
		from branch_crm.jobs.recompute import run

		total = frappe.db.count("Bank Customer Profile", {"branch": branch} if branch else None)
		with click.progressbar(length=total, label="recompute ", show_pos=True) as bar:
			summary = run(branch=branch, chunk_size=chunk_size, progress=bar.update)
		click.echo(summary)
	finally:
		frappe.destroy()


@branch_crm.command("score-churn")
@click.option("--chunk-size", type=int, help="Profiles per committed chunk (default 50,000)")
@click.option("--as-of", help="Last month scored (YYYY-MM-DD; default the latest month with snapshots)")
@pass_context
def score_churn(context, chunk_size, as_of):
	"""Score every profile's churn risk now (score, band, reasons). Safe to re-run: only what changed
	is written."""
	frappe = _connect(context)
	try:
		from branch_crm.jobs.churn import run

		total = frappe.db.count("Bank Customer Profile")
		with click.progressbar(length=total, label="churn ", show_pos=True) as bar:
			summary = run(chunk_size=chunk_size, progress=bar.update, as_of=as_of)
		click.echo(summary)
	finally:
		frappe.destroy()


@branch_crm.command("screen-needs")
@click.option("--branch", help="Only the customers of this branch")
@pass_context
def screen_needs(context, branch):
	"""Screen every profile's needs now (gaps, main account, priority, next action), branch by branch.
	Safe to re-run: only what changed is written."""
	frappe = _connect(context)
	try:
		from branch_crm.jobs.needs import branches, run

		with click.progressbar(length=len(branches(branch)), label="needs ", show_pos=True) as bar:
			summary = run(branch=branch, progress=bar.update)
		click.echo(summary)
	finally:
		frappe.destroy()


@branch_crm.command("queue-follow-ups")
@click.option("--branch", help="Only the customers of this branch")
@click.option("--date", "today", help="Queue as of this date (YYYY-MM-DD; default today)")
@click.option("--full", is_flag=True, help="Re-plan every plan, not only those that can need work")
@pass_context
def queue_follow_ups(context, branch, today, full):
	"""Queue the day's follow-ups (plans due, care touches, retention) into the managers' to-do lists.
	Safe to re-run: the same day creates nothing new."""
	frappe = _connect(context)
	try:
		from branch_crm.followups import branches, run

		with click.progressbar(length=len(branches(branch)), label="follow-ups ", show_pos=True) as bar:
			summary = run(today=today, branch=branch, progress=bar.update, full=full)
		click.echo(summary)
	finally:
		frappe.destroy()


commands = [branch_crm]
