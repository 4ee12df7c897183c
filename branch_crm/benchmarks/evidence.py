"""Evidence for churn early warning and needs screening on the synthetic network with planted
patterns, no site needed:

    python -m branch_crm.benchmarks.evidence [--customers 20000] [--months 24] [--seeds 7 11 23]

For each seed: a sample ending 2026-09, then

* churn hold-out: scores from the months up to T = 2026-06 only; outcome = planted drift starting in
  T+1..T+3 or AUM down ≥ 30 % from T to T+3 (see ``engine/evaluation.py``); precision and recall of
  the top decile and ROC AUC, for the churn score and for AUM drop alone;
* churn in-sample at 2026-09: how many of the planted drifting customers the top decile holds;
* churn bands by kind at 2026-09, on the sample (its drifting customers lose balances, activity and
  logins together: "combined") and on a second book written from the seeds' definitions
  (``engine/churn_scenarios.py``: balance-only, activity-only, engagement-only, complaints-only and
  combined churn; decoys one-month dip, holiday lull, matured deposit, investment loss; then again
  with survey answers planted, ``plant_survey_answers``: customers unhappy before their money moves
  and noisy answers from everyone else): per kind the
  share in High (for churn: the recall of High) and in High + Medium (for decoys: false alarms), the
  share of churning high-value customers in High (value class MVC on the sample, the top fifth by
  usual AUM on the second book), and the precision of High and of High + Medium;
* needs screening: planted merchants and salary-elsewhere customers found (recall) and the share of
  flags that are planted (precision), for the engine and for simple baselines; on a second needs book
  (``engine/needs_scenarios.py``: six life-stage / occupation groups whose product needs grow with
  their balance; merchants who collect, salaried card spenders, salary paid elsewhere, new customers
  with a first salary, professionals paid by fees) the precision and recall of the peer gaps by
  product (against the products most customers like them hold), for the peer rule and for the tier
  alone as peers, and of the merchant and main-bank flags with the share of each decoy flagged.

Not a test: it prints figures. The unit tests assert thresholds measured here, with margin.
"""

from __future__ import annotations

import argparse
import datetime as dt

import pandas as pd

from branch_crm.engine.churn import SnapshotMatrices, score_churn
from branch_crm.engine.churn_scenarios import (
	CHURN_KINDS,
	DECOY_KINDS,
	generate_churn_scenarios,
	plant_survey_answers,
)
from branch_crm.engine.evaluation import (
	band_precision,
	churn_by_kind,
	evaluate_churn_holdout,
	evaluate_churn_in_sample,
	evaluate_needs,
	evaluate_needs_kinds,
	evaluate_peer_gaps,
	screen_with_tier_peers,
	top_share,
)
from branch_crm.engine.needs import screen_needs
from branch_crm.engine.needs_scenarios import generate_needs_scenarios
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


def _kinds(title: str, scored: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
	"""Print the bands by kind of churn and decoy, and the precision of the bands."""
	table = churn_by_kind(scored, truth)
	# kinds of churn in the generator's order, all churn, steady customers, then the decoys
	order = [*CHURN_KINDS, "satisfaction_only", "combined", "all churn", "steady", "none", *DECOY_KINDS]
	rank = {kind: i for i, kind in enumerate(dict.fromkeys(order))}
	table = table.sort_values("kind", key=lambda c: c.map(rank).fillna(len(rank)), kind="stable")
	print(f"  {title}")
	print(f"    {'kind':<30}{'customers':>10}{'High':>8}{'High+Medium':>13}{'high-value in High':>20}")
	for row in table.itertuples(index=False):
		label = f"{row.kind} ({'churn' if row.churning else 'not churn'})"
		value = f"{_pct(row.high_value_high_share)} of {row.high_value:,}" if row.churning else ""
		print(
			f"    {label:<30}{row.customers:>10,}{_pct(row.high_share):>8}{_pct(row.high_medium_share):>13}{value:>20}"
		)
	precision = band_precision(scored, truth)
	for band, figures in (("High", precision["high"]), ("High+Medium", precision["high_medium"])):
		print(
			f"    {band}: {figures['flagged']:,} flagged, precision {_pct(figures['precision'])}, "
			f"recall {_pct(figures['recall'])}"
		)
	return table


def _satisfaction(scenarios, without: pd.DataFrame, customers: int, seed: int) -> pd.DataFrame:
	"""The second book again with survey answers (``plant_survey_answers``): customers unhappy before
	their money moves (``satisfaction_only``) and everyone else answering 40 % of the time with
	mostly good scores; the bands with the satisfaction signal, and the bands of those customers and
	of the steady ones and decoys without it (false alarms added by noisy answers)."""
	answers, truth = plant_survey_answers(scenarios, seed)
	scored = score_churn(
		scenarios.snapshots, None, as_of=AS_OF, render=False, holdings=scenarios.holdings, feedback=answers
	)
	table = _kinds(
		f"churn bands by kind with satisfaction surveys ({len(answers):,} answers; "
		f"{customers:,} customers, 3 % unhappy before their money moves)",
		scored,
		truth,
	)
	before = churn_by_kind(without, truth).set_index("kind")
	print("    without the satisfaction signal (same customers): High+Medium")
	for kind in ("satisfaction_only", "steady", *DECOY_KINDS):
		if kind in before.index:
			row = before.loc[kind]
			print(f"      {kind:<28}{_pct(row['high_medium_share'])}")
	return table


def _groups(title: str, recomputed: pd.DataFrame) -> dict:
	"""Print and return the customer groups the recompute gave: how many, their sizes, and the share
	flagged familiar (familiarity is a flag beside the group, not a group)."""
	sizes = recomputed["bank_customer_group"].fillna("(none)").value_counts()
	familiar = recomputed["familiarity"].eq("Familiar").mean()
	print(f"  customer groups, {title}: {len(sizes)} groups, familiar {_pct(familiar)}")
	print("    " + ", ".join(f"{group} {count:,}" for group, count in sizes.items()))
	return {"groups": len(sizes), "sizes": sizes.to_dict(), "familiar": familiar}


def needs_second_book(customers: int, seed: int) -> dict:
	"""Print and return the needs evidence on the second book (``engine/needs_scenarios.py``)."""
	book = generate_needs_scenarios(customers, AS_OF, seed)
	# the groups the recompute gives from the book's ages and occupations (not the planted ones)
	regrouped = recompute_tables(
		{
			"customers": book.customers.drop(columns="bank_customer_group").assign(
				branch=None, relationship_manager=None
			),
			"snapshots": book.snapshots.assign(contribution=0.0),
		}
	)
	groups = _groups("second book (needs_scenarios.py)", regrouped)
	screened = screen_needs(book.customers, book.holdings, book.snapshots, book.products, render=False)
	tier_only = screen_with_tier_peers(book)
	gaps = evaluate_peer_gaps(screened, book.gaps)
	baseline = evaluate_peer_gaps(tier_only, book.gaps).set_index("product")
	print(f"  needs, second book (engine/needs_scenarios.py, {customers:,} customers x 3 months):")
	print(
		f"    {'product':<28}{'real gaps':>10}{'stated':>8}{'precision':>11}{'recall':>8}   tier alone: P / R"
	)
	for row in gaps.itertuples(index=False):
		base = baseline.loc[row.product]
		print(
			f"    {row.product:<28}{row.planted:>10,}{row.flagged:>8,}{_pct(row.precision):>11}{_pct(row.recall):>8}"
			f"   {_pct(base['precision'])} / {_pct(base['recall'])}"
		)
	kinds = evaluate_needs_kinds(screened, book.truth)
	for row in kinds.itertuples(index=False):
		if row.kind.endswith("(decoy)"):
			print(
				f"    {row.flag:<21}{row.kind:<28} {row.flagged:,} of {row.planted:,} flagged ({_pct(row.decoys_flagged)})"
			)
		else:
			print(
				f"    {row.flag:<21}{row.kind:<28} flagged {row.flagged:,}: {row.true_positives:,} of {row.planted:,} "
				f"-> precision {_pct(row.precision)}, recall {_pct(row.recall)}"
			)
	return {"gaps": gaps, "tier_only": baseline.reset_index(), "kinds": kinds, "groups": groups}


def run(customers: int = 20_000, months: int = 24, seeds=(7, 11, 23)) -> list[dict]:
	results = []
	for seed in seeds:
		sample = generate_sample(customers=customers, months=months, branches=3, as_of=AS_OF, seed=seed)
		matrices = SnapshotMatrices.from_long(sample.snapshots)
		print(f"seed {seed}: {customers:,} customers x {months} months to {AS_OF:%Y-%m}")
		print(f"  planted: {sample.truth['pattern'].value_counts().to_dict()}")

		# maturities explain outflows: the holdings with their product category
		holdings = sample.holdings.merge(
			sample.products[["product_code", "category"]].rename(columns={"product_code": "product"}),
			on="product",
			how="left",
		)
		holdout = evaluate_churn_holdout(matrices, sample.truth, holdings=holdings)
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

		in_sample = evaluate_churn_in_sample(matrices, sample.truth, holdings=holdings)
		bands = in_sample["scored"]["churn_band"].fillna("No Score")
		print(
			f"  churn in-sample at {in_sample['as_of']:%Y-%m}: {in_sample['positives']:,} drifting customers "
			f"({bands.value_counts().to_dict()} over everyone)"
		)
		print("\n".join(_methods(in_sample["methods"])))

		recomputed = recompute_tables(sample.tables())
		sample_groups = _groups("sample", recomputed)
		context = sample.customers.merge(
			recomputed[["customer", "tier", "bank_customer_group", "value_class", "lifetime_value"]],
			on="customer",
		)
		planted = sample.truth.drop_duplicates("customer").set_index("customer")["pattern"]
		value_class = context.set_index("customer")["value_class"]
		sample_kinds = pd.DataFrame(
			{
				"customer": context["customer"],
				"kind": planted.reindex(context["customer"])
				.fillna("none")
				.replace({"drifting": "combined"})
				.to_numpy(),
				"high_value": value_class.reindex(context["customer"]).eq("MVC").to_numpy(),
			}
		)
		sample_kinds["churning"] = sample_kinds["kind"].eq("combined")
		kinds_sample = _kinds(
			f"churn bands by kind at {AS_OF:%Y-%m}, on the sample", in_sample["scored"], sample_kinds
		)
		scenarios = generate_churn_scenarios(customers, 12, AS_OF, seed)
		scenario_scored = score_churn(
			scenarios.snapshots, None, as_of=AS_OF, render=False, holdings=scenarios.holdings
		)
		kinds_scenarios = _kinds(
			f"churn bands by kind at {AS_OF:%Y-%m}, on the second book (engine/churn_scenarios.py, "
			f"{customers:,} customers x 12 months)",
			scenario_scored,
			scenarios.truth,
		)
		kinds_satisfaction = _satisfaction(scenarios, scenario_scored, customers, seed)
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
		print(
			f"    peers used on the sample: {screened['peer_basis'].fillna('none').value_counts().to_dict()}"
		)
		needs_book = needs_second_book(customers, seed)
		print("")
		results.append(
			{
				"seed": seed,
				"holdout": holdout,
				"in_sample": in_sample["methods"],
				"kinds_sample": kinds_sample,
				"kinds_scenarios": kinds_scenarios,
				"kinds_satisfaction": kinds_satisfaction,
				"needs": needs,
				"needs_book": needs_book,
				"groups": sample_groups,
			}
		)
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
