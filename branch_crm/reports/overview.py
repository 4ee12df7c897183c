"""Customer overview: who the branches serve and how much they hold, as of the latest month."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from branch_crm.engine.defaults import DEFAULT_TIERS
from branch_crm.reports.base import ReportResult, card, chart, column, records

# acquisition channel -> (fieldname, label); the labels are literals so that they get translated
CHANNEL_SHARES = {
	"Natural Walk-in": ("walk_in_pct", "Walk-in %"),
	"Staff Referral": ("staff_referral_pct", "Staff Referral %"),
	"Customer Referral": ("customer_referral_pct", "Customer Referral %"),
	"Outbound Marketing": ("outbound_pct", "Outbound Marketing %"),
}
# extra AUM band edges below the first tier threshold, so the mass of customers is not one bar
MASS_BAND_EDGES = (10_000.0, 50_000.0)


def latest_aum(customers: pd.DataFrame, snapshots: pd.DataFrame) -> tuple[pd.Series, pd.Timestamp | None]:
	"""AUM per customer (indexed like ``customers``) in the latest month of ``snapshots``, and that
	month. A customer without a snapshot in that month counts as 0: no snapshot, no balance."""
	if snapshots.empty:
		return pd.Series(0.0, index=customers.index), None
	months = pd.to_datetime(snapshots["month"])
	latest = months.max()
	current = snapshots.loc[months == latest]
	by_customer = pd.to_numeric(current["aum"]).astype(float).groupby(current["customer"].to_numpy()).sum()
	aum = customers["customer"].map(by_customer).fillna(0.0).astype(float)
	return aum, latest


def aum_bands(tiers=DEFAULT_TIERS) -> tuple[list[float], list[str]]:
	"""Band edges (lower bounds) and labels: the tier thresholds plus a split of the lowest tier."""
	thresholds = {float(t["min_avg_aum"]) for t in tiers}
	lowest_paid = min((t for t in thresholds if t > 0), default=float("inf"))
	edges = sorted({0.0, *thresholds, *(e for e in MASS_BAND_EDGES if e < lowest_paid)})
	labels = [f"{_short(lo)}-{_short(hi)}" for lo, hi in pairwise(edges)]
	labels.append(f"{_short(edges[-1])}+")
	return edges, labels


def _short(amount: float) -> str:
	for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
		if amount >= size:
			return f"{amount / size:g}{suffix}"
	return f"{amount:g}"


def build_customer_overview(
	customers: pd.DataFrame, snapshots: pd.DataFrame, tiers=DEFAULT_TIERS, months_of_data: int | None = None
) -> ReportResult:
	"""One row per branch: customers, total / average / median AUM in the latest month, customers with
	a relationship manager, and the share of each acquisition channel. Chart: customers per AUM band
	(bands at the tier thresholds). Summary: customers, total AUM, median AUM, months of data.

	``customers`` needs ``customer``, ``branch``, ``relationship_manager``, ``acquisition_channel``;
	``snapshots`` needs ``customer``, ``month``, ``aum``. Customers without a branch form a row with
	an empty branch."""
	aum, _latest = latest_aum(customers, snapshots)
	frame = pd.DataFrame(
		{
			"branch": customers["branch"].where(
				customers["branch"].notna() & (customers["branch"] != ""), None
			),
			"aum": aum,
			"has_rm": customers["relationship_manager"].notna()
			& (customers["relationship_manager"].astype(str).str.strip() != ""),
			"channel": customers["acquisition_channel"],
		},
		index=customers.index,
	)
	key = frame["branch"].fillna("")
	grouped = frame.groupby(key, sort=True)
	rows = pd.DataFrame(
		{
			"customers": grouped.size(),
			"total_aum": grouped["aum"].sum(),
			"avg_aum": grouped["aum"].mean(),
			"median_aum": grouped["aum"].median(),
			"with_rm": grouped["has_rm"].sum(),
		}
	)
	rows["with_rm_pct"] = 100.0 * rows["with_rm"] / rows["customers"]
	channel_counts = pd.crosstab(key, frame["channel"]).reindex(
		index=rows.index, columns=list(CHANNEL_SHARES), fill_value=0
	)
	for channel, (fieldname, _label) in CHANNEL_SHARES.items():
		rows[fieldname] = 100.0 * channel_counts[channel] / rows["customers"]
	rows = rows.sort_values(["total_aum", "customers"], ascending=False)
	rows = rows.rename_axis("branch").reset_index()
	rows["branch"] = rows["branch"].where(rows["branch"] != "", None)
	money = ["total_aum", "avg_aum", "median_aum"]
	rows[money] = rows[money].round(2)
	percents = ["with_rm_pct", *(fieldname for fieldname, _ in CHANNEL_SHARES.values())]
	rows[percents] = rows[percents].round(1)

	columns = [
		column("branch", "Branch", "Link", 180, options="Branch"),
		column("customers", "Customers", "Int", 100),
		column("total_aum", "Total AUM", "Currency", 150),
		column("avg_aum", "Average AUM", "Currency", 130),
		column("median_aum", "Median AUM", "Currency", 130),
		column("with_rm", "With RM", "Int", 100),
		column("with_rm_pct", "With RM %", "Percent", 100),
		column("walk_in_pct", "Walk-in %", "Percent", 100),
		column("staff_referral_pct", "Staff Referral %", "Percent", 100),
		column("customer_referral_pct", "Customer Referral %", "Percent", 100),
		column("outbound_pct", "Outbound Marketing %", "Percent", 100),
	]
	data = records(rows[[c["fieldname"] for c in columns]])

	edges, labels = aum_bands(tiers)
	band = np.searchsorted(np.asarray(edges), frame["aum"].to_numpy(), side="right") - 1
	counts = np.bincount(np.clip(band, 0, None), minlength=len(edges))[: len(edges)]
	band_chart = chart(labels, [("Customers", counts.tolist())], "bar")

	if months_of_data is None:  # else the snapshots given are the latest month's only
		months_of_data = pd.to_datetime(snapshots["month"]).nunique() if not snapshots.empty else 0
	months = months_of_data
	summary = [
		card(len(customers), "Customers", "Int", "Blue"),
		card(round(float(frame["aum"].sum()), 2), "Total AUM", "Currency", "Green"),
		card(round(float(frame["aum"].median()), 2) if len(frame) else 0.0, "Median AUM", "Currency", "Blue"),
		card(int(months), "Months of Data", "Int", "Grey"),
	]
	return ReportResult(columns=columns, data=data, chart=band_chart, summary=summary)
