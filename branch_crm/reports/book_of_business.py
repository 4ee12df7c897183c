"""Book of business: customers and AUM by relationship manager and tier, the unassigned, and each
book's load against its manager's capacity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from branch_crm.engine.assignment import (
	AssignmentParameters,
	customer_tiers,
	propose_books,
	role_serves,
	staff_table,
)
from branch_crm.engine.tiering import tier_table
from branch_crm.reports.base import ReportResult, card, chart, column, records

UNASSIGNED = "Unassigned"
FILTERS = ("branch", "relationship_manager", "tier", "role_type")


def build_book_of_business(
	profiles: pd.DataFrame,
	staff: pd.DataFrame | None,
	tiers,
	filters: dict | None = None,
	*,
	moves: pd.DataFrame | None = None,
	params: AssignmentParameters | None = None,
) -> ReportResult:
	"""One row per book holder: customers, AUM, customers per tier (``tier_0``, ``tier_1``, ... in
	tier order), load against ``max_customers`` and ``max_aum`` in %, whether over capacity, and how
	many customers the holder's role does not serve (to re-home). Then one row per branch for the
	customers without a manager (``full_name`` "Unassigned").

	``profiles``: customer, relationship_manager, tier (or aum to derive it), aum, branch.
	``staff``: as ``engine.assignment.staff_table`` reads it, or None (no capacity, no roles). Active
	staff whose role serves some tier appear even with an empty book. ``filters``: branch,
	relationship_manager, tier, role_type (each optional). ``moves`` (customer, from_rm, to_rm), e.g.
	a re-homing or Book Transfer preview, adds "Moving In" / "Moving Out" per manager."""
	filters = {k: v for k, v in (filters or {}).items() if k in FILTERS and v not in (None, "")}
	params = params or AssignmentParameters()
	table = tier_table(tiers)
	tier_names = table["tier_name"].tolist()
	book_roles = set(table["serving_role"].dropna()) if "serving_role" in table else set()
	st = staff_table(staff)
	by_user = st.set_index("user")

	frame = pd.DataFrame(
		{
			"customer": profiles["customer"].to_numpy(dtype=object),
			"relationship_manager": _blank_to_none(profiles.get("relationship_manager")),
			"branch": _blank_to_none(profiles.get("branch")),
			"aum": pd.to_numeric(profiles["aum"], errors="coerce").fillna(0).to_numpy(float)
			if "aum" in profiles
			else 0.0,
		}
	)
	frame["tier"], frame["serving_role"] = (s.to_numpy(dtype=object) for s in customer_tiers(profiles, tiers))
	frame["role_type"] = frame["relationship_manager"].map(by_user["role_type"]).astype(object)
	if "branch" in filters:
		frame = frame[frame["branch"] == filters["branch"]]
	if "tier" in filters:
		frame = frame[frame["tier"] == filters["tier"]]
	if "relationship_manager" in filters:
		frame = frame[frame["relationship_manager"] == filters["relationship_manager"]]
	if "role_type" in filters:
		frame = frame[frame["role_type"] == filters["role_type"]]
	frame = frame.reset_index(drop=True)

	assigned = frame[frame["relationship_manager"].notna()]
	holders = pd.Index(assigned["relationship_manager"].unique())
	empty_books = st[st["is_active"] & st["role_type"].isin(book_roles)]
	for key in ("branch", "relationship_manager", "role_type"):
		if key in filters:
			empty_books = empty_books[
				empty_books[key if key != "relationship_manager" else "user"] == filters[key]
			]
	holders = holders.union(pd.Index(empty_books["user"]), sort=False)

	grouped = assigned.groupby("relationship_manager")
	rows = pd.DataFrame({"relationship_manager": holders.to_numpy(dtype=object)})
	rows["full_name"] = rows["relationship_manager"].map(by_user["full_name"])
	home = grouped["branch"].agg(lambda b: b.mode().iat[0] if b.notna().any() else None)
	rows["branch"] = (
		rows["relationship_manager"].map(by_user["branch"]).fillna(rows["relationship_manager"].map(home))
	)
	rows["role_type"] = rows["relationship_manager"].map(by_user["role_type"])
	rows["customers"] = rows["relationship_manager"].map(grouped.size()).fillna(0).astype(int)
	rows["aum"] = rows["relationship_manager"].map(grouped["aum"].sum()).fillna(0.0).round(2)
	per_tier = pd.crosstab(assigned["relationship_manager"], assigned["tier"]).reindex(
		index=holders, columns=tier_names, fill_value=0
	)
	for i, name in enumerate(tier_names):
		rows[f"tier_{i}"] = per_tier[name].to_numpy()
	max_customers = rows["relationship_manager"].map(by_user["max_customers"]).astype(float)
	max_aum = rows["relationship_manager"].map(by_user["max_aum"]).astype(float)
	rows["max_customers"] = max_customers.where(np.isfinite(max_customers), None)
	rows["max_aum"] = max_aum.where(np.isfinite(max_aum), None)
	with np.errstate(divide="ignore", invalid="ignore"):
		rows["customer_load_pct"] = (rows["customers"] * 100 / max_customers).where(
			np.isfinite(max_customers)
		)
		rows["aum_load_pct"] = (rows["aum"] * 100 / max_aum).where(np.isfinite(max_aum))
	rows[["customer_load_pct", "aum_load_pct"]] = rows[["customer_load_pct", "aum_load_pct"]].round(1)
	over = (rows["customers"] > max_customers.fillna(np.inf)) | (rows["aum"] > max_aum.fillna(np.inf))
	rows["over_capacity"] = over.astype(int)
	unserved = (
		~role_serves(assigned["role_type"], assigned["serving_role"], params)
		& assigned["serving_role"].notna()
	)
	rows["to_rehome"] = (
		rows["relationship_manager"]
		.map(assigned[unserved].groupby("relationship_manager").size())
		.fillna(0)
		.astype(int)
		if not st.empty
		else None
	)
	if moves is not None and not moves.empty:
		moving = moves[moves["to_rm"].notna()]
		rows["moving_in"] = (
			rows["relationship_manager"].map(moving.groupby("to_rm").size()).fillna(0).astype(int)
		)
		rows["moving_out"] = (
			rows["relationship_manager"]
			.map(moving.dropna(subset=["from_rm"]).groupby("from_rm").size())
			.fillna(0)
			.astype(int)
		)
	rows = rows.sort_values(
		["branch", "role_type", "relationship_manager"], na_position="last", kind="stable"
	)

	unassigned = frame[frame["relationship_manager"].isna()]
	if not unassigned.empty:
		by_branch = unassigned.groupby(unassigned["branch"].fillna(""), sort=True)
		extra = pd.DataFrame(
			{
				"relationship_manager": None,
				"full_name": UNASSIGNED,
				"branch": [b or None for b in by_branch.groups],
				"role_type": None,
				"customers": by_branch.size().to_numpy(),
				"aum": by_branch["aum"].sum().round(2).to_numpy(),
			}
		)
		tiers_unassigned = pd.crosstab(unassigned["branch"].fillna(""), unassigned["tier"]).reindex(
			index=list(by_branch.groups), columns=tier_names, fill_value=0
		)
		for i, name in enumerate(tier_names):
			extra[f"tier_{i}"] = tiers_unassigned[name].to_numpy()
		rows = pd.concat([rows, extra], ignore_index=True)

	columns = [
		column("relationship_manager", "Relationship Manager", "Link", 200, options="Relationship Manager"),
		column("full_name", "Full Name", "Data", 120),
		column("branch", "Branch", "Link", 140, options="Branch"),
		column("role_type", "Role", "Data", 150),
		column("customers", "Customers", "Int", 100),
		column("aum", "Total AUM", "Currency", 150),
	]
	columns += [column(f"tier_{i}", name, "Int", 90) for i, name in enumerate(tier_names)]
	columns += [
		column("max_customers", "Maximum Customers", "Int", 110),
		column("customer_load_pct", "Customer Load %", "Percent", 110),
		column("max_aum", "Maximum AUM", "Currency", 150),
		column("aum_load_pct", "AUM Load %", "Percent", 110),
		column("over_capacity", "Over Capacity", "Check", 100),
		column("to_rehome", "To Re-home", "Int", 100),
	]
	if "moving_in" in rows:
		columns += [
			column("moving_in", "Moving In", "Int", 100),
			column("moving_out", "Moving Out", "Int", 100),
		]
	rows = rows.reindex(columns=[c["fieldname"] for c in columns])
	for name in ("customers", *(f"tier_{i}" for i in range(len(tier_names)))):
		rows[name] = rows[name].fillna(0).astype(int)

	books = rows[rows["relationship_manager"].notna()]
	rows["over_capacity"] = (
		rows["over_capacity"]
		.fillna(0)
		.astype(int)
		.astype(object)
		.where(rows["relationship_manager"].notna(), None)
	)
	labels = books["relationship_manager"].tolist()
	books_chart = chart(
		labels,
		[
			("Customers", books["customers"].tolist()),
			("AUM (millions)", (books["aum"] / 1e6).round(1).tolist()),
		],
		type="bar",
	)

	total = len(frame)
	n_unassigned = int(frame["relationship_manager"].isna().sum())
	summary = [
		card(total, "Customers"),
		card(
			round((total - n_unassigned) * 100 / total, 1) if total else 0.0, "Assigned %", "Percent", "Green"
		),
		card(n_unassigned, UNASSIGNED, indicator="Orange" if n_unassigned else "Grey"),
		card(
			int(books["over_capacity"].sum()),
			"Over Capacity",
			indicator="Red" if books["over_capacity"].any() else "Grey",
		),
		card(round(float(frame["aum"].sum()), 2), "Total AUM", "Currency", "Blue"),
	]
	if not st.empty:
		summary.append(
			card(int(unserved.sum()), "To Re-home", indicator="Orange" if unserved.any() else "Grey")
		)
	if "moving_in" in rows:
		summary.append(card(int(moves["to_rm"].notna().sum()), "Proposed Moves", indicator="Blue"))
	return ReportResult(columns, records(rows), books_chart, summary)


ACQUISITION_COLUMNS = ("acquisition_channel", "first_served_by", "referred_by_staff", "referred_by_customer")


def build_proposed_books(
	profiles: pd.DataFrame,
	customers: pd.DataFrame | None,
	staff: pd.DataFrame | None,
	tiers,
	branch: str | None = None,
	params: AssignmentParameters | None = None,
) -> ReportResult:
	"""The book of business of one branch as it would be after re-homing every customer whose
	manager's role does not serve their tier and assigning everyone without a manager
	(``engine.assignment.propose_books``), with each manager's moves in and out. ``profiles``:
	customer, branch, relationship_manager, tier, aum; ``customers``: the acquisition columns by
	customer. ``branch`` defaults to the one with the most customers. Without staff there is nobody
	to propose: the current books are shown."""
	frame = profiles.reset_index(drop=True)
	if branch is None and frame["branch"].notna().any():
		counts = frame["branch"].value_counts()
		branch = sorted(counts.index[counts == counts.max()])[0]
	if branch is not None:
		frame = frame[frame["branch"] == branch].reset_index(drop=True)
	filters = {"branch": branch}
	st = staff_table(staff)
	if st.empty:
		return build_book_of_business(frame, None, tiers, filters, params=params)
	if customers is not None:
		extra = [c for c in ACQUISITION_COLUMNS if c in customers and c not in frame]
		if extra:
			frame = frame.merge(customers[["customer", *extra]], on="customer", how="left")
	proposed, moves = propose_books(frame, st, tiers, params)
	return build_book_of_business(proposed, st, tiers, filters, moves=moves, params=params)


def _blank_to_none(values) -> np.ndarray:
	if values is None:
		return None
	values = pd.Series(values).astype(object)
	blank = values.isna() | (values.astype(str).str.strip() == "")
	return values.where(~blank, None).to_numpy(dtype=object)
