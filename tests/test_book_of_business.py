import pandas as pd
import pytest

from branch_crm.cli import SECTIONS
from branch_crm.engine.defaults import DEFAULT_TIERS
from branch_crm.engine.recompute import recompute_tables
from branch_crm.engine.sample import generate_sample
from branch_crm.reports.book_of_business import build_book_of_business, build_proposed_books

B1, B2 = "Branch One", "Branch Two"


def staff() -> pd.DataFrame:
	return pd.DataFrame(
		[
			("rm1", "Wang", B1, "Relationship Manager", 3, 2_000_000, 1),
			("rm2", "Li", B1, "Relationship Manager", 300, 0, 1),
			("pb1", "Zhao", B1, "Private Banker", 80, 0, 1),
			("t1", "Chen", B1, "Teller", 1500, 0, 1),
			("rm9", "Sun", B2, "Relationship Manager", 300, 0, 1),
			("old", "Zhou", B1, "Relationship Manager", 300, 0, 0),
			("bm", "Qian", B1, "Branch Manager", 50, 0, 1),
		],
		columns=["user", "full_name", "branch", "role_type", "max_customers", "max_aum", "is_active"],
	)


def profiles() -> pd.DataFrame:
	return pd.DataFrame(
		[
			("A", "rm1", "Core", 500_000.0, B1),
			("B", "rm1", "VIP", 1_200_000.0, B1),
			("C", "rm1", "Core", 300_000.0, B1),
			("D", "rm1", "Mass", 10_000.0, B1),  # four customers over a max of three; a mass one to re-home
			("E", "rm2", "Core", 250_000.0, B1),
			("F", "pb1", "Private Banking", 7_000_000.0, B1),
			("G", None, "Mass", 5_000.0, B1),
			("H", "", "Core", 400_000.0, B1),  # blank counts as unassigned
			("I", "rm9", "VIP", 2_000_000.0, B2),
			("J", None, None, 20_000.0, B2),  # tier from AUM
		],
		columns=["customer", "relationship_manager", "tier", "aum", "branch"],
	)


def rows_by_manager(result):
	return {row["relationship_manager"]: row for row in result.data if row["relationship_manager"]}


def test_rows_columns_and_load_against_capacity():
	result = build_book_of_business(profiles(), staff(), DEFAULT_TIERS)
	fields = [c["fieldname"] for c in result.columns]
	assert fields[:6] == ["relationship_manager", "full_name", "branch", "role_type", "customers", "aum"]
	assert fields[6:10] == ["tier_0", "tier_1", "tier_2", "tier_3"]
	assert [c["label"] for c in result.columns[6:10]] == ["Mass", "Core", "VIP", "Private Banking"]
	assert fields[10:] == [
		"max_customers",
		"customer_load_pct",
		"max_aum",
		"aum_load_pct",
		"over_capacity",
		"to_rehome",
	]
	rows = rows_by_manager(result)
	# active staff of a serving role appear even with an empty book; the inactive and the branch
	# manager (no book, not a serving role) do not
	assert set(rows) == {"rm1", "rm2", "pb1", "t1", "rm9"}
	rm1 = rows["rm1"]
	assert (rm1["customers"], rm1["aum"], rm1["full_name"]) == (4, 2_010_000.0, "Wang")
	assert (rm1["tier_0"], rm1["tier_1"], rm1["tier_2"], rm1["tier_3"]) == (1, 2, 1, 0)
	assert rm1["customer_load_pct"] == pytest.approx(133.3) and rm1["aum_load_pct"] == pytest.approx(100.5)
	assert rm1["over_capacity"] == 1 and rm1["to_rehome"] == 1
	assert rows["rm2"]["max_aum"] is None and rows["rm2"]["aum_load_pct"] is None  # 0 = no limit
	assert rows["rm2"]["over_capacity"] == 0 and rows["rm2"]["customer_load_pct"] == pytest.approx(0.3)
	assert rows["t1"]["customers"] == 0 and rows["t1"]["aum"] == 0
	unassigned = [row for row in result.data if row["relationship_manager"] is None]
	assert [(r["branch"], r["full_name"], r["customers"], r["aum"]) for r in unassigned] == [
		(B1, "Unassigned", 2, 405_000.0),
		(B2, "Unassigned", 1, 20_000.0),
	]
	assert unassigned[1]["tier_0"] == 1 and unassigned[0]["over_capacity"] is None


def test_summary_cards_and_chart():
	result = build_book_of_business(profiles(), staff(), DEFAULT_TIERS)
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards == {
		"Customers": 10,
		"Assigned %": "70.0%",
		"Unassigned": 3,
		"Over Capacity": 1,
		"Total AUM": 11_685_000.0,
		"To Re-home": 1,
	}
	data = result.chart["data"]
	assert result.chart["type"] == "bar"
	assert [d["name"] for d in data["datasets"]] == ["Customers", "AUM (millions)"]
	position = data["labels"].index("rm1")
	assert data["datasets"][0]["values"][position] == 4 and data["datasets"][1]["values"][position] == 2.0
	assert None not in data["labels"]  # the unassigned are a card, not a bar
	columns, rows, message, chart, summary = result.as_frappe()
	assert columns is result.columns and rows is result.data and summary is result.summary
	assert message is None and chart is result.chart


def test_filters():
	by_branch = build_book_of_business(profiles(), staff(), DEFAULT_TIERS, {"branch": B2})
	assert {r["relationship_manager"] for r in by_branch.data} == {"rm9", None}
	assert {c["label"]: c["value"] for c in by_branch.summary}["Customers"] == 2

	by_tier = build_book_of_business(profiles(), staff(), DEFAULT_TIERS, {"tier": "Core"})
	rows = rows_by_manager(by_tier)
	assert rows["rm1"]["customers"] == 2 and rows["rm2"]["customers"] == 1 and rows["pb1"]["customers"] == 0
	assert {c["label"]: c["value"] for c in by_tier.summary}["Customers"] == 4

	one = build_book_of_business(profiles(), staff(), DEFAULT_TIERS, {"relationship_manager": "rm2"})
	assert [r["relationship_manager"] for r in one.data] == ["rm2"]

	tellers = build_book_of_business(
		profiles(), staff(), DEFAULT_TIERS, {"role_type": "Teller", "branch": ""}
	)
	assert [r["relationship_manager"] for r in tellers.data] == ["t1"]


def test_without_staff_and_with_moves():
	result = build_book_of_business(profiles(), None, DEFAULT_TIERS)
	rows = rows_by_manager(result)
	assert set(rows) == {"rm1", "rm2", "pb1", "rm9"} and rows["rm1"]["max_customers"] is None
	assert rows["rm1"]["to_rehome"] is None
	assert "To Re-home" not in {c["label"] for c in result.summary}

	moves = pd.DataFrame({"customer": ["D", "G"], "from_rm": ["rm1", None], "to_rm": ["t1", "t1"]})
	result = build_book_of_business(profiles(), staff(), DEFAULT_TIERS, moves=moves)
	rows = rows_by_manager(result)
	assert rows["t1"]["moving_in"] == 2 and rows["rm1"]["moving_out"] == 1 and rows["rm2"]["moving_in"] == 0
	assert {c["label"]: c["value"] for c in result.summary}["Proposed Moves"] == 2


def test_empty_profiles():
	empty = profiles().iloc[:0]
	result = build_book_of_business(empty, staff(), DEFAULT_TIERS)
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Customers"] == 0 and cards["Assigned %"] == "0.0%"
	assert all(row["customers"] == 0 for row in result.data)


@pytest.fixture(scope="module")
def sample():
	data = generate_sample(customers=400, months=6, branches=2, seed=5)
	return data, recompute_tables(data.tables())


def test_proposed_books_for_the_sample_branch(sample):
	data, recomputed = sample
	result = build_proposed_books(recomputed, data.customers, data.staff, DEFAULT_TIERS)
	biggest = recomputed["branch"].value_counts().idxmax()
	assert {row["branch"] for row in result.data} == {biggest}
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Customers"] == int((recomputed["branch"] == biggest).sum())
	assert cards["Unassigned"] == 0 and cards["Assigned %"] == "100.0%"
	assert cards["To Re-home"] == 0 and cards["Over Capacity"] == 0
	assert cards["Proposed Moves"] > 0
	rows = rows_by_manager(result)
	# every customer sits with a role that serves their tier
	for row in rows.values():
		if row["role_type"] == "Private Banker":
			assert row["tier_0"] == row["tier_1"] == row["tier_2"] == 0
		if row["role_type"] == "Relationship Manager":
			assert row["tier_0"] == 0 and row["tier_3"] == 0
	assert sum(r["moving_in"] for r in rows.values()) == cards["Proposed Moves"]

	current = build_proposed_books(recomputed, data.customers, None, DEFAULT_TIERS, branch=biggest)
	assert {c["label"]: c["value"] for c in current.summary}["Unassigned"] > 0
	assert "moving_in" not in {c["fieldname"] for c in current.columns}


def test_analyze_has_a_proposed_books_section():
	names = [s.name for s in SECTIONS]
	assert "proposed_books" in names
	assert next(s for s in SECTIONS if s.name == "proposed_books").title == "Proposed Books"
