"""Intake throughput: N demo customers pushed through the REST intake API, batch by batch.

    bench --site S execute branch_crm.benchmarks.intake.run --kwargs "{'customers': 2000, 'url': 'http://127.0.0.1:8000'}"

With ``url`` the batches go over HTTP (JSON, token auth) to a running web server for the site, as core
banking would send them (months as 2026-10, dates as 2026-10-31); without it they call the same
endpoint functions in-process. ``concurrency`` (HTTP only): holdings and snapshot batches in flight
at once, each on its own connection, as a core-banking feed with several senders would; use as many
as the server has workers. Customers always go one batch after the other: a customer may name a
referrer sent in an earlier batch. Before the clock starts, each worker gets an empty batch, so that
no figure includes a worker's first import of the app. Prints rows/s per kind, then sends the
snapshots again to show that a repeated batch writes nothing.

Issue 15 point 9's figures: two gunicorn workers (``gunicorn -w 2 ... frappe.app:application``),
``customers=3000`` (72,000 snapshots), ``concurrency`` 1 and 2.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import frappe
import pandas as pd

from branch_crm import api
from branch_crm.demo import _records, last_complete_month
from branch_crm.engine.sample import generate_sample
from branch_crm.install import ensure_erpnext_masters, install_defaults
from branch_crm.roles import INTEGRATION
from branch_crm.staff import bulk_user_creation, ensure_staff

BATCH = 5000
INTEGRATION_USER = "bench.intake@bank.example"


def _prefixed(sample, prefix: str):
	"""Benchmark customers get their own ids so they never collide with demo data."""
	customers = sample.customers.copy()
	customers["customer"] = prefix + customers["customer"]
	customers["referred_by_customer"] = customers["referred_by_customer"].map(
		lambda c: prefix + c if isinstance(c, str) and c else c
	)
	return {
		"customers": customers,
		"holdings": sample.holdings.assign(customer=prefix + sample.holdings["customer"]),
		"snapshots": sample.snapshots.assign(customer=prefix + sample.snapshots["customer"]),
	}


def _as_sent(frame: pd.DataFrame) -> list[dict]:
	"""Records as core banking sends them (README): months as 2026-10, dates as 2026-10-31, blanks
	as null."""
	frame = frame.copy()
	for column in frame.columns:
		if pd.api.types.is_datetime64_any_dtype(frame[column]):
			spelled = frame[column].dt.strftime("%Y-%m" if column == "month" else "%Y-%m-%d")
			frame[column] = spelled.astype(object).where(frame[column].notna(), None)
	return _records(frame)


def _token() -> str:
	if not frappe.db.exists("User", INTEGRATION_USER):
		with bulk_user_creation():
			frappe.get_doc(
				{
					"doctype": "User",
					"email": INTEGRATION_USER,
					"first_name": "Intake Benchmark",
					"send_welcome_email": 0,
					"enabled": 1,
					"roles": [{"role": INTEGRATION}],
				}
			).insert(ignore_permissions=True)
	user = frappe.get_doc("User", INTEGRATION_USER)
	user.api_key = user.api_key or frappe.generate_hash(length=15)
	secret = frappe.generate_hash(length=15)
	user.api_secret = secret
	user.save(ignore_permissions=True)
	frappe.db.commit()
	return f"token {user.api_key}:{secret}"


def _post(url: str, kind: str, batch: list[dict], headers: dict, sessions: threading.local) -> dict:
	import requests

	if not hasattr(sessions, "session"):
		sessions.session = requests.Session()
	response = sessions.session.post(
		f"{url}/api/method/branch_crm.api.upsert_{kind}",
		data=json.dumps({"records": batch}, separators=(",", ":"), default=str),
		headers=headers,
	)
	response.raise_for_status()
	return response.json()["message"]


def _send(kind: str, records: list[dict], url: str | None, headers, concurrency: int = 1) -> dict:
	totals = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0}
	endpoint = {
		"customers": api.upsert_customers,
		"holdings": api.upsert_holdings,
		"snapshots": api.upsert_snapshots,
	}[kind]
	batches = [records[start : start + BATCH] for start in range(0, len(records), BATCH)]
	if url:
		sessions = threading.local()
		with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
			results = list(pool.map(lambda batch: _post(url, kind, batch, headers, sessions), batches))
	else:
		results = []
		for batch in batches:
			results.append(endpoint(batch))
			frappe.db.commit()
	for result in results:
		for key in ("inserted", "updated", "unchanged"):
			totals[key] += result[key]
		totals["rejected"] += result["rejected_count"]
	return totals


def run(
	customers: int = 2000,
	months: int = 24,
	url: str | None = None,
	prefix: str = "BENCH-",
	seed: int = 11,
	concurrency: int = 1,
) -> dict:
	ensure_erpnext_masters()
	install_defaults()
	sample = generate_sample(
		customers=customers,
		months=months,
		branches=max(1, customers // 3000 + 1),
		as_of=last_complete_month(frappe.utils.getdate()),
		seed=seed,
	)
	ensure_staff(sample.staff)
	frappe.db.commit()
	frames = _prefixed(sample, prefix)

	headers = {}
	if url:
		headers = {"Authorization": _token(), "Content-Type": "application/json", "Host": frappe.local.site}
	else:
		frappe.set_user("Administrator")

	if url:  # empty batches, two at a time, so that every worker has imported the app before the clock
		with ThreadPoolExecutor(max_workers=max(2, concurrency)) as pool:
			list(pool.map(lambda _: _post(url, "snapshots", [], headers, threading.local()), range(4)))

	figures = {}
	print(
		f"intake benchmark: {customers} customers x {months} months, batches of {BATCH}, via {url or 'in-process calls'}"
		+ (f", {concurrency} in flight" if url else "")
	)
	for kind in ("customers", "holdings", "snapshots"):
		records = _as_sent(frames[kind])
		started = time.perf_counter()
		totals = _send(kind, records, url, headers, 1 if kind == "customers" else concurrency)
		seconds = time.perf_counter() - started
		figures[kind] = {
			"rows": len(records),
			"seconds": round(seconds, 2),
			"rows_per_s": round(len(records) / seconds),
			**totals,
		}
		print(
			f"  {kind:<10} {len(records):>9,} rows {seconds:8.2f} s {len(records) / seconds:>10,.0f} rows/s  {totals}"
		)

	records = _as_sent(frames["snapshots"])
	started = time.perf_counter()
	totals = _send("snapshots", records, url, headers, concurrency)
	seconds = time.perf_counter() - started
	figures["snapshots_repeated"] = {
		"rows": len(records),
		"seconds": round(seconds, 2),
		"rows_per_s": round(len(records) / seconds),
		**totals,
	}
	print(
		f"  repeat     {len(records):>9,} rows {seconds:8.2f} s {len(records) / seconds:>10,.0f} rows/s  {totals}  (nothing written)"
	)
	return figures
