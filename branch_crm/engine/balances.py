"""Latest balances and activity per customer, from the monthly snapshots: what a profile shows."""

from __future__ import annotations

import pandas as pd

BALANCE_COLUMNS = ("aum", "deposits", "investments", "loans")
SUMMARY_COLUMNS = (
	"customer",
	"as_of_month",
	*BALANCE_COLUMNS,
	"avg_aum",
	"annual_contribution",
	"salary_credited_here",
)


def summarise_balances(snapshots: pd.DataFrame, *, window_months: int = 3) -> pd.DataFrame:
	"""One row per customer: balances of their latest month, average AUM over the ``window_months``
	calendar months ending at that month (months with no snapshot count as zero, since no snapshot
	means no balance reported), contribution summed over the last 12 months, and whether a salary
	was credited here in the window."""
	if snapshots.empty:
		return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
	frame = snapshots.assign(month=pd.to_datetime(snapshots["month"]))
	latest = frame.groupby("customer")["month"].transform("max")
	months_back = (latest.dt.year - frame["month"].dt.year) * 12 + (latest.dt.month - frame["month"].dt.month)

	current = frame[months_back == 0].set_index("customer")
	in_window = frame[months_back < window_months].groupby("customer")
	in_year = frame[months_back < 12].groupby("customer")
	summary = pd.DataFrame(
		{
			"as_of_month": current["month"].dt.date,
			**{c: pd.to_numeric(current[c]).astype(float) for c in BALANCE_COLUMNS},
			"avg_aum": in_window["aum"].sum().astype(float) / window_months,
			"annual_contribution": in_year["contribution"].sum().astype(float),
			"salary_credited_here": (in_window["salary_credit"].max().astype(float) > 0).astype(int),
		}
	)
	return summary.rename_axis("customer").reset_index()[list(SUMMARY_COLUMNS)]


def balance_changes(summary: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
	"""The rows of ``summary`` (customer + the summary columns) that differ from what the profiles
	hold (``stored``: name + the same columns): amounts to the cent, a missing amount as 0, the month
	as a date. A night where nothing changed writes nothing."""
	columns = [c for c in SUMMARY_COLUMNS if c != "customer"]
	held = stored.rename(columns={"name": "customer"}).set_index("customer").reindex(summary["customer"])
	differs = pd.Series(False, index=summary.index)
	for column in columns:
		new = summary[column].reset_index(drop=True)
		old = held[column].reset_index(drop=True)
		if column == "as_of_month":
			new, old = pd.to_datetime(new, errors="coerce"), pd.to_datetime(old, errors="coerce")
			same = (new == old) | (new.isna() & old.isna())
		else:
			new = pd.to_numeric(new, errors="coerce").fillna(0).astype(float).round(2)
			old = pd.to_numeric(old, errors="coerce").fillna(0).astype(float).round(2)
			same = (new - old).abs() < 0.005
		differs |= ~same.to_numpy()
	return summary[differs.to_numpy()]
