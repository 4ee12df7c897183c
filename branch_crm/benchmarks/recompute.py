"""Nightly recompute at scale: a million profiles with 24 months of snapshots on a real site.

Load once (a site of its own is best; LOAD DATA is used only here, to set the stage quickly):

    bench --site S execute branch_crm.benchmarks.recompute.load --kwargs "{'customers': 1000000}"

then, in a fresh process so that peak memory is the job's own:

    bench --site S execute branch_crm.benchmarks.recompute.run

It prints the full recompute's wall time and customers/s (first run: every profile gets its tier;
second run: a night where nothing changed), the engine's share, peak memory, and the naive rate
(``get_doc`` + ``save`` per profile) measured on 1,000 profiles, and the ratio.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time

import frappe
import pandas as pd

from branch_crm.demo import last_complete_month
from branch_crm.engine import schema
from branch_crm.engine.sample import generate_sample
from branch_crm.install import ensure_erpnext_masters, install_defaults
from branch_crm.jobs import recompute
from branch_crm.staff import ensure_staff

PROFILE = "Bank Customer Profile"
SNAPSHOT = "Customer Monthly Snapshot"
PROFILE_FIELDS = [c for c in schema.CUSTOMER_COLUMNS if c != "customer"]


def _load_csv(frame: pd.DataFrame, table: str, path: str) -> float:
	"""LOAD DATA LOCAL INFILE on a connection of its own (Frappe's does not enable local infile)."""
	import pymysql

	frame.to_csv(path, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d")
	columns = ", ".join(f"`{c}`" for c in frame.columns)
	conf = frappe.conf
	connection = pymysql.connect(
		host=conf.db_host or "127.0.0.1",
		port=int(conf.db_port or 3306),
		user=conf.db_name,
		password=conf.db_password,
		database=conf.db_name,
		local_infile=True,
		charset="utf8mb4",
	)
	started = time.perf_counter()
	try:
		with connection.cursor() as cursor:
			cursor.execute(
				f"load data local infile %s ignore into table `{table}` character set utf8mb4 "
				f"fields terminated by ',' optionally enclosed by '\"' escaped by '\\\\' lines terminated by '\\n' ({columns})",
				(path,),
			)
		connection.commit()
	finally:
		connection.close()
		os.unlink(path)
	return time.perf_counter() - started


def _stamped(frame: pd.DataFrame) -> pd.DataFrame:
	now = frappe.utils.now_datetime().strftime("%Y-%m-%d %H:%M:%S")
	return frame.assign(
		creation=now, modified=now, owner="Administrator", modified_by="Administrator", docstatus=0
	)


def load(customers: int = 1_000_000, months: int = 24, seed: int = 3) -> None:
	ensure_erpnext_masters()
	install_defaults()
	started = time.perf_counter()
	sample = generate_sample(
		customers=customers,
		months=months,
		branches=12,
		as_of=last_complete_month(frappe.utils.getdate()),
		seed=seed,
	)
	print(f"generated {customers:,} customers x {months} months in {time.perf_counter() - started:.1f} s")
	ensure_staff(sample.staff)
	frappe.db.commit()

	folder = tempfile.mkdtemp(prefix="branch_crm_bench_")
	customers_frame = sample.customers
	erp = _stamped(
		pd.DataFrame(
			{
				"name": customers_frame["customer"],
				"customer_name": customers_frame["customer_name"],
				"customer_type": "Individual",
				"customer_group": "Individual",
				"territory": "All Territories",
			}
		)
	)
	print(
		f"tabCustomer: {len(erp):,} rows in {_load_csv(erp, 'tabCustomer', f'{folder}/customer.csv'):.1f} s"
	)
	profiles = customers_frame.assign(name=customers_frame["customer"])
	profiles = _stamped(profiles[["name", "customer", *PROFILE_FIELDS]])
	profiles["declared_annual_income"] = profiles["declared_annual_income"].fillna(0)
	seconds = _load_csv(profiles, f"tab{PROFILE}", f"{folder}/profile.csv")
	print(f"profiles: {len(profiles):,} rows in {seconds:.1f} s")
	snapshots = sample.snapshots
	del sample
	snapshots = snapshots.assign(
		name=snapshots["customer"] + "-" + pd.to_datetime(snapshots["month"]).dt.strftime("%Y-%m"),
	)
	for start in range(0, len(snapshots), 4_000_000):
		part = _stamped(snapshots.iloc[start : start + 4_000_000][["name", *schema.SNAPSHOT_COLUMNS]])
		seconds = _load_csv(part, f"tab{SNAPSHOT}", f"{folder}/snapshots.csv")
		print(f"snapshots {start:,}+: {len(part):,} rows in {seconds:.1f} s")
	os.rmdir(folder)


def _peak_rss_mb() -> float:
	return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _naive_rate(sample_size: int = 1000) -> float:
	"""The loop the design forbids: get_doc + save per profile, on ``sample_size`` of them."""
	names = frappe.get_all(PROFILE, pluck="name", limit=sample_size, order_by="name desc")
	config = recompute.load_config()
	started = time.perf_counter()
	for name in names:
		doc = frappe.get_doc(PROFILE, name)
		doc.tier = (
			config.tiers[-1]["tier_name"]
			if doc.tier != config.tiers[-1]["tier_name"]
			else config.tiers[0]["tier_name"]
		)
		doc.tier_reason = "naive benchmark"
		doc.save(ignore_permissions=True)
	seconds = time.perf_counter() - started
	frappe.db.rollback()
	return len(names) / seconds


def _reset() -> float:
	"""Forget every computed output, so the first run is a real first night for all profiles."""
	started = time.perf_counter()
	frappe.db.sql(
		f"update `tab{PROFILE}` set tier = null, tier_reason = null, tier_since = null, bank_customer_group = null, "
		"familiarity = null, life_stage = null, value_class = null, lifetime_value = 0"
	)
	frappe.db.sql("delete from `tabTier Change Log`")
	frappe.db.commit()
	return time.perf_counter() - started


def run(naive_sample: int = 1000, reset: bool = True) -> dict:
	if reset:
		print(f"reset computed outputs in {_reset():.1f} s")
	profiles = frappe.db.count(PROFILE)
	snapshots = frappe.db.sql(f"select count(*) from `tab{SNAPSHOT}`")[0][0]
	print(
		f"recompute benchmark: {profiles:,} profiles, {snapshots:,} snapshots, chunk {frappe.db.get_single_value('Branch CRM Settings', 'recompute_chunk_size')}"
	)
	figures = {}
	for label in ("first run", "second run (nothing changed)"):
		started = time.perf_counter()
		summary = recompute.run()
		seconds = time.perf_counter() - started
		figures[label] = {
			"seconds": round(seconds, 1),
			"customers_per_s": round(profiles / seconds),
			**summary,
		}
		print(
			f"  {label:<30} {seconds:7.1f} s  {profiles / seconds:>9,.0f} customers/s  "
			f"updated {summary['updated']:,}  tier changes {summary['tier_changes']:,}  failed chunks {summary['failed_chunks']}  "
			f"phases {summary['seconds']}"
		)
	figures["peak_rss_mb"] = round(_peak_rss_mb())
	print(f"  peak memory of the job process: {figures['peak_rss_mb']:,} MB")
	rate = _naive_rate(naive_sample)
	best = figures["first run"]["customers_per_s"]
	figures["naive_per_s"] = round(rate, 1)
	print(
		f"  naive get_doc + save: {rate:,.1f} profiles/s -> {profiles / rate / 3600:,.1f} h for all; set-based is {best / rate:,.0f}x faster"
	)
	return figures
