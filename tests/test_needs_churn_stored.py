"""What the nightly churn and needs jobs store on the profile, and the reports rebuilt from it: the
same cards, chart and order as from the engines' own rows; writes only what changed."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.churn import (
	CHURN_SIGNALS,
	ChurnParameters,
	SnapshotMatrices,
	add_monthly_counts,
	churn_changes,
	score_churn,
	stored_churn,
)
from branch_crm.engine.needs import STORED_FIELDS, needs_changes, screen_needs, stored_needs
from branch_crm.engine.recompute import recompute_tables
from branch_crm.engine.sample import generate_sample
from branch_crm.reports import churn_warning, needs_screening

AS_OF = dt.date(2026, 9, 1)
TODAY = dt.date(2026, 10, 8)
CONTEXT = ["customer", "customer_name", "branch", "relationship_manager", "tier", "bank_customer_group"]


@pytest.fixture(scope="module")
def tables():
	sample = generate_sample(customers=600, months=12, branches=2, as_of=AS_OF, seed=5)
	recomputed = recompute_tables(sample.tables())
	context = sample.customers.merge(
		recomputed[["customer", "tier", "bank_customer_group", "value_class", "lifetime_value", "aum"]],
		on="customer",
	)
	screened = screen_needs(context.drop(columns="aum"), sample.holdings, sample.snapshots, sample.products)
	scored = score_churn(sample.snapshots, customers=context["customer"])
	return context, screened, scored


def steady(customer: str, months: int = 9, **columns) -> pd.DataFrame:
	base = {"aum": 100_000.0, "inflow": 5_000.0, "outflow": 5_000.0, "txn_count": 20, "digital_logins": 10}
	base.update(columns)
	return pd.DataFrame(
		{
			"customer": customer,
			"month": pd.date_range(end=pd.Timestamp(AS_OF), periods=months, freq="MS"),
			**{k: v if isinstance(v, list) else [v] * months for k, v in base.items()},
			"complaints": 0,
		}
	)


def test_crm_complaints_add_to_the_months_with_a_snapshot():
	frame = pd.concat([steady("A"), steady("B").drop(index=[7]).reset_index(drop=True)], ignore_index=True)
	months = pd.date_range(end=pd.Timestamp(AS_OF), periods=9, freq="MS")
	matrices = SnapshotMatrices.from_long(frame, months=months)
	events = pd.DataFrame(
		{
			"customer": ["A", "A", "B", "B", "C", "A"],
			"time": [
				"2026-09-03 10:00",
				"2026-09-20",
				"2026-08-15",
				"2026-09-01",
				"2026-09-02",
				"2025-01-05",
			],
		}
	)
	add_monthly_counts(matrices, "complaints", events)
	complaints = matrices.values["complaints"]
	assert complaints[0, -1] == 2 and complaints[0, :-1].sum() == 0, "two in September, the 2025 one ignored"
	assert np.isnan(complaints[1, 7]), "B has no August snapshot: the month stays missing"
	assert complaints[1, -1] == 1
	scored = score_churn(matrices, None, as_of=AS_OF).set_index("customer")
	assert scored.loc["A", "complaints_recent"] == 2


def test_measured_signals_make_a_score_independent_of_who_is_scored_with_it():
	# AUM down 30 % with the outflows to match: half-way up the balance ramp
	drifting = steady(
		"D", aum=[100_000.0] * 6 + [90_000.0, 80_000.0, 70_000.0], outflow=[5_000.0] * 6 + [15_000.0] * 3
	)
	contacts = pd.DataFrame(
		{"customer": ["S"], "contact_time": [pd.Timestamp("2026-09-10")], "outcome": ["Reached - Interested"]}
	)
	alone = score_churn(drifting, None, as_of=AS_OF, measured_signals=CHURN_SIGNALS)
	together = score_churn(
		pd.concat([drifting, steady("S")], ignore_index=True),
		contacts,
		as_of=AS_OF,
		measured_signals=CHURN_SIGNALS,
	).set_index("customer")
	assert alone["churn_score"].iloc[0] == together.loc["D", "churn_score"] == 50.0
	# without it, signals without data in the call are left out and the weights are divided by the
	# largest one left: the reply rate (0.6) leaves the largest (1) in place
	assert score_churn(drifting, None, as_of=AS_OF)["churn_score"].iloc[0] == 50.0
	params = ChurnParameters(weights={"aum_drop": 0.5, "reply_drop": 1.0})
	assert score_churn(drifting, None, params, as_of=AS_OF)["churn_score"].iloc[0] == 50.0
	assert (
		score_churn(drifting, None, params, AS_OF, measured_signals=CHURN_SIGNALS)["churn_score"].iloc[0]
		== 25.0
	)
	with pytest.raises(ValueError):
		score_churn(drifting, None, as_of=AS_OF, measured_signals=("aum_drop", "mood"))


def test_churn_changes_write_only_what_differs(tables):
	_context, _screened, scored = tables
	never = pd.DataFrame(
		{"name": scored["customer"], "churn_score": 0.0, "churn_band": None, "churn_reasons": None}
	)
	first = churn_changes(scored, never, TODAY)
	assert len(first) == len(scored) and (first["churn_scored_on"] == TODAY).all()
	assert list(first.columns) == ["name", "churn_score", "churn_band", "churn_reasons", "churn_scored_on"]
	# read back as the database returns it: no score stored as 0, bands as text, in another order
	stored = stored_churn(scored).sample(frac=1, random_state=1)
	assert churn_changes(scored, stored, TODAY).empty
	stored.loc[stored.index[0], "churn_reasons"] = "edited"
	assert list(churn_changes(scored, stored, TODAY)["name"]) == [stored["name"].iloc[0]]


def test_needs_changes_write_only_what_differs(tables):
	_context, screened, _scored = tables
	first = needs_changes(screened, pd.DataFrame(columns=["name", *STORED_FIELDS]), TODAY)
	assert len(first) == len(screened) and (first["needs_screened_on"] == TODAY).all()
	stored = stored_needs(screened)
	assert stored["main_account_score"].notna().all(), "no score is stored as 0"
	assert needs_changes(screened, stored, TODAY).empty


def test_needs_report_from_the_stored_fields_matches_the_engine_rows(tables):
	context, screened, _scored = tables
	profiles = stored_needs(screened).rename(columns={"name": "customer"})
	profiles = profiles.merge(context[[*CONTEXT, "aum"]], on="customer")
	direct = needs_screening.build_needs_screening(screened.assign(aum=context["aum"].to_numpy()))
	rebuilt = needs_screening.build_needs_screening(needs_screening.from_stored(profiles))
	assert rebuilt.summary == direct.summary
	assert rebuilt.chart == direct.chart
	assert [r["customer"] for r in rebuilt.data] == [r["customer"] for r in direct.data]
	for field in ("main_bank_likely", "merchant_like", "gap_count", "priority_score", "gaps", "next_action"):
		assert [r[field] for r in rebuilt.data] == [r[field] for r in direct.data], field
	for a, b in zip(rebuilt.data, direct.data, strict=True):
		assert a["main_account_score"] == pytest.approx(b["main_account_score"], nan_ok=True) or (
			a["main_account_score"] is None and b["main_account_score"] is None
		)
	for gap_type in ("peer_gap", "main_bank_elsewhere", "salary_no_card"):
		filters = {"gap_type": gap_type}
		assert (
			needs_screening.build_needs_screening(needs_screening.from_stored(profiles), filters).summary
			== needs_screening.build_needs_screening(
				screened.assign(aum=context["aum"].to_numpy()), filters
			).summary
		)


def test_gap_type_labels():
	assert needs_screening.gap_type_labels("salary_no_card,merchant_like") == (
		"Salary here, no credit card; Merchant-like cash flows"
	)
	assert needs_screening.gap_type_labels("peer_gap", {"peer_gap": "同类客户持有"}) == "同类客户持有"
	assert needs_screening.gap_type_labels(None) == needs_screening.gap_type_labels("") == ""


def test_churn_report_from_the_stored_fields_matches_the_engine_rows(tables):
	context, _screened, scored = tables
	extra = ["value_class", "lifetime_value", "aum"]
	profiles = (
		stored_churn(scored)
		.rename(columns={"name": "customer"})
		.merge(context[[*CONTEXT, *extra]], on="customer")
	)
	rows = churn_warning.from_stored(profiles)
	assert rows["churn_score"].isna().sum() == scored["churn_score"].isna().sum()
	direct = churn_warning.build_churn_warning(
		scored.drop(columns="aum_change_pct").merge(context[[*CONTEXT, *extra]])
	)
	rebuilt = churn_warning.build_churn_warning(rows)
	assert rebuilt.summary == direct.summary and rebuilt.chart == direct.chart
	assert [r["customer"] for r in rebuilt.data] == [r["customer"] for r in direct.data]
	assert "aum_change_pct" not in [c["fieldname"] for c in rebuilt.columns]
	high = churn_warning.build_churn_warning(rows, {"churn_band": "No Score"})
	assert len(high.data) == int(scored["churn_band"].isna().sum())


def test_a_stored_profile_without_a_band_had_no_score():
	profiles = pd.DataFrame(
		{"customer": ["A", "B", "C"], "churn_score": [0.0, 0.0, 72.5], "churn_band": [None, "Low", "High"]}
	)
	rows = churn_warning.from_stored(profiles)
	assert rows["churn_score"].isna().tolist() == [True, False, False]
	assert rows["churn_band"].tolist() == [None, "Low", "High"]
