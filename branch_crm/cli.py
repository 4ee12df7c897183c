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
import pandas as pd

from branch_crm import __version__
from branch_crm.engine import intake, schema
from branch_crm.engine import io as csv_io
from branch_crm.engine.churn import score_churn
from branch_crm.engine.defaults import DEFAULT_PRODUCTS, DEFAULT_TIERS
from branch_crm.engine.needs import screen_needs
from branch_crm.engine.recompute import recompute_tables
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


def recomputed(tables: Tables) -> pd.DataFrame:
	"""Tiers, segments and value classes for the loaded customers, computed once per analysis."""
	if "recomputed" not in tables:
		tables["recomputed"] = recompute_tables(tables)
	return tables["recomputed"]


TIER_ORDER = [tier["tier_name"] for tier in DEFAULT_TIERS]
LIST_ROWS = 25  # customers listed by the needs-screening and churn sections (cards count everyone)
CONTEXT = ["customer", "tier", "bank_customer_group", "value_class", "lifetime_value"]


def with_context(tables: Tables) -> pd.DataFrame:
	"""The customers with their recomputed tier, segment, value class and lifetime value."""
	return (
		tables["customers"]
		.drop(columns=CONTEXT[1:], errors="ignore")
		.merge(recomputed(tables)[CONTEXT], on="customer", how="left")
	)


def needs_screened(tables: Tables) -> pd.DataFrame:
	if "needs_screened" not in tables:
		tables["needs_screened"] = screen_needs(
			with_context(tables), tables["holdings"], tables["snapshots"], tables.get("products")
		)
	return tables["needs_screened"]


def maturing_holdings(tables: Tables) -> pd.DataFrame | None:
	"""Holdings with a maturity date and their product's category, as the nightly job reads them: a
	matured deposit withdrawn explains the outflow instead of looking like churn."""
	holdings = tables.get("holdings")
	if holdings is None or "matures_on" not in holdings:
		return None
	products = pd.DataFrame(
		tables.get("products") if tables.get("products") is not None else DEFAULT_PRODUCTS
	)
	category = products.drop_duplicates("product_code", keep="last").set_index("product_code")["category"]
	dated = holdings[holdings["matures_on"].notna()]
	return pd.DataFrame(
		{
			"customer": dated["customer"].to_numpy(),
			"category": dated["product"].map(category).to_numpy(),
			"balance": dated["balance"].to_numpy(),
			"matures_on": dated["matures_on"].to_numpy(),
		}
	)


def churn_scored(tables: Tables) -> pd.DataFrame:
	"""Churn scores at the last month of the data (no contact logs offline: the reply signal is
	left out), with the customers' context."""
	if "churn_scored" not in tables:
		customers = with_context(tables)
		scored = score_churn(
			tables["snapshots"], None, customers=customers["customer"], holdings=maturing_holdings(tables)
		)
		context = customers[["customer", "customer_name", "branch", "relationship_manager", *CONTEXT[1:]]]
		aum = recomputed(tables)[["customer", "aum"]]
		tables["churn_scored"] = scored.merge(context, on="customer", how="left").merge(aum, on="customer")
	return tables["churn_scored"]


SECTIONS: list[Section] = [
	Section(
		"customer_overview",
		"Customer Overview",
		lambda t: build_customer_overview(t["customers"], t["snapshots"]),
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
			t["customers"],
			recomputed(t),
			t.get("staff"),
			(pd.to_datetime(t["snapshots"]["month"]).max() + pd.offsets.MonthBegin(1)).date(),
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
	if data is not None:
		loaded = load_intake(data, validate=validate, today=dt.date.today())
	else:
		sample = generate_sample(
			customers=customers, months=months, branches=branches, as_of=as_of, seed=seed
		)
		loaded = Loaded(sample.tables(), f"built-in sample (seed {seed})", [])

	tables = loaded.tables
	click.echo(f"Branch CRM analysis of {loaded.source}: {describe(tables)}")
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
	for section, result in results:
		target = out / f"{section.name}.csv"
		result.frame().to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
		written.append(target)
	if loaded.rejections:
		target = out / "rejections.csv"
		pd.DataFrame(loaded.rejections, columns=["file", "line", "key", "field", "reason"]).to_csv(
			target, index=False, encoding="utf-8", lineterminator="\n"
		)
		written.append(target)
	if write_inputs:
		written += list(csv_io.write_csv_dir(tables, out / "inputs").values())
	report = out / "report.html"
	report.write_text(render_html(results, loaded.source, describe(tables)), encoding="utf-8")
	written.append(report)

	click.echo("")
	click.echo(f"Wrote {len(written)} files to {out} in {time.perf_counter() - started:.1f} s: report.html")


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


# ---------------------------------------------------------------- loading CSV files


def load_intake(folder: Path, *, validate: bool, today: dt.date) -> Loaded:
	"""Read the intake CSVs in ``folder``; with ``validate``, keep only records the site's intake would
	accept (and whose links resolve), reporting the rest per file."""
	try:
		with warnings.catch_warnings(record=True) as caught:
			warnings.simplefilter("always")
			raw = csv_io.read_csv_dir(folder, parse=not validate)
	except (FileNotFoundError, ValueError) as error:
		raise click.ClickException(str(error))
	for warning in caught:
		click.echo(f"Note: {warning.message}", err=True)

	tables: Tables = {}
	try:
		for name in ("staff", "products", "branches", "truth"):
			if name in raw:
				tables[name] = csv_io.coerce_table(name, raw[name]) if validate else raw[name]
	except ValueError as error:
		raise click.ClickException(str(error))
	if not validate:
		return Loaded({**raw, **tables}, str(folder), [])

	rejected: list[dict] = []
	known_customers: set = set()
	product_codes = set(
		(tables.get("products") if "products" in tables else pd.DataFrame(DEFAULT_PRODUCTS))["product_code"]
	)
	for kind in schema.INTAKE_KINDS:
		file = csv_io.file_name(kind)
		records = raw[kind].to_dict("records")
		valid, rejections = intake.validate_records(kind, records, today=today)
		known = _known_links(kind, valid, tables, known_customers, product_codes)
		valid, more = intake.check_references(kind, valid, known)
		rejections += more
		if kind == "customers":
			known_customers = set(valid["customer"])
		bad_rows = sorted({r.index for r in rejections})
		line = f"{file}: {len(records):,} rows, {len(valid):,} valid, {len(bad_rows):,} rejected"
		click.echo(line, err=bool(bad_rows))
		for r in sorted(rejections, key=lambda r: r.index)[:3]:
			click.echo(
				f"  line {r.index + 2}{f' [{r.key}]' if r.key else ''}{f' {r.field}:' if r.field else ''} {r.reason}",
				err=True,
			)
		rejected += [
			{"file": file, "line": r.index + 2, "key": r.key, "field": r.field, "reason": r.reason}
			for r in sorted(rejections, key=lambda r: r.index)
		]
		tables[kind] = csv_io.coerce_table(kind, valid.drop(columns="_index")).reset_index(drop=True)

	if tables["customers"].empty:
		raise click.ClickException(f"{folder / 'customers.csv'}: no valid customers to analyse")
	return Loaded(tables, str(folder), rejected)


def _known_links(
	kind: str, valid: pd.DataFrame, tables: Tables, customers: set, products: set
) -> dict[str, set]:
	if kind == "customers":
		known = {"referred_by_customer": set(valid["customer"])}
		if "staff" in tables:
			users = set(tables["staff"]["user"].dropna())
			for column in ("relationship_manager", "first_served_by", "referred_by_staff"):
				known[column] = users
		if "branches" in tables:
			known["branch"] = set(tables["branches"]["branch"].dropna())
		return known
	known = {"customer": customers}
	if kind == "holdings":
		known["product"] = products
	return known


def describe(tables: Tables) -> str:
	customers = len(tables.get("customers", ()))
	snapshots = tables.get("snapshots")
	text = f"{customers:,} customers"
	if "customers" in tables and "branch" in tables["customers"]:
		text += f" in {tables['customers']['branch'].nunique():,} branches"
	if snapshots is not None and not snapshots.empty:
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
