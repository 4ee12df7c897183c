import datetime as dt
import json

import pandas as pd
import pytest

from branch_crm.engine.sample import generate_sample
from branch_crm.reports.base import ReportResult, card, chart, column, plain, records
from branch_crm.reports.overview import aum_bands, build_customer_overview, latest_aum


@pytest.fixture
def customers():
	return pd.DataFrame(
		{
			"customer": ["C1", "C2", "C3", "C4", "C5", "C6"],
			"branch": [
				"Haidian Branch",
				"Haidian Branch",
				"Haidian Branch",
				"Pudong Branch",
				"Pudong Branch",
				None,
			],
			"relationship_manager": ["rm01@b", None, "", "rm02@b", None, None],
			"acquisition_channel": [
				"Natural Walk-in",
				"Natural Walk-in",
				"Customer Referral",
				"Outbound Marketing",
				None,
				"Staff Referral",
			],
		}
	)


@pytest.fixture
def snapshots():
	rows = [
		# the earlier month must not count
		("C1", "2026-07-01", 999_999.0),
		("C1", "2026-08-01", 100_000.0),
		("C2", "2026-08-01", 20_000.0),
		("C3", "2026-08-01", 5_000.0),
		("C4", "2026-08-01", 2_000_000.0),
		("C5", "2026-07-01", 70_000.0),  # no snapshot in the latest month: AUM 0
		("C6", "2026-08-01", 7_000_000.0),
		("C9", "2026-08-01", 1.0),  # not a known customer: ignored
	]
	frame = pd.DataFrame(rows, columns=["customer", "month", "aum"])
	frame["month"] = pd.to_datetime(frame["month"])
	return frame


def test_latest_aum(customers, snapshots):
	aum, month = latest_aum(customers, snapshots)
	assert month == pd.Timestamp("2026-08-01")
	assert aum.tolist() == [100_000.0, 20_000.0, 5_000.0, 2_000_000.0, 0.0, 7_000_000.0]


def test_rows_per_branch(customers, snapshots):
	result = build_customer_overview(customers, snapshots)
	rows = {row["branch"]: row for row in result.data}
	assert [r["branch"] for r in result.data] == [None, "Pudong Branch", "Haidian Branch"]  # by total AUM

	haidian = rows["Haidian Branch"]
	assert haidian["customers"] == 3
	assert haidian["total_aum"] == 125_000.0
	assert haidian["avg_aum"] == pytest.approx(41_666.67)
	assert haidian["median_aum"] == 20_000.0
	assert haidian["with_rm"] == 1  # "" is no relationship manager
	assert haidian["with_rm_pct"] == pytest.approx(33.3)
	assert haidian["walk_in_pct"] == pytest.approx(66.7)
	assert haidian["customer_referral_pct"] == pytest.approx(33.3)
	assert haidian["staff_referral_pct"] == 0.0 and haidian["outbound_pct"] == 0.0

	pudong = rows["Pudong Branch"]
	assert pudong["customers"] == 2
	assert pudong["total_aum"] == 2_000_000.0
	assert pudong["median_aum"] == 1_000_000.0
	assert pudong["outbound_pct"] == 50.0 and pudong["walk_in_pct"] == 0.0  # one channel not recorded

	no_branch = rows[None]
	assert no_branch["customers"] == 1 and no_branch["staff_referral_pct"] == 100.0


def test_summary_cards(customers, snapshots):
	summary = {c["label"]: c for c in build_customer_overview(customers, snapshots).summary}
	assert list(summary) == ["Customers", "Total AUM", "Median AUM", "Months of Data"]
	assert summary["Customers"]["value"] == 6
	assert summary["Total AUM"]["value"] == 9_125_000.0
	assert summary["Median AUM"]["value"] == 60_000.0
	assert summary["Months of Data"]["value"] == 2
	assert summary["Total AUM"]["datatype"] == "Currency" and summary["Customers"]["datatype"] == "Int"
	for c in summary.values():
		assert set(c) == {"value", "label", "datatype", "indicator"}


def test_chart_counts_customers_per_aum_band(customers, snapshots):
	result = build_customer_overview(customers, snapshots)
	assert result.chart["type"] == "bar"
	labels = result.chart["data"]["labels"]
	assert labels == ["0-10k", "10k-50k", "50k-200k", "200k-1M", "1M-6M", "6M+"]
	datasets = result.chart["data"]["datasets"]
	assert len(datasets) == 1 and datasets[0]["name"] == "Customers"
	# C5 (0) and C3 (5k) | C2 (20k) | C1 (100k) | - | C4 (2M) | C6 (7M)
	assert datasets[0]["values"] == [2, 1, 1, 0, 1, 1]


def test_bands_follow_the_tiers():
	tiers = [{"min_avg_aum": 0}, {"min_avg_aum": 500_000}, {"min_avg_aum": 2_500_000}]
	edges, labels = aum_bands(tiers)
	assert edges == [0.0, 10_000.0, 50_000.0, 500_000.0, 2_500_000.0]
	assert labels == ["0-10k", "10k-50k", "50k-500k", "500k-2.5M", "2.5M+"]


def test_columns_and_data_match(customers, snapshots):
	result = build_customer_overview(customers, snapshots)
	fieldnames = [c["fieldname"] for c in result.columns]
	for c in result.columns:
		assert {"fieldname", "label", "fieldtype", "width"} <= set(c)
		assert c["label"] and isinstance(c["width"], int)
	assert result.columns[0] == {
		"fieldname": "branch",
		"label": "Branch",
		"fieldtype": "Link",
		"width": 180,
		"options": "Branch",
	}
	assert {c["fieldtype"] for c in result.columns} == {"Link", "Int", "Currency", "Percent"}
	for row in result.data:
		assert list(row) == fieldnames
	# plain JSON-friendly values, as a whitelisted method returns them
	json.dumps(result.as_frappe())
	assert type(result.data[0]["customers"]) is int
	assert type(result.data[0]["total_aum"]) is float
	columns, data, message, chart_, summary = result.as_frappe()
	assert columns is result.columns and data is result.data
	assert message is None and chart_ is result.chart and summary is result.summary
	frame = result.frame()
	assert list(frame.columns) == fieldnames and len(frame) == 3


def test_empty_snapshots(customers):
	empty = pd.DataFrame(columns=["customer", "month", "aum"])
	result = build_customer_overview(customers, empty)
	summary = {c["label"]: c["value"] for c in result.summary}
	assert summary == {"Customers": 6, "Total AUM": 0.0, "Median AUM": 0.0, "Months of Data": 0}
	assert sum(result.chart["data"]["datasets"][0]["values"]) == 6


def test_no_customers(snapshots):
	empty = pd.DataFrame(columns=["customer", "branch", "relationship_manager", "acquisition_channel"])
	result = build_customer_overview(empty, snapshots)
	assert result.data == []
	assert result.summary[0]["value"] == 0


def test_on_a_generated_sample_totals_add_up():
	sample = generate_sample(customers=400, months=3, as_of=dt.date(2026, 9, 1), seed=9)
	result = build_customer_overview(sample.customers, sample.snapshots)
	last = sample.snapshots[sample.snapshots["month"] == sample.snapshots["month"].max()]
	assert sum(r["customers"] for r in result.data) == 400
	assert sum(r["total_aum"] for r in result.data) == pytest.approx(last["aum"].sum(), abs=1)
	assert sum(result.chart["data"]["datasets"][0]["values"]) == 400
	assert {r["branch"] for r in result.data} == set(sample.branches["branch"])
	shares = [
		r["walk_in_pct"] + r["staff_referral_pct"] + r["customer_referral_pct"] + r["outbound_pct"]
		for r in result.data
	]
	assert shares == pytest.approx([100.0] * len(shares), abs=0.3)


def test_base_helpers():
	assert column("x", "X", "Currency", 90) == {
		"fieldname": "x",
		"label": "X",
		"fieldtype": "Currency",
		"width": 90,
	}
	with pytest.raises(ValueError):
		column("x", "X", "Money")
	with pytest.raises(ValueError):
		chart(["a"], [("A", [1])], "radar")
	with pytest.raises(ValueError):
		card(1, "One", indicator="Purple")
	assert chart(["a", "b"], [("A", [1, 2])], "line", colors=["#000"]) == {
		"data": {"labels": ["a", "b"], "datasets": [{"name": "A", "values": [1, 2]}]},
		"type": "line",
		"colors": ["#000"],
	}
	assert plain(float("nan")) is None and plain(pd.NaT) is None
	assert plain(pd.Timestamp("2026-08-01")) == dt.date(2026, 8, 1)
	frame = pd.DataFrame({"a": [1, 2], "b": [0.5, None]})
	assert records(frame) == [{"a": 1, "b": 0.5}, {"a": 2, "b": None}]
	assert ReportResult([column("a", "A", "Int")], [{"a": 1}]).frame().to_dict("records") == [{"a": 1}]
