"""Tiers, segments and value classes at a glance: the offline counterpart of the nightly recompute."""

from __future__ import annotations

import pandas as pd

from branch_crm.reports.base import ReportResult, card, chart, column, records

VALUE_CLASSES = ("MVC", "MGC", "Standard", "BZC")


def build_tier_overview(recomputed: pd.DataFrame, tier_order: list[str]) -> ReportResult:
	"""recomputed: customer, tier, value_class, lifetime_value, avg_aum (one row per customer)."""
	frame = recomputed.assign(tier=pd.Categorical(recomputed["tier"], categories=tier_order, ordered=True))
	grouped = frame.groupby("tier", observed=False)
	rows = pd.DataFrame(
		{
			"tier": tier_order,
			"customers": grouped.size().reindex(tier_order).fillna(0).astype(int).to_numpy(),
			"avg_aum": grouped["avg_aum"].mean().reindex(tier_order).fillna(0).round(0).to_numpy(),
			"total_avg_aum": grouped["avg_aum"].sum().reindex(tier_order).fillna(0).round(0).to_numpy(),
			"lifetime_value": grouped["lifetime_value"]
			.sum()
			.reindex(tier_order)
			.fillna(0)
			.round(0)
			.to_numpy(),
		}
	)
	total = max(int(rows["customers"].sum()), 1)
	rows["share"] = (rows["customers"] * 100 / total).round(2)
	by_class = pd.crosstab(frame["tier"], frame["value_class"]).reindex(
		index=tier_order, columns=list(VALUE_CLASSES), fill_value=0
	)
	for value_class in VALUE_CLASSES:
		rows[value_class.lower()] = by_class[value_class].to_numpy()
	columns = [
		column("tier", "Tier", "Link", 140, options="Customer Tier"),
		column("customers", "Customers", "Int", 100),
		column("share", "Share %", "Percent", 90),
		column("avg_aum", "Average AUM", "Currency", 130),
		column("total_avg_aum", "Total AUM", "Currency", 150),
		column("lifetime_value", "Lifetime Value", "Currency", 150),
		column("mvc", "MVC", "Int", 80),
		column("mgc", "MGC", "Int", 80),
		column("standard", "Standard", "Int", 90),
		column("bzc", "BZC", "Int", 80),
	]
	summary = [
		card(len(frame), "Customers"),
		card(int((frame["value_class"] == "MVC").sum()), "Most Valuable (MVC)", indicator="Green"),
		card(int((frame["value_class"] == "MGC").sum()), "Most Growable (MGC)", indicator="Blue"),
		card(int((frame["value_class"] == "BZC").sum()), "Below Zero (BZC)", indicator="Red"),
		card(
			round(float(frame["lifetime_value"].sum())),
			"Lifetime Value",
			datatype="Currency",
			indicator="Grey",
		),
	]
	tiers_chart = chart(tier_order, [("Customers", rows["customers"].tolist())], type="bar")
	return ReportResult(columns, records(rows), tiers_chart, summary)


def build_segment_overview(recomputed: pd.DataFrame) -> ReportResult:
	"""recomputed: customer, bank_customer_group, familiarity, life_stage."""
	grouped = (
		recomputed.fillna({"bank_customer_group": "(none)"})
		.groupby(["bank_customer_group", "familiarity"], dropna=False)
		.size()
		.rename("customers")
		.reset_index()
		.sort_values("customers", ascending=False)
	)
	by_group = grouped.groupby("bank_customer_group", sort=False)["customers"].sum()
	columns = [
		column("bank_customer_group", "Customer Segment", "Link", 200, options="Bank Customer Group"),
		column("familiarity", "Familiarity", "Data", 110),
		column("customers", "Customers", "Int", 100),
	]
	summary = [
		card(len(recomputed), "Customers"),
		card(int((recomputed["familiarity"] == "Familiar").sum()), "Familiar", indicator="Green"),
		card(int((recomputed["familiarity"] == "Unfamiliar").sum()), "Unfamiliar", indicator="Orange"),
		card(int(recomputed["bank_customer_group"].isna().sum()), "Without Segment", indicator="Red"),
	]
	segments_chart = chart(list(by_group.index), [("Customers", by_group.tolist())], type="pie")
	return ReportResult(columns, records(grouped), segments_chart, summary)
