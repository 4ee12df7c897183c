"""Value classes and lifetime value.

Lifetime value = explicit + potential + growth value, over ``horizon_years`` discounted at
``discount_rate`` (annuity factor a = (1 - (1 + r)^-H) / r):

* explicit value  = annual contribution × a
* potential value = max(0, wallet − AUM) × capture_share × margin_rate × a, where the wallet (the
  customer's investable assets anywhere) is declared annual income × wallet_multiple
* growth value    = max(0, explicit value) × min(AUM growth over the last 12 months, growth_cap)

Value classes: BZC (below zero) where the annual contribution is negative; MVC (most valuable) for the
top ``mvc_top_share`` of customers by contribution; MGC (most growable) for the top ``mgc_top_share``
of the rest by potential + growth value; everyone else "Standard".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ValueParameters:
	horizon_years: int = 5
	discount_rate: float = 0.08
	wallet_multiple: float = 3.0
	margin_rate: float = 0.008
	capture_share: float = 0.3
	growth_cap: float = 1.0
	mvc_top_share: float = 0.2
	mgc_top_share: float = 0.2

	def annuity(self) -> float:
		if self.discount_rate == 0:
			return float(self.horizon_years)
		return (1 - (1 + self.discount_rate) ** -self.horizon_years) / self.discount_rate


def aum_growth(aum_recent: pd.Series, aum_year_ago: pd.Series) -> pd.Series:
	"""Relative AUM growth; 0 where there was nothing a year ago to grow from."""
	base = aum_year_ago.astype(float)
	growth = (aum_recent.astype(float) - base) / base.where(base > 0)
	return growth.fillna(0.0)


def lifetime_value(frame: pd.DataFrame, params: ValueParameters) -> pd.DataFrame:
	"""frame: annual_contribution, aum, declared_annual_income, growth. Returns the three parts and
	their sum."""
	annuity = params.annuity()
	explicit = frame["annual_contribution"].astype(float) * annuity
	wallet = (
		pd.to_numeric(frame["declared_annual_income"], errors="coerce").fillna(0.0) * params.wallet_multiple
	)
	gap = (wallet - frame["aum"].astype(float)).clip(lower=0)
	potential = gap * params.capture_share * params.margin_rate * annuity
	growth = explicit.clip(lower=0) * frame["growth"].astype(float).clip(lower=0, upper=params.growth_cap)
	return pd.DataFrame(
		{
			"explicit_value": explicit.round(2),
			"potential_value": potential.round(2),
			"growth_value": growth.round(2),
			"lifetime_value": (explicit + potential + growth).round(2),
		},
		index=frame.index,
	)


def value_classes(annual_contribution: pd.Series, upside: pd.Series, params: ValueParameters) -> pd.Series:
	"""BZC / MVC / MGC / Standard, by the shares in ``params`` (ties at a cut-off go up)."""
	contribution = annual_contribution.astype(float)
	classes = pd.Series("Standard", index=contribution.index, dtype=object)
	below_zero = contribution < 0
	classes[below_zero] = "BZC"
	positive = contribution[contribution > 0]
	if not positive.empty:
		cut = positive.quantile(1 - params.mvc_top_share, interpolation="lower")
		mvc = (contribution >= cut) & (contribution > 0)
		classes[mvc] = "MVC"
	rest = (classes == "Standard") & (upside > 0)
	if rest.any():
		cut = upside[rest].quantile(1 - params.mgc_top_share, interpolation="lower")
		classes[rest & (upside >= cut)] = "MGC"
	return classes


def value_customers(frame: pd.DataFrame, params: ValueParameters) -> pd.DataFrame:
	"""frame: customer, annual_contribution, aum, declared_annual_income, aum_recent, aum_year_ago."""
	inputs = frame.assign(growth=aum_growth(frame["aum_recent"], frame["aum_year_ago"]))
	parts = lifetime_value(inputs, params)
	parts.insert(0, "customer", frame["customer"])
	parts["value_class"] = value_classes(
		inputs["annual_contribution"], parts["potential_value"] + parts["growth_value"], params
	)
	return parts
