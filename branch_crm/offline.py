"""The offline analysis at any size: intake files read in chunks, validated column by column, the
snapshots kept by bucket of customers (on disk when read from files), and the engine run bucket by
bucket, as the nightly jobs run chunk by chunk. Memory then grows with the number of customers, not
with customers × months: a million customers × 24 months analyse within 2 GiB.

What needs the whole population is decided over it: value classes (shares of all customers) and the
needs screening (peers), on the per-customer results and three months of matrices. No frappe here.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
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
from branch_crm.engine.needs import NEEDS_SNAPSHOT_COLUMNS, NeedsParameters, render_needs, screen_needs
from branch_crm.engine.recompute import reclassify_value, recompute_tables
from branch_crm.engine.tiering import TierRules
from branch_crm.engine.value import ValueParameters

# customers analysed together: the snapshots of one bucket (24 months) take ~130 bytes a row
BUCKET_CUSTOMERS = 25_000
# values of a file read and validated at a time (rows × columns), or a number of rows when set
CHUNK_CELLS = 2_000_000
CHUNK_ROWS: int | None = None
# what the analysis reads of a customer; the rest is validated and then left out of memory
ANALYSED_CUSTOMER_COLUMNS = (
	"customer",
	"customer_name",
	"branch",
	"relationship_manager",
	"status",
	"date_of_birth",
	"occupation_category",
	"declared_annual_income",
	"family_stage",
	"channel_preference",
	"do_not_contact",
	"intent_level",
	"acquisition_channel",
	"acquired_on",
	"first_served_by",
	"referred_by_staff",
	"referred_by_customer",
)
# what the analysis reads of a holding (the key's account number only to find repeated rows)
ANALYSED_HOLDING_COLUMNS = ("customer", "product", "balance", "matures_on")
# what the reports and customer_results.csv read of the churn scores and the needs screening
CHURN_KEPT = (
	"customer",
	"churn_score",
	"churn_band",
	"has_score",
	"reason_codes",
	"churn_reasons",
	"aum_change_pct",
	"history_months",
)
# the figures behind the needs flags, which no report or result file reads
NEEDS_UNREAD = (
	"age",
	"demand_deposits",
	"wealth_balance",
	"peer_gap_top_share",
	"salary_months",
	"bill_months",
	"income_coverage",
	"avg_inflow",
	"large_txn_per_month",
	"txn_per_month",
	"receipts_per_month",
	"turnover_ratio",
	"flow_balance",
)


def release_memory() -> None:
	"""Hand freed memory back to the system: a chunk's millions of small strings leave the C heap
	fragmented, and the resident size, not the live objects, is what a 2 GiB machine has to hold."""
	gc.collect()
	try:
		ctypes.CDLL("libc.so.6").malloc_trim(0)
	except (OSError, AttributeError):  # not glibc: the allocator keeps what it keeps
		pass


RENDER_ROWS = 50_000


def chunk_rows(columns: int) -> int:
	return CHUNK_ROWS or max(1_000, CHUNK_CELLS // max(1, columns))


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
		self.add(frame)

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


def read_chunks(table: str, file: Path) -> Iterator[pd.DataFrame]:
	"""The file's rows as text, a chunk at a time (``chunk_rows``), indexed by row position in the
	file; the header checked as ``io.read_table`` checks it (unknown columns dropped with a warning,
	absent optional ones blank)."""
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
			chunksize=chunk_rows(len(columns)),
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


def validate_customers(file: Path, today: dt.date) -> tuple[pd.DataFrame, FileReport]:
	"""The valid customers (the columns analysed, and ``_index``) and what the validation found."""
	report = FileReport(csv_io.file_name("customers"))
	parts = []
	for chunk in read_chunks("customers", file):
		report.rows += len(chunk)
		valid, rejections, blanked = intake.validate_keeping_frame("customers", chunk, today=today)
		report.rejections += rejections
		report.blanked += blanked
		parts.append(compact(valid[[*ANALYSED_CUSTOMER_COLUMNS, "_index"]]))
		del chunk, valid
		release_memory()
	valid = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
	parts.clear()
	valid, duplicates = intake.reject_duplicates("customers", valid)
	report.rejections += duplicates
	report.blanked = intake.not_duplicates(report.blanked, duplicates)
	valid = compact(valid.reset_index(drop=True))
	for column in ("customer", "customer_name"):
		valid[column] = _fresh(valid[column])
	release_memory()
	return valid, report


def validate_holdings(
	file: Path, today: dt.date, customers: pd.Index, products: pd.Index
) -> tuple[pd.DataFrame, FileReport]:
	"""The valid holdings (``ANALYSED_HOLDING_COLUMNS``, customers as the customers' own strings) and
	what the validation found. A row repeating an earlier row's key (customer, product, account
	number) is rejected, the first one counting; keys are compared by a 64-bit hash, so that five
	million account numbers need not be kept."""
	report = FileReport(csv_io.file_name("holdings"))
	parts = []
	seen = np.array([], dtype=np.uint64)  # the keys so far, sorted, with the row that had each first
	first = np.array([], dtype=np.int64)
	for chunk in read_chunks("holdings", file):
		report.rows += len(chunk)
		valid, rejections = intake.validate_frame("holdings", chunk, today=today)
		report.rejections += rejections
		key = pd.util.hash_pandas_object(valid[list(intake.KEYS["holdings"])], index=False).to_numpy()
		# the row that had the key first: in an earlier chunk, else in this one
		earlier = valid.groupby(key, sort=False)["_index"].transform("first").to_numpy()
		at = np.minimum(np.searchsorted(seen, key), max(len(seen) - 1, 0))
		known = seen[at] == key if len(seen) else np.zeros(len(key), dtype=bool)
		if len(seen):
			earlier = np.where(known, first[at], earlier)
		repeat = earlier != valid["_index"].to_numpy()
		report.rejections += [
			intake.Rejection(
				int(index),
				f"{customer}/{product}/{account}",
				None,
				"duplicate of record {first} in this batch",
				{"first": int(was)},
			)
			for index, customer, product, account, was in zip(
				valid["_index"][repeat],
				valid["customer"][repeat],
				valid["product"][repeat],
				valid["account_no"][repeat],
				earlier[repeat],
				strict=True,
			)
		]
		new = ~known & ~repeat
		seen, first = _merged(seen, first, key[new], valid["_index"].to_numpy()[new])
		kept, unknown = intake.check_references(
			"holdings", valid[~repeat], {"customer": customers, "product": products}, LINK_LABELS
		)
		report.rejections += unknown
		# customers and products as the objects of their own tables: no string of the chunk
		# outlives it, so the chunk's memory is wholly freed
		parts.append(
			kept[list(ANALYSED_HOLDING_COLUMNS)].assign(
				customer=_same_objects(customers, kept["customer"]),
				product=_same_objects(products, kept["product"]),
			)
		)
		del chunk, valid, kept
		release_memory()
	holdings = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
	parts.clear()
	release_memory()
	return holdings, report


def _same_objects(known: pd.Index, values: pd.Series) -> np.ndarray:
	"""``values`` (all in ``known``) as the very objects of ``known``."""
	return known.to_numpy()[known.get_indexer(values)]


def _fresh(values: pd.Series) -> pd.Series:
	"""The same texts as new objects, made one after the other: kept strings born among a chunk's
	millions of others would keep the whole chunk's memory from being freed."""
	return pd.Series(
		[v[:1] + v[1:] if isinstance(v, str) else v for v in values], index=values.index, dtype=object
	)


def _merged(keys, values, more_keys, more_values):
	keys, values = np.concatenate([keys, more_keys]), np.concatenate([values, more_values])
	order = np.argsort(keys, kind="stable")
	return keys[order], values[order]


def validate_rows(kind: str, file: Path, today: dt.date, known: dict[str, pd.Index], keep) -> FileReport:
	"""Validate a snapshots file chunk by chunk, checking its links against ``known``; ``keep``
	takes each chunk's valid rows. Repeated keys are left to ``deduplicate``."""
	report = FileReport(csv_io.file_name(kind))
	for chunk in read_chunks(kind, file):
		report.rows += len(chunk)
		valid, rejections = intake.validate_frame(kind, chunk, today=today)
		valid, unknown = intake.check_references(kind, valid, known, LINK_LABELS)
		report.rejections += rejections + unknown
		keep(valid)
		del chunk, valid
		release_memory()
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
		keys = store.load(b, ["month", "_index"])
		if keys.empty:
			continue
		kept, duplicates = intake.reject_duplicates("snapshots", keys)
		if duplicates:
			rejections += duplicates
			frame = store.load(b)
			store.replace(b, frame[frame["_index"].isin(kept["_index"])])
		per_month.append(kept["month"].value_counts())
		del keys, kept
		release_memory()
	counts = pd.concat(per_month).groupby(level=0).sum().sort_index() if per_month else pd.Series(dtype=int)
	return rejections, Coverage(counts, rows=int(counts.sum()))


# ---------------------------------------------------------------- the analysis, bucket by bucket


class SetAside:
	"""A result frame kept on disk (pickled) until first asked for, or in memory without a folder. The
	customers' own ids and names are left out of the file and attached again from ``customers`` (the
	same order): read back from disk they would be a second million strings each."""

	def __init__(self, frame: pd.DataFrame, folder: Path | None, name: str, customers: pd.DataFrame):
		self._frame: pd.DataFrame | None = frame
		self._path: Path | None = None
		self._columns = list(frame.columns)
		self._customers = customers
		self._own = [c for c in ("customer", "customer_name") if c in frame and c in customers]
		if folder is not None:
			self._path = folder / f"set-aside-{name}.pkl"
			frame.drop(columns=self._own).to_pickle(self._path, protocol=pickle.HIGHEST_PROTOCOL)
			self._frame = None

	def frame(self) -> pd.DataFrame:
		if self._frame is None:
			kept = pd.read_pickle(self._path)
			self._path.unlink(missing_ok=True)
			# put back in place: assign and a column selection would each copy the whole frame
			for column in sorted(self._own, key=self._columns.index):
				kept.insert(self._columns.index(column), column, self._customers[column].to_numpy())
			self._frame = kept
		return self._frame


@dataclass
class Analysis:
	"""The per-customer results of the whole population. The tiers and churn scores wait on disk while
	needs are screened, and are read back when first asked for (by then the caller has let the
	holdings go)."""

	kept: dict[str, SetAside]
	needs_screened: pd.DataFrame
	latest: pd.DataFrame  # the analysis month's snapshots: customer, month, aum

	@property
	def recomputed(self) -> pd.DataFrame:
		return self.kept["recomputed"].frame()

	@property
	def churn_scored(self) -> pd.DataFrame:
		return self.kept["churn_scored"].frame()


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
			_interned(
				recompute_tables(
					{"customers": bucket_customers, "snapshots": snapshots},
					previous=previous,
					today=history.month_processed_on(as_of),
					as_of=as_of.date(),
				)
			)
		)
		bucket_maturing = None if maturing is None else maturing[maturing["customer"].isin(names)]
		scored = score_churn(snapshots, None, customers=names, holdings=bucket_maturing, as_of=as_of.date())
		churned.append(_interned(scored[[c for c in CHURN_KEPT if c in scored]]))
		matrices = SnapshotMatrices.from_long(
			snapshots, months=needs_months, customers=names, columns=NEEDS_SNAPSHOT_COLUMNS
		)
		for column in NEEDS_SNAPSHOT_COLUMNS:
			needs_values[column].append(matrices.values[column])
		needs_present.append(matrices.present)
		latest.append(snapshots.loc[snapshots["month"] == as_of, ["customer", "month", "aum"]])
		del snapshots, matrices, scored, bucket_maturing
		release_memory()
		if progress:
			progress(b + 1, store.buckets)

	del maturing  # every bucket has had its own: the needs screening below does not read it
	# the value parameters recompute_tables decides with by default
	recomputed = reclassify_value(pd.concat(recomputed, ignore_index=True), ValueParameters())
	# every result is in the customers' order: context is joined by position, without copies
	_same_order(customers, recomputed)
	context = customers.drop(columns=CONTEXT[1:], errors="ignore").assign(
		**{c: recomputed[c].to_numpy() for c in CONTEXT[1:]}
	)
	churn = pd.concat(churned, ignore_index=True)
	churned.clear()
	_same_order(customers, churn)
	churn = churn.assign(
		**{
			c: context[c].to_numpy()
			for c in ("customer_name", "branch", "relationship_manager", *CONTEXT[1:])
		},
		aum=recomputed["aum"].to_numpy(),
	)
	values = {c: np.concatenate(v) for c, v in needs_values.items()}
	present = np.concatenate(needs_present)
	del needs_values, needs_present
	# the needs screening of a branch is the largest step: the finished results wait on disk
	kept = {
		"recomputed": SetAside(recomputed, store.folder, "recomputed", customers),
		"churn_scored": SetAside(churn, store.folder, "churn", customers),
	}
	del churn, recomputed
	release_memory()
	needs = screen_needs_by_branch(context, holdings, values, present, needs_months, products, as_of)
	del values, present, context
	release_memory()
	return Analysis(kept, needs, pd.concat(latest, ignore_index=True))


def _interned(results: pd.DataFrame) -> pd.DataFrame:
	"""Results whose repeated texts (a tier, a band, a date) are one object each: the engine makes a
	new string per row, and a million rows of them would not fit."""
	return compact(results, keep_text=())


def _same_order(customers: pd.DataFrame, results: pd.DataFrame) -> None:
	if not np.array_equal(customers["customer"].to_numpy(), results["customer"].to_numpy()):
		raise ValueError("results are not in the customers' order")


def screen_needs_by_branch(
	context: pd.DataFrame,
	holdings: pd.DataFrame,
	values: dict[str, np.ndarray],
	present: np.ndarray,
	months: pd.DatetimeIndex,
	products: pd.DataFrame | None,
	as_of: pd.Timestamp,
) -> pd.DataFrame:
	"""The needs screening branch by branch, as the nightly job screens: a customer's peers are the
	customers of their branch. ``values``/``present``: the needs months' matrices in the order of
	``context``."""
	branch = context["branch"].fillna("").to_numpy(dtype=object)
	holding_branch = holdings["customer"].map(pd.Series(branch, index=context["customer"])).fillna("")
	holdings_by_branch = holdings.groupby(holding_branch.to_numpy(), sort=False).indices
	del holding_branch
	screened = []
	for name, rows in pd.Series(range(len(branch))).groupby(branch, sort=False).indices.items():
		customers = context.iloc[rows]
		matrices = SnapshotMatrices(
			customers=pd.Index(customers["customer"]),
			months=months,
			values={c: v[rows] for c, v in values.items()},
			present=present[rows],
		)
		own = holdings.iloc[holdings_by_branch.get(name, [])]
		result = screen_needs(customers, own, matrices, products, as_of=as_of.date(), render=False)
		del matrices, own
		release_memory()
		# in words a range at a time: a branch's texts all at once would double its memory
		for start in range(0, len(result), RENDER_ROWS):
			part = result.iloc[start : start + RENDER_ROWS].copy()
			part["gaps"], part["next_action"] = render_needs(part)
			screened.append(_interned(part.drop(columns=list(NEEDS_UNREAD), errors="ignore")))
		del result, part
		release_memory()
	needs = pd.concat(screened, ignore_index=True)
	screened.clear()
	release_memory()
	# one copy in the customers' order (reset_index would make another)
	needs = needs.take(pd.Index(needs["customer"]).get_indexer(context["customer"]))
	needs.index = pd.RangeIndex(len(needs))
	return needs


CONTEXT = ["customer", "tier", "bank_customer_group", "value_class", "lifetime_value"]


def spill_folder(parent: Path | None = None) -> Path:
	return Path(tempfile.mkdtemp(prefix="branch-crm-snapshots-", dir=parent))


def remove(folder: Path | None) -> None:
	if folder is not None:
		shutil.rmtree(folder, ignore_errors=True)
