"""Evidence for churn early warning and needs screening on the synthetic network with planted
patterns, no site needed:

    python -m branch_crm.benchmarks.evidence [--customers 20000] [--months 24] [--seeds 7 11 23]

For each seed: a sample ending 2026-09, then

* churn hold-out: scores from the months up to T = 2026-06 only; outcome = planted drift starting in
  T+1..T+3 or AUM down ≥ 30 % from T to T+3 (see ``engine/evaluation.py``); precision and recall of
  the top decile and ROC AUC, for the churn score and for AUM drop alone;
* churn in-sample at 2026-09: how many of the planted drifting customers the top decile holds;
* needs screening: planted merchants and salary-elsewhere customers found (recall) and the share of
  flags that are planted (precision), for the engine and for simple baselines.

Not a test: it prints figures. The unit tests assert thresholds measured here, with margin.
"""

from __future__ import annotations

import argparse
import datetime as dt

import pandas as pd

from branch_crm.engine.churn import SnapshotMatrices
from branch_crm.engine.evaluation import (
	evaluate_churn_holdout,
	evaluate_churn_in_sample,
	evaluate_needs,
	top_share,
)
from branch_crm.engine.needs import screen_needs
from branch_crm.engine.recompute import recompute_tables
from branch_crm.engine.sample import generate_sample

AS_OF = dt.date(2026, 9, 1)


def _pct(value: float) -> str:
	return "-" if pd.isna(value) else f"{value * 100:5.1f}%"


def _methods(frame: pd.DataFrame) -> list[str]:
	lines = []
	for row in frame.itertuples(index=False):
		lines.append(
			f"    {row.method:<16} top {row.k:,}: {row.true_positives:,} positives -> precision {_pct(row.precision)}, "
			f"recall {_pct(row.recall)}; AUC {row.auc:.3f}; precision in the top {row.positives:,} {_pct(row.precision_at_positives)}"
		)
	return lines


def run(customers: int = 20_000, months: int = 24, seeds=(7, 11, 23)) -> list[dict]:
	results = []
	for seed in seeds:
		sample = generate_sample(customers=customers, months=months, branches=3, as_of=AS_OF, seed=seed)
		matrices = SnapshotMatrices.from_long(sample.snapshots)
		print(f"seed {seed}: {customers:,} customers x {months} months to {AS_OF:%Y-%m}")
		print(f"  planted: {sample.truth['pattern'].value_counts().to_dict()}")

		holdout = evaluate_churn_holdout(matrices, sample.truth)
		o = holdout["outcome"]
		print(
			f"  churn hold-out, scored at {holdout['cutoff']:%Y-%m} with data up to it, outcome over the next 3 months:"
		)
		print(
			f"    {o['positives']:,} positives ({o['drift_after_cutoff']:,} planted drift starting after the cutoff, "
			f"{o['aum_fell']:,} with AUM down >= 30%); {o['visible']:,} of them had started drifting by the cutoff"
		)
		print(
			f"    best expected top decile: precision {_pct(o['ceiling_precision'])}, recall {_pct(o['ceiling_recall'])} "
			"(drift that starts after the cutoff leaves no trace before it: at best found by chance)"
		)
		print("\n".join(_methods(holdout["methods"])))

		in_sample = evaluate_churn_in_sample(matrices, sample.truth)
		bands = in_sample["scored"]["churn_band"].fillna("No Score")
		print(
			f"  churn in-sample at {in_sample['as_of']:%Y-%m}: {in_sample['positives']:,} drifting customers "
			f"({bands.value_counts().to_dict()} over everyone)"
		)
		print("\n".join(_methods(in_sample["methods"])))

		recomputed = recompute_tables(sample.tables())
		context = sample.customers.merge(
			recomputed[["customer", "tier", "bank_customer_group", "value_class", "lifetime_value"]],
			on="customer",
		)
		screened = screen_needs(context, sample.holdings, sample.snapshots, sample.products, render=False)
		needs = evaluate_needs(screened, sample.truth, sample.snapshots)
		print("  needs screening (last 3 months):")
		for row in needs.itertuples(index=False):
			print(
				f"    {row.pattern:<17}{row.method:<40} flagged {row.flagged:6,}: {row.true_positives:,} of "
				f"{row.planted:,} planted -> recall {_pct(row.recall)}, precision {_pct(row.precision)}"
			)
		planted = sample.truth.set_index("customer")["pattern"].reindex(screened["customer"]).to_numpy()
		elsewhere = screened["gap_types"].str.contains("main_bank_elsewhere", regex=False).to_numpy()
		others = screened.assign(occupation=context["occupation_category"].to_numpy())[
			elsewhere & (planted != "salary_elsewhere")
		]
		no_salary = others["salary_months"] == 0
		print(
			f"    main bank elsewhere but not planted: {len(others):,}, of whom {int(no_salary.sum()):,} get no salary "
			f"credit here; by occupation {others['occupation'].value_counts().head(6).to_dict()}"
		)
		ranked = top_share(
			-screened["main_account_score"].to_numpy(dtype=float),
			planted == "salary_elsewhere",
			(planted == "salary_elsewhere").mean(),
		)
		print(
			f"    the {ranked['k']:,} lowest main-account scores hold {ranked['true_positives']:,} planted "
			f"salary-elsewhere customers (precision {_pct(ranked['precision'])})"
		)
		print("")
		results.append({"seed": seed, "holdout": holdout, "in_sample": in_sample["methods"], "needs": needs})
	return results


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--customers", type=int, default=20_000)
	parser.add_argument("--months", type=int, default=24)
	parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
	args = parser.parse_args()
	run(args.customers, args.months, args.seeds)


if __name__ == "__main__":
	main()
