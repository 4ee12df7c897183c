import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine import schema
from branch_crm.engine.io import coerce_table, parse_months, read_csv_dir, read_table, write_csv_dir
from branch_crm.engine.sample import generate_sample

AS_OF = dt.date(2026, 9, 1)


@pytest.fixture(scope="module")
def sample():
	return generate_sample(customers=120, months=3, as_of=AS_OF, seed=2)


def write(path, name, text):
	(path / name).write_text(text, encoding="utf-8")


def minimal_dir(path):
	write(path, "customers.csv", "customer,customer_name\nC1,张伟\n")
	write(path, "holdings.csv", "customer,product\nC1,DEP-DEMAND\n")
	write(path, "snapshots.csv", "customer,month,aum\nC1,2026-08,100\n")
	return path


def test_round_trip_keeps_every_table_exactly(sample, tmp_path):
	written = write_csv_dir(sample, tmp_path)
	assert set(written) == set(sample.tables())
	assert all(p.exists() for p in written.values())
	back = read_csv_dir(tmp_path)
	assert set(back) == set(sample.tables())
	for name, frame in sample.tables().items():
		pd.testing.assert_frame_equal(back[name], frame.reset_index(drop=True), check_dtype=True, obj=name)


def test_chinese_text_is_utf8_on_disk(sample, tmp_path):
	write_csv_dir({"customers": sample.customers}, tmp_path)
	raw = (tmp_path / "customers.csv").read_bytes()
	name = sample.customers["customer_name"].iloc[0]
	assert name.encode("utf-8") in raw
	assert not raw.startswith(b"\xef\xbb\xbf")  # no byte-order mark
	header = raw.decode("utf-8").splitlines()[0]
	assert header.split(",") == list(schema.CUSTOMER_COLUMNS)
	first_row = raw.decode("utf-8").splitlines()[1]
	assert f",{sample.customers['date_of_birth'].iloc[0]:%Y-%m-%d}," in first_row  # ISO dates
	assert "00:00:00" not in raw.decode("utf-8")


def test_write_accepts_a_mapping_and_creates_the_folder(tmp_path):
	frame = pd.DataFrame({"branch": ["海淀支行", "Pudong Branch"]})
	target = tmp_path / "a" / "b"
	written = write_csv_dir({"branches": frame}, target)
	assert written == {"branches": target / "branches.csv"}
	back = read_csv_dir(target, required=("branches",))
	assert back["branches"]["branch"].tolist() == ["海淀支行", "Pudong Branch"]


def test_hand_written_files_are_parsed_with_the_standard_dtypes(tmp_path):
	# a byte-order mark (Excel), columns in another order, partial months, blanks and flags
	(tmp_path / "customers.csv").write_bytes(
		"customer_name,customer,do_not_contact,declared_annual_income,date_of_birth,employer\n"
		'王芳,C1,true,"120,000",1980-02-29,\n'
		"NA,C2,,,,  \n".encode("utf-8-sig")
	)
	write(tmp_path, "holdings.csv", "customer,product,account_no,balance\nC1,DEP-DEMAND,0012,\n")
	write(tmp_path, "snapshots.csv", "customer,month,aum,txn_count\nC1,2026-08,100.5,3\nC1,2026-07-17,90,\n")
	tables = read_csv_dir(tmp_path)
	c = tables["customers"]
	assert list(c.columns) == list(schema.CUSTOMER_COLUMNS)  # schema order, missing columns added
	assert c["customer_name"].tolist() == ["王芳", "NA"]  # "NA" is a name, not a missing value
	assert c["do_not_contact"].tolist() == [1, 0] and c["do_not_contact"].dtype == np.int8
	assert c["declared_annual_income"].iloc[0] == 120000.0 and np.isnan(c["declared_annual_income"].iloc[1])
	assert c["date_of_birth"].iloc[0] == pd.Timestamp("1980-02-29") and pd.isna(c["date_of_birth"].iloc[1])
	assert c["employer"].tolist() == [None, None]  # blank and whitespace-only
	assert c["branch"].isna().all()
	h = tables["holdings"]
	assert h["account_no"].tolist() == ["0012"]  # leading zeros kept: account numbers are text
	assert h["balance"].tolist() == [0.0]
	s = tables["snapshots"]
	assert s["month"].tolist() == [pd.Timestamp("2026-08-01"), pd.Timestamp("2026-07-01")]
	assert s["txn_count"].tolist() == [3, 0] and s["txn_count"].dtype == np.int32
	assert s["deposits"].tolist() == [0.0, 0.0]
	assert s["aum"].dtype == np.float64


def test_parse_false_returns_text_as_sent(tmp_path):
	write(tmp_path, "customers.csv", "customer,customer_name,declared_annual_income\nC1,张伟,\nC2,李娜,1e5\n")
	write(tmp_path, "holdings.csv", "customer,product\n")
	write(tmp_path, "snapshots.csv", "customer,month,aum\nC1,2026-08,abc\n")
	raw = read_csv_dir(tmp_path, parse=False)
	assert raw["customers"]["declared_annual_income"].tolist() == [None, "1e5"]
	assert raw["snapshots"]["aum"].tolist() == ["abc"]  # left for the intake to reject
	assert raw["snapshots"]["month"].tolist() == ["2026-08"]
	assert raw["holdings"].empty and list(raw["holdings"].columns) == list(schema.HOLDING_COLUMNS)


def test_only_present_optional_files_are_read(tmp_path):
	tables = read_csv_dir(minimal_dir(tmp_path))
	assert set(tables) == {"customers", "holdings", "snapshots"}
	write(
		tmp_path,
		"staff.csv",
		"user,branch,role_type,max_customers\nrm01@bank.example,Chaoyang Branch,Relationship Manager,300\n",
	)
	tables = read_csv_dir(tmp_path)
	assert tables["staff"]["max_customers"].tolist() == [300]
	assert tables["staff"]["max_aum"].tolist() == [0.0]


def test_missing_folder(tmp_path):
	with pytest.raises(FileNotFoundError, match="no such folder"):
		read_csv_dir(tmp_path / "nope")


def test_missing_required_files_are_named(tmp_path):
	write(tmp_path, "customers.csv", "customer,customer_name\nC1,张伟\n")
	with pytest.raises(FileNotFoundError) as error:
		read_csv_dir(tmp_path)
	message = str(error.value)
	assert "holdings.csv" in message and "snapshots.csv" in message
	assert "missing holdings.csv, snapshots.csv" in message
	# asking for fewer files works
	assert set(read_csv_dir(tmp_path, required=("customers",))) == {"customers"}
	with pytest.raises(ValueError, match="unknown table"):
		read_csv_dir(tmp_path, required=("accounts",))


def test_missing_required_columns_are_named(tmp_path):
	minimal_dir(tmp_path)
	write(tmp_path, "snapshots.csv", "customer,aum\nC1,100\n")
	with pytest.raises(ValueError, match=r"snapshots\.csv: missing required column\(s\) month"):
		read_csv_dir(tmp_path)
	write(tmp_path, "snapshots.csv", "")
	with pytest.raises(ValueError, match=r"snapshots\.csv: the file is empty"):
		read_csv_dir(tmp_path)


def test_bad_values_are_reported_with_file_column_and_line(tmp_path):
	minimal_dir(tmp_path)
	write(tmp_path, "snapshots.csv", "customer,month,aum\nC1,2026-08,100\nC1,2026-07,lots\n")
	with pytest.raises(ValueError) as error:
		read_csv_dir(tmp_path)
	assert str(error.value) == "snapshots.csv: column aum has values that are not numbers (line 3: 'lots')"

	write(tmp_path, "snapshots.csv", "customer,month,aum\nC1,August,100\n")
	with pytest.raises(
		ValueError, match=r"snapshots\.csv: column month has values that are not months .*line 2: 'August'"
	):
		read_csv_dir(tmp_path)

	write(tmp_path, "snapshots.csv", "customer,month,aum,txn_count\nC1,2026-08,1,2.5\n")
	with pytest.raises(ValueError, match="txn_count is not a whole number"):
		read_csv_dir(tmp_path)

	write(tmp_path, "snapshots.csv", "customer,month,aum\nC1,2026-08,1\n")
	write(tmp_path, "customers.csv", "customer,customer_name,do_not_contact\nC1,张伟,maybe\n")
	with pytest.raises(ValueError, match="do_not_contact has values that are not 0/1"):
		read_csv_dir(tmp_path)


def test_non_utf8_files_are_refused(tmp_path):
	minimal_dir(tmp_path)
	(tmp_path / "customers.csv").write_bytes("customer,customer_name\nC1,张伟\n".encode("gbk"))
	with pytest.raises(ValueError, match=r"customers\.csv: not UTF-8"):
		read_csv_dir(tmp_path)


def test_unknown_columns_are_dropped_with_a_warning(tmp_path):
	minimal_dir(tmp_path)
	write(tmp_path, "holdings.csv", "customer,product,colour\nC1,DEP-DEMAND,red\n")
	with warnings.catch_warnings(record=True) as caught:
		warnings.simplefilter("always")
		tables = read_csv_dir(tmp_path)
	assert "colour" not in tables["holdings"].columns
	assert [str(w.message) for w in caught if "holdings" in str(w.message)] == [
		"holdings.csv: ignored unknown column(s) colour"
	]


def test_read_table_and_coerce_validated_frames(tmp_path):
	write(tmp_path, "x.csv", "customer,month,aum\nC1,2026-08-09,1\n")
	frame = read_table("snapshots", tmp_path / "x.csv")
	assert frame["month"].iloc[0] == pd.Timestamp("2026-08-01")
	# frames coming out of the intake validation hold dates, bools and floats
	validated = pd.DataFrame(
		{
			"customer": ["C1"],
			"customer_name": ["张伟"],
			"date_of_birth": [dt.date(1990, 5, 6)],
			"do_not_contact": [True],
			"_index": [0],
		}
	)
	coerced = coerce_table("customers", validated)
	assert coerced["date_of_birth"].dtype == "datetime64[ns]"
	assert coerced["do_not_contact"].tolist() == [1]
	assert coerced["declared_annual_income"].isna().all()
	assert list(coerced.columns) == [*schema.CUSTOMER_COLUMNS, "_index"]  # extra columns kept at the end


def test_months_in_the_spellings_exports_use(tmp_path):
	minimal_dir(tmp_path)
	months = [
		"2026/08",
		"2026-08",
		"2026-08-01",
		"202608",
		"2026.8",
		"2026-08-31 00:00:00",
		"2026年8月",
		"20260815",
	]
	write(
		tmp_path,
		"snapshots.csv",
		"customer,month,aum\n" + "".join(f"C{i},{m},1\n" for i, m in enumerate(months)),
	)
	snapshots = read_csv_dir(tmp_path)["snapshots"]
	assert (snapshots["month"] == pd.Timestamp("2026-08-01")).all()
	assert parse_months(pd.Series(["2026-13", "2026/02/30", "Aug", None, ""])).isna().all()


def test_snapshots_need_aum_and_say_which_columns_are_read_as_zero(tmp_path):
	minimal_dir(tmp_path)
	write(tmp_path, "snapshots.csv", "customer,month,txn_count\nC1,2026-08,3\n")
	with pytest.raises(ValueError, match=r"snapshots\.csv: missing required column\(s\) aum"):
		read_csv_dir(tmp_path)
	write(tmp_path, "snapshots.csv", "customer,month,aum,txn_count\nC1,2026-08,3,4\n")
	with warnings.catch_warnings(record=True) as caught:
		warnings.simplefilter("always")
		read_csv_dir(tmp_path)
	message = next(str(w.message) for w in caught if "snapshots.csv" in str(w.message))
	assert message.startswith("snapshots.csv: no column(s) deposits, ") and " txn_count" not in message
