import base64
import datetime as dt
import re
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from branch_crm.cli import (
	SECTIONS,
	_width,
	format_value,
	main,
	maturing_holdings,
	recomputed,
	render_chart_png,
	render_text,
)
from branch_crm.engine import history
from branch_crm.engine.churn import score_churn
from branch_crm.engine.defaults import DEFAULT_GROUPS, DEFAULT_TIERS
from branch_crm.engine.recompute import PROFILE_COLUMNS, RecomputeConfig, recompute_chunk, recompute_tables
from branch_crm.engine.sample import generate_sample
from branch_crm.engine.tiering import TierRules, month_index, pivot_months
from branch_crm.reports.base import ReportResult, card, chart, column

SMALL = ["--customers", "300", "--months", "6", "--branches", "2", "--as-of", "2026-09"]


@pytest.fixture
def runner():
	return CliRunner()


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
	out = tmp_path_factory.mktemp("sample")
	result = CliRunner().invoke(
		main, ["sample", "--out", str(out), "--customers", "150", "--months", "4", "--as-of", "2026-09"]
	)
	assert result.exit_code == 0, result.output
	return out


def test_analyze_the_built_in_sample(runner, tmp_path):
	out = tmp_path / "analysis"
	result = runner.invoke(main, ["analyze", "--out", str(out), *SMALL])
	assert result.exit_code == 0, result.output
	# summary on stdout
	assert "300 customers in 2 branches, 6 months (2026-04 to 2026-09)" in result.output
	assert "Customer Overview" in result.output
	assert re.search(r"Customers\s+300\n", result.output)
	assert re.search(r"Months of Data\s+6\n", result.output)
	assert "Chaoyang Branch" in result.output and "Haidian Branch" in result.output
	# one CSV per section, the per-customer results, the report, and not the inputs
	assert sorted(p.name for p in out.iterdir()) == sorted(
		[f"{s.name}.csv" for s in SECTIONS] + ["customer_results.csv", "report.html"]
	)
	assert {"customer_overview", "tiers", "segments"} <= {s.name for s in SECTIONS}
	overview = pd.read_csv(out / "customer_overview.csv")
	assert overview["customers"].sum() == 300
	assert set(overview["branch"]) == {"Chaoyang Branch", "Haidian Branch"}
	html = (out / "report.html").read_text(encoding="utf-8")
	assert html.startswith("<!DOCTYPE html>")
	assert "<h2>Customer Overview</h2>" in html
	assert "Total AUM" in html and "Chaoyang Branch" in html
	png = re.search(r'src="data:image/png;base64,([^"]+)"', html)
	assert png and base64.b64decode(png.group(1)).startswith(b"\x89PNG")
	assert "http://" not in html and "https://" not in html  # self-contained


def test_analyze_writes_inputs_only_when_asked(runner, tmp_path):
	result = runner.invoke(main, ["analyze", "--out", str(tmp_path), "--write-inputs", *SMALL])
	assert result.exit_code == 0, result.output
	inputs = tmp_path / "inputs"
	assert {"customers.csv", "holdings.csv", "snapshots.csv", "staff.csv"} <= {
		p.name for p in inputs.iterdir()
	}
	assert len(pd.read_csv(inputs / "customers.csv")) == 300


def test_sample_then_analyze_the_files(runner, sample_dir, tmp_path):
	assert {p.name for p in sample_dir.iterdir()} == {
		"branches.csv",
		"staff.csv",
		"products.csv",
		"customers.csv",
		"holdings.csv",
		"snapshots.csv",
		"truth.csv",
	}
	assert len(pd.read_csv(sample_dir / "snapshots.csv")) == 150 * 4
	result = runner.invoke(main, ["analyze", "--data", str(sample_dir), "--out", str(tmp_path)])
	assert result.exit_code == 0, result.output
	assert "customers.csv: 150 rows, 150 valid, 0 rejected" in result.output
	assert "snapshots.csv: 600 rows, 600 valid, 0 rejected" in result.output
	assert re.search(r"Customers\s+150\n", result.output)
	assert (tmp_path / "report.html").exists()
	assert not (tmp_path / "rejections.csv").exists()


def test_same_numbers_from_files_as_from_memory(runner, sample_dir, tmp_path):
	from_files = runner.invoke(main, ["analyze", "--data", str(sample_dir), "--out", str(tmp_path / "a")])
	from_memory = runner.invoke(
		main,
		[
			"analyze",
			"--out",
			str(tmp_path / "b"),
			"--customers",
			"150",
			"--months",
			"4",
			"--as-of",
			"2026-09",
		],
	)
	assert from_files.exit_code == 0 and from_memory.exit_code == 0
	a = pd.read_csv(tmp_path / "a" / "customer_overview.csv")
	b = pd.read_csv(tmp_path / "b" / "customer_overview.csv")
	pd.testing.assert_frame_equal(a, b)


def test_rejected_rows_are_reported_and_skipped(runner, sample_dir, tmp_path):
	data = tmp_path / "data"
	data.mkdir()
	for name in ("customers", "holdings", "snapshots", "products"):
		(data / f"{name}.csv").write_bytes((sample_dir / f"{name}.csv").read_bytes())
	snapshots = pd.read_csv(data / "snapshots.csv", dtype=str, keep_default_na=False)
	snapshots.loc[1, "aum"] = "-5"
	snapshots.loc[2, "customer"] = "C99999999"
	snapshots.to_csv(data / "snapshots.csv", index=False)
	holdings = pd.read_csv(data / "holdings.csv", dtype=str, keep_default_na=False)
	holdings.loc[0, "product"] = "GOLD-BAR"
	holdings.to_csv(data / "holdings.csv", index=False)

	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out")])
	assert result.exit_code == 0, result.output
	assert "snapshots.csv: 600 rows, 598 valid, 2 rejected" in result.output
	assert "line 3 " in result.output and "aum: must be at least 0" in result.output
	assert "customer C99999999 does not exist" in result.output
	assert "holdings.csv:" in result.output and "product GOLD-BAR does not exist" in result.output
	rejections = pd.read_csv(tmp_path / "out" / "rejections.csv")
	assert list(rejections.columns) == ["file", "line", "key", "field", "reason", "action"]
	assert set(rejections["action"]) == {"row rejected"}
	assert sorted(rejections["line"][rejections["file"] == "snapshots.csv"]) == [3, 4]


def test_no_validate_reads_the_files_as_they_are(runner, sample_dir, tmp_path):
	result = runner.invoke(
		main, ["analyze", "--data", str(sample_dir), "--out", str(tmp_path), "--no-validate"]
	)
	assert result.exit_code == 0, result.output
	assert "rejected" not in result.output
	assert re.search(r"Customers\s+150\n", result.output)


def test_missing_data_folder(runner, tmp_path):
	result = runner.invoke(
		main, ["analyze", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]
	)
	assert result.exit_code == 2
	assert "does not exist" in result.output
	assert not (tmp_path / "out").exists()


def test_folder_without_the_intake_files(runner, tmp_path):
	result = runner.invoke(main, ["analyze", "--data", str(tmp_path), "--out", str(tmp_path / "out")])
	assert result.exit_code == 1
	assert "Error:" in result.output
	assert "missing customers.csv, holdings.csv, snapshots.csv" in result.output


def test_file_without_a_required_column(runner, sample_dir, tmp_path):
	for name in ("customers", "holdings"):
		(tmp_path / f"{name}.csv").write_bytes((sample_dir / f"{name}.csv").read_bytes())
	(tmp_path / "snapshots.csv").write_text("customer,aum\nC00000001,5\n", encoding="utf-8")
	result = runner.invoke(main, ["analyze", "--data", str(tmp_path), "--out", str(tmp_path / "out")])
	assert result.exit_code == 1
	assert "snapshots.csv: missing required column(s) month" in result.output


def test_no_valid_customers(runner, tmp_path):
	(tmp_path / "customers.csv").write_text("customer,customer_name\nC1,\n", encoding="utf-8")
	(tmp_path / "holdings.csv").write_text("customer,product\n", encoding="utf-8")
	(tmp_path / "snapshots.csv").write_text("customer,month,aum\n", encoding="utf-8")
	result = runner.invoke(main, ["analyze", "--data", str(tmp_path), "--out", str(tmp_path / "out")])
	assert result.exit_code == 1
	assert "no valid customers" in result.output
	assert "customer_name: Field required" in result.output


def test_bad_month_option(runner, tmp_path):
	result = runner.invoke(main, ["sample", "--out", str(tmp_path), "--as-of", "September"])
	assert result.exit_code == 2
	assert "is not a month; use YYYY-MM" in result.output


def test_sections_are_pluggable():
	names = [s.name for s in SECTIONS]
	assert names[0] == "customer_overview" and len(names) == len(set(names))
	assert all(callable(s.build) and s.title for s in SECTIONS)


def test_text_and_chart_rendering():
	result = ReportResult(
		columns=[
			column("branch", "Branch", "Link"),
			column("aum", "AUM", "Currency"),
			column("pct", "Share", "Percent"),
		],
		data=[
			{"branch": "海淀支行", "aum": 1234567.8, "pct": 12.345},
			{"branch": None, "aum": 0.0, "pct": None},
		],
		chart=chart(["a", "b"], [("X", [1, 2]), ("Y", [2, 1])], "bar"),
		summary=[card(2, "Branches")],
	)
	text = render_text("Demo", result)
	lines = text.splitlines()
	assert lines[:3] == ["Demo", "====", "  Branches  2"]
	assert "1,234,568" in text and "12.3%" in text
	# columns line up even with double-width Chinese text
	header, rule, first, second = lines[-4:]
	assert _width(header) == _width(rule) == _width(first) == _width(second)
	end = first.index("1,234,568") + len("1,234,568")
	assert _width(first[:end]) == _width(second[: second.index(" 0 ") + 2])  # numbers right-aligned
	assert second.startswith("  -")  # an empty cell shows as "-"
	for kind in ("bar", "line", "pie", "donut", "percentage"):
		png = render_chart_png(chart(["a", "b", "c"], [("X", [3, 1, 2])], kind))
		assert png.startswith(b"\x89PNG"), kind
	assert render_chart_png(None) is None
	assert format_value(None, "Currency") == "" and format_value(1500, "Int") == "1,500"


def test_offline_modules_never_import_frappe():
	code = (
		"import sys; sys.modules['frappe'] = None\n"  # any `import frappe` now fails
		"import branch_crm.cli, branch_crm.engine.sample, branch_crm.engine.io, branch_crm.reports.overview\n"
		"assert 'frappe' not in {m.split('.')[0] for m, v in sys.modules.items() if v is not None}\n"
	)
	result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
	assert result.returncode == 0, result.stderr


def test_offline_churn_reads_maturities_as_the_nightly_job_does():
	"""A time deposit that matured and was withdrawn explains the fall offline too."""
	months = pd.period_range("2026-01", "2026-09", freq="M").to_timestamp()
	aum = [200_000.0] * 6 + [200_000.0, 110_000.0, 105_000.0]
	outflow = [5_000.0] * 6 + [5_000.0, 95_000.0, 5_000.0]
	snapshots = pd.DataFrame(
		{
			"customer": "C1",
			"month": months,
			"aum": aum,
			"inflow": 5_000.0,
			"outflow": outflow,
			"txn_count": 30,
			"digital_logins": 20,
			"complaints": 0,
		}
	)
	holdings = pd.DataFrame(
		{
			"customer": ["C1"],
			"product": ["DEP-TIME-1Y"],
			"account_no": ["T1"],
			"balance": [90_000.0],
			"opened_on": [pd.Timestamp("2025-08-10")],
			"matures_on": [pd.Timestamp("2026-08-10")],
		}
	)
	maturing = maturing_holdings({"holdings": holdings, "products": None})
	assert maturing[["customer", "category", "balance"]].values.tolist() == [["C1", "Deposit", 90_000.0]]
	without = score_churn(snapshots, None)
	with_maturity = score_churn(snapshots, None, holdings=maturing)
	assert with_maturity["churn_score"].iloc[0] < without["churn_score"].iloc[0]
	assert "maturity_explained" in with_maturity["reason_codes"].iloc[0]


# ---------------------------------------------------------------- tiers as the nightly job keeps them


def _nightly_tiers(tables):
	"""The nightly recompute run after each month's data came, each night starting from the tiers the
	night before stored: what the site holds after the last month."""
	config = RecomputeConfig(tiers=DEFAULT_TIERS, groups=DEFAULT_GROUPS)
	customers, snapshots = tables["customers"], tables["snapshots"]
	index = pd.Index(customers["customer"])
	profiles = pd.DataFrame(
		{c: customers[c] if c in customers else None for c in PROFILE_COLUMNS}
	).reset_index(drop=True)
	profiles["tier"] = None
	profiles["tier_since"] = None
	profiles["last_contact_date"] = None
	for month in sorted(pd.to_datetime(snapshots["month"]).unique()):
		seen = snapshots[pd.to_datetime(snapshots["month"]) <= month]
		months = month_index(pd.Timestamp(month).date(), config.months)
		result = recompute_chunk(
			profiles,
			pivot_months(seen, "aum", index, months),
			pivot_months(seen, "contribution", index, months),
			index.isin(seen["customer"].unique()),
			None,
			config,
			as_of=pd.Timestamp(month).date(),
			today=history.month_processed_on(pd.Timestamp(month)),
		)
		profiles["tier"] = result.profiles["tier"].to_numpy()
		profiles["tier_since"] = result.profiles["tier_since"].to_numpy()
	return profiles[["customer", "tier", "tier_since"]]


def test_offline_tiers_equal_what_the_nightly_job_stores():
	tables = generate_sample(customers=600, months=12, branches=2, as_of=dt.date(2026, 9, 1), seed=5).tables()
	offline = recomputed(tables).set_index("customer")
	nightly = _nightly_tiers(tables).set_index("customer").reindex(offline.index)
	assert (offline["tier"] == nightly["tier"]).all()
	assert (pd.to_datetime(offline["tier_since"]) == pd.to_datetime(nightly["tier_since"])).all()
	# and that differs from tiering everyone as new: some customers are held by the downgrade delay
	as_new = recompute_tables(tables).set_index("customer").reindex(offline.index)
	held = offline["tier"] != as_new["tier"]
	assert held.any()
	assert offline.loc[held, "tier_reason"].str.startswith("Below ").all()


def test_a_customer_below_their_tier_for_less_than_the_delay_keeps_it(runner, tmp_path):
	"""Customers at VIP for a year, then below VIP's average for 1, 2, ... months: offline they stay
	VIP until they have been below it for ``downgrade_after_months`` months in a row."""
	rules = TierRules()
	vip = next(t for t in DEFAULT_TIERS if t["tier_name"] == "VIP")["min_avg_aum"]
	months = pd.period_range("2025-10", "2026-09", freq="M").to_timestamp()
	rows, below = [], {}
	for low_months in range(0, 7):
		customer = f"C{low_months:08d}"
		aum = [1.5 * vip] * (len(months) - low_months) + [0.5 * vip] * low_months
		rows += [
			{"customer": customer, "month": f"{m:%Y-%m}", "aum": a} for m, a in zip(months, aum, strict=True)
		]
		average = pd.Series(aum).rolling(rules.window_months).mean()
		trailing = (average < vip)[::-1].cummin().sum()
		below[customer] = int(trailing)
	data = tmp_path / "data"
	data.mkdir()
	pd.DataFrame({"customer": list(below), "customer_name": "张伟"}).to_csv(
		data / "customers.csv", index=False
	)
	(data / "holdings.csv").write_text("customer,product\n", encoding="utf-8")
	pd.DataFrame(rows).to_csv(data / "snapshots.csv", index=False)

	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out")])
	assert result.exit_code == 0, result.output
	tiers = pd.read_csv(tmp_path / "out" / "customer_results.csv").set_index("customer")["tier"]
	for customer, months_below in below.items():
		expected = "VIP" if months_below < rules.downgrade_after_months else "Core"
		assert tiers[customer] == expected, (customer, months_below)
	assert {0, 1, 2, rules.downgrade_after_months} <= set(below.values())  # the cases are all there


# ---------------------------------------------------------------- bad input is never silent


def copy_dir(source, target):
	target.mkdir()
	for path in source.iterdir():
		(target / path.name).write_bytes(path.read_bytes())
	return target


def edit_csv(path, change):
	frame = pd.read_csv(path, dtype=str, keep_default_na=False)
	frame = change(frame)
	frame.to_csv(path, index=False)
	return frame


@pytest.fixture(scope="module")
def clean_results(sample_dir, tmp_path_factory):
	out = tmp_path_factory.mktemp("clean")
	result = CliRunner().invoke(main, ["analyze", "--data", str(sample_dir), "--out", str(out)])
	assert result.exit_code == 0, result.output
	return pd.read_csv(out / "customer_results.csv")


def test_per_customer_results_are_written_by_default(clean_results, sample_dir):
	customers = pd.read_csv(sample_dir / "customers.csv")
	assert clean_results["customer"].tolist() == customers["customer"].tolist()
	for name in ("tier", "bank_customer_group", "value_class", "churn_score", "churn_band", "next_action"):
		assert name in clean_results, name
	assert clean_results["tier"].notna().all() and clean_results["value_class"].notna().all()


@pytest.mark.parametrize("validate", ["--validate", "--no-validate"])
def test_a_future_month_is_left_out_and_never_moves_the_analysis_month(
	runner, sample_dir, clean_results, tmp_path, validate
):
	data = copy_dir(sample_dir, tmp_path / "data")
	snapshots = edit_csv(
		data / "snapshots.csv",
		lambda s: pd.concat([s, s.iloc[[0]].assign(month="2099-03-01", aum="5")], ignore_index=True),
	)
	line = len(snapshots) + 1
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out"), validate])
	assert result.exit_code == 0, result.output
	assert f"line {line} [" in result.output and "month: month 2099-03 is in the future" in result.output
	assert "Analysis month: 2026-09" in result.output
	assert "4 months (2026-06 to 2026-09)" in result.output
	results = pd.read_csv(tmp_path / "out" / "customer_results.csv")
	pd.testing.assert_frame_equal(results, clean_results)
	problems = pd.read_csv(tmp_path / "out" / "rejections.csv")
	assert problems[["file", "line", "field"]].values.tolist() == [["snapshots.csv", line, "month"]]


def test_a_thin_last_month_is_left_out_and_said(runner, sample_dir, clean_results, tmp_path):
	data = copy_dir(sample_dir, tmp_path / "data")
	snapshots = edit_csv(
		data / "snapshots.csv",
		lambda s: pd.concat([s, s.iloc[[0, 4]].assign(month="2026-10-01")], ignore_index=True),
	)
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out")])
	assert result.exit_code == 0, result.output
	assert "snapshots.csv: 2 row(s) left out" in result.output
	assert f"line {len(snapshots)} [" in result.output
	assert "month: month 2026-10 has snapshots for only 2 customers" in result.output
	assert "analysed up to 2026-09" in result.output and "Analysis month: 2026-09" in result.output
	pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "customer_results.csv"), clean_results)
	problems = pd.read_csv(tmp_path / "out" / "rejections.csv")
	assert set(problems["action"]) == {"row left out"}


@pytest.mark.parametrize("validate", ["--validate", "--no-validate"])
def test_common_month_spellings_are_read(runner, sample_dir, clean_results, tmp_path, validate):
	data = copy_dir(sample_dir, tmp_path / "data")
	spellings = ["2026/09", "202609", "2026-09-01", "2026-09", "2026/9/30"]

	def respell(s):
		last = s["month"].str.startswith("2026-09")
		s.loc[last, "month"] = [spellings[i % len(spellings)] for i in range(int(last.sum()))]
		s.loc[s["month"].str.startswith("2026-08"), "month"] = "2026/08"
		return s

	edit_csv(data / "snapshots.csv", respell)
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out"), validate])
	assert result.exit_code == 0, result.output
	assert "rejected" not in result.output.replace("0 rejected", "")
	assert "Analysis month: 2026-09" in result.output
	pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "customer_results.csv"), clean_results)


def test_a_month_that_cannot_be_read_is_named(runner, sample_dir, tmp_path):
	data = copy_dir(sample_dir, tmp_path / "data")
	edit_csv(data / "snapshots.csv", lambda s: s.assign(month=s["month"].where(s.index != 3, "Sept 2026")))
	unvalidated = runner.invoke(
		main, ["analyze", "--data", str(data), "--out", str(tmp_path / "a"), "--no-validate"]
	)
	assert unvalidated.exit_code == 1
	assert "snapshots.csv: column month has values that are not months" in unvalidated.output
	assert "line 5: 'Sept 2026'" in unvalidated.output
	validated = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "b")])
	assert validated.exit_code == 0, validated.output
	assert "line 5 [" in validated.output and "month: must be a month (YYYY-MM)" in validated.output
	assert "1 row(s) left out for their month" in validated.output


@pytest.mark.parametrize("validate", ["--validate", "--no-validate"])
def test_snapshots_without_aum_are_refused(runner, sample_dir, tmp_path, validate):
	data = copy_dir(sample_dir, tmp_path / "data")
	edit_csv(data / "snapshots.csv", lambda s: s.drop(columns="aum"))
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out"), validate])
	assert result.exit_code == 1
	assert "snapshots.csv: missing required column(s) aum" in result.output
	assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("validate", ["--validate", "--no-validate"])
@pytest.mark.parametrize("name", ["snapshots", "customers"])
def test_a_header_only_file_is_a_clear_error(runner, sample_dir, tmp_path, validate, name):
	data = copy_dir(sample_dir, tmp_path / "data")
	header = (data / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
	(data / f"{name}.csv").write_text(header + "\n", encoding="utf-8")
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out"), validate])
	assert result.exit_code == 1, result.output
	assert f"{name}.csv: no valid" in result.output or f"{name}.csv: no {name[:-1]} rows" in result.output
	assert "Traceback" not in result.output and "NaTType" not in result.output
	assert not isinstance(result.exception, AttributeError)


@pytest.mark.parametrize("validate", ["--validate", "--no-validate"])
def test_duplicates_are_named_and_the_first_counts(runner, sample_dir, clean_results, tmp_path, validate):
	data = copy_dir(sample_dir, tmp_path / "data")
	snapshots = edit_csv(
		data / "snapshots.csv",
		lambda s: pd.concat([s, s.iloc[[4]].assign(aum="1")], ignore_index=True),
	)
	edit_csv(data / "customers.csv", lambda c: pd.concat([c, c.iloc[[2]]], ignore_index=True))
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out"), validate])
	assert result.exit_code == 0, result.output
	assert f"line {len(snapshots) + 1} [" in result.output and "repeats the key of line 6" in result.output
	assert "repeats the key of line 4" in result.output  # customers.csv
	pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "customer_results.csv"), clean_results)


@pytest.mark.parametrize("validate", ["--validate", "--no-validate"])
def test_a_future_date_of_birth_keeps_the_customer_and_their_data(runner, sample_dir, tmp_path, validate):
	data = copy_dir(sample_dir, tmp_path / "data")
	customers = edit_csv(
		data / "customers.csv",
		lambda c: c.assign(date_of_birth=c["date_of_birth"].where(c.index != 4, "2090-05-01")),
	)
	who = customers.at[4, "customer"]
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out"), validate])
	assert result.exit_code == 0, result.output
	assert (
		f"line 6 [{who}] date_of_birth: 2090-05-01 is in the future; left blank, the row kept"
		in result.output
	)
	assert "does not exist" not in result.output and "was rejected" not in result.output
	if validate == "--validate":
		assert (
			"customers.csv: 150 rows, 150 valid, 0 rejected, 1 kept with a value left blank" in result.output
		)
		assert "snapshots.csv: 600 rows, 600 valid, 0 rejected" in result.output
	results = pd.read_csv(tmp_path / "out" / "customer_results.csv").set_index("customer")
	assert len(results) == 150 and results.at[who, "aum"] > 0 and pd.notna(results.at[who, "tier"])
	problems = pd.read_csv(tmp_path / "out" / "rejections.csv")
	assert problems[["file", "line", "field", "action"]].values.tolist() == [
		["customers.csv", 6, "date_of_birth", "field left blank"]
	]


def test_holdings_of_a_rejected_customer_say_why(runner, sample_dir, tmp_path):
	data = copy_dir(sample_dir, tmp_path / "data")
	customers = edit_csv(
		data / "customers.csv", lambda c: c.assign(customer_name=c["customer_name"].where(c.index != 0, ""))
	)
	who = customers.at[0, "customer"]
	result = runner.invoke(main, ["analyze", "--data", str(data), "--out", str(tmp_path / "out")])
	assert result.exit_code == 0, result.output
	assert f"line 2 [{who}] customer_name: Field required" in result.output
	assert f"customer {who} was rejected (customers.csv line 2)" in result.output
