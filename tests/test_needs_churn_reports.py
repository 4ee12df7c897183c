import datetime as dt

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.churn import score_churn
from branch_crm.engine.needs import GAP_TYPES, NEEDS_GAP_LABEL_TEMPLATES, screen_needs
from branch_crm.engine.recompute import recompute_tables
from branch_crm.engine.sample import generate_sample
from branch_crm.reports.base import CHART_TYPES, FIELDTYPES
from branch_crm.reports.churn_warning import build_churn_warning
from branch_crm.reports.needs_screening import build_needs_screening, gap_type_codes

AS_OF = dt.date(2026, 9, 1)


@pytest.fixture(scope="module")
def tables():
	sample = generate_sample(customers=600, months=12, branches=2, as_of=AS_OF, seed=4)
	recomputed = recompute_tables(sample.tables())
	context = sample.customers.merge(
		recomputed[["customer", "tier", "bank_customer_group", "value_class", "lifetime_value", "aum"]],
		on="customer",
	)
	screened = screen_needs(context.drop(columns="aum"), sample.holdings, sample.snapshots, sample.products)
	scored = score_churn(sample.snapshots, customers=context["customer"]).merge(
		context[
			[
				"customer",
				"customer_name",
				"branch",
				"relationship_manager",
				"tier",
				"bank_customer_group",
				"value_class",
				"lifetime_value",
				"aum",
			]
		],
		on="customer",
	)
	return screened, scored


def plain_values(rows: list[dict]) -> bool:
	return all(v is None or type(v) in (str, int, float, bool) for row in rows for v in row.values())


def check_shape(result):
	assert all(c["fieldtype"] in FIELDTYPES for c in result.columns)
	assert result.chart["type"] in CHART_TYPES
	fields = [c["fieldname"] for c in result.columns]
	assert all(list(row) == fields for row in result.data)
	assert plain_values(result.data)


def test_needs_screening_lists_everyone_by_priority(tables):
	screened, _ = tables
	result = build_needs_screening(screened)
	check_shape(result)
	assert len(result.data) == len(screened)
	priority = [row["priority_score"] for row in result.data]
	assert priority == sorted(priority, reverse=True)
	assert {
		"customer",
		"gaps",
		"main_account_score",
		"merchant_like",
		"priority_score",
		"next_action",
	} <= set(result.data[0])
	assert {row["merchant_like"] for row in result.data} <= {0, 1}
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Customers Screened"] == len(screened)
	assert cards["With Product Gaps"] == int((screened["gap_count"] > 0).sum())
	assert cards["Merchant-like"] == int(screened["merchant_like"].sum())
	assert cards["Main Bank Elsewhere"] == int(
		screened["gap_types"].str.contains("main_bank_elsewhere").sum()
	)
	labels = result.chart["data"]["labels"]
	assert labels == [NEEDS_GAP_LABEL_TEMPLATES[c] for c in GAP_TYPES]
	customers = dict(zip(labels, result.chart["data"]["datasets"][0]["values"], strict=True))
	assert customers["Merchant-like cash flows"] == cards["Merchant-like"]


def test_needs_screening_filters(tables):
	screened, _ = tables
	branch = screened["branch"].iloc[0]
	result = build_needs_screening(screened, {"branch": branch, "tier": ["Mass", "Core"]})
	assert result.data and all(r["branch"] == branch and r["tier"] in ("Mass", "Core") for r in result.data)
	by_code = build_needs_screening(screened, {"gap_type": "merchant_like"})
	by_label = build_needs_screening(screened, {"gap_type": "Merchant-like cash flows"})
	assert by_code.data == by_label.data and by_code.data
	assert all(r["merchant_like"] == 1 for r in by_code.data)
	either = build_needs_screening(screened, {"gap_type": ["merchant_like", "mortgage_no_home_insurance"]})
	assert len(either.data) >= len(by_code.data)
	rm = screened["relationship_manager"].dropna().iloc[0]
	assert all(
		r["relationship_manager"] == rm
		for r in build_needs_screening(screened, {"relationship_manager": rm}).data
	)
	group = build_needs_screening(screened, {"bank_customer_group": "No Such Group"})
	assert group.data == [] and group.summary[0]["value"] == 0
	with pytest.raises(ValueError, match="unknown gap type"):
		gap_type_codes("cheap coffee")
	assert gap_type_codes("休眠", {"idle_deposits_no_wealth": "休眠"}) == ["idle_deposits_no_wealth"]


def test_needs_screening_limit_keeps_cards_and_chart_whole(tables):
	screened, _ = tables
	full = build_needs_screening(screened)
	top = build_needs_screening(screened, {"limit": 10})
	assert top.data == full.data[:10]
	assert top.summary == full.summary and top.chart == full.chart


def test_churn_warning_matrix_list_and_cards(tables):
	_, scored = tables
	result = build_churn_warning(scored)
	check_shape(result)
	assert len(result.data) == len(scored)
	names = [d["name"] for d in result.chart["data"]["datasets"]]
	assert names == ["High", "Medium", "Low", "No Score"]
	assert result.chart["data"]["labels"][:4] == ["MVC", "MGC", "Standard", "BZC"]
	total = sum(sum(d["values"]) for d in result.chart["data"]["datasets"])
	assert total == len(scored)
	priority = [row["retention_priority"] for row in result.data]
	assert priority == sorted(priority, reverse=True)
	cards = {c["label"]: c["value"] for c in result.summary}
	assert cards["Customers Scored"] == int(scored["has_score"].sum())
	assert cards["High Risk"] == int((scored["churn_band"] == "High").sum())
	assert cards["High Value & High Risk"] == int(
		((scored["churn_band"] == "High") & (scored["value_class"] == "MVC")).sum()
	)
	assert cards["Average Score"] == round(float(scored["churn_score"].mean()), 1)
	assert result.data[0]["churn_reasons"]
	# scores are kept to one decimal: shown so, not with the site's float precision
	shown = {c["fieldname"]: c.get("precision") for c in result.columns if c["fieldtype"] == "Float"}
	assert shown == {"churn_score": 1, "retention_priority": 1}


def test_churn_warning_filters(tables):
	_, scored = tables
	high = build_churn_warning(scored, {"churn_band": "High"})
	assert high.data and {r["churn_band"] for r in high.data} == {"High"}
	mvc = build_churn_warning(scored, {"value_class": ["MVC"], "churn_band": ["High", "Medium"]})
	assert all(r["value_class"] == "MVC" and r["churn_band"] in ("High", "Medium") for r in mvc.data)
	branch = scored["branch"].iloc[0]
	assert all(r["branch"] == branch for r in build_churn_warning(scored, {"branch": branch}).data)
	assert len(build_churn_warning(scored, {"limit": 5}).data) == 5


def test_churn_warning_with_unscored_customers_and_no_value_class():
	scored = pd.DataFrame(
		{
			"customer": ["a", "b", "c"],
			"churn_score": [np.nan, np.nan, 55.0],
			"churn_band": [None, None, "Medium"],
			"has_score": [False, False, True],
			"churn_reasons": ["Not enough history: 2 of 6 months of data"] * 2 + ["AUM down 30%"],
			"aum_change_pct": [np.nan, np.nan, -30.0],
		}
	)
	result = build_churn_warning(scored)
	assert result.chart["data"]["labels"] == ["All"]
	assert [d["values"] for d in result.chart["data"]["datasets"]] == [[0], [1], [0], [2]]
	assert result.data[0]["customer"] == "c" and result.data[1]["churn_score"] is None
	unscored = build_churn_warning(scored, {"churn_band": "No Score"})
	cards = {c["label"]: c["value"] for c in unscored.summary}
	assert cards["No Score (Short History)"] == 2 and cards["Average Score"] is None
	assert cards["Customers Scored"] == 0
