import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.assignment import (
	ASSIGN_COLUMNS,
	ASSIGNMENT_TEMPLATES,
	PLAN_COLUMNS,
	REHOME_COLUMNS,
	AssignmentParameters,
	NoEligibleStaff,
	assign_new_customers,
	auto_balance,
	book_loads,
	book_transfer_plan,
	consulted_staff,
	propose_books,
	rehome_proposals,
	render_assignment_reasons,
	reverse_plan,
	staff_table,
)
from branch_crm.engine.defaults import DEFAULT_TIERS

B1, B2 = "Branch One", "Branch Two"
ACQUISITION_CHANNELS_FOR_TEST = (
	"Natural Walk-in",
	"Staff Referral",
	"Customer Referral",
	"Outbound Marketing",
)
CORE_AUM, MASS_AUM, PB_AUM = 500_000.0, 20_000.0, 8_000_000.0


def staff_frame(**changes) -> pd.DataFrame:
	rows = [
		("rm1", B1, "Relationship Manager", 300, 0),
		("rm2", B1, "Relationship Manager", 300, 0),
		("pb1", B1, "Private Banker", 80, 0),
		("t1", B1, "Teller", 1500, 0),
		("t2", B1, "Teller", 1500, 0),
		("lobby", B1, "Lobby Manager", 300, 0),
		("bm", B1, "Branch Manager", 50, 0),
		("rm9", B2, "Relationship Manager", 300, 0),
		("t9", B2, "Teller", 1500, 0),
	]
	frame = pd.DataFrame(rows, columns=["user", "branch", "role_type", "max_customers", "max_aum"])
	frame["full_name"] = frame["user"].str.upper()
	frame["is_active"] = 1
	for user, values in changes.items():
		for column, value in values.items():
			frame.loc[frame["user"] == user, column] = value
	return frame


def books_frame(loads: dict[str, tuple[int, float]], extra: list[tuple] = ()) -> pd.DataFrame:
	"""Existing profiles: ``loads`` user -> (customers, total AUM), plus explicit (customer, rm, aum)."""
	rows = []
	for user, (count, total) in loads.items():
		rows += [(f"OLD-{user}-{i}", user, total / count) for i in range(count)]
	rows += list(extra)
	return pd.DataFrame(rows, columns=["customer", "relationship_manager", "aum"])


EVEN = {"rm1": (10, 5e6), "rm2": (10, 5e6), "t1": (20, 4e5), "t2": (20, 4e5), "pb1": (2, 2e7)}


def new(customer, channel, aum=CORE_AUM, branch=B1, first=None, staff_ref=None, customer_ref=None, tier=None):
	return {
		"customer": customer,
		"branch": branch,
		"acquisition_channel": channel,
		"first_served_by": first,
		"referred_by_staff": staff_ref,
		"referred_by_customer": customer_ref,
		"aum": aum,
		"tier": tier,
	}


def assign(rows, staff=None, books=None, params=None, **kwargs):
	return assign_new_customers(
		pd.DataFrame(rows),
		staff if staff is not None else staff_frame(),
		books if books is not None else books_frame(EVEN),
		DEFAULT_TIERS,
		params,
		**kwargs,
	).set_index("customer")


# ---------------------------------------------------------------- acquisition rules


@pytest.mark.parametrize("seed", range(8))
def test_loads_of_the_consulted_staff_place_as_everyones(seed):
	"""An intake reads the books of the staff the placement consults, not every book of the branch:
	the placement must come out the same."""
	rng = np.random.default_rng(seed)
	staff = staff_frame(
		t2={"max_customers": 25}, rm2={"max_customers": 16}, pb1={"max_customers": 3}, lobby={"is_active": 0}
	)
	books = books_frame(
		{
			"rm1": (12, 6e6),
			"rm2": (15, 7e6),
			"t1": (20, 4e5),
			"t2": (24, 4e5),
			"pb1": (2, 2e7),
			"rm9": (5, 1e6),
		},
		extra=[(f"OLD-X-{i}", rng.choice([None, "", "gone@bank"]), 1000.0) for i in range(4)],
	)
	rows = []
	for i in range(120):
		channel = rng.choice([*ACQUISITION_CHANNELS_FOR_TEST, None])
		rows.append(
			new(
				f"N{i}",
				channel,
				aum=float(rng.choice([0.0, MASS_AUM, CORE_AUM, PB_AUM])),
				branch=rng.choice([B1, B1, B2]),
				first=rng.choice(["t1", "t2", "lobby", "rm1", "stranger", None]),
				staff_ref=rng.choice(["rm1", "t9", "lobby", "bm", None]),
				customer_ref=rng.choice([*books["customer"].head(30), f"N{max(i - 3, 0)}", "NOBODY", None]),
			)
		)
	frame = pd.DataFrame(rows)
	everyone = assign_new_customers(frame, staff, books, DEFAULT_TIERS)
	consulted = consulted_staff(frame, staff, books, DEFAULT_TIERS)
	assert "rm9" in consulted and "lobby" in consulted  # named, though inactive
	# each consulted book counted as far as asked (the rows a database would stop at: any of them)
	counted = pd.concat(
		[
			mine if cap is None else mine.sample(frac=1, random_state=seed).head(cap)
			for user, cap in consulted.items()
			for mine in [books[books["relationship_manager"] == user]]
		]
	)
	only = assign_new_customers(frame, staff, books, DEFAULT_TIERS, loads=book_loads(counted))
	pd.testing.assert_frame_equal(only, everyone)
	# the pools' staff are counted whole; the branch manager, named by referrals but in no pool, only
	# up to the 50 customers that make the book full (it holds 60)
	assert consulted["t1"] is None and consulted["t9"] is None and consulted["bm"] == 50
	assert everyone["reason_code"].nunique() > 4


def test_walk_in_goes_to_first_server():
	out = assign([new("N1", "Natural Walk-in", first="rm2")])
	row = out.loc["N1"]
	assert row["relationship_manager"] == "rm2"
	assert row["reason_code"] == "first_served" and row["rule"] == "Natural Walk-in"
	assert row["tier"] == "Core" and row["serving_role"] == "Relationship Manager"
	assert row["reason"] == "Natural walk-in: assigned to rm2, who first served them"
	assert list(
		assign_new_customers(
			pd.DataFrame([new("N1", "Natural Walk-in")]), staff_frame(), None, DEFAULT_TIERS
		).columns
	) == list(ASSIGN_COLUMNS)


def test_walk_in_to_a_full_book_is_rebalanced_by_count():
	books = books_frame({"rm1": (30, 15e6), "rm2": (10, 15e6)})  # same AUM, 30 vs 10 customers
	out = assign([new("N1", "Natural Walk-in", first="rm1")], books=books)
	assert out.loc["N1", "relationship_manager"] == "rm2"
	assert out.loc["N1", "reason_code"] == "unbalanced" and out.loc["N1", "candidate"] == "rm1"
	assert (
		"rm1" in out.loc["N1", "reason"]
		and "least-loaded Relationship Manager, rm2" in out.loc["N1", "reason"]
	)
	# a wider tolerance lets the first server keep them: (30 + 1) <= (41 / 2) * 1.6
	wide = assign(
		[new("N1", "Natural Walk-in", first="rm1")],
		books=books,
		params=AssignmentParameters(count_tolerance=0.6),
	)
	assert wide.loc["N1", "relationship_manager"] == "rm1"


def test_walk_in_to_a_rich_book_is_rebalanced_by_aum():
	books = books_frame({"rm1": (10, 30e6), "rm2": (10, 10e6)})
	out = assign([new("N1", "Natural Walk-in", first="rm1")], books=books)
	assert out.loc["N1", "relationship_manager"] == "rm2" and out.loc["N1", "reason_code"] == "unbalanced"
	loose = assign(
		[new("N1", "Natural Walk-in", first="rm1")],
		books=books,
		params=AssignmentParameters(aum_tolerance=1.0),
	)
	assert loose.loc["N1", "relationship_manager"] == "rm1"


def test_walk_in_first_served_by_the_branch_manager():
	out = assign([new("N1", "Natural Walk-in", first="bm")])
	assert out.loc["N1", "relationship_manager"] == "bm" and out.loc["N1", "reason_code"] == "first_served"


def test_serving_role_wins_over_the_first_server():
	out = assign(
		[new("N1", "Natural Walk-in", first="t1"), new("N2", "Natural Walk-in", aum=PB_AUM, first="rm1")]
	)
	assert out.loc["N1", "relationship_manager"] in {"rm1", "rm2"}
	assert out.loc["N1", "reason_code"] == "role_override"
	assert out.loc["N1", "reason"] == (
		"Natural Walk-in: t1 does not serve the Core tier, which calls for a Relationship Manager; "
		"assigned to the least-loaded Relationship Manager, rm1"
	)
	assert out.loc["N2", "tier"] == "Private Banking"
	assert out.loc["N2", "relationship_manager"] == "pb1" and out.loc["N2", "reason_code"] == "role_override"


def test_staff_referral_stays_with_the_referrer_for_the_mass_tier():
	out = assign(
		[
			new("N1", "Staff Referral", aum=MASS_AUM, staff_ref="lobby"),
			new("N2", "Staff Referral", aum=MASS_AUM, staff_ref="t2"),
			new("N3", "Staff Referral", aum=CORE_AUM, staff_ref="t2"),
			new("N4", "Staff Referral", aum=CORE_AUM, staff_ref="rm2"),
		]
	)
	assert out.loc["N1", ["relationship_manager", "reason_code"]].tolist() == ["lobby", "staff_referrer"]
	assert out.loc["N2", ["relationship_manager", "reason_code"]].tolist() == ["t2", "staff_referrer"]
	assert out.loc["N1", "reason"] == "Staff referral: assigned to the referrer, lobby"
	# a core customer goes to a relationship manager; the reason still names the referring teller
	assert out.loc["N3", "relationship_manager"] == "rm1" and out.loc["N3", "reason_code"] == "role_override"
	assert out.loc["N3", "candidate"] == "t2" and "t2 does not serve the Core tier" in out.loc["N3", "reason"]
	assert out.loc["N4", ["relationship_manager", "reason_code"]].tolist() == ["rm2", "staff_referrer"]


def test_customer_referral_goes_to_the_referrers_manager():
	books = books_frame(
		{"rm1": (10, 5e6), "rm2": (30, 30e6)}, extra=[("X1", "rm2", 900_000.0), ("X2", "", 1.0)]
	)
	out = assign(
		[
			new("N1", "Customer Referral", customer_ref="X1"),
			new("N2", "Customer Referral", customer_ref="X2"),
			new("N3", "Customer Referral", customer_ref=None),
		],
		books=books,
	)
	# no balance check for referrals: rm2 keeps it although their book is bigger
	assert out.loc["N1", ["relationship_manager", "reason_code"]].tolist() == ["rm2", "customer_referrer"]
	assert out.loc["N1", "reason"] == "Referred by customer X1: assigned to their relationship manager, rm2"
	assert out.loc["N2", ["relationship_manager", "reason_code"]].tolist() == ["rm1", "referrer_unserved"]
	assert "referring customer X2 has no relationship manager" in out.loc["N2", "reason"]
	assert out.loc["N3", "reason_code"] == "no_candidate"
	with pytest.raises(ValueError, match="more than once"):
		assign([new("N1", "Outbound Marketing"), new("N1", "Outbound Marketing")])


def test_a_referrer_in_the_same_batch_is_assigned_first():
	# N2 is listed before its referrer N1, who walks in to rm2
	out = assign(
		[new("N2", "Customer Referral", customer_ref="N1"), new("N1", "Natural Walk-in", first="rm2")]
	)
	assert out.loc["N1", "relationship_manager"] == "rm2"
	assert out.loc["N2", ["relationship_manager", "reason_code", "candidate"]].tolist() == [
		"rm2",
		"customer_referrer",
		"rm2",
	]
	assert list(out.index) == ["N2", "N1"]  # output keeps the input order


def test_outbound_marketing_is_spread_evenly_round_robin():
	rows = [new(f"N{i}", "Outbound Marketing") for i in range(6)]
	out = assign(rows)
	# equal books: ties go to the lower AUM, then the user id, and loads update as the batch goes
	assert out["relationship_manager"].tolist() == ["rm1", "rm2", "rm1", "rm2", "rm1", "rm2"]
	assert set(out["reason_code"]) == {"spread_evenly"}
	assert (
		out.loc["N0", "reason"]
		== "Outbound marketing: spread evenly, assigned to the least-loaded Relationship Manager, rm1"
	)
	# a lighter book catches up first
	books = books_frame({"rm1": (10, 5e6), "rm2": (7, 5e6)})
	assert assign(rows, books=books)["relationship_manager"].tolist() == [
		"rm2",
		"rm2",
		"rm2",
		"rm1",
		"rm2",
		"rm1",
	]


def test_least_loaded_ties_break_on_aum_then_user():
	same_count = books_frame({"rm1": (10, 9e6), "rm2": (10, 5e6)})
	assert (
		assign([new("N1", "Outbound Marketing")], books=same_count).loc["N1", "relationship_manager"] == "rm2"
	)
	identical = books_frame({"rm1": (10, 5e6), "rm2": (10, 5e6)})
	assert (
		assign([new("N1", "Outbound Marketing")], books=identical).loc["N1", "relationship_manager"] == "rm1"
	)
	# loads can be passed directly instead of derived from the books
	loads = pd.DataFrame({"user": ["rm1", "rm2"], "customers": [3, 9], "aum": [1e6, 1e6]})
	assert (
		assign(
			[new("N1", "Outbound Marketing")],
			books=pd.DataFrame(columns=["customer", "relationship_manager"]),
			loads=loads,
		).loc["N1", "relationship_manager"]
		== "rm1"
	)


def test_no_channel_and_unknown_or_missing_tiers():
	out = assign(
		[
			new("N1", None),
			new("N2", "Natural Walk-in", tier="Platinum"),
			{"customer": "N3", "branch": B1, "acquisition_channel": "Outbound Marketing", "aum": MASS_AUM},
		]
	)
	assert out.loc["N1", ["relationship_manager", "reason_code"]].tolist() == ["rm1", "no_channel"]
	assert out.loc["N2", "relationship_manager"] is None and out.loc["N2", "reason_code"] == "unknown_tier"
	assert out.loc["N3", "tier"] == "Mass" and out.loc["N3", "relationship_manager"] == "t1"  # tier from AUM


def test_candidate_inactive_or_in_another_branch():
	staff = staff_frame(rm2={"is_active": 0})
	out = assign(
		[
			new("N1", "Natural Walk-in", first="rm2"),
			new("N2", "Natural Walk-in", first="rm9"),
			new("N3", "Natural Walk-in", first="ghost"),
		],
		staff=staff,
	)
	assert out.loc["N1", ["relationship_manager", "reason_code"]].tolist() == ["rm1", "candidate_unavailable"]
	assert out.loc["N1", "reason"].startswith("Natural Walk-in: rm2 is not active staff of Branch One;")
	assert out.loc["N2", ["relationship_manager", "reason_code"]].tolist() == ["rm1", "candidate_unavailable"]
	assert out.loc["N3", "reason_code"] == "candidate_unavailable"


# ---------------------------------------------------------------- capacity and nobody eligible


def test_capacity_limits_the_candidate_and_the_least_loaded():
	staff = staff_frame(rm2={"max_customers": 10}, rm1={"max_aum": 5_200_000})
	out = assign(
		[
			new("N1", "Natural Walk-in", aum=100_000, tier="Core", first="rm2"),  # rm2 is full (10 of 10)
			new("N2", "Outbound Marketing", aum=300_000),  # rm1 has 100,000 of AUM room left now
		],
		staff=staff,
	)
	assert out.loc["N1", ["relationship_manager", "reason_code"]].tolist() == ["rm1", "candidate_full"]
	assert out.loc["N1", "reason"].startswith("Natural Walk-in: rm2 is at capacity;")
	assert out.loc["N2", "relationship_manager"] is None and out.loc["N2", "reason_code"] == "all_at_capacity"
	assert out.loc["N2", "reason"] == (
		"No eligible staff for tier Core in branch Branch One: every active Relationship Manager is at capacity"
	)
	with pytest.raises(NoEligibleStaff) as error:
		assign([new("N2", "Outbound Marketing", aum=300_000)], staff=staff, strict=True)
	assert error.value.reason_code == "all_at_capacity"


def test_nobody_eligible_is_reported_or_raised_naming_tier_and_branch():
	rows = [
		new("N1", "Natural Walk-in", aum=PB_AUM, branch=B2, first="rm9"),
		new("N2", "Natural Walk-in", branch=B2, first="rm9"),
	]
	out = assign(rows)
	assert out.loc["N1", "relationship_manager"] is None
	assert out.loc["N1", "reason_code"] == "no_eligible_staff"
	assert (
		out.loc["N1", "reason"]
		== "No eligible staff for tier Private Banking in branch Branch Two: no active Private Banker"
	)
	assert out.loc["N2", "relationship_manager"] == "rm9"  # the rest of the batch still goes through
	with pytest.raises(NoEligibleStaff) as error:
		assign(rows, strict=True)
	assert isinstance(error.value, ValueError)
	assert error.value.tier == "Private Banking" and error.value.branch == B2
	assert error.value.serving_role == "Private Banker" and error.value.customers == ("N1",)
	assert "Private Banking" in str(error.value) and "Branch Two" in str(error.value)
	# an inactive manager is nobody
	staff = staff_frame(rm9={"is_active": 0})
	assert assign([rows[1]], staff=staff).loc["N2", "reason_code"] == "no_eligible_staff"


def test_translated_templates_and_labels():
	out = assign(
		[new("N1", "Natural Walk-in", first="rm2")],
		templates={"first_served": "自然到店：分配给首次接待的 {relationship_manager}"},
		labels={"rm2": "王经理"},
	)
	assert out.loc["N1", "reason"] == "自然到店：分配给首次接待的 王经理"
	frame = pd.DataFrame(
		{
			"reason_code": ["no_eligible_staff"],
			"tier": ["VIP"],
			"branch": [None],
			"serving_role": ["Relationship Manager"],
		}
	)
	assert (
		render_assignment_reasons(frame).iat[0]
		== "No eligible staff for tier VIP in branch (none): no active Relationship Manager"
	)


def test_every_template_renders_from_known_columns():
	known = set(ASSIGN_COLUMNS) | set(REHOME_COLUMNS) | set(PLAN_COLUMNS) | {"reverses_effective_date"}
	import string

	for code, template in ASSIGNMENT_TEMPLATES.items():
		names = {name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name}
		assert names <= known, (code, names - known)


# ---------------------------------------------------------------- auto-balance


def lognormal_customers(n: int, seed: int) -> pd.DataFrame:
	rng = np.random.default_rng(seed)
	aum = np.exp(10.95 + 1.5 * rng.standard_normal(n))
	wealthy = rng.random(n) < 0.006
	aum[wealthy] = np.exp(np.log(6_500_000) + 0.7 * rng.standard_normal(int(wealthy.sum())))
	return pd.DataFrame({"customer": [f"C{i:05d}" for i in range(n)], "aum": aum.round(2)})


def managers(k: int, **columns) -> pd.DataFrame:
	return pd.DataFrame({"user": [f"rm{j:02d}" for j in range(k)], **columns})


def test_auto_balance_evens_count_and_aum_within_two_percent():
	customers = lognormal_customers(5000, seed=11)
	assignment, unplaced, stats = auto_balance(customers, managers(10))
	assert unplaced.empty and len(assignment) == 5000
	assert sorted(assignment["customer"]) == sorted(customers["customer"])  # each exactly once
	books = assignment.groupby("to_rm")["aum"].agg(["size", "sum"])
	target_count, target_aum = 500, customers["aum"].sum() / 10
	assert (books["size"] == target_count).all()
	assert (books["sum"] / target_aum - 1).abs().max() < 0.02
	assert stats.within_tolerance and stats.max_aum_deviation_pct < 2 and stats.max_count_deviation_pct < 2
	assert stats.target_customers == pytest.approx(500) and stats.target_aum == pytest.approx(target_aum)
	assert stats.books.set_index("user")["aum"].to_dict() == pytest.approx(books["sum"].to_dict())
	assert stats.notes == ()


def test_auto_balance_respects_capacity_and_existing_books():
	customers = lognormal_customers(3000, seed=12)
	targets = managers(
		6,
		max_customers=[300, 0, 0, 900, 0, 0],
		max_aum=[0, 60_000_000, 0, 0, 0, 0],
		customers=[0, 0, 200, 0, 50, 600],
		aum=[0.0, 0.0, 40e6, 0.0, 1e7, 2e8],
	)
	assignment, unplaced, stats = auto_balance(customers, targets)
	assert unplaced.empty
	gained = assignment.groupby("to_rm")["aum"].agg(["size", "sum"]).reindex(targets["user"], fill_value=0)
	final_count = targets["customers"].to_numpy() + gained["size"].to_numpy()
	final_aum = targets["aum"].to_numpy() + gained["sum"].to_numpy()
	assert final_count[0] == 300 and final_count[3] <= 900 and final_aum[1] <= 60_000_000
	assert final_aum[1] > 59_000_000  # capped by its AUM limit, filled up to it
	# the others level at 710 customers; the book already above the AUM level takes only small customers
	assert final_count[1:].tolist() == [710] * 5
	assert 200e6 < final_aum[5] < 201e6
	level = final_aum[[0, 2, 3, 4]]
	assert level.max() / level.min() - 1 < 0.01
	books = stats.books.set_index("user")
	assert (books["customers"] <= books["max_customers"]).all() and (books["aum"] <= books["max_aum"]).all()
	assert stats.within_tolerance


def test_auto_balance_reports_who_cannot_be_placed():
	customers = lognormal_customers(1000, seed=13)
	assignment, unplaced, stats = auto_balance(customers, managers(4, max_customers=200))
	assert len(assignment) == 800 and len(unplaced) == 200 and stats.unplaced == 200
	assert set(unplaced["reason_code"]) == {"balance_no_capacity"}
	assert unplaced["aum"].max() <= assignment["aum"].min()  # the biggest customers are placed first
	assert (
		unplaced["reason"].iat[0]
		== "No eligible manager has room for another customer (maximum customers reached)"
	)
	assert any("could not be placed" in note for note in stats.notes)

	whale = pd.DataFrame({"customer": ["W", "S"], "aum": [9e8, 1e5]})
	assignment, unplaced, _stats = auto_balance(whale, managers(2, max_aum=5e8))
	assert assignment["customer"].tolist() == ["S"]
	assert unplaced.set_index("customer").loc["W", "reason"] == (
		"AUM 900,000,000 exceeds the AUM capacity left with every eligible manager"
	)

	assignment, unplaced, stats = auto_balance(whale, managers(0))
	assert assignment.empty and set(unplaced["reason_code"]) == {"balance_no_staff"}


def test_auto_balance_is_honest_about_a_customer_too_big_to_balance():
	customers = pd.concat(
		[lognormal_customers(2000, seed=14), pd.DataFrame({"customer": ["WHALE"], "aum": [4e8]})],
		ignore_index=True,
	)
	assignment, _unplaced, stats = auto_balance(customers, managers(5))
	assert not stats.within_tolerance and stats.max_aum_deviation_pct > 2
	assert any("the largest customer holds 400,000,000" in note for note in stats.notes)
	# the other books are still even among themselves, and counts are still exact
	whale_rm = assignment.set_index("customer").loc["WHALE", "to_rm"]
	others = stats.books[stats.books["user"] != whale_rm]
	assert others["aum"].max() / others["aum"].min() - 1 < 0.01
	assert stats.books["customers"].max() - stats.books["customers"].min() <= 1


def test_auto_balance_is_deterministic_and_order_independent():
	customers = lognormal_customers(800, seed=15)
	first = auto_balance(customers, managers(7))[0].sort_values("customer").reset_index(drop=True)
	shuffled = customers.sample(frac=1, random_state=3)
	second = auto_balance(shuffled, managers(7).iloc[::-1])[0].sort_values("customer").reset_index(drop=True)
	pd.testing.assert_frame_equal(first, second)


def test_auto_balance_tops_up_the_lightest_books_first():
	customers = pd.DataFrame({"customer": [f"N{i}" for i in range(6)], "aum": [1000.0] * 6})
	targets = managers(3, customers=[10, 4, 6], aum=[1e4, 4e3, 6e3])
	assignment, _unplaced, stats = auto_balance(customers, targets)
	assert assignment["to_rm"].value_counts().to_dict() == {"rm01": 4, "rm02": 2}
	assert stats.books["customers"].tolist() == [10, 8, 8]


# ---------------------------------------------------------------- re-homing


def profiles_frame(rows) -> pd.DataFrame:
	return pd.DataFrame(rows, columns=["customer", "branch", "relationship_manager", "tier", "aum"])


def test_rehome_proposals_when_the_role_does_not_serve_the_tier():
	profiles = profiles_frame(
		[
			("A", B1, "t1", "Core", CORE_AUM),  # a teller holds a core customer
			("B", B1, "lobby", "Mass", MASS_AUM),  # a lobby manager may hold mass customers
			("C", B1, "rm1", "Private Banking", PB_AUM),  # a private-banking customer with an RM
			("D", B1, "rm1", "Core", CORE_AUM),  # fine
			("E", B1, "rm2", None, 5_000.0),  # tier from AUM: mass, held by an RM
			("F", B2, "t9", "VIP", 2e6),  # no RM in branch two... there is: rm9
			("G", B1, None, "Core", CORE_AUM),  # unassigned: not a re-homing matter
		]
	)
	out = rehome_proposals(profiles, staff_frame(), DEFAULT_TIERS).set_index("customer")
	assert list(out.columns) == [c for c in REHOME_COLUMNS if c != "customer"]
	assert sorted(out.index) == ["A", "C", "E", "F"]
	assert out.loc["A", ["from_rm", "to_rm", "reason_code"]].tolist() == ["t1", "rm2", "rehome_role"]
	assert (
		out.loc["A", "reason"]
		== "Tier Core calls for a Relationship Manager, but t1 is a Teller: proposed move to rm2"
	)
	assert out.loc["C", "to_rm"] == "pb1"
	assert out.loc["E", ["tier", "to_rm"]].tolist() == ["Mass", "t1"]
	assert out.loc["F", "to_rm"] == "rm9"


def test_rehome_proposals_balance_and_report_nobody_eligible():
	profiles = profiles_frame(
		[(f"T{i}", B1, "t1", "Core", CORE_AUM) for i in range(4)]
		+ [("P", B2, "rm9", "Private Banking", PB_AUM), ("Q", B1, "gone", "Core", CORE_AUM)]
	)
	staff = pd.concat(
		[
			staff_frame(),
			pd.DataFrame(
				[{"user": "gone", "branch": B1, "role_type": "Relationship Manager", "is_active": 0}]
			),
		]
	)
	out = rehome_proposals(profiles, staff, DEFAULT_TIERS).set_index("customer")
	# five customers for two equal RMs: 3 and 2 (the inactive manager's customer is proposed too)
	assert out.loc[["T0", "T1", "T2", "T3", "Q"], "to_rm"].value_counts().to_dict() == {"rm1": 3, "rm2": 2}
	assert out.loc["Q", "reason_code"] == "rehome_inactive"
	assert out.loc["Q", "reason"].startswith("gone is not active staff: proposed move to rm")
	assert out.loc["P", "to_rm"] is None and out.loc["P", "reason_code"] == "rehome_no_eligible"
	assert "no eligible staff for tier Private Banking in branch Branch Two" in out.loc["P", "reason"]


def test_rehome_proposals_respect_capacity():
	profiles = profiles_frame([(f"T{i}", B1, "t1", "Core", CORE_AUM) for i in range(5)])
	staff = staff_frame(rm1={"max_customers": 1}, rm2={"max_customers": 2})
	out = rehome_proposals(profiles, staff, DEFAULT_TIERS)
	assert out["to_rm"].value_counts().to_dict() == {"rm2": 2, "rm1": 1}
	full = out[out["to_rm"].isna()]
	assert len(full) == 2 and set(full["reason_code"]) == {"rehome_full"}
	assert "every eligible Relationship Manager in branch Branch One is at capacity" in full["reason"].iat[0]


def test_propose_books_rehomes_and_assigns():
	profiles = profiles_frame(
		[
			("A", B1, "t1", "Core", CORE_AUM),
			("B", B1, None, "Mass", MASS_AUM),
			("C", B1, "rm1", "Core", CORE_AUM),
		]
	)
	profiles["acquisition_channel"] = [None, "Staff Referral", None]
	profiles["referred_by_staff"] = [None, "lobby", None]
	proposed, moves = propose_books(profiles, staff_frame(), DEFAULT_TIERS)
	assert proposed.set_index("customer")["relationship_manager"].to_dict() == {
		"A": "rm2",
		"B": "lobby",
		"C": "rm1",
	}
	assert moves.set_index("customer")["kind"].to_dict() == {"A": "Re-home", "B": "Assign"}


# ---------------------------------------------------------------- book transfers


def branch_profiles() -> pd.DataFrame:
	rows = [(f"R{i:02d}", B1, "rm1", "Core", 300_000.0 + 10_000 * i) for i in range(12)]
	rows += [("PB", B1, "rm1", "Private Banking", PB_AUM)]
	rows += [(f"S{i}", B1, "rm2", "Core", 400_000.0) for i in range(3)]
	return profiles_frame(rows)


def test_auto_transfer_balances_among_eligible_staff():
	staff = pd.concat(
		[
			staff_frame(),
			pd.DataFrame(
				[{"user": "rm3", "branch": B1, "role_type": "Relationship Manager", "is_active": 1}]
			),
		]
	)
	plan = book_transfer_plan(branch_profiles(), "rm1", "auto", staff, "2026-11-01", tiers=DEFAULT_TIERS)
	assert list(plan.columns) == list(PLAN_COLUMNS)
	assert len(plan) == 13 and (plan["from_rm"] == "rm1").all() and "rm1" not in set(plan["to_rm"])
	assert plan.set_index("customer").loc["PB", "to_rm"] == "pb1"  # the serving role still wins
	core = plan[plan["tier"] == "Core"]
	final = core["to_rm"].value_counts() + pd.Series({"rm2": 3, "rm3": 0})
	assert final.max() - final.min() <= 1  # rm2 already had 3: rm3 takes more
	assert (plan["effective_date"] == pd.Timestamp("2026-11-01")).all()
	assert set(plan["reason_code"]) == {"transfer_auto"}
	assert plan.set_index("customer").loc["PB", "reason"] == (
		"Book transfer from rm1, auto-balanced among eligible Private Banker staff: to pb1, effective 2026-11-01"
	)


def test_named_transfer_capacity_and_validation():
	staff = staff_frame(rm2={"max_customers": 10})
	plan = book_transfer_plan(branch_profiles(), "rm1", ["rm2"], staff, "2026-11-01", tiers=DEFAULT_TIERS)
	moved = plan[plan["to_rm"].notna()]
	assert len(moved) == 7 and (moved["to_rm"] == "rm2").all()  # 3 + 7 = 10 customers
	stays = plan[plan["to_rm"].isna()]
	assert len(stays) == 6 and set(stays["reason_code"]) == {"transfer_full"}
	assert "PB" in set(moved["customer"])  # biggest first
	assert plan.set_index("customer").loc["PB", "reason_code"] == "transfer_named_role"
	assert (
		"note: tier Private Banking calls for a Private Banker"
		in plan.set_index("customer").loc["PB", "reason"]
	)
	assert (moved[moved["customer"] != "PB"]["reason_code"] == "transfer_named").all()

	with pytest.raises(ValueError, match="not staff: nobody"):
		book_transfer_plan(branch_profiles(), "rm1", ["rm2", "nobody"], staff, "2026-11-01")
	with pytest.raises(ValueError, match="own book"):
		book_transfer_plan(branch_profiles(), "rm1", "rm1", staff, "2026-11-01")
	with pytest.raises(ValueError, match="not active: rm2"):
		book_transfer_plan(branch_profiles(), "rm1", "rm2", staff_frame(rm2={"is_active": 0}), "2026-11-01")
	assert book_transfer_plan(branch_profiles(), "t1", "auto", staff, "2026-11-01").empty


def test_named_transfer_without_tiers_balances_over_the_named():
	plan = book_transfer_plan(branch_profiles(), "rm1", ["rm2", "bm"], staff_frame(), dt_date := "2026-12-31")
	counts = plan["to_rm"].value_counts().to_dict()
	assert counts == {"bm": 8, "rm2": 5}  # final books 8 and 8
	assert plan["reason"].iat[0].endswith(f"effective {dt_date}")


def test_reverse_plan_restores_the_books():
	profiles = branch_profiles()
	plan = book_transfer_plan(profiles, "rm1", "auto", staff_frame(), "2026-11-01", tiers=DEFAULT_TIERS)
	applied = profiles.copy()
	applied["relationship_manager"] = (
		applied["customer"].map(plan.set_index("customer")["to_rm"]).fillna(applied["relationship_manager"])
	)
	back = reverse_plan(plan, effective_date="2026-11-15")
	assert (back["to_rm"] == "rm1").all() and set(back["from_rm"]) <= {"rm2", "pb1"}
	assert (back["reverses_effective_date"] == pd.Timestamp("2026-11-01")).all()
	assert (back["effective_date"] == pd.Timestamp("2026-11-15")).all()
	assert back["reason"].iat[0].startswith("Reversal of the book transfer effective 2026-11-01: back to rm1")
	restored = applied.copy()
	restored["relationship_manager"] = (
		restored["customer"].map(back.set_index("customer")["to_rm"]).fillna(restored["relationship_manager"])
	)
	pd.testing.assert_frame_equal(restored, profiles)

	# a customer who moved on since is not pulled back
	applied.loc[applied["customer"] == "R00", "relationship_manager"] = "rm9"
	back = reverse_plan(plan, current=applied).set_index("customer")
	assert back.loc["R00", "to_rm"] is None and back.loc["R00", "reason_code"] == "reverse_skipped"
	assert back.drop("R00")["to_rm"].eq("rm1").all()
	assert (back["effective_date"] == pd.Timestamp("2026-11-01")).all()


# ---------------------------------------------------------------- inputs and purity


def test_staff_table_and_loads():
	table = staff_table(
		pd.DataFrame(
			{"user": ["b", "a"], "role_type": ["Teller", "Teller"], "max_customers": [0, 5], "active": [1, 0]}
		)
	)
	assert table["user"].tolist() == ["a", "b"]
	assert table["max_customers"].tolist() == [5, np.inf] and table["max_aum"].tolist() == [np.inf, np.inf]
	assert table["is_active"].tolist() == [False, True]
	assert staff_table(None).empty
	loads = book_loads(books_frame({"rm1": (2, 10.0)}, extra=[("X", None, 5.0), ("Y", "", 5.0)]))
	assert loads.to_dict("records") == [{"user": "rm1", "customers": 2, "aum": 10.0}]


def test_parameters_are_validated():
	with pytest.raises(ValueError, match="count_tolerance"):
		AssignmentParameters(count_tolerance=-0.1)
	assert AssignmentParameters().accepted_roles("Teller") == {"Teller", "Lobby Manager"}
	assert AssignmentParameters(role_substitutes={}).accepted_roles("Teller") == {"Teller"}


def test_engine_and_report_never_import_frappe():
	code = (
		"import sys; sys.modules['frappe'] = None\n"
		"import branch_crm.engine.assignment, branch_crm.reports.book_of_business, branch_crm.benchmarks.auto_balance\n"
		"assert 'frappe' not in {m.split('.')[0] for m, v in sys.modules.items() if v is not None}\n"
	)
	result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
	assert result.returncode == 0, result.stderr
