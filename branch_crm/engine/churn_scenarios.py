"""A second synthetic book for the churn early warning, written from the seeds' definitions rather
than from ``engine/sample.py``: customers who leave in the different ways seed 004 (流失预警) names,
and customers whose data only look like it.

Seed 004 names four warning signs, each on its own: transaction frequency falls (a customer who
used to transfer often stops), the balance keeps flowing out without being topped up (a high-net-
worth customer moving assets), engagement falls (no longer asks about new products, answers fewer
campaigns; here: digital logins), complaints rise. The kinds planted (``CHURN_KINDS``):

* ``balance_only``: 50-95 % of AUM moved out over the last 2-3 months, activity unchanged;
* ``activity_only``: transactions down 60-95 %, balances and logins unchanged;
* ``engagement_only``: digital logins down 70-100 %, the rest unchanged;
* ``complaints_only``: 2-4 complaints in the last 3 months from a customer who never complained;
* ``combined``: AUM down 25-60 % by outflows, transactions down 35-75 %, logins down 40-90 %, a
  complaint now and then.

And the decoys (``DECOY_KINDS``), which a branch must not chase:

* ``one_month_dip``: 30-60 % of AUM paid out in one of the last 3 months (a tuition fee, a car)
  and refilled the next month, or not yet when it is the latest month;
* ``holiday_lull``: transactions and logins down 50-90 % for one of the last 3 months;
* ``matured_deposit``: a time deposit of 25-60 % of AUM matures in the last 3 months and is
  withdrawn; the holding shows it (``matures_on``; half of them closed with no balance left);
* ``investment_loss``: 40-80 % of AUM invested, the market value down 25-50 % over the last 3
  months, no money moved.

Everyone else is ``steady``; some of them have a time deposit that matured and was rolled over
(a maturity with nothing to explain). All customers have noise: AUM ±3 % a month, Poisson counts
around their own rates, a complaint now and then (0.5 % a month). Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

CHURN_KINDS = ("balance_only", "activity_only", "engagement_only", "complaints_only", "combined")
DECOY_KINDS = ("one_month_dip", "holiday_lull", "matured_deposit", "investment_loss")
KIND_SHARES = {
	"balance_only": 0.04,
	"activity_only": 0.04,
	"engagement_only": 0.02,
	"complaints_only": 0.02,
	"combined": 0.04,
	"one_month_dip": 0.03,
	"holiday_lull": 0.03,
	"matured_deposit": 0.03,
	"investment_loss": 0.03,
}
ROLLED_OVER_SHARE = 0.05  # of the steady customers: a deposit matured and renewed
HIGH_VALUE_SHARE = 0.2  # the customers with the highest usual AUM count as high value
RECENT_MONTHS = 3


@dataclass
class ChurnScenarios:
	"""``snapshots`` (customer, month, aum, inflow, outflow, txn_count, digital_logins, complaints),
	``holdings`` (customer, product, category, balance, matures_on) and ``truth`` (customer, kind,
	churning, high_value)."""

	snapshots: pd.DataFrame
	holdings: pd.DataFrame
	truth: pd.DataFrame
	as_of: dt.date


def generate_churn_scenarios(
	customers: int = 20_000, months: int = 12, as_of: dt.date = dt.date(2026, 9, 1), seed: int = 7
) -> ChurnScenarios:
	rng = np.random.default_rng(seed)
	n, m = customers, months
	kinds = ("steady", *CHURN_KINDS, *DECOY_KINDS)
	shares = np.array([1.0 - sum(KIND_SHARES.values()), *(KIND_SHARES[k] for k in kinds[1:])])
	kind = rng.choice(len(kinds), size=n, p=shares)
	is_kind = {name: kind == i for i, name in enumerate(kinds)}
	recent = np.arange(m) >= m - RECENT_MONTHS  # the last 3 months

	# usual levels, per customer
	aum0 = np.exp(rng.normal(np.log(80_000), 1.1, n))
	txn_rate = np.exp(rng.normal(np.log(15), 0.6, n)) + 2
	# engagement here is digital logins: who leaves that way is a digital customer
	digital = (rng.random(n) < 0.8) | is_kind["engagement_only"]
	login_rate = np.where(digital, np.exp(rng.normal(np.log(10), 0.6, n)) + 2, 0.0)
	turnover = aum0 * rng.uniform(0.02, 0.08, n) + rng.uniform(2_000, 8_000, n)

	# balances: a noisy level; money moved (net flows) and market moves (no flows) kept apart
	noise = rng.normal(0, 0.03, (n, m))
	level = aum0[:, None] * np.exp(noise)
	moved = np.zeros((n, m))  # net money out of the customer's balance in the month (+ = out)
	market = np.zeros((n, m))  # change of market value in the month (+ = gain)
	txn_factor = np.ones((n, m))
	login_factor = np.ones((n, m))
	extra_complaints = np.zeros((n, m))
	onset = m - rng.integers(2, RECENT_MONTHS + 1, n)  # churn starts 2-3 months before as_of ends

	def leave(mask: np.ndarray, low: float, high: float) -> None:
		"""Move ``low``..``high`` of the usual AUM out, evenly over the months from the onset."""
		rows = np.flatnonzero(mask)
		share = rng.uniform(low, high, len(rows))
		span = m - onset[rows]
		for row, part, months_out in zip(rows, share, span, strict=True):
			moved[row, m - months_out :] += aum0[row] * part / months_out

	def fade(factor: np.ndarray, mask: np.ndarray, low: float, high: float) -> None:
		"""Activity falls to 1 - ``low``..``high`` of its usual rate from the onset, in steps."""
		rows = np.flatnonzero(mask)
		depth = rng.uniform(low, high, len(rows))
		for row, fall in zip(rows, depth, strict=True):
			months_in = np.arange(m) - onset[row] + 1
			steps = m - onset[row]
			factor[row] = np.where(months_in > 0, 1 - fall * np.minimum(months_in / steps, 1.0), 1.0)

	leave(is_kind["balance_only"], 0.5, 0.95)
	fade(txn_factor, is_kind["activity_only"], 0.6, 0.95)
	fade(login_factor, is_kind["engagement_only"], 0.7, 1.0)
	combined = is_kind["combined"]
	leave(combined, 0.25, 0.6)
	fade(txn_factor, combined, 0.35, 0.75)
	fade(login_factor, combined, 0.4, 0.9)
	extra_complaints[combined] += (rng.random((int(combined.sum()), m)) < 0.15) & recent
	for row in np.flatnonzero(is_kind["complaints_only"]):
		count = rng.integers(2, 5)
		months_hit = rng.choice(np.flatnonzero(recent), size=count, replace=True)
		np.add.at(extra_complaints[row], months_hit, 1)

	# decoys
	dip_month = rng.choice(np.flatnonzero(recent), size=n)
	for row in np.flatnonzero(is_kind["one_month_dip"]):
		amount = aum0[row] * rng.uniform(0.3, 0.6)
		moved[row, dip_month[row]] += amount
		if dip_month[row] + 1 < m:
			moved[row, dip_month[row] + 1] -= amount  # refilled
	for row in np.flatnonzero(is_kind["holiday_lull"]):
		depth = rng.uniform(0.5, 0.9)
		txn_factor[row, dip_month[row]] *= 1 - depth
		login_factor[row, dip_month[row]] *= 1 - depth
	matures = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
	principal = np.zeros(n)
	month_starts = pd.date_range(end=pd.Timestamp(as_of).to_period("M").to_timestamp(), periods=m, freq="MS")
	matured = is_kind["matured_deposit"]
	for row in np.flatnonzero(matured):
		principal[row] = round(aum0[row] * rng.uniform(0.25, 0.6), 2)
		moved[row, dip_month[row]] += principal[row]
		day = rng.integers(1, 28)
		matures[row] = (month_starts[dip_month[row]] + pd.Timedelta(days=int(day))).to_datetime64()
	rolled = is_kind["steady"] & (rng.random(n) < ROLLED_OVER_SHARE)
	for row in np.flatnonzero(rolled):
		principal[row] = round(aum0[row] * rng.uniform(0.2, 0.5), 2)
		matures[row] = (
			month_starts[dip_month[row]] + pd.Timedelta(days=int(rng.integers(1, 28)))
		).to_datetime64()
	loss = is_kind["investment_loss"]
	for row in np.flatnonzero(loss):
		invested = aum0[row] * rng.uniform(0.4, 0.8)
		fall = rng.uniform(0.25, 0.5)
		market[row, recent] -= invested * fall / RECENT_MONTHS

	aum = np.maximum(level - np.cumsum(moved, axis=1) + np.cumsum(market, axis=1), 0.0)
	# everyday flows around the turnover; the money moved adds to the outflow (or inflow when refilled)
	base_flow = turnover[:, None] * np.exp(rng.normal(0, 0.25, (n, m)))
	inflow = base_flow + np.maximum(-moved, 0)
	outflow = base_flow * np.exp(rng.normal(0, 0.05, (n, m))) + np.maximum(moved, 0)
	txn = rng.poisson(txn_rate[:, None] * txn_factor * np.exp(rng.normal(0, 0.15, (n, m))))
	logins = rng.poisson(login_rate[:, None] * login_factor * np.exp(rng.normal(0, 0.2, (n, m))))
	complaints = (rng.random((n, m)) < 0.005).astype(int) + extra_complaints.astype(int)

	ids = np.array([f"SC{i:07d}" for i in range(n)], dtype=object)
	snapshots = pd.DataFrame(
		{
			"customer": np.repeat(ids, m),
			"month": np.tile(month_starts.to_numpy(), n),
			"aum": np.round(aum, 2).ravel(),
			"inflow": np.round(inflow, 2).ravel(),
			"outflow": np.round(outflow, 2).ravel(),
			"txn_count": txn.ravel(),
			"digital_logins": logins.ravel(),
			"complaints": complaints.ravel(),
		}
	)
	has_deposit = ~np.isnat(matures)
	closed = matured & (rng.random(n) < 0.5)  # closed at maturity: core banking reports no balance
	holdings = pd.DataFrame(
		{
			"customer": np.concatenate([ids, ids[has_deposit]]),
			"product": ["DEP-DEMAND"] * n + ["DEP-TIME-1Y"] * int(has_deposit.sum()),
			"category": "Deposit",
			"balance": np.concatenate(
				[np.round(aum[:, -1] * 0.5, 2), np.where(closed, 0.0, principal)[has_deposit]]
			),
			"matures_on": np.concatenate(
				[np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"), matures[has_deposit]]
			),
		}
	)
	usual = aum0
	truth = pd.DataFrame(
		{
			"customer": ids,
			"kind": np.asarray(kinds, dtype=object)[kind],
			"churning": np.isin(np.asarray(kinds)[kind], CHURN_KINDS),
			"high_value": usual >= np.quantile(usual, 1 - HIGH_VALUE_SHARE),
		}
	)
	return ChurnScenarios(snapshots, holdings, truth, as_of)


# ---------------------------------------------------------------- satisfaction surveys

# the usual score of customers who are not leaving over satisfaction (most are content, a few not);
# each answer is their usual score, or one point off it (NOISE_STEP each way)
NOISE_SCORES = {5: 0.45, 4: 0.40, 3: 0.10, 2: 0.04, 1: 0.01}
NOISE_STEP = 0.1


def plant_survey_answers(
	scenarios: ChurnScenarios, seed: int, share: float = 0.03, response_rate: float = 0.4
) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""Survey answers for a book (issue 18 §1: satisfaction asked after contacts), and its truth with
	a kind of churn the snapshots cannot show yet: ``satisfaction_only``, ``share`` of the customers
	taken from the steady ones, whose balances and activity do not move but who told the bank they
	are unhappy: half answered 1 or 2 in the last 3 months, half answered 4-5 the year before and 2-3
	lately. Everyone else answers with ``response_rate``: one answer in the last 3 months and one the
	year before, each their usual score (drawn from ``NOISE_SCORES``) or one point off it with
	``NOISE_STEP`` each way (the other kinds of churn too: leaving over rates or a move says nothing
	about service). Returns (answers: customer, answered_on, score; truth).
	Deterministic for a seed."""
	rng = np.random.default_rng(seed + 1_000)
	truth = scenarios.truth.copy()
	steady = np.flatnonzero(truth["kind"].to_numpy() == "steady")
	unhappy = rng.choice(steady, size=min(len(steady), round(share * len(truth))), replace=False)
	truth.loc[truth.index[unhappy], "kind"] = "satisfaction_only"
	truth.loc[truth.index[unhappy], "churning"] = True
	end = pd.Timestamp(scenarios.as_of) + pd.offsets.MonthEnd(0)

	def days_back(n: int, low: int, high: int) -> pd.DatetimeIndex:
		return end - pd.to_timedelta(rng.integers(low, high, size=n), unit="D")

	n = len(truth)
	customers = truth["customer"].to_numpy()
	is_unhappy = np.zeros(n, dtype=bool)
	is_unhappy[unhappy] = True
	answers = ~is_unhappy & (rng.random(n) < response_rate)
	m = int(answers.sum())
	usual = rng.choice(np.array(list(NOISE_SCORES)), size=m, p=np.array(list(NOISE_SCORES.values())))
	frames = []
	for low, high in ((5, 85), (120, 450)):  # the last 3 months, then the year before
		step = rng.choice([-1, 0, 1], size=m, p=[NOISE_STEP, 1 - 2 * NOISE_STEP, NOISE_STEP])
		frames.append(
			pd.DataFrame(
				{
					"customer": customers[answers],
					"answered_on": days_back(m, low, high),
					"score": np.clip(usual + step, 1, 5),
				}
			)
		)
	low_now = rng.random(len(unhappy)) < 0.5
	falling = unhappy[~low_now]
	frames.append(
		pd.DataFrame(
			{
				"customer": customers[unhappy[low_now]],
				"answered_on": days_back(int(low_now.sum()), 5, 85),
				"score": rng.integers(1, 3, size=int(low_now.sum())),
			}
		)
	)
	for (low, high), (s_low, s_high) in (((120, 450), (4, 6)), ((5, 85), (2, 4))):
		frames.append(
			pd.DataFrame(
				{
					"customer": customers[falling],
					"answered_on": days_back(len(falling), low, high),
					"score": rng.integers(s_low, s_high, size=len(falling)),
				}
			)
		)
	return pd.concat(frames, ignore_index=True), truth
