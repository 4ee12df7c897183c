"""``branch-crm``: the engine on core-banking CSV files or the built-in sample, no site needed.

    branch-crm analyze [--data DIR] [--out DIR]      # report.html + one CSV per section
    branch-crm sample --out DIR [--customers N]      # intake CSVs for `bench ... branch-crm import`

The analysis is a list of ``Section``s, each a report builder over the loaded tables; later sections
(tiers, groups, churn, ...) are appended to ``SECTIONS``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import time
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import pandas as pd

from branch_crm import __version__, offline
from branch_crm.engine import intake, schema
from branch_crm.engine import io as csv_io
from branch_crm.engine.defaults import DEFAULT_TIERS
from branch_crm.engine.sample import generate_sample
from branch_crm.reports.base import ReportResult
from branch_crm.reports.book_of_business import build_proposed_books
from branch_crm.reports.churn_warning import build_churn_warning
from branch_crm.reports.needs_screening import build_needs_screening
from branch_crm.reports.overview import build_customer_overview
from branch_crm.reports.plan_effect import build_contact_schedule
from branch_crm.reports.tiers_overview import build_segment_overview, build_tier_overview

Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Section:
	name: str  # file stem of its CSV
	title: str
	build: Callable[[Tables], ReportResult]


def analysis_month(tables: Tables) -> pd.Timestamp:
	if "coverage" in tables:
		return tables["coverage"].month
	return pd.to_datetime(tables["snapshots"]["month"]).max()


def analysed(tables: Tables) -> offline.Analysis:
	"""Tiers, segments and value classes, churn scores and needs for the loaded customers, computed
	once per analysis as the nightly jobs would have them (``offline.analyse``): the months before
	the last replayed one by one (so a customer a month or two below their tier keeps it until the
	downgrade delay has passed), then the last month's recompute, run the night after its data came."""
	if "analysis" not in tables:
		if "store" not in tables:
			keep_snapshots_by_bucket(tables)
		tables["analysis"] = offline.analyse(
			tables["customers"],
			tables["holdings"],
			tables["store"],
			tables["coverage"],
			tables.get("products"),
		)
	return tables["analysis"]


def keep_snapshots_by_bucket(tables: Tables, bucket_size: int | None = None) -> list[dict]:
	"""Snapshots held in memory (the built-in sample, an unvalidated file) put into buckets, the
	analysis month settled; returns the rows of later months left out, as problems."""
	store = offline.SnapshotStore.from_frame(
		pd.Index(tables["customers"]["customer"]),
		tables["snapshots"],
		bucket_size or offline.BUCKET_CUSTOMERS,
	)
	tables["store"] = store
	return settle_analysis_month(tables, store)


def recomputed(tables: Tables) -> pd.DataFrame:
	return analysed(tables).recomputed


TIER_ORDER = [tier["tier_name"] for tier in DEFAULT_TIERS]
LIST_ROWS = 25  # customers listed by the needs-screening and churn sections (cards count everyone)
CONTEXT = offline.CONTEXT


def with_context(tables: Tables) -> pd.DataFrame:
	"""The customers with their recomputed tier, segment, value class and lifetime value."""
	return (
		tables["customers"]
		.drop(columns=CONTEXT[1:], errors="ignore")
		.merge(recomputed(tables)[CONTEXT], on="customer", how="left")
	)


def needs_screened(tables: Tables) -> pd.DataFrame:
	return analysed(tables).needs_screened


def maturing_holdings(tables: Tables) -> pd.DataFrame | None:
	return offline.maturing_holdings(tables.get("holdings"), tables.get("products"))


def churn_scored(tables: Tables) -> pd.DataFrame:
	"""Churn scores at the last month of the data (no contact logs offline: the reply signal is
	left out), with the customers' context."""
	return analysed(tables).churn_scored


# what the contact schedule reads of a customer (a copy of every column, a million times, would not fit)
SCHEDULE_COLUMNS = (
	"customer",
	"branch",
	"relationship_manager",
	"status",
	"date_of_birth",
	"channel_preference",
	"do_not_contact",
	"intent_level",
	"acquired_on",
)


def _only(frame: pd.DataFrame, columns) -> pd.DataFrame:
	return frame[[c for c in columns if c in frame.columns]]


SECTIONS: list[Section] = [
	Section(
		"customer_overview",
		"Customer Overview",
		lambda t: build_customer_overview(t["customers"], t["snapshots"], months_of_data=months_of_data(t)),
	),
	Section("tiers", "Tiers and Value Classes", lambda t: build_tier_overview(recomputed(t), TIER_ORDER)),
	Section("segments", "Customer Segments", lambda t: build_segment_overview(recomputed(t))),
	Section(
		"proposed_books",
		"Proposed Books",
		lambda t: build_proposed_books(recomputed(t), t["customers"], t.get("staff"), DEFAULT_TIERS),
	),
	Section(
		"contact_schedule",
		"Contact Schedule",
		# the next 14 days from the day after the data ends, DEFAULT_CADENCE, capacity by staff role
		lambda t: build_contact_schedule(
			_only(t["customers"], SCHEDULE_COLUMNS),
			recomputed(t)[["customer", "tier", "value_class", "lifetime_value"]],
			t.get("staff"),
			(analysis_month(t) + pd.offsets.MonthBegin(1)).date(),
		),
	),
	Section(
		"needs_screening",
		f"Needs Screening: top {LIST_ROWS} by priority",
		lambda t: build_needs_screening(needs_screened(t), {"limit": LIST_ROWS}),
	),
	Section(
		"churn_warning",
		f"Churn Early Warning: top {LIST_ROWS} by risk × value",
		lambda t: build_churn_warning(churn_scored(t), {"limit": LIST_ROWS}),
	),
]


# the per-customer results file: who, tier, group, value, churn, needs (columns the engine gives)
RESULT_FILE = "customer_results.csv"
RESULT_COLUMNS = (
	"customer",
	"customer_name",
	"branch",
	"relationship_manager",
	"aum",
	"avg_aum",
	"tier",
	"tier_reason",
	"tier_since",
	"bank_customer_group",
	"familiarity",
	"familiar",
	"life_stage",
	"value_class",
	"lifetime_value",
	"churn_score",
	"churn_band",
	"churn_reasons",
	"priority_score",
	"gaps",
	"next_action",
	"peer_gaps",
	"main_account_score",
	"main_bank_likely",
	"merchant_score",
	"merchant_like",
)


def customer_results(tables: Tables, rows: slice = slice(None)) -> pd.DataFrame:
	"""One row per customer (``rows``: a range of them, by position): the recompute's tier, group and
	value class, the churn score and the needs screening, in the customers' order (every result of
	``offline.analyse`` is in that order)."""
	analysis = analysed(tables)
	out = {
		"customer": tables["customers"]["customer"].to_numpy()[rows],
		"customer_name": tables["customers"]["customer_name"].to_numpy()[rows],
	}
	for frame in (analysis.recomputed, analysis.churn_scored, analysis.needs_screened):
		for column in RESULT_COLUMNS:
			if column in frame and column not in out:
				out[column] = frame[column].to_numpy()[rows]
	return pd.DataFrame(out)[[c for c in RESULT_COLUMNS if c in out]]


def write_customer_results(tables: Tables, target: Path, rows_at_a_time: int = 100_000) -> None:
	"""``customer_results`` to CSV, a range of customers at a time (a million rows at once would
	double the memory the analysis holds)."""
	total = len(tables["customers"])
	for start in range(0, max(total, 1), rows_at_a_time):
		append_csv(customer_results(tables, slice(start, start + rows_at_a_time)), target, first=start == 0)


def append_csv(frame: pd.DataFrame, target: Path, *, first: bool) -> None:
	"""One part of a CSV file written part by part: the first starts the file with the header."""
	frame.to_csv(
		target,
		mode="w" if first else "a",
		header=first,
		index=False,
		encoding="utf-8",
		lineterminator="\n",
		date_format="%Y-%m-%d",
	)


# rejections.csv: every row left out and every value blanked, with what was done
PROBLEM_COLUMNS = ["file", "line", "key", "field", "reason", "action"]
REJECTED, BLANKED, LEFT_OUT = "row rejected", "field left blank", "row left out"


@dataclass
class Loaded:
	tables: Tables
	source: str
	rejections: list[dict]


def last_complete_month(today: dt.date) -> dt.date:
	return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _parse_month(ctx, param, value: str | None) -> dt.date:
	if value is None:
		return last_complete_month(dt.date.today())
	try:
		text = value.strip()
		return dt.date.fromisoformat(text + "-01" if len(text) == 7 else text).replace(day=1)
	except ValueError:
		raise click.BadParameter(f"{value!r} is not a month; use YYYY-MM")


def _sample_options(command):
	options = [
		click.option(
			"--customers",
			default=2000,
			show_default=True,
			type=click.IntRange(min=1),
			help="Customers to generate.",
		),
		click.option(
			"--months", default=24, show_default=True, type=click.IntRange(min=1), help="Months of snapshots."
		),
		click.option(
			"--branches", default=3, show_default=True, type=click.IntRange(min=1), help="Branches."
		),
		click.option(
			"--seed", default=7, show_default=True, type=int, help="Random seed: same seed, same data."
		),
		click.option(
			"--as-of",
			callback=_parse_month,
			metavar="YYYY-MM",
			help="Last month of the generated snapshots.  [default: last complete month]",
		),
	]
	for option in reversed(options):
		command = option(command)
	return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="branch-crm")
def main():
	"""Branch CRM offline tools: analyse core-banking CSV files or a generated sample branch network."""


@main.command()
@click.option(
	"--data",
	type=click.Path(exists=True, file_okay=False, path_type=Path),
	help="Folder with customers.csv, holdings.csv, snapshots.csv (and optionally staff.csv, products.csv, "
	"branches.csv). Without it the built-in sample is analysed.",
)
@click.option(
	"--out",
	default="branch-crm-analysis",
	show_default=True,
	type=click.Path(file_okay=False, path_type=Path),
	help="Where report.html and the CSVs go.",
)
@_sample_options
@click.option("--write-inputs", is_flag=True, help="Also write the analysed tables to OUT/inputs/.")
@click.option(
	"--validate/--no-validate",
	default=True,
	show_default=True,
	help="Check --data files record by record, as the site's intake does (slow for millions of rows).",
)
def analyze(data, out, customers, months, branches, seed, as_of, write_inputs, validate):
	"""Analyse a branch network and write an HTML report and one CSV per section."""
	started = time.perf_counter()
	spill = offline.spill_folder() if data is not None and validate else None
	try:
		_analyze(data, out, customers, months, branches, seed, as_of, write_inputs, validate, spill, started)
	finally:
		offline.remove(spill)


def _analyze(data, out, customers, months, branches, seed, as_of, write_inputs, validate, spill, started):
	if data is not None:
		# the sample's answers (truth.csv) are read only to be written back with the inputs
		small_tables = SMALL_TABLES if write_inputs else tuple(t for t in SMALL_TABLES if t != "truth")
		loaded = load_intake(
			data, validate=validate, today=dt.date.today(), spill=spill, small_tables=small_tables
		)
	else:
		sample = generate_sample(
			customers=customers, months=months, branches=branches, as_of=as_of, seed=seed
		)
		loaded = Loaded(sample.tables(), f"built-in sample (seed {seed})", [])

	tables = loaded.tables
	click.echo(f"Branch CRM analysis of {loaded.source}: {describe(tables)}")
	click.echo(f"Analysis month: {coverage_statement(tables)}")
	read = time.perf_counter()
	analysis = analysed(tables)
	tables.setdefault("snapshots", analysis.latest)  # validated files: the analysis month's rows
	if not write_inputs:  # no section reads the holdings once needs and churn are known
		tables.pop("holdings", None)
		offline.release_memory()
	click.echo(
		f"Read and checked in {read - started:.1f} s; tiers, churn and needs of "
		f"{len(analysis.recomputed):,} customers in {time.perf_counter() - read:.1f} s"
	)
	results = []
	for section in SECTIONS:
		try:
			results.append((section, section.build(tables)))
		except (KeyError, ValueError) as error:
			raise click.ClickException(f"{section.title}: cannot build it from this data ({error})")

	for section, result in results:
		click.echo("")
		click.echo(render_text(section.title, result))

	out.mkdir(parents=True, exist_ok=True)
	written = []
	target = out / RESULT_FILE
	try:
		write_customer_results(tables, target)
	except (KeyError, ValueError) as error:
		raise click.ClickException(f"Per-customer results: cannot build them from this data ({error})")
	written.append(target)
	for section, result in results:
		target = out / f"{section.name}.csv"
		result.frame().to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
		written.append(target)
	if loaded.rejections:
		target = out / "rejections.csv"
		pd.DataFrame(loaded.rejections, columns=PROBLEM_COLUMNS).to_csv(
			target, index=False, encoding="utf-8", lineterminator="\n"
		)
		written.append(target)
	if write_inputs:
		written += write_analysed_inputs(tables, out / "inputs")
	report = out / "report.html"
	report.write_text(render_html(results, loaded.source, describe(tables)), encoding="utf-8")
	written.append(report)

	click.echo("")
	click.echo(
		f"Wrote {len(written)} files to {out} in {time.perf_counter() - started:.1f} s: report.html, "
		f"{RESULT_FILE} (one row per customer)"
	)


@main.command()
@click.option(
	"--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the CSV files."
)
@_sample_options
def sample(out, customers, months, branches, seed, as_of):
	"""Write a generated branch network as intake CSV files (for `bench --site S branch-crm import --dir`)."""
	started = time.perf_counter()
	data = generate_sample(customers=customers, months=months, branches=branches, as_of=as_of, seed=seed)
	written = csv_io.write_csv_dir(data, out)
	click.echo(f"Wrote {out}:")
	for name, path in written.items():
		click.echo(f"  {path.name:<16}{len(getattr(data, name)):>12,} rows")
	click.echo(
		f"Generated {customers:,} customers x {months} months to {as_of:%Y-%m} in {time.perf_counter() - started:.1f} s"
	)


def write_analysed_inputs(tables: Tables, folder: Path) -> list[Path]:
	"""The tables analysed, as intake CSVs; the snapshots bucket by bucket when they are kept so."""
	kept = {name: frame for name, frame in tables.items() if name in csv_io.TABLES}
	store = tables.get("store")
	if store is None or store.folder is None:
		return list(csv_io.write_csv_dir(kept, folder).values())
	kept.pop("snapshots", None)
	written = list(csv_io.write_csv_dir(kept, folder).values())
	target = folder / csv_io.file_name("snapshots")
	month = analysis_month(tables)
	for b in range(store.buckets):
		frame = store.load(b)
		frame = frame[frame["month"] <= month].sort_values("_index")
		append_csv(frame[list(csv_io.TABLES["snapshots"].columns)], target, first=b == 0)
	return [*written, target]


# ---------------------------------------------------------------- loading CSV files


def load_intake(
	folder: Path,
	*,
	validate: bool,
	today: dt.date,
	bucket_size: int | None = None,
	spill: Path | None = None,
	small_tables: tuple[str, ...] | None = None,
) -> Loaded:
	"""Read the intake CSVs in ``folder``; with ``validate``, keep only records the site's intake would
	accept (and whose links resolve), reporting the rest per file. Either way nothing is changed
	silently: future dates and months, duplicates and a thin last month are reported (file, line,
	field) and left out or blanked, and the month analysed is the latest one most customers have.

	Validated files are read in chunks (``offline.chunk_rows``) and their snapshots kept by bucket of
	``bucket_size`` customers (default ``offline.BUCKET_CUSTOMERS``) in ``spill`` (a folder the caller
	removes), so that memory grows with the customers, not with customers × months. ``small_tables``:
	the optional small files read (default ``SMALL_TABLES``)."""
	bucket_size = bucket_size or offline.BUCKET_CUSTOMERS
	small_tables = SMALL_TABLES if small_tables is None else small_tables
	try:
		with warnings.catch_warnings(record=True) as caught:
			warnings.simplefilter("always")
			if validate:
				files = csv_io.find_tables(folder)
				raw = {
					name: csv_io.read_table(name, files[name], parse=False)
					for name in small_tables
					if name in files
				}
				for kind in schema.INTAKE_KINDS:
					csv_io.read_table(kind, files[kind], parse=False, nrows=0)  # the header, checked
			else:
				raw = csv_io.read_csv_dir(folder, parse=True)
				for name in set(SMALL_TABLES) - set(small_tables):
					raw.pop(name, None)
	except (FileNotFoundError, ValueError) as error:
		raise click.ClickException(str(error))
	for warning in caught:
		click.echo(f"Note: {warning.message}", err=True)

	tables: Tables = {}
	try:
		for name in small_tables:
			if name in raw:
				tables[name] = csv_io.coerce_table(name, raw[name]) if validate else raw[name]
	except ValueError as error:
		raise click.ClickException(str(error))

	problems: list[dict] = []
	if validate:
		problems += _validate(files, tables, today, bucket_size, spill)
	else:
		for kind in schema.INTAKE_KINDS:
			tables[kind], found = screen_unvalidated(kind, raw[kind], today)
			_echo_problems(csv_io.file_name(kind), found)
			problems += found

	if tables["customers"].empty:
		raise click.ClickException(f"{folder / 'customers.csv'}: no valid customers to analyse")
	if not validate:
		for kind in schema.INTAKE_KINDS:
			tables[kind] = tables[kind].reset_index(drop=True)
		if tables["snapshots"].empty:
			_no_snapshots(folder, validate)
		thin = keep_snapshots_by_bucket(tables, bucket_size)
	else:
		if not tables["coverage"].rows:
			_no_snapshots(folder, validate)
		thin = settle_analysis_month(tables, tables["store"])
	_echo_problems(csv_io.file_name("snapshots"), thin)
	problems += thin
	return Loaded(tables, str(folder), problems)


SMALL_TABLES = ("staff", "products", "branches", "truth")


def _no_snapshots(folder: Path, validate: bool):
	raise click.ClickException(
		f"{folder / 'snapshots.csv'}: no {'valid ' if validate else ''}snapshot rows to analyse "
		"(a header row and one row per customer and month are needed)"
	)


def _problem(file: str, position: int, key, field: str | None, reason: str, action: str) -> dict:
	# line numbers as a spreadsheet shows them: the header is line 1
	return {
		"file": file,
		"line": int(position) + 2,
		"key": key,
		"field": field,
		"reason": reason,
		"action": action,
	}


def _echo_problems(file: str, problems: list[dict], shown: int = 3) -> None:
	"""Up to ``shown`` problems of each action, on stderr, with how many there are."""
	for action in (REJECTED, BLANKED, LEFT_OUT):
		rows = [p for p in problems if p["action"] == action]
		if not rows:
			continue
		if action != REJECTED:  # rejected rows are counted on the file's summary line
			click.echo(
				f"{file}: {len(rows):,} {action.replace('row', 'row(s)').replace('field', 'field(s)')}",
				err=True,
			)
		for p in rows[:shown]:
			key = f" [{p['key']}]" if p["key"] else ""
			field = f" {p['field']}:" if p["field"] else ""
			click.echo(f"  line {p['line']}{key}{field} {p['reason']}", err=True)


def _validate(files: dict[str, Path], tables: Tables, today: dt.date, bucket_size: int, spill) -> list[dict]:
	"""Validate the intake files chunk by chunk into ``tables`` (customers, holdings, and the
	snapshots by bucket in ``tables["store"]``). A customer with a bad optional value (a date of birth
	in the future, an unknown manager) is kept with that value blank, so their holdings and
	snapshots stay."""
	customers, report = offline.validate_customers(files["customers"], today)
	customers, unknown = intake.blank_unknown_references(
		"customers", customers, offline.customer_links(tables, customers), offline.LINK_LABELS
	)
	report.blanked = sorted(report.blanked + unknown, key=lambda r: r.index)
	offline.release_memory()
	known_customers = pd.Index(customers["customer"])
	rejected_customers = {
		r.key: r.index + 2 for r in report.rejections if r.key and r.key not in known_customers
	}
	tables["customers"] = customers.drop(columns="_index")
	problems = _report(report, len(customers), rejected_customers)

	holdings, report = offline.validate_holdings(
		files["holdings"], today, known_customers, offline.product_codes(tables)
	)
	tables["holdings"] = holdings
	problems += _report(report, len(holdings), rejected_customers)

	store = offline.SnapshotStore(known_customers, bucket_size, folder=spill)
	report = offline.validate_rows(
		"snapshots", files["snapshots"], today, {"customer": known_customers}, store.add
	)
	duplicates, coverage = offline.deduplicate(store)
	report.rejections += duplicates
	tables["store"], tables["coverage"] = store, coverage
	problems += _report(report, coverage.rows, rejected_customers)
	return problems


def _report(report: offline.FileReport, valid: int, rejected_customers: dict) -> list[dict]:
	"""A file's problems, said on stderr (a summary line and the first few of each kind)."""
	file = report.file
	rejections = sorted(report.rejections, key=lambda r: r.index)
	found = [
		_problem(file, r.index, r.key, r.field, _reason(r, rejected_customers), REJECTED) for r in rejections
	] + [
		_problem(file, r.index, r.key, r.field, f"{r.reason}; left blank, the row kept", BLANKED)
		for r in sorted(report.blanked, key=lambda r: r.index)
	]
	bad_rows = {r.index for r in rejections}
	blank_rows = {r.index for r in report.blanked}
	line = f"{file}: {report.rows:,} rows, {valid:,} valid, {len(bad_rows):,} rejected"
	if blank_rows:
		line += f", {len(blank_rows):,} kept with a value left blank"
	click.echo(line, err=bool(bad_rows or blank_rows))
	_echo_problems(file, found)
	unread = sum(1 for r in rejections if r.field == "month")
	if unread:
		click.echo(
			f"{file}: {unread:,} row(s) left out for their month; the analysis month is chosen without them",
			err=True,
		)
	return found


def _reason(rejection: intake.Rejection, rejected_customers: dict) -> str:
	"""The rejection in words, with line numbers: a row of a customer rejected earlier says so instead
	of "does not exist", a duplicate names the line it repeats."""
	value = rejection.params.get("value")
	if rejection.field == "customer" and value in rejected_customers:
		return f"customer {value} was rejected (customers.csv line {rejected_customers[value]})"
	if rejection.template.startswith("duplicate of record"):
		return f"repeats the key of line {int(rejection.params['first']) + 2}; the first one counts"
	return rejection.reason


# dates that cannot be in the future, by intake file (the validation rejects them; unvalidated, the
# value is blanked and the row kept)
FUTURE_DATES = {"customers": ("date_of_birth", "acquired_on"), "holdings": ("opened_on",)}


def screen_unvalidated(kind: str, frame: pd.DataFrame, today: dt.date) -> tuple[pd.DataFrame, list[dict]]:
	"""The checks an unvalidated file still gets, vectorised: rows repeating an earlier row's key are
	left out (the first one counts, as in the validation), dates in the future are blanked, snapshot
	months after the current one are left out. Returns the frame (indexed by row position) and the
	problems found."""
	file = csv_io.file_name(kind)
	key = list(intake.KEYS[kind])
	problems: list[dict] = []
	keys = frame[key].astype(object).where(frame[key].notna(), "")
	repeated = keys.duplicated(keep="first")
	if repeated.any():
		first = keys.reset_index().groupby(key, sort=False, dropna=False)["index"].transform("first")
		for position in np.flatnonzero(repeated.to_numpy()):
			problems.append(
				_problem(
					file,
					position,
					_key_text(keys.iloc[position]),
					None,
					f"repeats the key of line {int(first.iloc[position]) + 2}; the first one counts",
					LEFT_OUT,
				)
			)
	keep = ~repeated
	if kind == "snapshots":
		future = frame["month"] > pd.Timestamp(today).to_period("M").to_timestamp()
		for position in np.flatnonzero((future & keep).to_numpy()):
			problems.append(
				_problem(
					file,
					position,
					_key_text(keys.iloc[position]),
					"month",
					f"month {frame['month'].iloc[position]:%Y-%m} is in the future",
					LEFT_OUT,
				)
			)
		keep &= ~future
	frame = frame[keep].copy()
	for column in FUTURE_DATES.get(kind, ()):
		future = frame[column] > pd.Timestamp(today)
		for label in frame.index[future]:
			problems.append(
				_problem(
					file,
					label,
					_key_text(keys.loc[label]),
					column,
					f"{frame.at[label, column]:%Y-%m-%d} is in the future; left blank, the row kept",
					BLANKED,
				)
			)
		frame.loc[future, column] = pd.NaT
	return frame, sorted(problems, key=lambda p: p["line"])


def _key_text(key: pd.Series) -> str:
	return "/".join(f"{v:%Y-%m}" if isinstance(v, pd.Timestamp) else str(v) for v in key)


def settle_analysis_month(tables: Tables, store: offline.SnapshotStore) -> list[dict]:
	"""Choose the analysis month, the latest month with broad coverage (``offline.analysis_month``),
	into ``tables["coverage"]``; the rows of later months are left out (and returned as problems)."""
	if "coverage" not in tables:
		_duplicates, tables["coverage"] = offline.deduplicate(store)
	coverage = tables["coverage"]
	per_month = coverage.per_month
	coverage.month = month = offline.analysis_month(per_month)
	if "snapshots" in tables:
		snapshots = tables["snapshots"]
		tables["snapshots"] = snapshots[pd.to_datetime(snapshots["month"]) <= month]
	if not (per_month.index > month).any():
		return []
	best = per_month.idxmax()
	file = csv_io.file_name("snapshots")
	problems = []
	for b in range(store.buckets):
		frame = store.load(b, ["month", "_index"])
		later = frame[frame["month"] > month]
		for customer, row_month, index in zip(
			later["customer"], later["month"], later["_index"], strict=True
		):
			problems.append(
				_problem(
					file,
					index,
					f"{customer}/{row_month:%Y-%m}",
					"month",
					f"month {row_month:%Y-%m} has snapshots for only {per_month[row_month]:,} "
					f"customers ({per_month.max():,} in {best:%Y-%m}); analysed up to {month:%Y-%m}",
					LEFT_OUT,
				)
			)
	return sorted(problems, key=lambda p: p["line"])


def months_of_data(tables: Tables) -> int:
	"""The months analysed: those with snapshots up to the analysis month."""
	per_month = tables["coverage"].per_month if "coverage" in tables else None
	if per_month is None:
		return pd.to_datetime(tables["snapshots"]["month"]).nunique()
	return int((per_month.index <= analysis_month(tables)).sum())


def coverage_statement(tables: Tables) -> str:
	"""The month analysed and how many customers it covers, in words."""
	month = analysis_month(tables)
	customers = tables["customers"]["customer"]
	if "coverage" in tables:
		covered = int(tables["coverage"].per_month.get(month, 0))
	else:
		snapshots = tables["snapshots"]
		covered = customers.isin(snapshots.loc[pd.to_datetime(snapshots["month"]) == month, "customer"]).sum()
	return (
		f"{month:%Y-%m}, the latest month with snapshots for most customers "
		f"({covered:,} of {len(customers):,})"
	)


def describe(tables: Tables) -> str:
	customers = len(tables.get("customers", ()))
	snapshots = tables.get("snapshots")
	text = f"{customers:,} customers"
	if "customers" in tables and "branch" in tables["customers"]:
		text += f" in {tables['customers']['branch'].nunique():,} branches"
	if "coverage" in tables and tables["coverage"].month is not None:
		coverage = tables["coverage"]
		months = coverage.per_month.index[coverage.per_month.index <= coverage.month]
		text += f", {len(months)} months ({months.min():%Y-%m} to {months.max():%Y-%m})"
	elif snapshots is not None and not snapshots.empty:
		months = pd.to_datetime(snapshots["month"])
		text += f", {months.nunique()} months ({months.min():%Y-%m} to {months.max():%Y-%m})"
	return text


# ---------------------------------------------------------------- rendering


def format_value(value, fieldtype: str) -> str:
	if value is None or (isinstance(value, float) and pd.isna(value)):
		return ""
	if fieldtype == "Currency":
		return f"{value:,.0f}"
	if fieldtype == "Int":
		return f"{int(value):,}"
	if fieldtype == "Percent":
		return f"{value:.1f}%"
	if fieldtype == "Float":
		return f"{value:,.2f}"
	return str(value)


def _width(text: str) -> int:
	return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
	gap = " " * max(0, width - _width(text))
	return gap + text if right else text + gap


NUMERIC = {"Int", "Float", "Currency", "Percent"}


def render_text(title: str, result: ReportResult) -> str:
	"""Summary cards and the table as plain text for the terminal."""
	lines = [title, "=" * _width(title)]
	label_width = max((_width(c["label"]) for c in result.summary), default=0)
	for c in result.summary:
		lines.append(f"  {_pad(c['label'], label_width, False)}  {format_value(c['value'], c['datatype'])}")
	if result.columns and result.data:
		cells = [
			[format_value(row.get(c["fieldname"]), c["fieldtype"]) or "-" for c in result.columns]
			for row in result.data
		]
		widths = [
			max(_width(c["label"]), *(_width(r[i]) for r in cells)) for i, c in enumerate(result.columns)
		]
		right = [c["fieldtype"] in NUMERIC for c in result.columns]
		lines.append("")
		lines.append(
			"  "
			+ "  ".join(_pad(c["label"], w, r) for c, w, r in zip(result.columns, widths, right, strict=True))
		)
		lines.append("  " + "  ".join("-" * w for w in widths))
		for row in cells:
			lines.append("  " + "  ".join(_pad(v, w, r) for v, w, r in zip(row, widths, right, strict=True)))
	return "\n".join(lines)


def render_chart_png(chart: dict | None) -> bytes | None:
	"""A Frappe Charts dict drawn with matplotlib (no display needed)."""
	if not chart or not chart.get("data", {}).get("datasets"):
		return None
	from matplotlib.figure import Figure

	labels = [str(label) for label in chart["data"]["labels"]]
	datasets = chart["data"]["datasets"]
	kind = chart.get("type", "bar")
	colors = chart.get("colors") or ["#5E64FF", "#FFA00A", "#28A745", "#FF5858", "#7B1FA2", "#8D99A6"]
	figure = Figure(figsize=(8, 3.6), dpi=100)
	axes = figure.add_subplot()
	if kind in ("pie", "donut"):
		values = [v or 0 for v in datasets[0]["values"]]
		axes.pie(
			values,
			labels=labels,
			colors=colors[: len(values)] if len(colors) >= len(values) else None,
			autopct="%1.0f%%",
			wedgeprops={"width": 0.45} if kind == "donut" else None,
		)
		axes.axis("equal")
	elif kind == "percentage":
		values = [v or 0 for v in datasets[0]["values"]]
		total = sum(values) or 1
		left = 0.0
		for i, (label, value) in enumerate(zip(labels, values, strict=True)):
			axes.barh([0], [value / total * 100], left=left, color=colors[i % len(colors)], label=label)
			left += value / total * 100
		axes.set_xlim(0, 100)
		axes.set_yticks([])
		axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=min(len(labels), 6), frameon=False)
	else:
		positions = range(len(labels))
		width = 0.8 / len(datasets)
		for i, dataset in enumerate(datasets):
			values = [v or 0 for v in dataset["values"]]
			if kind == "line":
				axes.plot(
					list(positions),
					values,
					marker="o",
					color=colors[i % len(colors)],
					label=dataset.get("name"),
				)
			else:
				offsets = [p - 0.4 + width * (i + 0.5) for p in positions]
				axes.bar(
					offsets, values, width=width, color=colors[i % len(colors)], label=dataset.get("name")
				)
		axes.set_xticks(list(positions))
		axes.set_xticklabels(
			labels, rotation=30 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center"
		)
		axes.spines[["top", "right"]].set_visible(False)
		axes.yaxis.set_major_formatter(lambda value, _pos: f"{value:,.0f}")
		if len(datasets) > 1:
			axes.legend(frameon=False)
		elif datasets[0].get("name"):
			axes.set_ylabel(datasets[0]["name"])
	figure.tight_layout()
	buffer = io.BytesIO()
	figure.savefig(buffer, format="png")
	return buffer.getvalue()


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Branch CRM analysis</title>
<style>
body { font-family: -apple-system, "Segoe UI", "Helvetica Neue", "PingFang SC", "Microsoft YaHei", sans-serif;
	margin: 2rem auto; max-width: 1200px; color: #1f272e; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #d1d8dd; padding-bottom: 0.3rem; }
.meta { color: #6c7680; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1rem 0; }
.card { border: 1px solid #d1d8dd; border-radius: 8px; padding: 0.7rem 1rem; min-width: 150px; }
.card .value { font-size: 1.35rem; font-weight: 600; }
.card .label { color: #6c7680; font-size: 0.85rem; }
.card.Blue { border-left: 4px solid #5E64FF; } .card.Green { border-left: 4px solid #28A745; }
.card.Orange { border-left: 4px solid #FFA00A; } .card.Red { border-left: 4px solid #FF5858; }
.card.Grey { border-left: 4px solid #8D99A6; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
th, td { padding: 0.35rem 0.6rem; border-bottom: 1px solid #ebeff2; text-align: left; }
th { background: #f7fafc; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
img.chart { max-width: 100%; margin: 0.5rem 0; }
footer { margin-top: 3rem; color: #8d99a6; font-size: 0.8rem; }
</style>
</head>
<body>
<h1>Branch CRM analysis</h1>
<p class="meta">{{ source }}: {{ description }}. Generated {{ generated }}.</p>
{% for section in sections %}
<section id="{{ section.name }}">
<h2>{{ section.title }}</h2>
<div class="cards">
{% for card in section.cards %}<div class="card {{ card.indicator }}"><div class="value">{{ card.value }}</div><div class="label">{{ card.label }}</div></div>
{% endfor %}</div>
{% if section.chart %}<img class="chart" alt="{{ section.title }} chart" src="data:image/png;base64,{{ section.chart }}">{% endif %}
{% if section.rows %}<table>
<thead><tr>{% for c in section.columns %}<th class="{{ 'num' if c.numeric }}">{{ c.label }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in section.rows %}<tr>{% for cell in row %}<td class="{{ 'num' if section.columns[loop.index0].numeric }}">{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>{% else %}<p>No rows.</p>{% endif %}
</section>
{% endfor %}
<footer>branch_crm {{ version }}</footer>
</body>
</html>
"""


def render_html(results: list[tuple[Section, ReportResult]], source: str, description: str) -> str:
	"""A self-contained page: summary cards, the chart as an embedded PNG, the table."""
	from jinja2 import Environment

	sections = []
	for section, result in results:
		png = render_chart_png(result.chart)
		sections.append(
			{
				"name": section.name,
				"title": section.title,
				"cards": [
					{
						"value": format_value(c["value"], c["datatype"]),
						"label": c["label"],
						"indicator": c.get("indicator", "Blue"),
					}
					for c in result.summary
				],
				"chart": base64.b64encode(png).decode("ascii") if png else None,
				"columns": [
					{"label": c["label"], "numeric": c["fieldtype"] in NUMERIC} for c in result.columns
				],
				"rows": [
					[format_value(row.get(c["fieldname"]), c["fieldtype"]) for c in result.columns]
					for row in result.data
				],
			}
		)
	template = Environment(autoescape=True).from_string(HTML_TEMPLATE)
	return template.render(
		sections=sections,
		source=source,
		description=description,
		generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
		version=__version__,
	)


if __name__ == "__main__":
	main()
