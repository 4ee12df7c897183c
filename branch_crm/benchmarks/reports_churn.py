"""Churn early warning and needs screening at scale, on a real site (the one ``benchmarks.recompute``
loaded with a million profiles × 24 months):

    bench --site S execute branch_crm.benchmarks.reports_churn.load_holdings   # once: product holdings
    bench --site S execute branch_crm.benchmarks.reports_churn.run
    bench --site S execute branch_crm.benchmarks.reports_churn.run --kwargs "{'branch': 'X', 'jobs': 'needs'}"

``run`` prints, on this machine:

* the nightly churn job over every profile, three nights: the first night (``clear``: the stored
  scores are emptied first, so every profile is written), the night a new month of snapshots
  arrives (stored as of the month before, then scored as of the latest month: every score that
  moves is written), and the same night again (nothing changed: it writes nothing);
* the nightly needs screening, the same three ways;
* each report for one branch (default: the smallest with at least 100,000 customers), called as the
  desk calls it (Book of Business, Tier Migration and Plan Effect over the last three months) (``frappe.desk.query_report.run``, as that branch's manager when the site has one)
  plus the JSON of the response: with the rows the report lists by default and with every row; the
  best and the median of ``repeat`` runs;
* peak memory.

Not a test: timings depend on the machine and on what the database has in memory.
``load_holdings`` gives the site's profiles product holdings from the sample generator (same seed as
``benchmarks.recompute.load``; 3 months are generated, only the holdings are kept), loaded with
LOAD DATA into the profile's child table; it does nothing when the site already has holdings.
"""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
import time

import frappe
import pandas as pd
from frappe.utils.response import json_handler

from branch_crm.benchmarks.recompute import _load_csv, _stamped
from branch_crm.demo import last_complete_month
from branch_crm.engine.churn import STORED_COLUMNS
from branch_crm.engine.needs import STORED_FIELDS
from branch_crm.engine.sample import generate_sample
from branch_crm.jobs import churn, needs
from branch_crm.jobs.recompute import latest_month

PROFILE = "Bank Customer Profile"
HOLDING = "Customer Product Holding"
REPORTS = ("Needs Screening", "Churn Warning")
# the branch's other reports, with the filters their forms start with
OTHER_REPORTS = ("Book of Business", "Tier Migration", "Plan Effect")
DEFAULT_ROWS = 500  # what the reports' "Rows Listed" filter starts with


def load_holdings(seed: int = 3, branches: int = 12) -> None:
	if frappe.db.sql(f"select exists(select 1 from `tab{HOLDING}`)")[0][0]:
		print("the site has holdings already: nothing loaded")
		return
	customers = frappe.db.count(PROFILE)
	started = time.perf_counter()
	sample = generate_sample(
		customers=customers,
		months=3,
		branches=branches,
		as_of=last_complete_month(frappe.utils.getdate()),
		seed=seed,
	)
	holdings = sample.holdings
	known = set(frappe.get_all(PROFILE, pluck="name"))
	holdings = holdings[holdings["customer"].isin(known)].reset_index(drop=True)
	categories = dict(frappe.get_all("Bank Product", fields=["name", "category"], as_list=True))
	print(f"generated {len(holdings):,} holdings in {time.perf_counter() - started:.1f} s")
	frame = _stamped(
		pd.DataFrame(
			{
				"name": [f"bh{i:010d}" for i in range(len(holdings))],
				"parent": holdings["customer"],
				"parentfield": "holdings",
				"parenttype": PROFILE,
				"idx": holdings.groupby("customer").cumcount() + 1,
				"product": holdings["product"],
				"product_category": holdings["product"].map(categories),
				"account_no": holdings["account_no"],
				"balance": holdings["balance"],
				"opened_on": holdings["opened_on"],
				"matures_on": holdings["matures_on"],
			}
		)
	)
	folder = tempfile.mkdtemp(prefix="branch_crm_bench_")
	seconds = _load_csv(frame, f"tab{HOLDING}", f"{folder}/holdings.csv")
	print(f"holdings: {len(frame):,} rows in {seconds:.1f} s")


def _timed(function, *args, **kwargs) -> tuple[float, object]:
	started = time.perf_counter()
	result = function(*args, **kwargs)
	return time.perf_counter() - started, result


def _clear(columns: list[str], on: str) -> None:
	"""Empty the stored results, as on the first night (not timed)."""
	numeric = {
		"churn_score",
		"needs_priority",
		"needs_gap_count",
		"main_account_score",
		"money_elsewhere_estimate",
	}
	assignments = ", ".join(f"`{c}` = {'0' if c in numeric else 'null'}" for c in [*columns, on])
	frappe.db.sql(f"update `tab{PROFILE}` set {assignments}")
	frappe.db.commit()


def _job(label: str, function, columns: list[str], on: str, clear: bool) -> None:
	nights = []
	if clear:
		started = time.perf_counter()
		_clear(columns, on)
		print(f"  ({label}: stored results emptied in {time.perf_counter() - started:.0f} s, not timed)")
		nights.append(("first night", {}))
	previous = frappe.utils.add_months(latest_month(), -1)
	nights += [
		("a month before (sets the stage)", {"as_of": previous}),
		("a new month arrives", {}),
		("the same night again", {}),
	]
	for night, kwargs in nights:
		seconds, summary = _timed(function, **kwargs)
		print(f"  {label}, {night}: {seconds:6.1f} s  {summary}")


def _branch(branch: str | None) -> tuple[str, int]:
	counts = frappe.db.sql(
		f"select `branch`, count(*) from `tab{PROFILE}` where ifnull(`branch`, '') != '' group by `branch`"
	)
	counts = {b: n for b, n in counts}
	if branch:
		return branch, counts.get(branch, 0)
	big = {b: n for b, n in counts.items() if n >= 100_000}
	name = min(big, key=big.get) if big else max(counts, key=counts.get)
	return name, counts[name]


def _report(name: str, filters: dict, repeat: int) -> tuple[float, float, int]:
	from frappe.desk.query_report import run as run_report

	times = []
	rows = 0
	for _ in range(repeat):
		started = time.perf_counter()
		result = run_report(name, filters)
		json.dumps(result, default=json_handler, separators=(",", ":"))  # the response, as Frappe sends it
		times.append(time.perf_counter() - started)
		rows = len(result["result"])
	return min(times), statistics.median(times), rows


def run(branch: str | None = None, clear: bool = True, repeat: int = 3, jobs: str = "churn,needs") -> None:
	"""``jobs``: which nightly jobs to time before the reports (comma-separated; "" for none)."""
	profiles = frappe.db.count(PROFILE)
	print(f"churn and needs screening on {frappe.local.site}: {profiles:,} profiles")
	chosen = {j.strip() for j in (jobs or "").split(",") if j.strip()}
	if "churn" in chosen:
		_job("churn job", churn.run, list(STORED_COLUMNS), "churn_scored_on", clear)
	if "needs" in chosen:
		_job("needs job", needs.run, list(STORED_FIELDS), "needs_screened_on", clear)

	branch, customers = _branch(branch)
	manager = frappe.db.get_value(
		"Relationship Manager", {"branch": branch, "role_type": "Branch Manager", "is_active": 1}, "user"
	)
	frappe.set_user(manager or "Administrator")
	print(f"  reports for {branch} ({customers:,} customers) as {frappe.session.user}:")
	try:
		for report in REPORTS:
			for rows in (DEFAULT_ROWS, 0):
				best, median, listed = _report(report, {"branch": branch, "limit": rows}, repeat)
				print(
					f"    {report:<16} {listed:>7,} rows listed: best {best:5.2f} s, median {median:5.2f} s"
				)
		today = frappe.utils.getdate()
		for report in OTHER_REPORTS:
			filters = {"branch": branch, "from_date": frappe.utils.add_months(today, -3), "to_date": today}
			best, median, listed = _report(report, filters, repeat)
			print(f"    {report:<16} {listed:>7,} rows: best {best:5.2f} s, median {median:5.2f} s")
	finally:
		frappe.set_user("Administrator")
	print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
