"""Auto-balance at scale: 100,000 customers with long-tailed AUM over 50 relationship managers.

    python -m branch_crm.benchmarks.auto_balance [--customers 100000] [--managers 50] [--seed 1]

Pure engine, no site needed. AUM follows the sample generator's model (lognormal around a median of
about 57,000 with sigma 1.5, plus a 0.6% wealthy tail around 6.5 million). Prints the wall time of
``auto_balance`` and, per book, the spread of customer count and AUM around the target: min, max and
the largest absolute deviation in %. The target is within 10 s on a 2-core machine with every book
within 2% of its target. ``--preloaded`` starts the managers with uneven existing books and
capacity limits instead of empty ones.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from branch_crm.engine.assignment import AssignmentParameters, auto_balance
from branch_crm.engine.sample import AUM_LOG_MEDIAN, AUM_LOG_SIGMA, WEALTHY_SHARE


def customers_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
	log_aum = AUM_LOG_MEDIAN + AUM_LOG_SIGMA * rng.standard_normal(n)
	wealthy = rng.random(n) < WEALTHY_SHARE
	log_aum[wealthy] = np.log(6_500_000) + 0.7 * rng.standard_normal(int(wealthy.sum()))
	return pd.DataFrame(
		{
			"customer": np.char.add("C", np.arange(n).astype("U8")).astype(object),
			"aum": np.exp(log_aum).round(2),
		}
	)


def managers_frame(
	k: int, n: int, total_aum: float, preloaded: bool, rng: np.random.Generator
) -> pd.DataFrame:
	users = [f"rm{j + 1:03d}@bank.example" for j in range(k)]
	if not preloaded:
		return pd.DataFrame(
			{
				"user": users,
				"max_customers": int(n / k * 1.5),
				"max_aum": total_aum / k * 1.5,
				"customers": 0,
				"aum": 0.0,
			}
		)
	# uneven existing books, and a few managers whose capacity binds
	customers = rng.integers(0, int(n / k), k)
	aum = customers * rng.uniform(50_000, 300_000, k)
	max_customers = np.where(rng.random(k) < 0.2, customers + int(n / k * 0.8), 0)
	return pd.DataFrame(
		{"user": users, "max_customers": max_customers, "max_aum": 0.0, "customers": customers, "aum": aum}
	)


def run(customers: int = 100_000, managers: int = 50, seed: int = 1, preloaded: bool = False) -> dict:
	rng = np.random.default_rng(seed)
	frame = customers_frame(customers, rng)
	targets = managers_frame(managers, customers, float(frame["aum"].sum()), preloaded, rng)
	params = AssignmentParameters()

	started = time.perf_counter()
	assignment, unplaced, stats = auto_balance(frame, targets, params)
	elapsed = time.perf_counter() - started

	books = stats.books
	took_part = books["target_customers"] > books["customers_before"]
	shown = books[took_part]
	print(
		f"auto_balance: {customers:,} customers over {managers} managers"
		f"{' (preloaded books, some capacity limits)' if preloaded else ''}; "
		f"{os.cpu_count()} CPU(s)"
	)
	print(f"  wall time           {elapsed:8.3f} s")
	print(f"  placed / unplaced   {len(assignment):,} / {len(unplaced):,}; refinement swaps: {stats.swaps}")
	print(
		f"  AUM: total {frame['aum'].sum():,.0f}, largest customer {frame['aum'].max():,.0f} "
		f"({frame['aum'].max() / stats.target_aum * 100:.1f}% of the mean target book)"
	)
	for label, value, target, deviation in (
		("customers", "customers", "target_customers", "count_deviation_pct"),
		("AUM", "aum", "target_aum", "aum_deviation_pct"),
	):
		print(
			f"  {label:<10} per book: min {shown[value].min():,.0f}  max {shown[value].max():,.0f}  "
			f"target {shown[target].mean():,.1f}  max |deviation| {shown[deviation].abs().max():.5f}%"
		)
	verdict = "yes" if stats.within_tolerance else "NO"
	print(f"  every book within ±{stats.tolerance_pct:g}% of target: {verdict}")
	for note in stats.notes:
		print(f"  note: {note}")
	over = (books["customers"] > books["max_customers"]) | (books["aum"] > books["max_aum"] + 1e-6)
	print(f"  books over capacity: {int(over.sum())}")
	return {
		"seconds": elapsed,
		"max_count_deviation_pct": stats.max_count_deviation_pct,
		"max_aum_deviation_pct": stats.max_aum_deviation_pct,
		"within_tolerance": stats.within_tolerance,
	}


def main(argv=None) -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--customers", type=int, default=100_000)
	parser.add_argument("--managers", type=int, default=50)
	parser.add_argument("--seed", type=int, default=1)
	parser.add_argument(
		"--preloaded", action="store_true", help="start from uneven books with capacity limits"
	)
	args = parser.parse_args(argv)
	run(args.customers, args.managers, args.seed, args.preloaded)


if __name__ == "__main__":
	main()
