"""The offline analysis in buckets and chunks gives what one pass over everything gives: the same
per-customer results, sections and problems, whatever the bucket and chunk sizes."""

import datetime as dt
import filecmp

import pandas as pd
import pytest
from click.testing import CliRunner

from branch_crm import cli, offline
from branch_crm.cli import main
from branch_crm.engine import io as csv_io
from branch_crm.engine.sample import generate_sample


@pytest.fixture(scope="module")
def messy_dir(tmp_path_factory):
	"""A sample network with faults spread over the files: duplicates far apart (other chunks), a
	future date of birth, an unknown customer, a month in the future, a thin last month."""
	data = generate_sample(customers=400, months=14, branches=3, as_of=dt.date(2026, 9, 1), seed=11)
	folder = tmp_path_factory.mktemp("messy")
	csv_io.write_csv_dir(data, folder)
	customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
	customers.loc[5, "date_of_birth"] = "2031-01-01"
	customers = pd.concat([customers, customers.iloc[[7]]], ignore_index=True)
	customers.to_csv(folder / "customers.csv", index=False)
	snapshots = pd.read_csv(folder / "snapshots.csv", dtype=str, keep_default_na=False)
	extra = pd.concat(
		[
			snapshots.iloc[[3, 1200]],  # repeats of earlier rows
			snapshots.iloc[[10]].assign(customer="C99999999"),
			snapshots.iloc[[20]].assign(month="2031-01-01"),
			snapshots.iloc[[30, 40]].assign(month="2026-10-01"),  # a month that has only begun
			snapshots.iloc[[50]].assign(aum="-5"),
		]
	)
	pd.concat([snapshots, extra], ignore_index=True).to_csv(folder / "snapshots.csv", index=False)
	return folder


def analyse(folder, out, monkeypatch, bucket, chunk, render=50_000):
	monkeypatch.setattr(offline, "BUCKET_CUSTOMERS", bucket)
	monkeypatch.setattr(offline, "CHUNK_ROWS", chunk)
	monkeypatch.setattr(offline, "RENDER_ROWS", render)
	result = CliRunner().invoke(main, ["analyze", "--data", str(folder), "--out", str(out), "--write-inputs"])
	assert result.exit_code == 0, result.output
	return result


def test_buckets_and_chunks_change_nothing(messy_dir, tmp_path, monkeypatch):
	whole = analyse(messy_dir, tmp_path / "whole", monkeypatch, bucket=10**6, chunk=10**7)
	parts = analyse(messy_dir, tmp_path / "parts", monkeypatch, bucket=37, chunk=301, render=13)
	files = sorted(p.name for p in (tmp_path / "whole").glob("*.csv"))
	assert "customer_results.csv" in files and "rejections.csv" in files
	_, mismatch, errors = filecmp.cmpfiles(tmp_path / "whole", tmp_path / "parts", files, shallow=False)
	assert (mismatch, errors) == ([], [])
	# and each file's summary line says the same
	said = [[line for line in r.output.splitlines() if ".csv: " in line] for r in (whole, parts)]
	assert said[0] == said[1] and len(said[0]) >= 3
	inputs = sorted(p.name for p in (tmp_path / "whole" / "inputs").glob("*.csv"))
	_, mismatch, errors = filecmp.cmpfiles(
		tmp_path / "whole" / "inputs", tmp_path / "parts" / "inputs", inputs, shallow=False
	)
	assert (mismatch, errors) == ([], [])
	# the faults are all said, wherever they fell
	rejections = pd.read_csv(tmp_path / "parts" / "rejections.csv")
	reasons = " | ".join(rejections["reason"])
	for expected in ("repeats the key of line", "does not exist", "in the future", "has snapshots for only"):
		assert expected in reasons
	assert whole.output.splitlines()[-1].startswith("Wrote")


def test_value_classes_are_shares_of_everyone(messy_dir, tmp_path, monkeypatch):
	"""Buckets of a few customers each still give the population's value classes."""
	analyse(messy_dir, tmp_path / "small", monkeypatch, bucket=5, chunk=10**7)
	results = pd.read_csv(tmp_path / "small" / "customer_results.csv")
	share = (results["value_class"] == "MVC").mean()
	assert 0.05 < share < 0.4
	whole = analyse(messy_dir, tmp_path / "whole", monkeypatch, bucket=10**6, chunk=10**7)
	assert whole.exit_code == 0
	assert (
		results["value_class"].tolist()
		== pd.read_csv(tmp_path / "whole" / "customer_results.csv")["value_class"].tolist()
	)


def test_results_written_a_range_at_a_time_are_the_same_file(messy_dir, tmp_path, monkeypatch):
	analyse(messy_dir, tmp_path / "whole", monkeypatch, bucket=10**6, chunk=10**7)
	(tmp_path / "spill").mkdir()
	loaded = cli.load_intake(messy_dir, validate=True, today=dt.date.today(), spill=tmp_path / "spill")
	cli.write_customer_results(loaded.tables, tmp_path / "ranges.csv", rows_at_a_time=7)
	assert filecmp.cmp(tmp_path / "ranges.csv", tmp_path / "whole" / "customer_results.csv", shallow=False)
