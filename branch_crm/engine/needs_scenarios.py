"""A second synthetic book for needs screening, written from seed 001 §2-3 rather than from
``engine/sample.py``: customers in life-stage / occupation groups whose product needs differ by group
and by how much money they have, and the cash flows the seed reads needs from.

Product needs (seed 001 §3, 产品信息表: which products a customer holds, which suit them): six groups
(``GROUPS``) and six products compared with peers (``engine.needs.PEER_PRODUCTS``). Each group has,
per product, a propensity that grows with the customer's AUM: p = sigmoid(base + slope × ln(AUM /
50,000)). A customer holds the product with probability p; a **real gap** is a product with p ≥ 0.5
for this customer (most customers like them hold it) that they do not hold. Everyone has a demand
deposit and a debit card. The tier (by AUM) is given too, so that comparing with the tier alone can be
measured against comparing with the group.

Cash flows (seed 001 §3, 资产负债表; the kinds in ``KINDS``):

* ``merchant``: business owners and self-employed who collect: receipts 2.5-10 × their balance a
  month (at least 30,000), 40-300 transactions and a few large ones, money passed on;
* ``spender`` (decoy): salaried customers paying by card 150-300 times a month from their salary,
  small balances;
* ``salary_elsewhere``: salaried or civil servants with no salary credit here, 5-20 % of their declared
  income flowing in, few bills;
* ``new_with_salary`` (decoy): acquired in the latest month, one (partial) month of snapshots with a
  salary credit;
* ``professional_fees`` (decoy): professionals paid by fees, no salary credit, their income flowing in;
* ``none``: everyone else, with this bank as their main bank (salary or pension credited, bills,
  inflows covering the declared income; students get transfers from family).

Three months of snapshots to ``as_of`` (one for new customers). Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from branch_crm.engine.defaults import DEFAULT_PRODUCTS

# group -> (share of customers, ages, occupations with their shares)
GROUPS = {
	"Students": (0.10, (18, 24), {"Student": 1.0}),
	"Young Professionals": (0.20, (24, 35), {"Salaried": 0.7, "Professional": 0.3}),
	"Young Families": (0.22, (30, 45), {"Salaried": 0.6, "Civil Servant": 0.25, "Professional": 0.15}),
	"Mature Families": (0.18, (45, 60), {"Salaried": 0.6, "Civil Servant": 0.2, "Professional": 0.2}),
	"Business Owners": (0.15, (28, 60), {"Business Owner": 0.5, "Self-employed": 0.5}),
	"Retirees": (0.15, (60, 80), {"Retired": 1.0}),
}
# typical AUM of the group (median of a log-normal) and its spread (sigma of ln AUM)
GROUP_AUM = {
	"Students": (4_000, 1.0),
	"Young Professionals": (40_000, 1.1),
	"Young Families": (90_000, 1.1),
	"Mature Families": (180_000, 1.1),
	"Business Owners": (150_000, 1.3),
	"Retirees": (120_000, 1.2),
}
ITEMS = ("Time Deposit", "Wealth Management or Fund", "Insurance", "Credit Card", "Payroll", "Digital")
# group -> per item (base logit at AUM 50,000, slope per ln unit of AUM)
PROPENSITY = {
	"Students": ((-2.0, 0.5), (-2.5, 0.8), (-1.3, 0.2), (-0.5, 0.3), (-4.0, 0.0), (2.0, 0.0)),
	"Young Professionals": ((-0.5, 0.5), (0.2, 0.8), (-0.3, 0.4), (1.0, 0.3), (1.0, 0.0), (2.0, 0.0)),
	"Young Families": ((0.0, 0.5), (0.4, 0.8), (1.2, 0.3), (0.8, 0.3), (0.8, 0.0), (1.5, 0.0)),
	"Mature Families": ((0.5, 0.5), (0.6, 0.8), (1.0, 0.3), (0.3, 0.3), (0.5, 0.0), (0.5, 0.0)),
	"Business Owners": ((0.0, 0.5), (0.3, 0.8), (0.2, 0.3), (0.5, 0.3), (-3.0, 0.0), (1.5, 0.0)),
	"Retirees": ((1.5, 0.5), (0.0, 0.8), (0.3, 0.3), (-1.5, 0.3), (-3.0, 0.0), (-0.5, 0.0)),
}
# item -> the products that stand for it (one picked at random)
ITEM_PRODUCTS = {
	"Time Deposit": ("DEP-TIME-1Y", "DEP-LARGE-CD"),
	"Wealth Management or Fund": ("WM-STABLE", "WM-BALANCED", "FUND-MONEY", "FUND-EQUITY"),
	"Insurance": ("INS-LIFE", "INS-HEALTH"),
	"Credit Card": ("CARD-CREDIT",),
	"Payroll": ("PAYROLL",),
	"Digital": ("MOBILE-BANKING",),
}
KINDS = ("none", "merchant", "spender", "salary_elsewhere", "new_with_salary", "professional_fees")
# share of the customers of the pool each kind is drawn from
KIND_SHARES = {
	"merchant": 0.2,  # of business owners and self-employed
	"spender": 0.08,  # of the salaried
	"salary_elsewhere": 0.12,  # of the salaried and civil servants
	"new_with_salary": 0.04,  # of the salaried and civil servants
	"professional_fees": 0.5,  # of the professionals
}
TIERS = ((6_000_000, "Private"), (500_000, "VIP"), (50_000, "Core"), (0, "Mass"))
WINDOW = 3


@dataclass
class NeedsScenarios:
	"""``customers`` (customer, bank_customer_group, tier, date_of_birth, occupation_category,
	declared_annual_income, acquired_on), ``holdings`` (customer, product, balance), ``snapshots``
	(long, 3 months), ``products`` (DEFAULT_PRODUCTS), ``truth`` (customer, kind), ``gaps`` (customer ×
	``ITEMS`` booleans: the real gaps) and ``propensity`` (customer × ``ITEMS``)."""

	customers: pd.DataFrame
	holdings: pd.DataFrame
	snapshots: pd.DataFrame
	products: pd.DataFrame
	truth: pd.DataFrame
	gaps: pd.DataFrame
	propensity: pd.DataFrame


def _pick(rng, options: dict, size: int) -> np.ndarray:
	names = list(options)
	p = np.array([options[k] for k in names], dtype=float)
	return np.asarray(names, dtype=object)[rng.choice(len(names), size=size, p=p / p.sum())]


def generate_needs_scenarios(
	customers: int = 20_000, as_of: dt.date | None = None, seed: int = 7
) -> NeedsScenarios:
	rng = np.random.default_rng([seed, 15])
	as_of = as_of or dt.date(2026, 9, 1)
	n = customers
	ids = np.array([f"N{i:08d}" for i in range(n)], dtype=object)
	names = list(GROUPS)
	group = np.asarray(names, dtype=object)[
		rng.choice(
			len(names), size=n, p=np.array([GROUPS[g][0] for g in names]) / sum(GROUPS[g][0] for g in names)
		)
	]
	age = np.zeros(n)
	occupation = np.empty(n, dtype=object)
	aum = np.zeros(n)
	for g in names:
		m = group == g
		k = int(m.sum())
		lo, hi = GROUPS[g][1]
		age[m] = rng.uniform(lo, hi, k)
		occupation[m] = _pick(rng, GROUPS[g][2], k)
		median, sigma = GROUP_AUM[g]
		aum[m] = median * np.exp(sigma * rng.standard_normal(k))
	aum = np.round(aum, 2)
	income = np.where(
		occupation == "Student",
		np.nan,
		np.round(np.clip(aum * rng.uniform(0.5, 1.5, n), 60_000, None) * rng.uniform(0.8, 1.2, n), -3),
	)
	income = np.where(group == "Retirees", np.round(rng.uniform(40_000, 120_000, n), -3), income)

	# ---------------------------------------------------------------- kinds
	kind = np.full(n, "none", dtype=object)

	def plant(name: str, pool: np.ndarray) -> None:
		chosen = np.flatnonzero(pool & (kind == "none"))
		take = rng.choice(chosen, size=round(KIND_SHARES[name] * pool.sum()), replace=False)
		kind[take] = name

	business = np.isin(occupation, ["Business Owner", "Self-employed"])
	salaried = np.isin(occupation, ["Salaried", "Civil Servant"])
	plant("merchant", business)
	plant("spender", occupation == "Salaried")
	plant("salary_elsewhere", salaried)
	plant("new_with_salary", salaried)
	plant("professional_fees", occupation == "Professional")

	# ---------------------------------------------------------------- products
	logit = np.zeros((n, len(ITEMS)))
	for g in names:
		m = group == g
		for j, (base, slope) in enumerate(PROPENSITY[g]):
			logit[m, j] = base + slope * np.log(np.maximum(aum[m], 100.0) / 50_000.0)
	propensity = 1.0 / (1.0 + np.exp(-logit))
	held = rng.random((n, len(ITEMS))) < propensity
	held[kind == "new_with_salary", :] = False  # a new customer holds nothing yet but their accounts
	rows = [
		pd.DataFrame({"customer": ids, "product": "DEP-DEMAND", "balance": np.round(aum * 0.4, 2)}),
		pd.DataFrame({"customer": ids, "product": "CARD-DEBIT", "balance": 0.0}),
	]
	for j, item in enumerate(ITEMS):
		who = np.flatnonzero(held[:, j])
		products = np.asarray(ITEM_PRODUCTS[item], dtype=object)[
			rng.integers(0, len(ITEM_PRODUCTS[item]), len(who))
		]
		balance = np.round(aum[who] * 0.3, 2) if j < 2 else np.zeros(len(who))
		rows.append(pd.DataFrame({"customer": ids[who], "product": products, "balance": balance}))
	holdings = pd.concat(rows, ignore_index=True)
	gaps = pd.DataFrame((propensity >= 0.5) & ~held, columns=list(ITEMS))
	gaps.insert(0, "customer", ids)

	# ---------------------------------------------------------------- snapshots
	months = pd.date_range(end=pd.Timestamp(as_of).to_period("M").to_timestamp(), periods=WINDOW, freq="MS")
	shape = (n, WINDOW)
	wobble = rng.uniform(0.9, 1.1, shape)
	monthly_income = np.nan_to_num(income) / 12.0
	salary = np.where(
		np.isin(occupation, ["Salaried", "Civil Servant", "Retired"])[:, None],
		monthly_income[:, None] * wobble,
		0.0,
	)
	professional = (occupation == "Professional") & (kind != "professional_fees")
	salary[professional] = monthly_income[professional, None] * wobble[professional]
	other_in = monthly_income[:, None] * rng.uniform(0.0, 0.2, shape)
	inflow = salary + other_in
	student = occupation == "Student"
	inflow[student] = rng.uniform(1_000, 3_000, (int(student.sum()), WINDOW))
	inflow[business] = monthly_income[business, None] * rng.uniform(0.6, 1.2, (int(business.sum()), WINDOW))
	fees = kind == "professional_fees"
	inflow[fees] = monthly_income[fees, None] * rng.uniform(0.8, 1.2, (int(fees.sum()), WINDOW))
	txn = rng.poisson(25, shape).astype(float)
	large = rng.poisson(0.3, shape).astype(float)
	bills = (rng.random(shape) < np.where(student, 0.5, 0.85)[:, None]).astype(float)

	m = kind == "merchant"
	k = int(m.sum())
	receipts = np.maximum(aum[m] * rng.uniform(2.5, 10.0, k), 30_000.0)
	inflow[m] = receipts[:, None] * rng.uniform(0.85, 1.15, (k, WINDOW))
	txn[m] = rng.poisson(rng.uniform(40, 300, k)[:, None], (k, WINDOW))
	large[m] = rng.poisson(rng.uniform(1, 15, k)[:, None], (k, WINDOW))

	s = kind == "spender"
	k = int(s.sum())
	aum[s] = np.round(rng.uniform(3_000, 15_000, k), 2)
	salary[s] = rng.uniform(10_000, 20_000, k)[:, None] * wobble[s]
	inflow[s] = salary[s] * rng.uniform(1.0, 1.05, (k, WINDOW))
	txn[s] = rng.poisson(rng.uniform(150, 300, k)[:, None], (k, WINDOW))
	large[s] = rng.poisson(0.5, (k, WINDOW))

	e = kind == "salary_elsewhere"
	k = int(e.sum())
	salary[e] = 0.0
	inflow[e] = monthly_income[e, None] * rng.uniform(0.05, 0.2, (k, WINDOW))
	bills[e] = (rng.random((k, WINDOW)) < 0.3).astype(float)

	outflow = inflow * rng.uniform(0.85, 1.05, shape)
	outflow[m] = inflow[m] * rng.uniform(0.95, 1.02, (int(m.sum()), WINDOW))
	aum_months = aum[:, None] * rng.uniform(0.97, 1.03, shape)

	acquired = pd.Timestamp(as_of) - pd.to_timedelta(rng.integers(400, 5000, n), unit="D")
	acquired = np.asarray(acquired, dtype="datetime64[ns]")
	new = kind == "new_with_salary"
	first_day = rng.integers(1, 25, int(new.sum()))
	acquired[new] = np.datetime64(pd.Timestamp(as_of).to_period("M").to_timestamp()) + first_day.astype(
		"timedelta64[D]"
	)
	# their first month is partial: the salary arrived, part of the rest
	inflow[new] = salary[new] + other_in[new] * 0.3
	bills[new] = 0.0

	snapshots = pd.DataFrame(
		{
			"customer": np.repeat(ids, WINDOW),
			"month": np.tile(months.to_numpy(), n),
			"aum": np.round(aum_months.ravel(), 2),
			"inflow": np.round(inflow.ravel(), 2),
			"outflow": np.round(outflow.ravel(), 2),
			"salary_credit": np.round(salary.ravel(), 2),
			"bill_payments": bills.ravel(),
			"large_txn_count": large.ravel(),
			"txn_count": txn.ravel(),
		}
	)
	latest_only = np.repeat(new, WINDOW) & (np.tile(np.arange(WINDOW), n) < WINDOW - 1)
	snapshots = snapshots[~latest_only].reset_index(drop=True)

	born = pd.Timestamp(as_of) - pd.to_timedelta(np.round(age * 365.25), unit="D")
	tier = np.select([aum >= t for t, _ in TIERS], [name for _, name in TIERS], "Mass")
	frame = pd.DataFrame(
		{
			"customer": ids,
			"bank_customer_group": group,
			"tier": tier,
			"date_of_birth": born,
			"occupation_category": occupation,
			"declared_annual_income": income,
			"acquired_on": acquired,
		}
	)
	truth = pd.DataFrame({"customer": ids, "kind": kind})
	prop = pd.DataFrame(propensity, columns=list(ITEMS))
	prop.insert(0, "customer", ids)
	return NeedsScenarios(frame, holdings, snapshots, pd.DataFrame(DEFAULT_PRODUCTS), truth, gaps, prop)
