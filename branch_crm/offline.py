"""The offline analysis at any size: intake files read in chunks, validated column by column, the
snapshots kept by bucket of customers (on disk when read from files), and the engine run bucket by
bucket, as the nightly jobs run chunk by chunk. Memory then grows with the number of customers, not
with customers × months: a million customers × 24 months analyse within 2 GiB.

What needs the whole population is decided over it: value classes (shares of all customers) and the
needs screening (peers), on the per-customer results and three months of matrices. No frappe here.
"""

from __future__ import annotations

import datetime as dt
import pickle
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from branch_crm.engine import history, intake, schema
from branch_crm.engine import io as csv_io
from branch_crm.engine.churn import SnapshotMatrices, score_churn
from branch_crm.engine.defaults import DEFAULT_PRODUCTS, DEFAULT_TIERS
from branch_crm.engine.needs import NEEDS_SNAPSHOT_COLUMNS, NeedsParameters, screen_needs
from branch_crm.engine.recompute import reclassify_value, recompute_tables
from branch_crm.engine.tiering import TierRules
from branch_crm.engine.value import ValueParameters

# customers analysed together: the snapshots of one bucket (24 months) take ~130 bytes a row
BUCKET_CUSTOMERS = 50_000
# rows of a file read and validated at a time
CHUNK_ROWS = 500_000
# what the analysis never reads of a customer: left out of memory once validated
UNREAD_CUSTOMER_COLUMNS = ("id_number", "mobile_no", "email_id", "address", "investment_intent", "hobbies")
VALUE_COLUMNS = (*schema.SNAPSHOT_AMOUNT_COLUMNS, *schema.SNAPSHOT_COUNT_COLUMNS)


# ---------------------------------------------------------------- snapshots by bucket


class SnapshotStore:
	"""The valid snapshot rows (customer, month, values, ``_index``: the row's position in its file),
	by bucket of ``bucket_size`` customers in the order of ``customers``; in memory, or in ``folder``
	(one pickle per bucket and part added). Customers are kept as their position, months as
	datetime64."""

	def __init__(self, customers: pd.Index, bucket_size: int = BUCKET_CUSTOMERS, folder: Path | None = None):
		self.customers = pd.Index(customers)
		self.bucket_size = max(1, int(bucket_size))
		self.buckets = max(1, -(-len(self.customers) // self.bucket_size))
		self.folder = folder
		self._parts: dict[int, list] = {b: [] for b in range(self.buckets)}
		self.rows = 0

	def add(self, frame: pd.DataFrame) -> None:
		if frame.empty:
			return
		codes = self.customers.get_indexer(frame["customer"])
		if (codes < 0).any():
			raise ValueError("snapshots of unknown customers cannot be stored")
		frame = frame.drop(columns="customer").assign(customer=codes.astype(np.int32))
		bucket = codes // self.bucket_size
		for b in np.unique(bucket):
			part = frame[bucket == b].reset_index(drop=True)
			if self.folder is None:
				self._parts[int(b)].append(part)
			else:
				path = self.folder / f"bucket{int(b)}-part{len(self._parts[int(b)])}.pkl"
				part.to_pickle(path, protocol=pickle.HIGHEST_PROTOCOL)
				self._parts[int(b)].append(path)
		self.rows += len(frame)

	def codes(self, b: int) -> tuple[int, int]:
		return b * self.bucket_size, min((b + 1) * self.bucket_size, len(self.customers))

	def load(self, b: int, columns: list[str] | None = None) -> pd.DataFrame:
		"""Bucket ``b``'s rows in the order they were added, customers by name."""
		parts = [p if isinstance(p, pd.DataFrame) else pd.read_pickle(p) for p in self._parts[b]]
		parts = [p if columns is None else p[["customer", *columns]] for p in parts]
		if not parts:
			return pd.DataFrame(columns=["customer", "month", *VALUE_COLUMNS, "_index"])
		frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
		return frame.assign(customer=self.customers.to_numpy()[frame["customer"].to_numpy()])

	def replace(self, b: int, frame: pd.DataFrame) -> None:
		"""Bucket ``b`` becomes ``frame`` (customers by name)."""
		old = self._parts[b]
		self._parts[b] = []
		for part in old:
			if isinstance(part, Path):
				part.unlink(missing_ok=True)
		self.rows -= sum(0 for _ in old)
		store_rows = self.rows
		self.add(frame)
		self.rows = store_rows

	@classmethod
	def from_frame(cls, customers: pd.Index, snapshots: pd.DataFrame, bucket_size: int = BUCKET_CUSTOMERS):
		store = cls(customers, bucket_size)
		frame = snapshots if "_index" in snapshots else snapshots.assign(_index=np.arange(len(snapshots)))
		store.add(frame[frame["customer"].isin(store.customers)])
		return store


@dataclass
class Coverage:
	"""The months of the snapshots: how many rows each has (one per customer), and the one analysed."""

	per_month: pd.Series
	month: pd.Timestamp | None = None
	rows: int = 0

	@property
	def first(self) -> pd.Timestamp | None:
		return self.per_month.index.min() if len(self.per_month) else None


# a month is analysed only if it has snapshots for at least this share of the customers of the
# best-covered month: a month that has only begun to arrive (or a stray future row) is left out
BROAD_COVERAGE = 0.5


def analysis_month(per_month: pd.Series) -> pd.Timestamp:
	"""The latest month with broad coverage."""
	return per_month[per_month >= BROAD_COVERAGE * per_month.max()].index.max()


# ---------------------------------------------------------------- reading files in chunks


def read_chunks(table: str, file: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
	"""The file's rows as text, ``chunk_rows`` at a time, indexed by row position in the file; the
	header checked as ``io.read_table`` checks it (unknown columns dropped with a warning, absent
	optional ones blank)."""
	with warnings.catch_warnings():
		warnings.simplefilter("ignore")  # said when the files were first looked at
		header = csv_io.read_table(table, file, parse=False, nrows=0)
	columns = list(header.columns)
	try:
		reader = pd.read_csv(
			file,
			dtype=str,
			keep_default_na=False,
			na_values=[""],
			encoding="utf-8-sig",
			chunksize=chunk_rows,
		)
		start = 0
		for chunk in reader:
			chunk.columns = [str(c).strip() for c in chunk.columns]
			for column in columns:
				if column not in chunk:
					chunk[column] = None
			chunk = chunk[columns]
			chunk.index = pd.RangeIndex(start, start + len(chunk))
			start += len(chunk)
			yield chunk
		if start == 0:
			yield header
	except pd.errors.EmptyDataError:
		yield header


def intern(values: pd.Series) -> pd.Series:
	"""The same text once in memory: a branch named a million times is one string."""
	if values.dtype != object:
		return values
	try:
		codes, uniques = pd.factorize(values, use_na_sentinel=True)
	except TypeError:
		return values
	out = np.asarray(uniques, dtype=object).take(np.where(codes < 0, 0, codes)) if len(uniques) else values
	out = np.where(codes < 0, None, out) if len(uniques) else out
	return pd.Series(out, index=values.index, dtype=object)


def compact(frame: pd.DataFrame, keep_text: tuple[str, ...] = ("customer", "customer_name")) -> pd.DataFrame:
	return frame.assign(**{c: intern(frame[c]) for c in frame.columns if c not in keep_text})


@dataclass
class FileReport:
	"""What a file's validation found, over all its chunks."""

	file: str
	rows: int = 0
	rejections: list = field(default_factory=list)
	blanked: list = field(default_factory=list)


def validate_customers(file: Path, today: dt.date, chunk_rows: int) -> tuple[pd.DataFrame, FileReport]:
	report = FileReport(csv_io.file_name("customers"))
	parts = []
	for chunk in read_chunks("customers", file, chunk_rows):
		report.rows += len(chunk)
		valid, rejections, blanked = intake.validate_keeping_frame("customers", chunk, today=today)
		report.rejections += rejections
		report.blanked += blanked
		parts.append(compact(valid.drop(columns=list(UNREAD_CUSTOMER_COLUMNS)), keep_text=("customer",)))
		del chunk
	valid = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
	valid, duplicates = intake.reject_duplicates("customers", valid)
	report.rejections += duplicates
	report.blanked = intake.not_duplicates(report.blanked, duplicates)
	for column in UNREAD_CUSTOMER_COLUMNS:
		valid[column] = None
	return valid.reset_index(drop=True), report


def validate_rows(
	kind: str,
	file: Path,
	today: dt.date,
	known: dict[str, pd.Index],
	chunk_rows: int,
	keep,
) -> FileReport:
	"""Validate a holdings or snapshots file chunk by chunk, checking its links against ``known``;
	``keep`` takes each chunk's valid rows."""
	report = FileReport(csv_io.file_name(kind))
	for chunk in read_chunks(kind, file, chunk_rows):
		report.rows += len(chunk)
		valid, rejections = intake.validate_frame(kind, chunk, today=today)
		valid, unknown = intake.check_references(kind, valid, known, LINK_LABELS)
		report.rejections += rejections + unknown
		keep(valid)
		del chunk
	return report


LINK_LABELS = {
	"customer": "customer",
	"product": "product",
	"branch": "branch",
	"relationship_manager": "staff member",
	"first_served_by": "staff member",
	"referred_by_staff": "staff member",
	"referred_by_customer": "customer",
}


def customer_links(tables: dict, customers: pd.DataFrame) -> dict:
	known = {"referred_by_customer": pd.Index(customers["customer"])}
	if "staff" in tables:
		users = pd.Index(tables["staff"]["user"].dropna())
		for column in ("relationship_manager", "first_served_by", "referred_by_staff"):
			known[column] = users
	if "branches" in tables:
		known["branch"] = pd.Index(tables["branches"]["branch"].dropna())
	return known


def product_codes(tables: dict) -> pd.Index:
	products = tables.get("products") if "products" in tables else pd.DataFrame(DEFAULT_PRODUCTS)
	return pd.Index(products["product_code"])


def deduplicate(store: SnapshotStore) -> tuple[list, Coverage]:
	"""Per bucket: later rows repeating a customer-month are rejected (the first one counts); the
	rows per month counted over what stays."""
	rejections, per_month = [], []
	for b in range(store.buckets):
		frame = store.load(b)
		if frame.empty:
			continue
		kept, duplicates = intake.reject_duplicates("snapshots", frame)
		if duplicates:
			rejections += duplicates
			store.replace(b, kept)
		per_month.append(kept["month"].value_counts())
	counts = pd.concat(per_month).groupby(level=0).sum().sort_index() if per_month else pd.Series(dtype=int)
	return rejections, Coverage(counts, rows=int(counts.sum()))


# ---------------------------------------------------------------- the analysis, bucket by bucket


@dataclass
class Analysis:
	"""The per-customer results of the whole population."""

	recomputed: pd.DataFrame
	churn_scored: pd.DataFrame
	needs_screened: pd.DataFrame
	latest: pd.DataFrame  # the analysis month's snapshots: customer, month, aum


def maturing_holdings(holdings: pd.DataFrame | None, products: pd.DataFrame | None) -> pd.DataFrame | None:
	"""Holdings with a maturity date and their product's category, as the nightly job reads them: a
	matured deposit withdrawn explains the outflow instead of looking like churn."""
	if holdings is None or "matures_on" not in holdings:
		return None
	products = pd.DataFrame(products if products is not None else DEFAULT_PRODUCTS)
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


def analyse(
	customers: pd.DataFrame,
	holdings: pd.DataFrame,
	store: SnapshotStore,
	coverage: Coverage,
	products: pd.DataFrame | None = None,
	progress=None,
) -> Analysis:
	"""Recompute and churn bucket by bucket (each customer's results are their own), then value
	classes and needs over everyone. ``customers`` in the order of ``store.customers``."""
	as_of = coverage.month
	first = coverage.first
	needs_params = NeedsParameters()
	needs_months = pd.date_range(end=as_of, periods=needs_params.window_months, freq="MS")
	maturing = maturing_holdings(holdings, products)
	recomputed, churned, latest = [], [], []
	needs_values: dict[str, list] = {c: [] for c in NEEDS_SNAPSHOT_COLUMNS}
	needs_present = []
	for b in range(store.buckets):
		lo, hi = store.codes(b)
		bucket_customers = customers.iloc[lo:hi]
		names = pd.Index(bucket_customers["customer"])
		snapshots = store.load(b)
		snapshots = snapshots[snapshots["month"] <= as_of]
		previous = history.tiers_before_last_month(
			bucket_customers,
			snapshots,
			DEFAULT_TIERS,
			TierRules(),
			first_month=first.date(),
			last_month=as_of.date(),
		)
		recomputed.append(
			recompute_tables(
				{"customers": bucket_customers, "snapshots": snapshots},
				previous=previous,
				today=history.month_processed_on(as_of),
				as_of=as_of.date(),
			)
		)
		bucket_maturing = None if maturing is None else maturing[maturing["customer"].isin(names)]
		churned.append(
			score_churn(snapshots, None, customers=names, holdings=bucket_maturing, as_of=as_of.date())
		)
		matrices = SnapshotMatrices.from_long(
			snapshots, months=needs_months, customers=names, columns=NEEDS_SNAPSHOT_COLUMNS
		)
		for column in NEEDS_SNAPSHOT_COLUMNS:
			needs_values[column].append(matrices.values[column])
		needs_present.append(matrices.present)
		latest.append(snapshots.loc[snapshots["month"] == as_of, ["customer", "month", "aum"]])
		del snapshots, matrices
		if progress:
			progress(b + 1, store.buckets)

	# the value parameters recompute_tables decides with by default
	recomputed = reclassify_value(pd.concat(recomputed, ignore_index=True), ValueParameters())
	context = customers.drop(columns=CONTEXT[1:], errors="ignore").merge(
		recomputed[CONTEXT], on="customer", how="left"
	)
	churn = pd.concat(churned, ignore_index=True)
	people = context[["customer", "customer_name", "branch", "relationship_manager", *CONTEXT[1:]]]
	churn = churn.merge(people, on="customer", how="left").merge(
		recomputed[["customer", "aum"]], on="customer"
	)
	matrices = SnapshotMatrices(
		customers=pd.Index(customers["customer"]),
		months=needs_months,
		values={c: np.concatenate(v) for c, v in needs_values.items()},
		present=np.concatenate(needs_present),
	)
	del needs_values, needs_present
	needs = screen_needs(context, holdings, matrices, products, as_of=as_of.date())
	return Analysis(recomputed, churn, needs, pd.concat(latest, ignore_index=True))


CONTEXT = ["customer", "tier", "bank_customer_group", "value_class", "lifetime_value"]


def spill_folder(parent: Path | None = None) -> Path:
	return Path(tempfile.mkdtemp(prefix="branch-crm-snapshots-", dir=parent))


def remove(folder: Path | None) -> None:
	if folder is not None:
		shutil.rmtree(folder, ignore_errors=True)
