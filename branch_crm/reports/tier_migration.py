"""Tier migration: how customers moved between tiers over a period, as a from → to matrix."""

from __future__ import annotations

import pandas as pd

from branch_crm.reports.base import ReportResult, card, chart, column, records

NONE = "(none)"


def tiers_at_period_edges(profiles: pd.DataFrame, changes: pd.DataFrame, from_date, to_date) -> pd.DataFrame:
	"""customer, tier_at_start, tier_at_end. ``changes`` are Tier Change Log rows changed on or
	after ``from_date`` (customer, changed_on, from_tier, to_tier); ``profiles`` hold today's tier.
	A customer's tier at the start is the from-tier of their first change in the period; at the end,
	the to-tier of their last change up to ``to_date``, else the from-tier of their first later
	change, else today's tier."""
	start, end = pd.Timestamp(from_date), pd.Timestamp(to_date)
	frame = changes.assign(changed_on=pd.to_datetime(changes["changed_on"])).sort_values(
		["customer", "changed_on"], kind="stable"
	)
	frame = frame[frame["changed_on"] >= start]
	in_period = frame[frame["changed_on"] <= end]
	after = frame[frame["changed_on"] > end]
	first_in = in_period.groupby("customer")["from_tier"].first()
	last_in = in_period.groupby("customer")["to_tier"].last()
	first_after = after.groupby("customer")["from_tier"].first()

	out = profiles[["customer", "tier"]].set_index("customer")
	at_end = last_in.reindex(out.index).fillna(first_after.reindex(out.index)).fillna(out["tier"])
	# no change in the period: the customer started where they ended
	at_start = first_in.reindex(out.index).where(out.index.isin(first_in.index), at_end)
	return pd.DataFrame(
		{
			"customer": out.index,
			"tier_at_start": at_start.fillna(NONE).to_numpy(),
			"tier_at_end": at_end.fillna(NONE).to_numpy(),
		}
	)


def build_tier_migration(
	profiles: pd.DataFrame, changes: pd.DataFrame, tier_order: list[str], from_date, to_date
) -> ReportResult:
	edges = tiers_at_period_edges(profiles, changes, from_date, to_date)
	labels = [NONE, *tier_order]
	matrix = pd.crosstab(edges["tier_at_start"], edges["tier_at_end"]).reindex(
		index=labels, columns=labels, fill_value=0
	)
	rank = {name: i for i, name in enumerate(labels)}
	up = edges["tier_at_end"].map(rank) > edges["tier_at_start"].map(rank)
	down = edges["tier_at_end"].map(rank) < edges["tier_at_start"].map(rank)
	from_none = edges["tier_at_start"] == NONE

	rows = pd.DataFrame({"from_tier": labels})
	for i, tier in enumerate(labels):
		rows[f"to_{i}"] = matrix[tier].to_numpy()
	rows["total"] = matrix.sum(axis=1).to_numpy()
	rows["moved_up"] = [int((up & (edges["tier_at_start"] == t)).sum()) for t in labels]
	rows["moved_down"] = [int((down & (edges["tier_at_start"] == t)).sum()) for t in labels]
	rows = rows[rows["total"] > 0] if len(rows) > 1 else rows

	columns = [column("from_tier", "From Tier", "Link", 150, options="Customer Tier")]
	columns += [column(f"to_{i}", tier, "Int", 110) for i, tier in enumerate(labels)]
	columns += [
		column("total", "Customers", "Int", 100),
		column("moved_up", "Moved Up", "Int", 100),
		column("moved_down", "Moved Down", "Int", 100),
	]

	moved = chart(
		list(labels),
		[
			("Customers at start", [int(matrix.loc[t].sum()) for t in labels]),
			("Customers at end", [int(matrix[t].sum()) for t in labels]),
		],
		type="bar",
	)
	summary = [
		card(len(edges), "Customers"),
		card(int((up & ~from_none).sum()), "Upgrades", indicator="Green"),
		card(int(down.sum()), "Downgrades", indicator="Red"),
		card(int(from_none.sum()), "First Tiered", indicator="Grey"),
		card(int((~up & ~down).sum()), "Unchanged", indicator="Blue"),
	]
	return ReportResult(columns, records(rows), moved, summary)
