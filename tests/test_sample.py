import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine import schema
from branch_crm.engine.balances import summarise_balances
from branch_crm.engine.defaults import DEFAULT_PRODUCTS, DEFAULT_TIERS
from branch_crm.engine.intake import check_references, validate_records
from branch_crm.engine.sample import INCOME_EDGES, PATTERN_SHARES, SampleData, generate_sample

AS_OF = dt.date(2026, 9, 1)
N, MONTHS = 1500, 12


@pytest.fixture(scope="module")
def sample() -> SampleData:
	return generate_sample(customers=N, months=MONTHS, branches=3, as_of=AS_OF, seed=11)


@pytest.fixture(scope="module")
def large() -> SampleData:
	return generate_sample(customers=20_000, months=6, branches=4, as_of=AS_OF, seed=5)


def records(frame: pd.DataFrame) -> list[dict]:
	# the same conversion the site's demo loader uses
	return frame.astype(object).where(frame.notna(), None).to_dict("records")


def wide(sample: SampleData, column: str) -> pd.DataFrame:
	return sample.snapshots.pivot(index="customer", columns="month", values=column)


def pattern_of(sample: SampleData) -> pd.Series:
	return sample.truth.set_index("customer")["pattern"]


# ---------------------------------------------------------------- shapes and contract


def test_tables_and_columns_follow_the_schema(sample):
	tables = sample.tables()
	assert list(tables) == ["branches", "staff", "products", "customers", "holdings", "snapshots", "truth"]
	assert tuple(sample.customers.columns) == schema.CUSTOMER_COLUMNS
	assert tuple(sample.holdings.columns) == schema.HOLDING_COLUMNS
	assert tuple(sample.snapshots.columns) == schema.SNAPSHOT_COLUMNS
	assert tuple(sample.staff.columns) == schema.STAFF_COLUMNS
	assert tuple(sample.products.columns) == schema.PRODUCT_COLUMNS
	assert list(sample.branches.columns) == ["branch"]
	assert list(sample.truth.columns) == ["customer", "pattern", "drift_start"]


def test_sizes_keys_and_dtypes(sample):
	customers, snapshots = sample.customers, sample.snapshots
	assert len(customers) == N and customers["customer"].is_unique
	assert re.fullmatch(r"C\d{8}", customers["customer"].iloc[0])
	assert len(snapshots) == N * MONTHS
	assert not snapshots.duplicated(["customer", "month"]).any()
	assert snapshots.groupby("customer").size().eq(MONTHS).all()
	months = pd.DatetimeIndex(sorted(snapshots["month"].unique()))
	assert months[-1] == pd.Timestamp(AS_OF)
	assert (months.day == 1).all()
	assert list(months) == list(pd.date_range(end=pd.Timestamp(AS_OF), periods=MONTHS, freq="MS"))
	assert snapshots["month"].dtype == "datetime64[ns]"
	for column in schema.SNAPSHOT_AMOUNT_COLUMNS:
		assert snapshots[column].dtype == np.float64, column
	for column in schema.SNAPSHOT_COUNT_COLUMNS:
		assert snapshots[column].dtype == np.int32, column
		assert (snapshots[column] >= 0).all(), column
	for column in ("date_of_birth", "acquired_on"):
		assert customers[column].dtype == "datetime64[ns]"
	assert sample.holdings["opened_on"].dtype == "datetime64[ns]"
	assert customers["do_not_contact"].isin([0, 1]).all()
	# missing text is None, never "" or NaN
	for column in ("relationship_manager", "referred_by_customer", "email_id"):
		values = customers[column]
		assert values.isna().any() and not values.eq("").any()
		assert all(v is None for v in values[values.isna()])


def test_every_generated_record_passes_the_intake(sample):
	today = AS_OF + dt.timedelta(days=40)
	for kind in schema.INTAKE_KINDS:
		frame = getattr(sample, kind)
		valid, rejections = validate_records(kind, records(frame), today=today)
		assert rejections == [], (kind, [r.as_dict() for r in rejections[:3]])
		assert len(valid) == len(frame)


def test_references_are_consistent(sample):
	customers, staff = sample.customers, sample.staff
	ids = set(customers["customer"])
	assert set(sample.snapshots["customer"]) == ids
	assert set(sample.holdings["customer"]) <= ids
	assert set(sample.truth["customer"]) == ids
	assert set(sample.holdings["product"]) <= {p["product_code"] for p in DEFAULT_PRODUCTS}
	assert set(customers["branch"]) <= set(sample.branches["branch"])
	assert set(staff["branch"]) == set(sample.branches["branch"])
	assert staff["user"].is_unique
	assert sample.holdings["account_no"].is_unique
	assert not sample.holdings.duplicated(list(schema.HOLDING_KEY)).any()

	branch_of_user = staff.set_index("user")["branch"]
	for column in ("relationship_manager", "first_served_by", "referred_by_staff"):
		linked = customers.dropna(subset=[column])
		assert len(linked) > 0, column
		assert linked[column].isin(branch_of_user.index).all(), column
		# staff of the customer's own branch
		assert (linked[column].map(branch_of_user) == linked["branch"]).all(), column
	rm_roles = staff.set_index("user")["role_type"]
	assert set(customers["relationship_manager"].dropna().map(rm_roles)) <= {
		"Relationship Manager",
		"Private Banker",
	}

	referred = customers.dropna(subset=["referred_by_customer"])
	assert len(referred) > 0
	assert referred["referred_by_customer"].isin(ids).all()
	assert (referred["referred_by_customer"] < referred["customer"]).all()  # an earlier customer
	assert (referred["acquisition_channel"] == "Customer Referral").all()
	assert (customers["acquisition_channel"] == "Customer Referral").sum() == len(referred)
	staff_referred = customers["acquisition_channel"] == "Staff Referral"
	assert customers.loc[staff_referred, "referred_by_staff"].notna().all()
	assert customers.loc[~staff_referred, "referred_by_staff"].isna().all()

	# the same check the site runs
	frame, _ = validate_records("customers", records(customers), today=AS_OF + dt.timedelta(days=40))
	known = {"referred_by_customer": ids, "branch": set(sample.branches["branch"])}
	users = set(staff["user"])
	known.update(
		{column: users for column in ("relationship_manager", "first_served_by", "referred_by_staff")}
	)
	kept, rejections = check_references("customers", frame, known)
	assert rejections == [] and len(kept) == N


def test_staff_per_branch(sample):
	staff = sample.staff
	sizes = sample.customers["branch"].value_counts()
	for branch, group in staff.groupby("branch"):
		roles = group["role_type"].value_counts()
		assert roles["Branch Manager"] == 1 and roles["Lobby Manager"] == 1 and roles["Private Banker"] == 1
		assert roles["Teller"] == 2
		assert roles["Relationship Manager"] == max(2, round(sizes[branch] / 400))
	assert staff["user"].str.fullmatch(r"[a-z]+(\d{2,})?\.[a-z0-9]+@bank\.example").all()
	assert "rm01.chaoyang@bank.example" in set(staff["user"])
	assert staff["full_name"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
	assert set(staff["role_type"]) <= set(schema.STAFF_ROLE_TYPES)
	assert (staff["max_customers"] > 0).all() and (staff["max_aum"] > 0).all()


def test_branch_names():
	branches = generate_sample(customers=30, months=1, branches=14, as_of=AS_OF).branches["branch"].tolist()
	assert branches[:3] == ["Chaoyang Branch", "Haidian Branch", "Pudong Branch"]
	assert len(set(branches)) == 14
	assert branches[12] == "Chaoyang Branch 2"


def test_customer_attributes_are_plausible(sample):
	c = sample.customers
	age = (pd.Timestamp(AS_OF) - c["date_of_birth"]).dt.days / 365.25
	assert age.between(18, 86).all()
	assert c["customer_name"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
	assert set(c["gender"]) == {"Male", "Female"}
	assert c["mobile_no"].str.fullmatch(r"1[3-9]\d{9}").all()
	assert (c["id_type"] == "Resident ID Card").all()
	assert c["id_number"].is_unique
	# ID numbers: 18 characters, birth date inside, valid check character, gender parity
	ids = c["id_number"]
	assert ids.str.fullmatch(r"\d{17}[\dX]").all()
	assert (ids.str[6:14] == c["date_of_birth"].dt.strftime("%Y%m%d")).all()
	weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
	digits = np.array([[int(ch) for ch in s[:17]] for s in ids])
	assert (
		np.array(list("10X98765432"))[(digits * weights).sum(axis=1) % 11] == ids.str[17].to_numpy()
	).all()
	assert ((digits[:, 16] % 2 == 1) == (c["gender"] == "Male").to_numpy()).all()

	retired = c["occupation_category"] == "Retired"
	assert (age[retired] >= 60).all() and retired[age >= 60].mean() > 0.7
	assert (age[c["occupation_category"] == "Student"] < 23).all()
	assert (c.loc[age < 25, "family_stage"].isin(["Single", "Married"])).all()
	assert (age[c["family_stage"] == "Retired"] >= 60).all()
	assert set(c["family_stage"]) <= set(schema.FAMILY_STAGES)
	assert set(c["occupation_category"]) <= set(schema.OCCUPATION_CATEGORIES)

	with_income = c.dropna(subset=["declared_annual_income"])
	expected = np.asarray(schema.INCOME_BANDS)[
		np.digitize(with_income["declared_annual_income"], INCOME_EDGES)
	]
	assert (with_income["income_band"].to_numpy() == expected).all()
	assert c.loc[c["declared_annual_income"].isna(), "income_band"].isna().all()

	channels = c["acquisition_channel"].value_counts(normalize=True)
	assert channels.idxmax() == "Natural Walk-in"
	assert set(channels.index) == set(schema.ACQUISITION_CHANNELS)
	assert set(c["intent_level"]) == set(schema.INTENT_LEVELS)
	assert (c["acquired_on"] < pd.Timestamp(AS_OF) - pd.DateOffset(months=MONTHS - 1)).all()
	assert c["acquired_on"].is_monotonic_increasing  # customer numbers follow acquisition


def test_relationship_managers_follow_aum(sample):
	latest = summarise_balances(sample.snapshots).set_index("customer")["avg_aum"]
	c = sample.customers.set_index("customer")
	steady = pattern_of(sample) != "drifting"
	has_rm = c["relationship_manager"].notna()
	assert has_rm[(latest >= 300_000) & steady].all()
	mass = latest < 50_000
	assert has_rm[mass].mean() < 0.1
	assert has_rm.mean() < 0.5  # most mass customers have none
	private = c["relationship_manager"].str.startswith("pb", na=False)
	assert private.sum() > 0
	assert (latest[private & steady] >= 4_000_000).all()


def test_balances_add_up(sample):
	s = sample.snapshots
	assert np.allclose(s["aum"], s["deposits"] + s["investments"], atol=0.011)
	last = s[s["month"] == s["month"].max()].set_index("customer")
	products = pd.DataFrame(DEFAULT_PRODUCTS).set_index("product_code")["category"]
	h = sample.holdings.assign(category=sample.holdings["product"].map(products))
	by = (
		h.groupby(["customer", "category"])["balance"]
		.sum()
		.unstack(fill_value=0.0)
		.reindex(last.index, fill_value=0.0)
	)
	assert np.allclose(by["Deposit"], last["deposits"], atol=0.05)
	assert np.allclose(
		by[["Wealth Management", "Fund", "Insurance"]].sum(axis=1), last["investments"], atol=0.05
	)
	assert np.allclose(by["Loan"], last["loans"], atol=0.05)
	assert (h["balance"] >= 0).all()
	# every customer has a demand deposit account and a debit card
	for product in ("DEP-DEMAND", "CARD-DEBIT"):
		assert set(h.loc[h["product"] == product, "customer"]) == set(last.index)
	# mortgages for some customers with loans, large CDs only from 200k
	assert (h["product"] == "LOAN-MORTGAGE").any()
	assert (h.loc[h["product"] == "DEP-LARGE-CD", "balance"] >= 200_000).all()
	matures = h.dropna(subset=["matures_on"])
	assert (matures["matures_on"] > matures["opened_on"]).all()
	assert (h["opened_on"] <= pd.Timestamp(AS_OF)).all()


def test_some_customers_are_below_zero(sample):
	last = sample.snapshots[sample.snapshots["month"] == sample.snapshots["month"].max()]
	negative = last["contribution"] < 0
	assert 0.02 < negative.mean() < 0.25
	assert last.loc[negative, "aum"].median() < last["aum"].median() / 5


def test_tier_distribution_matches_the_default_tiers(large):
	avg = summarise_balances(large.snapshots, window_months=3)["avg_aum"]
	thresholds = [t["min_avg_aum"] for t in DEFAULT_TIERS]
	tier = np.asarray([t["tier_name"] for t in DEFAULT_TIERS])[
		np.searchsorted(thresholds, avg, side="right") - 1
	]
	share = pd.Series(tier).value_counts(normalize=True)
	assert 0.70 <= share["Mass"] <= 0.80
	assert 0.15 <= share["Core"] <= 0.20
	assert 0.03 <= share["VIP"] <= 0.06
	assert 0.003 <= share["Private Banking"] <= 0.01


# ---------------------------------------------------------------- planted patterns


def test_pattern_fractions(large):
	counts = large.truth["pattern"].value_counts()
	n = len(large.truth)
	for pattern, share in PATTERN_SHARES.items():
		assert counts[pattern] == round(share * n), pattern
	assert counts["none"] == n - sum(round(s * n) for s in PATTERN_SHARES.values())
	drifting = large.truth["pattern"] == "drifting"
	assert large.truth.loc[drifting, "drift_start"].notna().all()
	assert large.truth.loc[~drifting, "drift_start"].isna().all()


def test_drifting_customers_lose_aum_and_activity(sample):
	truth = sample.truth.set_index("customer")
	drifting = truth[truth["pattern"] == "drifting"]
	assert len(drifting) == round(PATTERN_SHARES["drifting"] * N)
	aum, txn, logins = wide(sample, "aum"), wide(sample, "txn_count"), wide(sample, "digital_logins")
	complaints = wide(sample, "complaints")
	months = aum.columns
	in_drift = np.zeros(aum.shape, dtype=bool)
	for customer, start in drifting["drift_start"].items():
		row = aum.index.get_loc(customer)
		first = months.get_loc(start)
		assert 3 <= len(months) - first <= 5  # the last 3-5 months
		in_drift[row, first:] = True
		series = aum.loc[customer].to_numpy()
		falls = series[first:] / series[first - 1 : -1]
		assert ((falls >= 0.75 - 1e-3) & (falls <= 0.90 + 1e-3)).all(), (customer, falls)
		assert series[-1] < 0.75 * series[:first].mean()
	rows = aum.index.isin(drifting.index)
	before = ~in_drift[rows] & (np.arange(len(months)) >= len(months) - 8)
	assert txn.to_numpy()[rows][in_drift[rows]].mean() < 0.8 * txn.to_numpy()[rows][before].mean()
	assert logins.to_numpy()[rows][in_drift[rows]].mean() < 0.7 * logins.to_numpy()[rows][before].mean()
	assert complaints.to_numpy()[rows][in_drift[rows]].mean() > 5 * complaints.to_numpy()[~rows].mean()
	# ordinary customers are stable: no such falls
	steady = aum[truth.loc[aum.index, "pattern"] == "none"]
	assert (steady.iloc[:, -1] / steady.iloc[:, :-3].mean(axis=1)).median() == pytest.approx(1.0, abs=0.1)


def test_merchants_turn_over_several_times_their_aum(sample):
	pattern = pattern_of(sample)
	s = sample.snapshots.assign(pattern=sample.snapshots["customer"].map(pattern))
	merchants = s[s["pattern"] == "merchant"]
	assert merchants["customer"].nunique() == round(PATTERN_SHARES["merchant"] * N)
	turnover = merchants.groupby("customer")[["inflow", "outflow", "aum"]].mean()
	assert (turnover["inflow"] > 2 * turnover["aum"]).all()
	assert (turnover["outflow"] > 2 * turnover["aum"]).all()
	assert merchants["large_txn_count"].between(8, 30).all()
	ordinary = s[s["pattern"] == "none"]
	assert (ordinary["inflow"] / ordinary["aum"].clip(lower=1)).median() < 1
	assert ordinary["large_txn_count"].mean() < 1


def test_salary_elsewhere_customers(sample):
	pattern = pattern_of(sample)
	c = sample.customers.set_index("customer")
	elsewhere = pattern[pattern == "salary_elsewhere"].index
	assert len(elsewhere) == round(PATTERN_SHARES["salary_elsewhere"] * N)
	assert c.loc[elsewhere, "occupation_category"].isin(["Salaried", "Civil Servant"]).all()
	assert (c.loc[elsewhere, "declared_annual_income"] >= 150_000).all()
	s = sample.snapshots.set_index("customer")
	assert (s.loc[elsewhere, "salary_credit"] == 0).all()
	monthly_income = c.loc[elsewhere, "declared_annual_income"] / 12
	assert (s.loc[elsewhere, "inflow"].groupby(level=0).mean() < 0.3 * monthly_income).all()
	payroll = set(sample.holdings.loc[sample.holdings["product"] == "PAYROLL", "customer"])
	assert not payroll & set(elsewhere)

	# their ordinary (active) salaried peers are paid here, with a payroll service
	peers = c.index[
		c["occupation_category"].isin(["Salaried", "Civil Servant"])
		& c["declared_annual_income"].notna()
		& (pattern == "none")
		& (c["status"] == "Active")
	]
	assert len(peers) > 50
	salary = s.loc[peers, "salary_credit"].groupby(level=0).mean()
	assert (salary > 0).all()
	assert np.allclose(salary, c.loc[peers, "declared_annual_income"] / 12, rtol=0.05)
	assert set(peers) <= payroll


# ---------------------------------------------------------------- determinism and edges


def test_same_seed_same_data_other_seed_other_data():
	a = generate_sample(customers=200, months=4, as_of=AS_OF, seed=3)
	b = generate_sample(customers=200, months=4, as_of=AS_OF, seed=3)
	c = generate_sample(customers=200, months=4, as_of=AS_OF, seed=4)
	for name, frame in a.tables().items():
		pd.testing.assert_frame_equal(frame, b.tables()[name])
	assert not a.snapshots["aum"].equals(c.snapshots["aum"])
	assert not a.customers["customer_name"].equals(c.customers["customer_name"])


def test_as_of_any_day_means_its_month():
	sample = generate_sample(customers=20, months=2, as_of=dt.date(2025, 3, 17))
	assert sorted(sample.snapshots["month"].unique()) == [
		pd.Timestamp("2025-02-01"),
		pd.Timestamp("2025-03-01"),
	]


def test_tiny_and_single_month_samples():
	one = generate_sample(customers=1, months=1, branches=1, as_of=AS_OF)
	assert len(one.customers) == 1 and len(one.snapshots) == 1
	single = generate_sample(customers=100, months=1, as_of=AS_OF)
	assert "drifting" not in set(single.truth["pattern"])  # a fall needs a month before it
	valid, rejections = validate_records("snapshots", records(single.snapshots), today=AS_OF)
	assert rejections == [] and len(valid) == 100


@pytest.mark.parametrize("kwargs", [{"customers": 0}, {"months": 0}, {"branches": 0}])
def test_bad_arguments(kwargs):
	with pytest.raises(ValueError, match="at least 1"):
		generate_sample(**kwargs)
