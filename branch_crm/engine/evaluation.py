"""Evidence for the churn and needs-screening engines on data with planted patterns (``sample.truth``):
pure metric functions and the evaluations ``benchmarks/evidence.py`` prints.

Churn, hold-out (``evaluate_churn_holdout``): the data end at month M; the cutoff is T = M - horizon
(3 months). Scores use only months up to T. The outcome of a customer is positive when

* they are a planted drifting customer whose drift starts in T+1 .. T+horizon, or
* their AUM falls by ``aum_drop`` (30 %) or more over T+1 .. T+horizon: AUM(T+horizon) ≤ 0.7 × AUM(T),
  with AUM(T) > 0.

The sample plants drift 3 to 5 months before M, and nothing announces it before it starts: the
customers whose drift starts after T are invisible at T to any method. ``visible`` counts the
positives whose drift had begun by T; the top-decile recall of a perfect method is about
(visible + its share of the rest drawn at random) / positives (``ceiling_recall``, and
``ceiling_precision`` likewise). The in-sample view
(``evaluate_churn_in_sample``) scores at M, where every drifting customer is 3-5 months in, and asks
how many of the planted drifting customers the top decile holds.

Baseline: rank by the AUM change over the last ``horizon`` months alone (AUM(T) / AUM(T-horizon) - 1,
largest fall first).

Needs screening (``evaluate_needs``): flagged vs planted, for merchants (``merchant_like``) and main
account elsewhere (``main_bank_elsewhere`` in gap_types, planted as ``salary_elsewhere``), against
simple baselines: merchant = average monthly inflow above average AUM; main account elsewhere = no
salary credited in the window.

Ranking ties: scores are ranked highest first, NaN (no score) last, equal scores in input order, so the
top k is deterministic.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from branch_crm.engine.churn import ChurnParameters, SnapshotMatrices, score_churn

# ---------------------------------------------------------------- metrics


def top_share(score, outcome, share: float = 0.1) -> dict:
	"""Precision and recall of the top ``share`` of customers ranked by ``score`` (highest first, NaN
	last, ties in input order). k = ceil(share × n)."""
	score = np.asarray(score, dtype=float)
	outcome = np.asarray(outcome, dtype=bool)
	if score.shape != outcome.shape:
		raise ValueError("score and outcome must have the same length")
	n = len(score)
	k = int(np.ceil(share * n)) if n else 0
	order = np.lexsort((np.arange(n), np.isnan(score), -np.nan_to_num(score, nan=0.0)))
	chosen = np.zeros(n, dtype=bool)
	chosen[order[:k]] = True
	positives = int(outcome.sum())
	hits = int((chosen & outcome).sum())
	return {
		"customers": n,
		"k": k,
		"positives": positives,
		"true_positives": hits,
		"precision": hits / k if k else float("nan"),
		"recall": hits / positives if positives else float("nan"),
		"base_rate": positives / n if n else float("nan"),
	}


def auc(score, outcome) -> float:
	"""Area under the ROC curve (probability that a positive outranks a negative, ties half); NaN
	scores rank lowest."""
	score = np.asarray(score, dtype=float)
	outcome = np.asarray(outcome, dtype=bool)
	pos, neg = int(outcome.sum()), int((~outcome).sum())
	if not pos or not neg:
		return float("nan")
	filled = np.where(np.isnan(score), -np.inf, score)
	ranks = pd.Series(filled).rank(method="average").to_numpy()
	return float((ranks[outcome].sum() - pos * (pos + 1) / 2) / (pos * neg))


def detection(flagged, truth) -> dict:
	"""Flags against planted truth: counts, precision and recall."""
	flagged = np.asarray(flagged, dtype=bool)
	truth = np.asarray(truth, dtype=bool)
	hits = int((flagged & truth).sum())
	return {
		"flagged": int(flagged.sum()),
		"planted": int(truth.sum()),
		"true_positives": hits,
		"precision": hits / flagged.sum() if flagged.any() else float("nan"),
		"recall": hits / truth.sum() if truth.any() else float("nan"),
	}


# ---------------------------------------------------------------- churn


def _month(value) -> pd.Timestamp:
	return pd.Timestamp(value).to_period("M").to_timestamp()


def _truth(truth: pd.DataFrame, customers: pd.Index) -> pd.DataFrame:
	table = truth.drop_duplicates("customer").set_index("customer").reindex(customers)
	return pd.DataFrame(
		{
			"pattern": table["pattern"].fillna("none").to_numpy(dtype=object),
			"drift_start": pd.to_datetime(table["drift_start"]).to_numpy(),
		},
		index=customers,
	)


def aum_change(matrices: SnapshotMatrices, as_of, months: int) -> np.ndarray:
	"""AUM(as_of) / AUM(as_of - months) - 1 per customer; NaN where either is missing or the earlier
	one is not positive."""
	values, _ = matrices.window(as_of, months + 1)
	before, after = values["aum"][:, 0], values["aum"][:, -1]
	out = np.full(len(before), np.nan)
	ok = (before > 0) & ~np.isnan(after)
	np.divide(after, before, out=out, where=ok)
	return np.where(ok, out - 1.0, np.nan)


def holdout_outcome(
	matrices: SnapshotMatrices, truth: pd.DataFrame, cutoff, horizon: int = 3, aum_drop: float = 0.30
) -> pd.DataFrame:
	"""Per customer of ``matrices``: drift_after_cutoff (planted drift starting in cutoff+1 ..
	cutoff+horizon), aum_fell (AUM down ≥ aum_drop from the cutoff to cutoff+horizon), outcome (either),
	visible (planted drift begun by the cutoff)."""
	cutoff = _month(cutoff)
	end = cutoff + pd.DateOffset(months=horizon)
	planted = _truth(truth, matrices.customers)
	drifting = planted["pattern"].to_numpy() == "drifting"
	start = pd.to_datetime(planted["drift_start"]).to_numpy()
	late = drifting & (start > cutoff.to_datetime64()) & (start <= end.to_datetime64())
	change = aum_change(matrices, end.date(), horizon)
	fell = np.nan_to_num(change, nan=0.0) <= -aum_drop
	visible = drifting & (start <= cutoff.to_datetime64())
	return pd.DataFrame(
		{
			"customer": matrices.customers.to_numpy(),
			"drift_after_cutoff": late,
			"aum_fell": fell,
			"outcome": late | fell,
			"visible": visible,
		}
	)


def _as_matrices(snapshots) -> SnapshotMatrices:
	if isinstance(snapshots, SnapshotMatrices):
		return snapshots
	return SnapshotMatrices.from_long(snapshots)


def evaluate_churn_holdout(
	snapshots,
	truth: pd.DataFrame,
	params: ChurnParameters | None = None,
	*,
	horizon: int = 3,
	share: float = 0.1,
	aum_drop: float = 0.30,
	holdings: pd.DataFrame | None = None,
) -> dict:
	"""Score at the cutoff (last month - horizon) with the data up to it; compare the top ``share``
	of the churn score and of the AUM-drop baseline with the outcome over the next ``horizon``
	months. Returns {"cutoff", "outcome": counts, "methods": DataFrame (one row per method)}."""
	params = params or ChurnParameters()
	matrices = _as_matrices(snapshots)
	last = matrices.months[-1]
	cutoff = last - pd.DateOffset(months=horizon)
	# only the months up to the cutoff reach the scorer
	keep = matrices.months <= cutoff
	known = SnapshotMatrices(
		matrices.customers,
		matrices.months[keep],
		{k: v[:, keep] for k, v in matrices.values.items()},
		matrices.present[:, keep],
	)
	outcome = holdout_outcome(matrices, truth, cutoff, horizon, aum_drop)
	scored = score_churn(known, None, params, cutoff.date(), render=False, holdings=holdings)
	baseline = -aum_change(known, cutoff.date(), horizon)
	y = outcome["outcome"].to_numpy()
	methods = _methods(
		{"churn score": scored["churn_score"].to_numpy(), "AUM drop alone": baseline}, y, share
	)
	counts = {
		"customers": len(outcome),
		"positives": int(y.sum()),
		"drift_after_cutoff": int(outcome["drift_after_cutoff"].sum()),
		"aum_fell": int(outcome["aum_fell"].sum()),
		"visible": int((outcome["visible"] & outcome["outcome"]).sum()),
		"scored": int(scored["has_score"].sum()),
	}
	# the best a method can expect: every visible positive in the top k, the rest of it drawn at
	# random from the other customers (among whom the invisible positives hide)
	k = int(methods["k"].iloc[0])
	visible, hidden = counts["visible"], counts["positives"] - counts["visible"]
	pool = counts["customers"] - visible
	expected = min(visible, k) + max(k - visible, 0) * (hidden / pool if pool else 0.0)
	counts["ceiling_precision"] = expected / k if k else float("nan")
	counts["ceiling_recall"] = expected / counts["positives"] if counts["positives"] else float("nan")
	return {"cutoff": cutoff.date(), "outcome": counts, "methods": methods}


def evaluate_churn_in_sample(
	snapshots,
	truth: pd.DataFrame,
	params: ChurnParameters | None = None,
	*,
	share: float = 0.1,
	months: int = 3,
	holdings: pd.DataFrame | None = None,
) -> dict:
	"""Score at the last month; positives are the planted drifting customers (all of them already
	drifting then). The baseline ranks by the AUM change over the last ``months`` months."""
	params = params or ChurnParameters()
	matrices = _as_matrices(snapshots)
	as_of = matrices.months[-1].date()
	scored = score_churn(matrices, None, params, as_of, render=False, holdings=holdings)
	y = _truth(truth, matrices.customers)["pattern"].to_numpy() == "drifting"
	methods = _methods(
		{
			"churn score": scored["churn_score"].to_numpy(),
			"AUM drop alone": -aum_change(matrices, as_of, months),
		},
		y,
		share,
	)
	return {"as_of": as_of, "positives": int(y.sum()), "methods": methods, "scored": scored}


def _methods(scores: dict, outcome: np.ndarray, share: float) -> pd.DataFrame:
	"""Per method: top-share metrics, ROC AUC, and the precision at k = the number of positives
	(``precision_at_positives``: 1.0 when every positive outranks every negative)."""
	rows = []
	n, positives = len(outcome), int(np.asarray(outcome).sum())
	for name, score in scores.items():
		row = {"method": name, **top_share(score, outcome, share), "auc": auc(score, outcome)}
		at = top_share(score, outcome, positives / n) if n and positives else {"precision": float("nan")}
		row["precision_at_positives"] = at["precision"]
		rows.append(row)
	return pd.DataFrame(rows)


def churn_by_kind(scored: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
	"""The bands against planted kinds of churn and of decoys. ``scored``: ``score_churn`` rows
	(customer, churn_band); ``truth``: customer, kind, churning (bool) and optionally high_value
	(bool). One row per kind: customers, in High, in High or Medium, their shares (for a kind of
	churn: the recall of the band; for a decoy or steady customers: the false alarms), and for the
	kinds of churn the share of their high-value customers in High (who get a Retention follow-up).
	A last row "all churn" sums the kinds of churn."""
	table = truth.drop_duplicates("customer").merge(scored[["customer", "churn_band"]], on="customer")
	table["high"] = table["churn_band"].eq("High")
	table["high_medium"] = table["churn_band"].isin(["High", "Medium"])
	if "high_value" not in table:
		table["high_value"] = False
	table["high_value_high"] = table["high"] & table["high_value"]
	rows = []
	for (kind, churning), group in [
		*table.groupby(["kind", "churning"], sort=False),
		(("all churn", True), table[table["churning"]]),
	]:
		high_value = int(group["high_value"].sum())
		rows.append(
			{
				"kind": kind,
				"churning": bool(churning),
				"customers": len(group),
				"high": int(group["high"].sum()),
				"high_medium": int(group["high_medium"].sum()),
				"high_share": group["high"].mean() if len(group) else float("nan"),
				"high_medium_share": group["high_medium"].mean() if len(group) else float("nan"),
				"high_value": high_value,
				"high_value_high_share": group["high_value_high"].sum() / high_value
				if churning and high_value
				else float("nan"),
			}
		)
	return pd.DataFrame(rows)


def band_precision(scored: pd.DataFrame, truth: pd.DataFrame) -> dict:
	"""Precision of the High band and of High + Medium against ``truth.churning``, and how many
	customers each flags."""
	table = truth.drop_duplicates("customer").merge(scored[["customer", "churn_band"]], on="customer")
	churning = table["churning"].to_numpy(dtype=bool)
	high = table["churn_band"].eq("High").to_numpy()
	watch = table["churn_band"].isin(["High", "Medium"]).to_numpy()
	return {
		"high": detection(high, churning),
		"high_medium": detection(watch, churning),
	}


# ---------------------------------------------------------------- needs screening


def _row_mean(matrix: np.ndarray) -> np.ndarray:
	valid = ~np.isnan(matrix)
	count = valid.sum(axis=1)
	out = np.full(len(matrix), np.nan)
	np.divide(np.where(valid, matrix, 0.0).sum(axis=1), count, out=out, where=count > 0)
	return out


def needs_baselines(
	snapshots, customers: pd.Index, as_of: dt.date | None = None, window: int = 3
) -> pd.DataFrame:
	"""The simple rules the engine is compared with, over the last ``window`` months: merchant =
	average monthly inflow above average AUM; main account elsewhere = no salary credited."""
	columns = ("aum", "inflow", "salary_credit")
	if isinstance(snapshots, SnapshotMatrices):
		matrices = snapshots
	else:
		matrices = SnapshotMatrices.from_long(snapshots, customers=pd.Index(customers), columns=columns)
	as_of = as_of or matrices.months[-1].date()
	values, _ = matrices.window(as_of, window)
	rows = matrices.customers.get_indexer(pd.Index(customers))
	inflow, aum = _row_mean(values["inflow"]), _row_mean(values["aum"])
	salary = (np.nan_to_num(values["salary_credit"]) > 0).any(axis=1)
	take = np.where(rows >= 0, rows, 0)
	merchant = np.where(rows >= 0, np.nan_to_num(inflow[take]) > np.nan_to_num(aum[take]), False)
	elsewhere = np.where(rows >= 0, ~salary[take], True)
	return pd.DataFrame(
		{"customer": pd.Index(customers).to_numpy(), "merchant": merchant, "main_elsewhere": elsewhere}
	)


def evaluate_needs(
	screened: pd.DataFrame, truth: pd.DataFrame, snapshots, as_of=None, window: int = 3
) -> pd.DataFrame:
	"""One row per (pattern, method): flagged, planted, true positives, precision, recall.
	``screened``: ``screen_needs`` rows (customer, merchant_like, gap_types)."""
	customers = pd.Index(screened["customer"])
	pattern = _truth(truth, customers)["pattern"].to_numpy()
	base = needs_baselines(snapshots, customers, as_of, window)
	elsewhere = ("," + screened["gap_types"].fillna("").astype(str) + ",").str.contains(
		",main_bank_elsewhere,", regex=False
	)
	cases = [
		("merchant", "needs screening (merchant_like)", screened["merchant_like"].to_numpy(dtype=bool)),
		("merchant", "baseline: inflow > AUM", base["merchant"].to_numpy(dtype=bool)),
		("salary_elsewhere", "needs screening (main bank elsewhere)", elsewhere.to_numpy(dtype=bool)),
		("salary_elsewhere", "baseline: no salary credit", base["main_elsewhere"].to_numpy(dtype=bool)),
	]
	rows = [{"pattern": p, "method": m, **detection(flags, pattern == p)} for p, m, flags in cases]
	return pd.DataFrame(rows)


def screen_with_tier_peers(book) -> pd.DataFrame:
	"""The baseline the peer-gap figures are measured against: the tier alone as peers, whatever
	the balance within it (what the groups collapsing to one gave). ``book``: a needs scenario
	book (``needs_scenarios.generate_needs_scenarios``)."""
	from branch_crm.engine.needs import NeedsParameters, screen_needs

	return screen_needs(
		book.customers,
		book.holdings,
		book.snapshots,
		book.products,
		NeedsParameters(value_band=1e12),
		peer_keys=("tier",),
		render=False,
	)


def evaluate_peer_gaps(screened: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
	"""Peer gaps stated (``peer_gaps``: names separated by ", ") against the real gaps (``gaps``:
	customer and one boolean column per product compared), per product and over all of them: one row
	per product with flagged, planted, true positives, precision, recall."""
	real = gaps.set_index("customer").reindex(screened["customer"])
	stated = screened["peer_gaps"].fillna("").astype(str).str.split(", ")
	rows = []
	flagged_all, truth_all = [], []
	for item in real.columns:
		flagged = stated.map(lambda names, item=item: item in names).to_numpy(dtype=bool)
		truth = real[item].fillna(False).to_numpy(dtype=bool)
		rows.append({"product": item, **detection(flagged, truth)})
		flagged_all.append(flagged)
		truth_all.append(truth)
	if rows:
		rows.append({"product": "all", **detection(np.concatenate(flagged_all), np.concatenate(truth_all))})
	return pd.DataFrame(rows)


def evaluate_needs_kinds(screened: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
	"""Merchant and main-bank flags against the kinds of ``needs_scenarios`` (customer, kind): per
	flag, precision and recall of its planted kind and the share of each decoy flagged."""
	kind = truth.set_index("customer")["kind"].reindex(screened["customer"]).fillna("none").to_numpy()
	elsewhere = (
		("," + screened["gap_types"].fillna("").astype(str) + ",")
		.str.contains(",main_bank_elsewhere,", regex=False)
		.to_numpy(dtype=bool)
	)
	flags = {
		"merchant_like": (screened["merchant_like"].to_numpy(dtype=bool), "merchant", ("spender",)),
		"main_bank_elsewhere": (
			elsewhere,
			"salary_elsewhere",
			("new_with_salary", "professional_fees"),
		),
	}
	rows = []
	for flag, (flagged, planted, decoys) in flags.items():
		rows.append({"flag": flag, "kind": planted, **detection(flagged, kind == planted)})
		for decoy in decoys:
			mask = kind == decoy
			rows.append(
				{
					"flag": flag,
					"kind": f"{decoy} (decoy)",
					"flagged": int((flagged & mask).sum()),
					"planted": int(mask.sum()),
					"true_positives": 0,
					"precision": float("nan"),
					"recall": float("nan"),
					"decoys_flagged": (flagged & mask).sum() / mask.sum() if mask.any() else float("nan"),
				}
			)
	return pd.DataFrame(rows)
