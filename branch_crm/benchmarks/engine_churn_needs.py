"""Timing of the churn and needs-screening engines and their report builders, no site needed:

    python -m branch_crm.benchmarks.engine_churn_needs [--customers 1000000] [--report-customers 100000]
        [--long] [--seed 3]

* churn scoring of ``--customers`` customers × 12 months from customers × months matrices (the fast
  path the nightly job feeds), with 6 % of the customers drifting away and 2 % with short history;
  reasons rendered in words. ``--long`` also times the same from a long snapshot frame (pivot
  included; needs about 3 GB more memory);
* on ``generate_sample(--report-customers, 12 months)``: ``screen_needs``, ``score_churn`` and the
  two report builders, every customer listed.

Not a test: it prints figures (targets: churn on 1,000,000 customers well under 60 s, each report
builder on 100,000 customers within 2 s, on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time

import numpy as np
import pandas as pd

from branch_crm.engine.churn import CHURN_SNAPSHOT_COLUMNS, SnapshotMatrices, score_churn
from branch_crm.engine.needs import screen_needs
from branch_crm.engine.recompute import recompute_tables
from branch_crm.engine.sample import generate_sample
from branch_crm.reports.churn_warning import build_churn_warning
from branch_crm.reports.needs_screening import build_needs_screening

AS_OF = dt.date(2026, 9, 1)
MONTHS = 12


def synthetic_matrices(n: int, months: int = MONTHS, seed: int = 3) -> SnapshotMatrices:
	"""customers × months matrices shaped like core-banking data: lognormal AUM and activity with
	month-to-month noise; 6 % drift away over their last 3-5 months; 2 % joined 1-5 months ago."""
	rng = np.random.default_rng(seed)
	f32 = np.float32
	shape = (n, months)
	aum_level = np.exp(rng.normal(10.9, 1.5, n)).astype(f32)
	noise = np.exp(f32(0.05) * rng.standard_normal(shape, dtype=f32))
	aum = aum_level[:, None] * noise
	drifting = rng.random(n) < 0.06
	start = months - rng.integers(3, 6, n)
	in_drift = drifting[:, None] & (np.arange(months)[None, :] >= start[:, None])
	steps = np.where(in_drift, np.arange(months)[None, :] - start[:, None] + 1, 0).astype(f32)
	aum *= f32(0.83) ** steps
	activity = f32(0.78) ** steps * np.exp(f32(0.2) * rng.standard_normal(shape, dtype=f32))
	txn = np.floor(rng.uniform(5, 40, n).astype(f32)[:, None] * activity + rng.random(shape, dtype=f32))
	logins = np.floor(
		rng.uniform(0, 25, n).astype(f32)[:, None] * activity * activity + rng.random(shape, dtype=f32)
	)
	inflow = aum * f32(0.05) * np.exp(f32(0.3) * rng.standard_normal(shape, dtype=f32))
	outflow = inflow.copy()
	outflow[:, 1:] -= aum[:, 1:] - aum[:, :-1]
	np.maximum(outflow, 0, out=outflow)
	complaints = (rng.random(shape, dtype=f32) < np.where(in_drift, f32(0.25), f32(0.01))).astype(f32)
	values = {
		"aum": aum,
		"inflow": inflow,
		"outflow": outflow,
		"txn_count": txn,
		"digital_logins": logins,
		"complaints": complaints,
	}
	values = {k: v.astype(np.float64) for k, v in values.items()}
	new = rng.random(n) < 0.02
	joined = months - rng.integers(1, 6, n)
	missing = new[:, None] & (np.arange(months)[None, :] < joined[:, None])
	for matrix in values.values():
		matrix[missing] = np.nan
	customers = pd.Index(np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 9)).astype(object))
	months_index = pd.date_range(end=pd.Timestamp(AS_OF), periods=months, freq="MS")
	return SnapshotMatrices(customers, months_index, values)


def _timed(label: str, figures: dict, function, *args, **kwargs):
	started = time.perf_counter()
	result = function(*args, **kwargs)
	figures[label] = time.perf_counter() - started
	return result


def long_frame(matrices: SnapshotMatrices) -> pd.DataFrame:
	n, m = len(matrices.customers), len(matrices.months)
	present = matrices.present.reshape(-1)
	frame = pd.DataFrame(
		{
			"customer": np.repeat(matrices.customers.to_numpy(), m)[present],
			"month": np.tile(matrices.months.to_numpy(), n)[present],
			**{c: matrices.values[c].reshape(-1)[present] for c in CHURN_SNAPSHOT_COLUMNS},
		}
	)
	return frame


def run(customers: int = 1_000_000, report_customers: int = 100_000, long: bool = False, seed: int = 3):
	figures: dict = {}
	print(f"churn and needs-screening engines, {os.cpu_count()} CPUs")
	started = time.perf_counter()
	matrices = synthetic_matrices(customers, seed=seed)
	print(
		f"  {customers:,} customers x {MONTHS} months of synthetic matrices in {time.perf_counter() - started:.1f} s"
	)
	scored = _timed(
		f"score_churn, {customers:,} customers (matrices)", figures, score_churn, matrices, as_of=AS_OF
	)
	bands = scored["churn_band"].fillna("No Score").value_counts().to_dict()
	print(f"    bands {bands}")
	if long:
		frame = long_frame(matrices)
		del matrices
		_timed(
			f"score_churn, {customers:,} customers (long frame, {len(frame):,} rows)",
			figures,
			score_churn,
			frame,
			as_of=AS_OF,
		)
		del frame
	else:
		del matrices
	del scored

	started = time.perf_counter()
	sample = generate_sample(customers=report_customers, months=MONTHS, branches=12, as_of=AS_OF, seed=seed)
	tables = sample.tables()
	recomputed = recompute_tables(tables)
	context = sample.customers.merge(
		recomputed[["customer", "tier", "bank_customer_group", "value_class", "lifetime_value", "aum"]],
		on="customer",
	)
	print(f"  sample of {report_customers:,} customers with tiers in {time.perf_counter() - started:.1f} s")
	screened = _timed(
		f"screen_needs, {report_customers:,} customers",
		figures,
		screen_needs,
		context,
		sample.holdings,
		sample.snapshots,
		sample.products,
	)
	needs_report = _timed(
		f"build_needs_screening, {report_customers:,} customers", figures, build_needs_screening, screened, {}
	)
	churn = _timed(
		f"score_churn, {report_customers:,} customers (long frame)", figures, score_churn, sample.snapshots
	)
	churn = churn.merge(
		context[
			[
				"customer",
				"customer_name",
				"branch",
				"relationship_manager",
				"tier",
				"bank_customer_group",
				"value_class",
				"lifetime_value",
				"aum",
			]
		],
		on="customer",
	)
	churn_report = _timed(
		f"build_churn_warning, {report_customers:,} customers", figures, build_churn_warning, churn, {}
	)
	print(
		f"    needs screening lists {len(needs_report.data):,} rows, churn warning {len(churn_report.data):,}"
	)
	for label, seconds in figures.items():
		print(f"  {label:<64}{seconds:7.2f} s")
	peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
	print(f"  peak memory {peak:,.0f} MB")
	return {k: round(v, 2) for k, v in figures.items()}


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--customers", type=int, default=1_000_000)
	parser.add_argument("--report-customers", type=int, default=100_000)
	parser.add_argument("--long", action="store_true", help="also time churn from a long snapshot frame")
	parser.add_argument("--seed", type=int, default=3)
	args = parser.parse_args()
	run(args.customers, args.report_customers, args.long, args.seed)


if __name__ == "__main__":
	main()
