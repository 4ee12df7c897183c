import datetime as dt

import pandas as pd
import pytest

from branch_crm.engine.balances import SUMMARY_COLUMNS, balance_changes, summarise_balances


def month_rows(customer, values, start=dt.date(2025, 1, 1), **extra):
	rows = []
	for i, aum in enumerate(values):
		month = (pd.Timestamp(start) + pd.DateOffset(months=i)).date()
		rows.append(
			{
				"customer": customer,
				"month": month,
				"aum": aum,
				"deposits": aum,
				"investments": 0,
				"loans": 0,
				"contribution": 10.0,
				"salary_credit": 0.0,
				**extra,
			}
		)
	return rows


def test_latest_balances_window_average_and_year_contribution():
	frame = pd.DataFrame(
		month_rows("A", [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400])
	)
	out = summarise_balances(frame, window_months=3).set_index("customer")
	assert list(out.reset_index().columns) == list(SUMMARY_COLUMNS)
	assert out.at["A", "as_of_month"] == dt.date(2026, 2, 1)
	assert out.at["A", "aum"] == 1400
	assert out.at["A", "avg_aum"] == pytest.approx((1200 + 1300 + 1400) / 3)
	assert out.at["A", "annual_contribution"] == pytest.approx(120.0)  # 12 of the 14 months
	assert out.at["A", "salary_credited_here"] == 0


def test_missing_months_in_window_count_as_zero_and_salary_flag():
	rows = month_rows("B", [900], start=dt.date(2025, 1, 1)) + month_rows(
		"B", [300], start=dt.date(2025, 3, 1), salary_credit=8000.0
	)
	out = summarise_balances(pd.DataFrame(rows), window_months=3).set_index("customer")
	assert out.at["B", "avg_aum"] == pytest.approx((900 + 0 + 300) / 3)
	assert out.at["B", "salary_credited_here"] == 1


def test_each_customer_uses_its_own_latest_month():
	rows = month_rows("C", [10, 20]) + month_rows("D", [5], start=dt.date(2024, 6, 1))
	out = summarise_balances(pd.DataFrame(rows)).set_index("customer")
	assert out.at["C", "as_of_month"] == dt.date(2025, 2, 1)
	assert out.at["D", "as_of_month"] == dt.date(2024, 6, 1)
	assert out.at["D", "aum"] == 5


def test_empty_input():
	empty = pd.DataFrame(
		columns=[
			"customer",
			"month",
			"aum",
			"deposits",
			"investments",
			"loans",
			"contribution",
			"salary_credit",
		]
	)
	assert summarise_balances(empty).empty


def test_only_balances_that_changed_are_written_again():
	frame = pd.DataFrame(month_rows("C1", [100.0, 200.0, 300.0]) + month_rows("C2", [50.0, 50.0, 50.0]))
	summary = summarise_balances(frame, window_months=3)
	stored = summary.rename(columns={"customer": "name"})
	assert balance_changes(summary, stored).empty

	# the database gives amounts back as decimals to the cent, and a missing amount as null
	held = stored.assign(aum=stored["aum"] + 0.001, loans=None)
	assert balance_changes(summary, held).empty

	moved = stored.assign(aum=[300.0, 49.0])
	assert balance_changes(summary, moved)["customer"].tolist() == ["C2"]

	older = stored.assign(as_of_month=[dt.date(2025, 2, 1), stored["as_of_month"][1]])
	assert balance_changes(summary, older)["customer"].tolist() == ["C1"]

	# a new profile holds nothing yet
	assert balance_changes(summary, stored.iloc[:1])["customer"].tolist() == ["C2"]
