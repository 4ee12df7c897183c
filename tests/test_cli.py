import base64
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
	render_chart_png,
	render_text,
)
from branch_crm.engine.churn import score_churn
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
	# one CSV per section, the report, and not the inputs
	assert sorted(p.name for p in out.iterdir()) == sorted(
		[f"{s.name}.csv" for s in SECTIONS] + ["report.html"]
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
	assert list(rejections.columns) == ["file", "line", "key", "field", "reason"]
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
	(tmp_path / "snapshots.csv").write_text("customer,month\n", encoding="utf-8")
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
