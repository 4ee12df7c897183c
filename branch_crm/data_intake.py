"""Core-banking intake: validate a batch record by record, check its links against the site, write
only what changed, set-based. Shared by the REST API (api.py) and the CSV import (commands.py).

A batch is one transaction: valid records are written together, rejected ones are reported with
their index, key, field and reason, and nothing is half-written.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import frappe
import numpy as np
import pandas as pd
from frappe import _

from branch_crm import books, store
from branch_crm.audit import logged_run
from branch_crm.engine import intake, masking, schema
from branch_crm.engine.information import CONFIRMED_FIELDS, confirmed_on

PROFILE = "Bank Customer Profile"
SNAPSHOT = "Customer Monthly Snapshot"
HOLDING = "Customer Product Holding"

# profile fields written by the customer intake (all of the shape but the key)
PROFILE_FIELDS = [c for c in schema.CUSTOMER_COLUMNS if c != "customer"]
# what staff see of the identity number and mobile (the clear values are revealed on request)
MASKED_FIELDS = ["id_number_masked", "mobile_masked"]


@dataclass
class IntakeResult:
	kind: str
	received: int = 0
	inserted: int = 0
	updated: int = 0
	unchanged: int = 0
	rejected: list[dict] = field(default_factory=list)

	def as_dict(self) -> dict:
		return {
			"kind": self.kind,
			"received": self.received,
			"inserted": self.inserted,
			"updated": self.updated,
			"unchanged": self.unchanged,
			"rejected_count": len({r["index"] for r in self.rejected}),
			"rejected": self.rejected,
		}


def _render(rejections: list[intake.Rejection]) -> list[dict]:
	"""Rejections as the API returns them: reason in the user's language, sorted by record."""
	translated: dict[str, str] = {}  # a batch repeats a few templates thousands of times

	def translate(text: str) -> str:
		if text not in translated:
			translated[text] = _(text)
		return translated[text]

	rows = []
	for r in sorted(rejections, key=lambda r: r.index):
		params = {k: translate(v) if k == "doctype" else v for k, v in r.params.items()}
		rows.append(
			{
				"index": r.index,
				"key": r.key,
				"field": r.field,
				"reason": translate(r.template).format(**params),
			}
		)
	return rows


def _settings():
	return frappe.get_cached_doc("Branch CRM Settings")


@logged_run("Intake")
def run(kind: str, records: list, *, batch_limit: int | None = None) -> IntakeResult:
	"""Validate and write one batch of ``kind`` ("customers", "holdings" or "snapshots")."""
	if kind not in intake.MODELS:
		frappe.throw(_("Unknown intake kind {0}").format(kind))
	if not isinstance(records, list):
		frappe.throw(_("records must be a list of objects"))
	limit = batch_limit or _settings().intake_batch_limit or 5000
	if len(records) > limit:
		frappe.throw(
			_("A batch holds at most {0} records; this one has {1}. Split it into smaller batches.").format(
				limit, len(records)
			)
		)
	frame, rejections = intake.validate_records(kind, records, today=frappe.utils.getdate())
	result = IntakeResult(kind, received=len(records))
	frame, more = _check_links(kind, frame)
	rejections += more
	writer = {"customers": _write_customers, "holdings": _write_holdings, "snapshots": _write_snapshots}[kind]
	inserted, updated, unchanged = writer(frame)
	result.inserted, result.updated, result.unchanged = len(inserted), len(updated), len(unchanged)
	result.rejected = _render(rejections)
	return result


def _check_links(kind: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[intake.Rejection]]:
	if frame.empty:
		return frame, []
	known: dict[str, set] = {}
	labels: dict[str, str] = {}

	def known_values(column: str, doctype: str, extra: set | None = None):
		known[column] = store.existing_values(doctype, "name", frame[column].dropna()) | (extra or set())
		labels[column] = doctype

	if kind == "customers":
		known_values("branch", "Branch")
		known_values("relationship_manager", "Relationship Manager")
		known_values("gender", "Gender")
		for column in ("first_served_by", "referred_by_staff"):
			known_values(column, "User")
		# a referrer may arrive in the same batch
		known_values("referred_by_customer", PROFILE, extra=set(frame["customer"]))
	else:
		known_values("customer", PROFILE)
		if kind == "holdings":
			known_values("product", "Bank Product")
	return intake.check_references(kind, frame, known, labels)


# ---------------------------------------------------------------- customers


def _write_customers(frame: pd.DataFrame):
	confirmed = list(CONFIRMED_FIELDS.values())
	existing = store.read_by_values(
		PROFILE, ["customer", *PROFILE_FIELDS, *confirmed], "name", frame["customer"], fast=True
	)
	if not existing.empty:
		# a manager the bank assigned (分户) stays unless core banking names one
		stored = existing.set_index("customer")["relationship_manager"]
		frame = frame.assign(
			relationship_manager=frame["relationship_manager"].fillna(frame["customer"].map(stored))
		)
	inserted, updated, unchanged = intake.split_changes(
		frame, existing, schema.CUSTOMER_KEY, schema.CUSTOMER_COLUMNS, intake.NUMERIC_COLUMNS["customers"]
	)
	changed = pd.concat([inserted, updated])
	if changed.empty:
		return inserted, updated, unchanged

	settings = _settings()
	erp_customers = changed[["customer", "customer_name"]].rename(columns={"customer": "name"})
	erp_customers = erp_customers.assign(
		customer_type="Individual",
		customer_group=settings.default_customer_group or "Individual",
		territory=settings.default_territory or "All Territories",
	)
	# New ERPNext Customers are created; existing ones only follow the name core banking sends.
	customer_statements = store.upsert_statements(
		"Customer",
		erp_customers,
		["name", "customer_name", "customer_type", "customer_group", "territory"],
		update_columns=["customer_name"],
	)
	# new customers sent without a manager are placed by how they came in; what that reads is read
	# now, so that the Customers can be written while the profiles are made
	unplaced = inserted[inserted["relationship_manager"].isna() & inserted["branch"].notna()]
	placing = books.placement_inputs(unplaced) if not unplaced.empty else None
	today = frappe.utils.getdate()
	frappe.get_meta(PROFILE)  # in the cache (the read above), so making the statements reads nothing
	# the database inserts the Customers on one core while Python masks, dates and places the
	# profiles on the other; each statement of profiles follows as soon as it is written, in the
	# same transaction
	with store.sent_behind(customer_statements) as send:
		profiles = changed.assign(
			name=changed["customer"],
			do_not_contact=changed["do_not_contact"].astype(int),
			id_number_masked=masking.mask_id_numbers(changed["id_number"]),
			mobile_masked=masking.mask_mobiles(changed["mobile_no"]),
		)
		# what core banking sent new or changed is confirmed today (engine.information); a new
		# customer has every part confirmed today, so only the updated ones are compared
		dates = pd.DataFrame({field: [today] * len(inserted) for field in confirmed})
		if not updated.empty:
			dates = pd.concat([dates, confirmed_on(updated, existing, today)[confirmed]], ignore_index=True)
		profiles = profiles.assign(**{field: dates[field].to_numpy() for field in confirmed})
		columns = ["name", "customer", *PROFILE_FIELDS, *MASKED_FIELDS, *confirmed]
		if not unplaced.empty:
			assigned = books.place_new(unplaced, placing).set_index("customer")
			profiles = profiles.set_index("customer", drop=False)
			profiles.loc[assigned.index, "relationship_manager"] = assigned["relationship_manager"]
			profiles.loc[assigned.index, "assignment_reason"] = assigned["assignment_reason"]
			profiles = profiles.reset_index(drop=True)
			columns.append("assignment_reason")
		for statement in store.upsert_statements(
			PROFILE, profiles, columns, update_columns=[*PROFILE_FIELDS, *MASKED_FIELDS, *confirmed]
		):
			send(statement)
	return inserted, updated, unchanged


# ---------------------------------------------------------------- holdings


def holding_name(customer: str, product: str, account_no: str) -> str:
	"""Child rows sent by core banking get a stable name from their natural key."""
	return hashlib.sha1(f"{customer}\x1f{product}\x1f{account_no}".encode()).hexdigest()[:14]


def _write_holdings(frame: pd.DataFrame):
	existing = store.read_by_values(
		HOLDING,
		["name", "parent", "idx", "product", "account_no", "balance", "opened_on", "matures_on"],
		"parent",
		frame["customer"],
		fast=True,
	).rename(columns={"parent": "customer"})
	existing["account_no"] = existing["account_no"].fillna("")
	inserted, updated, unchanged = intake.split_changes(
		frame, existing, schema.HOLDING_KEY, schema.HOLDING_COLUMNS, intake.NUMERIC_COLUMNS["holdings"]
	)
	changed = pd.concat([inserted, updated])
	if changed.empty:
		return inserted, updated, unchanged

	# existing rows keep their name and position; new ones go after the customer's last holding
	names = existing.set_index(["customer", "product", "account_no"])["name"]
	keys = pd.MultiIndex.from_frame(changed[["customer", "product", "account_no"]])
	changed = changed.assign(name=names.reindex(keys).to_numpy())
	new = changed["name"].isna()
	changed.loc[new, "name"] = [
		holding_name(*k)
		for k in changed.loc[new, ["customer", "product", "account_no"]].itertuples(index=False)
	]
	last_idx = existing.groupby("customer")["idx"].max() if not existing.empty else pd.Series(dtype=int)
	changed["idx"] = existing.set_index("name")["idx"].reindex(changed["name"]).to_numpy()
	offsets = changed.loc[new].groupby("customer").cumcount() + 1
	changed.loc[new, "idx"] = (
		changed.loc[new, "customer"].map(last_idx).fillna(0).to_numpy() + offsets.to_numpy()
	)
	# the product's category, as the form's fetch would set it (the Holdings table shows it)
	categories = dict(frappe.get_all("Bank Product", fields=["name", "category"], as_list=True))
	rows = changed.assign(
		parent=changed["customer"],
		parenttype=PROFILE,
		parentfield="holdings",
		product_category=changed["product"].map(categories),
	)
	store.upsert(
		HOLDING,
		rows,
		[
			"name",
			"parent",
			"parenttype",
			"parentfield",
			"idx",
			"product",
			"product_category",
			"account_no",
			"balance",
			"opened_on",
			"matures_on",
		],
		update_columns=["product_category", "balance", "opened_on", "matures_on"],
	)
	return inserted, updated, unchanged


# ---------------------------------------------------------------- snapshots


def snapshot_name(customer: str, month) -> str:
	return f"{customer}-{pd.Timestamp(month):%Y-%m}"


def _write_snapshots(frame: pd.DataFrame):
	# snapshot_name, column-wise: a batch holds a few distinct months
	codes, months = pd.factorize(frame["month"])
	spelled = np.array([f"{pd.Timestamp(m):%Y-%m}" for m in months] or [""], dtype=object)
	frame = frame.assign(name=frame["customer"] + "-" + spelled[codes])
	existing = store.read_by_values(SNAPSHOT, list(schema.SNAPSHOT_COLUMNS), "name", frame["name"], fast=True)
	inserted, updated, unchanged = intake.split_changes(
		frame, existing, schema.SNAPSHOT_KEY, schema.SNAPSHOT_COLUMNS, intake.NUMERIC_COLUMNS["snapshots"]
	)
	changed = pd.concat([inserted, updated])
	values = [*schema.SNAPSHOT_AMOUNT_COLUMNS, *schema.SNAPSHOT_COUNT_COLUMNS]
	store.upsert(SNAPSHOT, changed, ["name", "customer", "month", *values], update_columns=values)
	return inserted, updated, unchanged


def run_in_chunks(
	kind: str, records: Iterable[dict], *, chunk_size: int = 5000, progress=None
) -> IntakeResult:
	"""Bulk loads (CSV import, demo data): one committed transaction per chunk, taken from
	``records`` as it is consumed, so a file of 24 million rows is never in memory at once. A chunk
	that fails as a whole is rolled back, logged and reported row by row; the other chunks still land."""
	total = IntakeResult(kind)
	records = iter(records)
	offset = 0
	while chunk := list(itertools.islice(records, chunk_size)):
		try:
			result = run(kind, chunk, batch_limit=chunk_size)
			frappe.db.commit()
		except Exception as error:
			frappe.db.rollback()
			frappe.log_error(title=f"Branch CRM: {kind} intake chunk at row {offset} failed")
			reason = _("The batch failed and was rolled back: {0}").format(error)
			result = IntakeResult(
				kind,
				rejected=[
					{"index": i, "key": None, "field": None, "reason": reason} for i in range(len(chunk))
				],
			)
		total.received += len(chunk)
		total.inserted += result.inserted
		total.updated += result.updated
		total.unchanged += result.unchanged
		total.rejected += [{**r, "index": r["index"] + offset} for r in result.rejected]
		offset += len(chunk)
		if progress:
			progress(len(chunk))
	return total
