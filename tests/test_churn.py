import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.churn import (
	CHURN_REASON_TEMPLATES,
	CHURN_SIGNALS,
	DEFAULT_WEIGHTS,
	ChurnParameters,
	SnapshotMatrices,
	render_churn_reasons,
	retention_candidates,
	retention_priority,
	score_churn,
	value_risk_matrix,
)
from branch_crm.engine.churn_scenarios import generate_churn_scenarios
from branch_crm.engine.evaluation import band_precision, churn_by_kind
from branch_crm.engine.sample import generate_sample
from branch_crm.engine.text import template_fields

AS_OF = dt.date(2026, 9, 1)


def history(customer: str, months: int = 9, drop=(), **columns) -> pd.DataFrame:
	"""A customer's monthly snapshots ending at AS_OF: steady defaults, overridden by a scalar or a
	list of ``months`` values per column; ``drop`` removes months by position (missing months)."""
	base = {
		"aum": 100_000.0,
		"inflow": 5_000.0,
		"outflow": 5_000.0,
		"txn_count": 20,
		"digital_logins": 10,
		"complaints": 0,
	}
	base.update(columns)
	data = {k: list(v) if isinstance(v, list | tuple) else [v] * months for k, v in base.items()}
	frame = pd.DataFrame(
		{
			"customer": customer,
			"month": pd.date_range(end=pd.Timestamp(AS_OF), periods=months, freq="MS"),
			**data,
		}
	)
	return frame.drop(index=list(drop)).reset_index(drop=True)


def score(*frames, contacts=None, params=None, **kwargs) -> pd.DataFrame:
	return score_churn(pd.concat(frames, ignore_index=True), contacts, params, AS_OF, **kwargs).set_index(
		"customer"
	)


def test_steady_customer_scores_zero_with_a_plain_reason():
	result = score(history("A"))
	row = result.loc["A"]
	assert row["churn_score"] == 0 and row["churn_band"] == "Low" and row["has_score"]
	assert row["reason_codes"] == "no_signal"
	assert row["churn_reasons"] == "No warning signs against the customer's own past"
	assert all(row[f"{s}_score"] == 0 for s in CHURN_SIGNALS)


# money moved out: AUM down 50% with the outflows to match
MOVED_OUT = dict(
	aum=[100_000] * 6 + [80_000, 60_000, 50_000], inflow=0, outflow=[0] * 6 + [20_000, 20_000, 10_000]
)


def test_aum_drop_against_own_baseline():
	row = score(history("A", **MOVED_OUT)).loc["A"]
	assert row["aum_change_pct"] == -50 and row["aum_drop_score"] == 100
	# the balance sign alone at full strength: 100 (the old weighted sum capped AUM signals at 45)
	assert row["churn_score"] == 100 and row["churn_band"] == "High"
	assert row["reason_codes"] == "aum_drop,net_outflow"
	assert row["churn_reasons"].startswith("AUM down 50% over 3 months (from 100,000 to 50,000); ")


def test_aum_drop_starts_counting_above_its_ramp():
	result = score(
		history("small", aum=[100_000] * 8 + [92_000]),  # 8 % down: below the 10 % start
		# 30 %, moved out the month before and still out: halfway up the ramp
		history("half", aum=[100_000] * 7 + [70_000] * 2, outflow=[5_000] * 7 + [35_000, 5_000]),
	)
	assert result.at["small", "aum_drop_score"] == 0
	assert result.at["half", "aum_drop_score"] == 50


def test_net_outflow_as_share_of_baseline_aum():
	result = score(history("A", inflow=[5_000] * 6 + [0] * 3, outflow=[5_000] * 6 + [10_000] * 3))
	row = result.loc["A"]
	assert row["net_outflow"] == 30_000 and row["net_outflow_pct"] == 30
	assert row["net_outflow_score"] == 50
	assert row["churn_score"] == 50
	assert row["churn_reasons"] == "Net outflow of 30,000 in 3 months (30% of usual AUM)"


def test_transaction_drop():
	row = score(history("A", txn_count=[20] * 6 + [5] * 3)).loc["A"]
	assert row["txn_change_pct"] == -75 and row["txn_drop_score"] == 100
	# activity alone at full strength is High (the old weighted sum capped it at 22)
	assert row["churn_score"] == 100 and row["churn_band"] == "High"
	assert row["churn_reasons"] == "Transactions down 75% (5 a month against 20 before)"


def test_login_drop_and_its_floor():
	result = score(
		history("A", digital_logins=[20] * 6 + [1] * 3),
		history("rare", digital_logins=[1] * 6 + [0] * 3),  # one login a month is below the floor of 2
	)
	assert result.at["A", "login_drop_score"] == 100
	assert result.at["A", "churn_reasons"] == "Digital logins down 95% (1 a month against 20 before)"
	assert result.at["rare", "login_drop_score"] == 0 and np.isnan(result.at["rare", "login_change_pct"])


def test_more_complaints_than_the_baseline_rate_expects():
	result = score(
		history("A", complaints=[0] * 7 + [1, 1]),
		history("usual", complaints=[1, 0, 1, 0, 1, 0, 1, 0, 0]),  # 1 in 3 months as before: nothing new
	)
	assert result.at["A", "complaints_up_score"] == 100
	assert result.at["A", "churn_reasons"] == "2 complaints in 3 months against 0 expected"
	assert result.at["usual", "complaints_up_score"] == 0


def contact(customer, month, outcome):
	return {
		"customer": customer,
		"contact_time": pd.Timestamp(month) + pd.Timedelta(hours=10),
		"outcome": outcome,
	}


def test_reply_rate_drop_from_contact_logs_and_missing_contacts_are_neutral():
	contacts = pd.DataFrame(
		[
			contact("A", "2026-02-01", "Reached - Interested"),
			contact("A", "2026-03-01", "Reached - Not Now"),
			contact("A", "2026-05-01", "Product Opened"),
			contact("A", "2026-08-01", "No Answer"),
			contact("A", "2026-09-01", "Reached - Declined"),
			contact("C", "2026-08-01", "No Answer"),  # no baseline contacts: not measured
			contact("ghost", "2026-08-01", "No Answer"),  # not a scored customer: ignored
		]
	)
	result = score(history("A"), history("B"), history("C"), contacts=contacts)
	assert result.at["A", "no_reply_recent_pct"] == 100 and result.at["A", "no_reply_baseline_pct"] == 0
	assert result.at["A", "reply_drop_score"] == 100
	# the reply rate's weight is 0.6 of the largest: alone at full strength it gives 60
	assert result.at["A", "churn_score"] == 60
	assert result.at["A", "churn_reasons"] == "No reply to 100% of contacts in 3 months against 0% before"
	assert result.at["A", "contacts_recent"] == 2
	assert result.at["B", "reply_drop_score"] == 0 and result.at["B", "churn_score"] == 0
	assert result.at["C", "reply_drop_score"] == 0 and np.isnan(result.at["C", "no_reply_recent_pct"])


def test_every_signal_at_once_is_high_risk():
	row = score(
		history(
			"A",
			aum=[100_000] * 6 + [70_000, 50_000, 30_000],
			inflow=[5_000] * 6 + [0] * 3,
			outflow=[5_000] * 6 + [25_000] * 3,
			txn_count=[20] * 6 + [4] * 3,
			digital_logins=[10] * 6 + [0] * 3,
			complaints=[0] * 6 + [1, 1, 1],
		)
	).loc["A"]
	assert row["churn_score"] == 100 and row["churn_band"] == "High"
	# top 3: the strongest signal of each sign first, ties in signal order
	assert row["reason_codes"] == "aum_drop,txn_drop,login_drop"
	assert row["churn_reasons"].count("; ") == 2


def test_short_history_gets_no_score_and_says_so():
	result = score(history("new", months=4), history("A"), customers=["new", "A", "none"])
	new = result.loc["new"]
	assert not new["has_score"] and np.isnan(new["churn_score"]) and new["churn_band"] is None
	assert new["reason_codes"] == "not_enough_history"
	assert new["churn_reasons"] == "Not enough history: 4 of 6 months of data"
	assert np.isnan(new["aum_drop_score"])
	assert result.at["none", "churn_reasons"] == "Not enough history: 0 of 6 months of data"
	assert result.at["A", "has_score"]


def test_no_recent_data_gets_no_score():
	row = score(history("A", drop=(6, 7, 8))).loc["A"]
	assert not row["has_score"] and row["history_months"] == 6
	assert row["churn_reasons"] == "No data in the last 3 months"


def test_missing_months_are_missing_not_zero():
	result = score(
		history("gaps", drop=(5, 7, 8)),  # 2026-06, 2026-08, 2026-09 missing
		history("zeros", txn_count=[20] * 7 + [0, 0]),
	)
	gaps = result.loc["gaps"]
	assert gaps["history_months"] == 6 and gaps["has_score"]
	assert gaps["txn_recent"] == 20 and gaps["txn_change_pct"] == 0
	assert gaps["aum_latest"] == 100_000 and gaps["churn_score"] == 0
	# real zeros are a real fall
	assert result.at["zeros", "txn_change_pct"] == pytest.approx(-66.7)
	# two months at zero: a fall under way for two months counts at its depth now (was 83.3, the
	# 3-month average, when the average alone counted)
	assert result.at["zeros", "txn_drop_score"] == 100


def test_equal_customers_tie_and_equal_reasons_keep_signal_order():
	params = ChurnParameters(
		weights={"aum_drop": 10, "net_outflow": 10, "txn_drop": 10, "login_drop": 10, "complaints_up": 10}
	)
	both = dict(txn_count=[20] * 6 + [4] * 3, digital_logins=[10] * 6 + [0] * 3)
	result = score(
		history("A", **both),
		history("B", **both),
		history("C", txn_count=[20] * 6 + [12] * 3, digital_logins=[10] * 6 + [0] * 3),
		params=params,
	)
	assert result.at["A", "churn_score"] == result.at["B", "churn_score"] == 100
	assert result.at["A", "churn_band"] == result.at["B", "churn_band"] == "High"
	assert result.at["A", "reason_codes"] == "txn_drop,login_drop"
	assert result.at["C", "reason_codes"] == "login_drop,txn_drop"


# no allowance for chance in counts, so that the numbers below are round
EXACT = ChurnParameters(chance_allowance=0)
# transactions down 42.5 %: half-way up their ramp (25 % .. 60 %)
HALF_TXN = [20] * 6 + [11.5] * 3


def test_band_thresholds_and_weights_are_parameters():
	frame = history("A", txn_count=HALF_TXN)
	row = score(frame, params=EXACT).loc["A"]
	assert row["churn_score"] == 50 and row["churn_band"] == "Medium"
	params = dataclasses.replace(EXACT, medium_threshold=30, high_threshold=45)
	assert score(frame, params=params).at["A", "churn_band"] == "High"
	# weights are relative to the largest: half the weight, half the strength
	params = dataclasses.replace(EXACT, weights={**DEFAULT_WEIGHTS, "txn_drop": 0.5})
	assert score(frame, params=params).at["A", "churn_score"] == 25
	# the allowance for chance lowers a fall of a few transactions a month more than of many
	few, many = history("few", txn_count=[4] * 6 + [2.3] * 3), history("many", txn_count=[40] * 6 + [23] * 3)
	result = score(few, many)
	assert result.at["few", "txn_drop_score"] < result.at["many", "txn_drop_score"] < 50


def test_absent_snapshot_column_drops_out_and_the_others_scale_up():
	frame = history("A", txn_count=HALF_TXN).drop(columns=["digital_logins"])
	assert score(frame, params=EXACT).at["A", "churn_score"] == 50
	# weights are divided by the largest measured one: without logins, transactions weigh fully
	params = dataclasses.replace(EXACT, weights={"txn_drop": 0.5, "login_drop": 1.0})
	assert score(frame, params=params).at["A", "churn_score"] == 50
	with_logins = history("A", txn_count=HALF_TXN)
	assert score(with_logins, params=params).at["A", "churn_score"] == 25


def test_rendering_with_translated_templates_and_top():
	result = score(
		history("A", **MOVED_OUT, txn_count=[20] * 6 + [5] * 3),
		history("new", months=2),
		render=False,
	)
	assert "churn_reasons" not in result
	templates = {
		"aum_drop": "资产{months}个月内下降{pct}%（{from_amount}→{to_amount}）",
		"not_enough_history": "历史数据不足：{history}/{needed}个月",
	}
	text = render_churn_reasons(result, templates, top=1)
	assert text["A"] == "资产3个月内下降50%（100,000→50,000）"
	assert text["new"] == "历史数据不足：2/6个月"
	both = render_churn_reasons(result, templates, top=2)
	assert (
		both["A"]
		== "资产3个月内下降50%（100,000→50,000）; Transactions down 75% (5 a month against 20 before)"
	)
	with pytest.raises(ValueError, match="unknown placeholder"):
		render_churn_reasons(result, {"aum_drop": "down {percent}"})


def test_default_templates_only_use_known_placeholders():
	frame = score(history("A"), render=False)
	for code, template in CHURN_REASON_TEMPLATES.items():
		rows = frame.assign(reason_codes=code)
		assert render_churn_reasons(rows).iloc[0], code
		assert all("{" not in f for f in template_fields(template))


def test_matrices_fast_path_matches_the_long_frame():
	frames = pd.concat(
		[
			history("A", aum=[100_000] * 6 + [80_000, 60_000, 50_000]),
			history("B", drop=(2, 7)),
			history("C", months=5),
			history("D", txn_count=[20] * 6 + [5] * 3),
		],
		ignore_index=True,
	)
	long = score_churn(frames, None, None, AS_OF)
	months = pd.date_range(end=pd.Timestamp(AS_OF), periods=12, freq="MS")
	matrices = SnapshotMatrices.from_long(frames, months=months)
	fast = score_churn(matrices, as_of=AS_OF)
	pd.testing.assert_frame_equal(long, fast)
	# a later as_of reads the months that exist and leaves the rest missing
	later = score_churn(matrices, as_of=dt.date(2026, 11, 1)).set_index("customer")
	assert later.at["A", "history_months"] == 7


def test_parameters_are_validated():
	with pytest.raises(ValueError, match="unknown churn signals"):
		ChurnParameters(weights={"logins": 1})
	with pytest.raises(ValueError, match="min_history_months"):
		ChurnParameters(min_history_months=10)
	with pytest.raises(ValueError, match="band thresholds"):
		ChurnParameters(medium_threshold=80, high_threshold=70)
	with pytest.raises(ValueError, match="ramp"):
		ChurnParameters(ramps={"aum_drop": (0.5, 0.1)})
	assert dataclasses.replace(ChurnParameters(), recent_months=2).window_months == 8


def test_value_risk_matrix_and_retention():
	frame = pd.DataFrame(
		{
			"customer": ["a", "b", "c", "d", "e", "f"],
			"churn_score": [90.0, 75.0, 50.0, 10.0, np.nan, 80.0],
			"churn_band": ["High", "High", "Medium", "Low", None, "High"],
			"value_class": ["MVC", "Standard", "MVC", "BZC", "MVC", None],
			"churn_reasons": ["r1", "r2", "r3", "r4", "r5", "r6"],
		}
	)
	matrix = value_risk_matrix(frame)
	assert list(matrix.columns) == ["High", "Medium", "Low", "No Score"]
	assert matrix.loc["MVC"].tolist() == [1, 1, 0, 1]
	assert matrix.loc["(none)", "High"] == 1 and matrix.loc["MGC"].sum() == 0
	assert retention_priority(frame).tolist() == [90.0, 37.5, 50.0, 2.0, 0.0, 40.0]
	candidates = retention_candidates(frame)
	assert candidates[["customer", "details"]].values.tolist() == [["a", "r1"]]
	by_lifetime = value_risk_matrix(
		frame.drop(columns="value_class").assign(lifetime_value=[1, 2, 3, 4, 5, 6])
	)
	assert list(by_lifetime.index) == ["High Value", "Medium Value", "Low Value", "(none)"]
	assert by_lifetime.to_numpy().sum() == 6


@pytest.fixture(scope="module")
def sample():
	return generate_sample(customers=3000, months=12, branches=2, as_of=AS_OF, seed=5)


def test_drifting_customers_rank_high_on_the_sample(sample):
	result = score_churn(sample.snapshots).merge(sample.truth, on="customer")
	drifting = result["pattern"] == "drifting"
	top = result.nlargest(int(len(result) * 0.1), "churn_score")
	# measured on seeds 1-8: 99.4-100 % of the drifting customers in the top decile, median score 100,
	# 98.3-100 % of them High; everyone else: 99th percentile 11-16, 0.04-0.21 % High or Medium
	assert (top["pattern"] == "drifting").sum() >= 0.95 * drifting.sum()
	assert result.loc[drifting, "churn_score"].median() >= 90
	assert result.loc[~drifting, "churn_score"].quantile(0.99) <= 30
	assert result.loc[drifting, "churn_band"].eq("High").mean() >= 0.9
	assert result.loc[~drifting, "churn_band"].isin(["High", "Medium"]).mean() <= 0.01
	assert result["churn_reasons"].str.len().gt(0).all()


# ---------------------------------------------------------------- issue 15: the rules of the bands

# each of the four warning signs of seed 004 (流失预警), alone at full strength
STRONG_SIGNS = {
	"balance": dict(
		aum=[110_000] * 6 + [80_000, 40_000, 11_000],
		inflow=0,
		outflow=[0] * 6 + [30_000, 40_000, 29_000],
	),
	"activity": dict(txn_count=[20] * 6 + [5, 4, 4]),
	"engagement": dict(digital_logins=[10] * 6 + [1, 1, 0]),
	"complaints": dict(complaints=[0] * 6 + [1, 0, 2]),
}
# the same signs at a weak level, the kind of movement every customer shows now and then
WEAK_SIGNS = {
	"balance": dict(
		aum=[100_000] * 6 + [95_000, 88_000, 86_000],
		inflow=0,
		outflow=[0] * 6 + [5_000, 7_000, 2_000],
	),
	"activity": dict(txn_count=[20] * 6 + [15, 14, 13]),
	"engagement": dict(digital_logins=[10] * 6 + [7, 6, 6]),
	"complaints": dict(complaints=[0] * 6 + [0, 1, 0]),
}
LEADING_REASON = {
	"balance": "aum_drop",
	"activity": "txn_drop",
	"engagement": "login_drop",
	"complaints": "complaints_up",
}


@pytest.mark.parametrize("sign", STRONG_SIGNS)
def test_each_warning_sign_alone_when_strong_raises_the_band_to_high(sign):
	row = score(history("A", **STRONG_SIGNS[sign])).loc["A"]
	assert row["churn_band"] == "High", (sign, row["churn_score"])
	assert row["reason_codes"].split(",")[0] == LEADING_REASON[sign]


@pytest.mark.parametrize("sign", WEAK_SIGNS)
def test_each_warning_sign_alone_at_a_weak_level_stays_low(sign):
	row = score(history("A", **WEAK_SIGNS[sign])).loc["A"]
	assert row["churn_band"] == "Low", (sign, row["churn_score"])


def test_signs_add_up_and_the_score_stays_in_range():
	# each half-way up its ramp: transactions down 42.5 %, logins down 52.5 %
	halfway = dict(txn_count=HALF_TXN, digital_logins=[10] * 6 + [4.75] * 3)
	result = score(history("activity", txn_count=HALF_TXN), history("both", **halfway), params=EXACT)
	assert result.at["activity", "churn_score"] == 50 and result.at["both", "churn_score"] == 75
	alone, both = result.at["activity", "churn_score"], result.at["both", "churn_score"]
	assert result.at["activity", "churn_band"] == "Medium" and result.at["both", "churn_band"] == "High"
	assert alone < both < 2 * alone
	weak = score(history("A", **{k: v for sign in WEAK_SIGNS.values() for k, v in sign.items()})).loc["A"]
	assert weak["churn_score"] > 0 and weak["churn_band"] != "High", "weak signs together: at most a watch"


def matured(customer="A", balance=47_000.0, matures_on="2026-08-10", category="Deposit"):
	return pd.DataFrame(
		{
			"customer": [customer],
			"product": ["DEP-TIME-1Y"],
			"category": [category],
			"balance": [balance],
			"matures_on": [pd.Timestamp(matures_on)],
		}
	)


# a time deposit of 47,000 matures in August and is withdrawn: AUM -47 %, net outflow 47,000
WITHDRAWN = dict(aum=[100_000] * 7 + [53_000] * 2, inflow=5_000, outflow=[5_000] * 7 + [52_000, 5_000])


def test_a_matured_deposit_withdrawn_is_not_churn_and_the_reason_says_so():
	frame = history("A", **WITHDRAWN)
	assert score(frame).at["A", "churn_band"] == "High", "without the holdings it looks like churn"
	row = score(frame, holdings=matured()).loc["A"]
	assert row["churn_band"] == "Low" and row["matured_amount"] == 47_000
	assert row["reason_codes"] == "maturity_explained"
	assert row["churn_reasons"] == CHURN_REASON_TEMPLATES["maturity_explained"].format(
		matured_amount="47,000", months=3
	)
	# a deposit closed at maturity with no balance left: the AUM that left that month is its principal
	closed = score(frame, holdings=matured(balance=0.0)).loc["A"]
	assert closed["churn_band"] == "Low" and closed["matured_amount"] == 47_000


def test_only_recent_maturities_of_deposits_explain_an_outflow():
	frame = history("A", **WITHDRAWN)
	for holdings in (
		matured(category="Loan"),  # a loan paid off is not money the customer had here
		matured(matures_on="2026-05-20"),  # before the recent window
		matured(matures_on="2026-12-01"),  # not matured yet
		matured(customer="B"),
	):
		row = score(frame, holdings=holdings).loc["A"]
		assert row["churn_band"] == "High" and "maturity_explained" not in row["reason_codes"]
	# a maturity explains part of an outflow: the rest counts, and both reasons are said
	row = score(frame, holdings=matured(balance=20_000.0)).loc["A"]
	assert row["matured_amount"] == 20_000 and row["churn_band"] != "High"
	assert row["reason_codes"].startswith("aum_drop") and row["reason_codes"].endswith(",maturity_explained")
	# rolled over, no money left: nothing to explain, no reason
	assert score(history("A"), holdings=matured()).at["A", "reason_codes"] == "no_signal"


def test_holdings_pass_the_fast_path_too():
	frame = history("A", **WITHDRAWN)
	matrices = SnapshotMatrices.from_long(frame)
	fast = score_churn(matrices, as_of=AS_OF, holdings=matured()).set_index("customer")
	assert fast.at["A", "reason_codes"] == "maturity_explained"
	# as the nightly job reads them: the child table's product_category, dates as datetime.date
	read = matured().rename(columns={"category": "product_category"})
	read["matures_on"] = read["matures_on"].dt.date.astype(object)
	assert score_churn(matrices, as_of=AS_OF, holdings=read).at[0, "matured_amount"] == 47_000


def test_an_investment_loss_without_outflow_is_not_high():
	# market value down 50 %, flows in balance: no money left
	loss = dict(aum=[100_000] * 6 + [80_000, 60_000, 50_000])
	row = score(history("A", **loss)).loc["A"]
	assert row["churn_band"] == "Low"
	moved = score(history("A", **MOVED_OUT)).loc["A"]
	assert moved["aum_drop_score"] >= 3 * row["aum_drop_score"], "a fall with an outflow weighs much more"


def test_a_one_month_dip_is_not_high():
	dip_now = dict(aum=[100_000] * 8 + [50_000], outflow=[5_000] * 8 + [55_000])
	refilled = dict(
		aum=[100_000] * 7 + [50_000, 100_000],
		inflow=[5_000] * 8 + [55_000],
		outflow=[5_000] * 7 + [55_000, 5_000],
	)
	lasting = dict(aum=[100_000] * 7 + [50_000] * 2, outflow=[5_000] * 7 + [55_000, 5_000])
	result = score(history("now", **dip_now), history("refilled", **refilled), history("lasting", **lasting))
	assert result.at["now", "churn_band"] != "High", "a dip in the latest month is a watch at most"
	assert result.at["refilled", "churn_band"] == "Low"
	assert result.at["lasting", "churn_band"] == "High", "the same fall a month later counts fully"


def test_a_holiday_lull_is_not_churn():
	over = dict(txn_count=[20] * 7 + [4, 20], digital_logins=[10] * 7 + [1, 10])
	now = dict(txn_count=[20] * 8 + [4], digital_logins=[10] * 8 + [1])
	result = score(history("over", **over), history("now", **now))
	assert result.at["over", "churn_band"] == "Low" and result.at["now", "churn_band"] == "Low"


# ---------------------------------------------------------------- the second book (churn_scenarios)


def test_the_second_book_is_deterministic():
	first = generate_churn_scenarios(customers=300, months=12, as_of=AS_OF, seed=1)
	again = generate_churn_scenarios(customers=300, months=12, as_of=AS_OF, seed=1)
	pd.testing.assert_frame_equal(first.snapshots, again.snapshots)
	pd.testing.assert_frame_equal(first.holdings, again.holdings)
	pd.testing.assert_frame_equal(first.truth, again.truth)


@pytest.mark.parametrize("seed", [3, 4])
def test_on_the_second_book_each_kind_of_churn_is_found_and_the_decoys_are_not(seed):
	book = generate_churn_scenarios(customers=5000, months=12, as_of=AS_OF, seed=seed)
	scored = score_churn(book.snapshots, as_of=AS_OF, render=False, holdings=book.holdings)
	table = churn_by_kind(scored, book.truth).set_index("kind")
	# measured at 20,000 customers, seeds 7, 11, 23: in High, balance-only 99.9-100 %, complaints-only
	# 98.8-99 %, combined 86.6-87.5 %, activity-only 55-59 %, engagement-only 36-45 % (High+Medium
	# 67-77 %); high-value churners in High 77-80 %; decoys in High+Medium: one-month dip 9-12 %,
	# holiday lull 12-13 %, matured deposit 0.5-1.2 %, investment loss 0.6-1.2 %. The old weighted sum:
	# 0.8-0.9 % of the churners in High, matured deposits 51-56 % in High+Medium.
	high, watch = table["high_share"], table["high_medium_share"]
	assert high["balance_only"] >= 0.9 and high["complaints_only"] >= 0.9 and high["combined"] >= 0.75
	assert watch["activity_only"] >= 0.6 and watch["engagement_only"] >= 0.5
	assert table.at["all churn", "high_value_high_share"] >= 0.7
	for decoy in ("matured_deposit", "investment_loss"):
		assert watch[decoy] <= 0.05, decoy
	for decoy in ("one_month_dip", "holiday_lull"):
		assert high[decoy] <= 0.12 and watch[decoy] <= 0.25, decoy
	assert watch["steady"] <= 0.03
	precision = band_precision(scored, book.truth)
	assert precision["high"]["precision"] >= 0.93 and precision["high_medium"]["precision"] >= 0.85
