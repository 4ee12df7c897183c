"""Relationship-manager books (分户): who serves whom, balanced, with bulk hand-over.

Pure functions over DataFrames; the Frappe layer reads profiles and staff, calls these, and writes
the results (or turns them into a Book Transfer for the branch manager). See ``docs/books.md``.

New customers (``assign_new_customers``), by how they came in (``acquisition_channel``):

* **Natural walk-in**: the staff member who first served them, unless that would put their book more
  than ``count_tolerance`` (customers) or ``aum_tolerance`` (AUM) above the branch mean book of the
  tier's serving role;
* **Staff referral**: the referring teller, lobby manager or relationship manager;
* **Customer referral**: the referring customer's relationship manager;
* **Outbound marketing**: spread evenly: the least-loaded staff member of the serving role.

In every case the tier's serving role wins in the end: a rule's candidate keeps the customer only if
their role serves the customer's tier (the serving role itself, or one of its ``role_substitutes``,
by default a lobby manager for a teller and a branch manager for a relationship manager), they are
active staff of the customer's branch and they have room (``max_customers``, ``max_aum``). Otherwise
the customer goes to the least-loaded active staff member of the serving role in the branch, and the
reason names the candidate and why they were passed over.

Least-loaded, everywhere: fewest customers, then least AUM, then the user id in sort order. Staff
capacity of 0 or missing means no limit (deactivate a manager with ``is_active`` instead).

Balancing a batch (``auto_balance``, used by re-homing and Book Transfers) equalises both customer
count and AUM; its algorithm and guarantee are in ``auto_balance``'s docstring and docs/books.md.

Every decision carries a ``reason_code``; ``ASSIGNMENT_TEMPLATES`` holds the English sentence for each
code, with named placeholders that are the result frame's own columns. ``render_assignment_reasons``
renders them column-wise; the Frappe layer passes translated templates and display labels.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from branch_crm.engine.schema import ACQUISITION_CHANNELS
from branch_crm.engine.text import format_columns, template_fields
from branch_crm.engine.tiering import tier_table

WALK_IN, STAFF_REFERRAL, CUSTOMER_REFERRAL, OUTBOUND = ACQUISITION_CHANNELS
AUTO = "auto"
NONE_TEXT = "(none)"

# serving role -> roles that may also hold a customer of that role's tiers when a rule names them
DEFAULT_ROLE_SUBSTITUTES = {
	"Teller": ("Lobby Manager",),
	"Relationship Manager": ("Branch Manager",),
}

ASSIGN_COLUMNS = (
	"customer",
	"relationship_manager",
	"reason_code",
	"reason",
	"rule",
	"branch",
	"tier",
	"serving_role",
	"candidate",
	"referred_by_customer",
	"aum",
)
REHOME_COLUMNS = (
	"customer",
	"from_rm",
	"to_rm",
	"reason_code",
	"reason",
	"branch",
	"tier",
	"serving_role",
	"from_role",
	"aum",
)
PLAN_COLUMNS = (
	"customer",
	"from_rm",
	"to_rm",
	"effective_date",
	"reason_code",
	"reason",
	"branch",
	"tier",
	"serving_role",
	"aum",
)
REVERSE_COLUMNS = (*PLAN_COLUMNS, "reverses_effective_date")
BALANCE_COLUMNS = ("customer", "to_rm", "aum")
UNPLACED_COLUMNS = ("customer", "aum", "reason_code", "reason")
BOOK_STAT_COLUMNS = (
	"user",
	"customers_before",
	"aum_before",
	"customers",
	"aum",
	"target_customers",
	"target_aum",
	"count_deviation_pct",
	"aum_deviation_pct",
	"max_customers",
	"max_aum",
)

# Placeholders are columns of the frame being rendered (see render_assignment_reasons).
ASSIGNMENT_TEMPLATES = {
	# new customers: the rule's candidate keeps them
	"first_served": "Natural walk-in: assigned to {relationship_manager}, who first served them",
	"staff_referrer": "Staff referral: assigned to the referrer, {relationship_manager}",
	"customer_referrer": "Referred by customer {referred_by_customer}: assigned to their relationship manager, {relationship_manager}",
	"spread_evenly": "Outbound marketing: spread evenly, assigned to the least-loaded {serving_role}, {relationship_manager}",
	"no_channel": "No acquisition channel recorded: assigned to the least-loaded {serving_role}, {relationship_manager}",
	# new customers: the candidate is passed over
	"no_candidate": "{rule}: nobody on record to follow; assigned to the least-loaded {serving_role}, {relationship_manager}",
	"referrer_unserved": "{rule}: referring customer {referred_by_customer} has no relationship manager; assigned to the least-loaded {serving_role}, {relationship_manager}",
	"candidate_unavailable": "{rule}: {candidate} is not active staff of {branch}; assigned to the least-loaded {serving_role}, {relationship_manager}",
	"role_override": "{rule}: {candidate} does not serve the {tier} tier, which calls for a {serving_role}; assigned to the least-loaded {serving_role}, {relationship_manager}",
	"candidate_full": "{rule}: {candidate} is at capacity; assigned to the least-loaded {serving_role}, {relationship_manager}",
	"unbalanced": "{rule}: another customer would put the book of {candidate} above the branch mean by more than the tolerance; assigned to the least-loaded {serving_role}, {relationship_manager}",
	# new customers: nobody can take them
	"no_eligible_staff": "No eligible staff for tier {tier} in branch {branch}: no active {serving_role}",
	"all_at_capacity": "No eligible staff for tier {tier} in branch {branch}: every active {serving_role} is at capacity",
	"unknown_tier": "Tier {tier} is not a configured Customer Tier: nobody to assign",
	# re-homing proposals
	"rehome_role": "Tier {tier} calls for a {serving_role}, but {from_rm} is a {from_role}: proposed move to {to_rm}",
	"rehome_inactive": "{from_rm} is not active staff: proposed move to {to_rm}, a {serving_role}",
	"rehome_no_eligible": "Tier {tier} calls for a {serving_role}, but {from_rm} is a {from_role}; no eligible staff for tier {tier} in branch {branch}",
	"rehome_full": "Tier {tier} calls for a {serving_role}, but {from_rm} is a {from_role}; every eligible {serving_role} in branch {branch} is at capacity",
	# book transfers
	"transfer_named": "Book transfer from {from_rm} to {to_rm}, effective {effective_date}",
	"transfer_named_role": "Book transfer from {from_rm} to {to_rm}, effective {effective_date}; note: tier {tier} calls for a {serving_role}",
	"transfer_auto": "Book transfer from {from_rm}, auto-balanced among eligible {serving_role} staff: to {to_rm}, effective {effective_date}",
	"transfer_no_eligible": "Book transfer from {from_rm}: no eligible staff for tier {tier} in branch {branch}",
	"transfer_full": "Book transfer from {from_rm}: every eligible manager is at capacity; the customer stays with {from_rm}",
	"transfer_reversal": "Reversal of the book transfer effective {reverses_effective_date}: back to {to_rm}, effective {effective_date}",
	"reverse_skipped": "Not reversed: the customer is no longer with {from_rm}",
	# auto-balance
	"balance_no_staff": "No eligible manager to balance among",
	"balance_no_capacity": "No eligible manager has room for another customer (maximum customers reached)",
	"balance_aum_capacity": "AUM {aum} exceeds the AUM capacity left with every eligible manager",
}


class NoEligibleStaff(ValueError):
	"""Raised by ``assign_new_customers(strict=True)`` when a customer cannot be placed: nobody of the
	tier's serving role is active in the branch (``reason_code`` "no_eligible_staff") or all of them
	are at capacity ("all_at_capacity")."""

	def __init__(self, message: str, *, tier, branch, serving_role, reason_code: str, customers=()):
		super().__init__(message)
		self.tier, self.branch, self.serving_role = tier, branch, serving_role
		self.reason_code = reason_code
		self.customers = tuple(customers)


@dataclass(frozen=True)
class AssignmentParameters:
	"""``count_tolerance`` / ``aum_tolerance``: how far above the branch's mean book (among the active
	staff of the tier's serving role, counting the new customer) a walk-in's first server may go
	before the customer goes to the least-loaded instead. ``balance_tolerance``: the band auto-balance
	aims for and reports against (each book's count and AUM within this fraction of its target).
	``role_substitutes``: serving role -> roles that may keep a customer of that role's tiers when a
	rule names them (never picked as the least-loaded). ``max_swaps``: auto-balance refinement budget
	(default 40 per manager)."""

	count_tolerance: float = 0.10
	aum_tolerance: float = 0.10
	balance_tolerance: float = 0.02
	role_substitutes: Mapping[str, tuple[str, ...]] = field(
		default_factory=lambda: dict(DEFAULT_ROLE_SUBSTITUTES)
	)
	max_swaps: int | None = None

	def __post_init__(self):
		for name in ("count_tolerance", "aum_tolerance", "balance_tolerance"):
			if not getattr(self, name) >= 0:
				raise ValueError(f"{name} must be zero or more")

	def accepted_roles(self, serving_role) -> frozenset:
		"""Roles that may hold a customer whose tier calls for ``serving_role``."""
		if serving_role is None:
			return frozenset()
		return frozenset((serving_role, *self.role_substitutes.get(serving_role, ())))


# ---------------------------------------------------------------- normalising inputs


def staff_table(staff) -> pd.DataFrame:
	"""user, full_name, branch, role_type, max_customers, max_aum, is_active, sorted by user.
	Capacity of 0 or missing is no limit (``inf``); ``is_active`` (or ``active``) defaults to 1."""
	columns = ["user", "full_name", "branch", "role_type", "max_customers", "max_aum", "is_active"]
	if staff is None:
		return pd.DataFrame({c: pd.Series(dtype=float if c.startswith("max") else object) for c in columns})
	frame = staff.copy() if isinstance(staff, pd.DataFrame) else pd.DataFrame([dict(s) for s in staff])
	if frame.empty:
		return staff_table(None)
	out = pd.DataFrame({"user": frame["user"].astype(object)})
	for column in ("full_name", "branch", "role_type"):
		out[column] = (
			frame[column].astype(object).where(frame[column].notna(), None) if column in frame else None
		)
	for column in ("max_customers", "max_aum"):
		values = (
			pd.to_numeric(frame[column], errors="coerce")
			if column in frame
			else pd.Series(np.nan, index=frame.index)
		)
		values = values.astype(float)
		out[column] = values.where(values > 0, np.inf)
	active_column = "is_active" if "is_active" in frame else ("active" if "active" in frame else None)
	if active_column is None:
		out["is_active"] = True
	else:
		out["is_active"] = pd.to_numeric(frame[active_column], errors="coerce").fillna(1).astype(bool)
	out = out[out["user"].notna()].drop_duplicates("user", keep="last")
	return out.sort_values("user", kind="stable").reset_index(drop=True)[columns]


def book_loads(books: pd.DataFrame) -> pd.DataFrame:
	"""user, customers, aum: the current load of every relationship manager in ``books`` (profile
	rows: customer, relationship_manager, aum). Vectorised: a million rows take well under a second."""
	if books is None or books.empty:
		return pd.DataFrame({"user": pd.Series(dtype=object), "customers": 0, "aum": 0.0}).iloc[:0]
	rm = books["relationship_manager"]
	held = (rm.notna() & (rm.astype(str).str.strip() != "")).to_numpy()
	aum = _amounts(books, "aum")[held]
	grouped = pd.Series(aum).groupby(rm.to_numpy()[held])
	counts, sums = grouped.size(), grouped.sum()
	return pd.DataFrame(
		{"user": counts.index.to_numpy(dtype=object), "customers": counts.to_numpy(), "aum": sums.to_numpy()}
	)


def _amounts(frame: pd.DataFrame, column: str) -> np.ndarray:
	if column not in frame:
		return np.zeros(len(frame))
	return np.clip(
		pd.to_numeric(frame[column], errors="coerce").fillna(0).to_numpy(dtype=np.float64), 0, None
	)


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
	"""Object column with None for missing or blank values."""
	if column not in frame:
		return pd.Series(None, index=frame.index, dtype=object)
	values = frame[column].astype(object)
	# each distinct value judged once: a batch repeats a few branches, channels and staff
	codes, distinct = pd.factorize(values, use_na_sentinel=True)
	blank_distinct = np.fromiter((str(v).strip() == "" for v in distinct), dtype=bool, count=len(distinct))
	blank = (codes < 0) | np.append(blank_distinct, True)[codes]
	return values.where(~blank, None)


def customer_tiers(frame: pd.DataFrame, tiers) -> tuple[pd.Series, pd.Series]:
	"""(tier, serving_role) per row: the ``tier`` column where set, else the tier whose minimum
	average AUM the row's ``aum`` meets. An unknown tier has serving role None."""
	table = tier_table(tiers)
	names = table["tier_name"].to_numpy(dtype=object)
	tier = _text_column(frame, "tier")
	missing = tier.isna().to_numpy()
	if missing.any() and "aum" in frame:
		index = np.searchsorted(
			table["min_avg_aum"].to_numpy(), _amounts(frame, "aum")[missing], side="right"
		)
		tier[missing] = names[np.maximum(index - 1, 0)]
	roles = table["serving_role"] if "serving_role" in table else pd.Series(None, index=table.index)
	serving = dict(zip(names, roles.astype(object).where(roles.notna(), None), strict=True))
	return tier, tier.map(serving).astype(object).where(tier.map(serving).notna(), None)


def role_serves(roles, serving_roles, params: AssignmentParameters | None = None) -> np.ndarray:
	"""Element-wise: may a holder of ``roles`` serve a customer whose tier calls for ``serving_roles``?
	False where either is missing."""
	params = params or AssignmentParameters()
	roles = pd.Series(np.asarray(roles, dtype=object))
	serving = pd.Series(np.asarray(serving_roles, dtype=object))
	pairs = {(s, r) for s in serving.dropna().unique() for r in params.accepted_roles(s)}
	keys = pd.MultiIndex.from_arrays([serving.fillna(""), roles.fillna("")])
	return keys.isin(list(pairs)) if pairs else np.zeros(len(roles), dtype=bool)


# ---------------------------------------------------------------- rendering reasons


def render_assignment_reasons(
	frame: pd.DataFrame, templates: Mapping[str, str] | None = None, labels: Mapping | None = None
) -> pd.Series:
	"""The English (or, with ``templates``, translated) sentence for each row's ``reason_code``.
	Placeholders name columns of ``frame``; dates render as YYYY-MM-DD, amounts with thousands
	separators, missing values as "(none)". ``labels`` maps values to what users see (translated
	roles, tiers and channels, full names for user ids) and applies to every placeholder."""
	templates = {**ASSIGNMENT_TEMPLATES, **(templates or {})}
	out = pd.Series("", index=frame.index, dtype=object)
	if frame.empty:
		return out
	for code, index in frame.groupby("reason_code", sort=False).groups.items():
		template = templates.get(code, str(code))
		names = template_fields(template)
		fields = {name: _display(frame.loc[index, name], labels) for name in names}
		out[index] = format_columns(template, fields, index)
	return out


def _display(values: pd.Series, labels: Mapping | None) -> pd.Series:
	if pd.api.types.is_datetime64_any_dtype(values):
		text = values.dt.strftime("%Y-%m-%d").astype(object)
	elif pd.api.types.is_float_dtype(values):
		text = values.map(lambda v: None if pd.isna(v) else f"{v:,.0f}").astype(object)
	else:
		text = values.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v).astype(object)
	if labels:
		text = text.map(lambda v: labels.get(v, v) if isinstance(v, str) else v)
	return text.where(text.notna(), NONE_TEXT).astype(str)


# ---------------------------------------------------------------- new customers


def assign_new_customers(
	customers: pd.DataFrame,
	staff: pd.DataFrame,
	books: pd.DataFrame | None,
	tiers,
	params: AssignmentParameters | None = None,
	*,
	loads: pd.DataFrame | None = None,
	strict: bool = False,
	templates: Mapping[str, str] | None = None,
	labels: Mapping | None = None,
) -> pd.DataFrame:
	"""One row per new customer (``ASSIGN_COLUMNS``, input order): the chosen
	``relationship_manager`` (None if nobody can take them), ``reason_code``, rendered ``reason``, the
	``rule`` applied (the acquisition channel) and the ``candidate`` that rule named.

	``customers``: customer, branch, acquisition_channel, first_served_by, referred_by_staff,
	referred_by_customer, tier (or aum to derive it), aum. ``staff``: user, branch, role_type,
	max_customers, max_aum, is_active. ``books``: existing profiles (customer, relationship_manager,
	aum) of the branches concerned: they give each referring customer's manager and, unless ``loads``
	(user, customers, aum) is passed, every manager's current load. A referrer assigned earlier in the
	same batch counts too.

	Customers are taken in input order (pass them in order of acquisition), except that a customer
	referred by another new customer comes after their referrer. Loads are updated as the batch goes,
	so outbound-marketing customers go round-robin. With ``strict`` a customer nobody can take raises
	``NoEligibleStaff`` naming the tier and branch; otherwise they come back unassigned with that reason.
	"""
	params = params or AssignmentParameters()
	frame = customers.reset_index(drop=True)
	n = len(frame)
	if n == 0:
		return pd.DataFrame({c: pd.Series(dtype=object) for c in ASSIGN_COLUMNS})
	repeated = frame["customer"][frame["customer"].duplicated()]
	if not repeated.empty:
		raise ValueError(
			f"customers appear more than once in the batch: {', '.join(map(str, repeated.unique()[:5]))}"
		)
	tier, serving = customer_tiers(frame, tiers)
	branch = _text_column(frame, "branch").to_numpy(dtype=object)
	aum = _amounts(frame, "aum")
	rule, referrer, referrer_rm, candidate = _channel_candidates(frame, books)

	st = staff_table(staff)
	users = st["user"].to_numpy(dtype=object)
	position = pd.Index(users)
	load = loads if loads is not None else book_loads(books)
	count, held = _load_arrays(load, position)
	max_c, max_a = st["max_customers"].to_numpy(float), st["max_aum"].to_numpy(float)
	staff_branch = st["branch"].to_numpy(dtype=object)
	staff_role = st["role_type"].to_numpy(dtype=object)
	staff_active = st["is_active"].to_numpy(bool)
	pools: dict[tuple, np.ndarray] = {}
	for (b, r), group in st[st["is_active"]].groupby(["branch", "role_type"], sort=False):
		pools[(b, r)] = group.index.to_numpy()  # already in user order

	# in-batch referrers resolved in the loop
	batch_referrer = pd.Index(frame["customer"]).get_indexer(pd.Index(referrer))
	batch_referrer = np.where((rule == CUSTOMER_REFERRAL) & pd.isna(referrer_rm), batch_referrer, -1)
	order = _referrers_first(batch_referrer)

	chosen = np.full(n, -1, dtype=np.int64)
	codes = np.empty(n, dtype=object)
	candidates = candidate.copy()
	kept_codes = {
		WALK_IN: "first_served",
		STAFF_REFERRAL: "staff_referrer",
		CUSTOMER_REFERRAL: "customer_referrer",
	}
	roles_of = serving.to_numpy(dtype=object)
	for i in order:
		role, b, x = roles_of[i], branch[i], aum[i]
		if role is None:
			codes[i] = "unknown_tier"
			continue
		pool = pools.get((b, role))
		if pool is None or len(pool) == 0:
			codes[i] = "no_eligible_staff"
			continue
		name = candidates[i]
		if rule[i] == CUSTOMER_REFERRAL and name is None and batch_referrer[i] >= 0:
			parent = chosen[batch_referrer[i]]
			name = candidates[i] = users[parent] if parent >= 0 else None
		c = position.get_loc(name) if name is not None and name in position else -1
		pick = -1
		if rule[i] is None:
			codes[i] = "no_channel"
		elif rule[i] == OUTBOUND:
			codes[i] = "spread_evenly"
		elif name is None:
			codes[i] = "referrer_unserved" if rule[i] == CUSTOMER_REFERRAL and referrer[i] else "no_candidate"
		elif c < 0 or not staff_active[c] or staff_branch[c] != b:
			codes[i] = "candidate_unavailable"
		elif staff_role[c] not in params.accepted_roles(role):
			codes[i] = "role_override"
		elif count[c] + 1 > max_c[c] or held[c] + x > max_a[c]:
			codes[i] = "candidate_full"
		elif rule[i] == WALK_IN and _unbalanced(c, pool, x, count, held, params):
			codes[i] = "unbalanced"
		else:
			codes[i], pick = kept_codes[rule[i]], c
		if pick < 0:
			pick = _least_loaded(pool, x, count, held, max_c, max_a)
			if pick < 0:
				codes[i] = "all_at_capacity"
				continue
		chosen[i] = pick
		count[pick] += 1
		held[pick] += x

	result = pd.DataFrame(
		{
			"customer": frame["customer"].to_numpy(dtype=object),
			"relationship_manager": np.where(
				chosen >= 0, users[np.maximum(chosen, 0)] if len(users) else None, None
			),
			"reason_code": codes,
			"rule": rule,
			"branch": branch,
			"tier": tier.to_numpy(dtype=object),
			"serving_role": serving.to_numpy(dtype=object),
			"candidate": candidates,
			"referred_by_customer": referrer,
			"aum": aum,
		}
	)
	result["reason"] = render_assignment_reasons(result, templates, labels)
	if strict:
		failed = result[result["relationship_manager"].isna()]
		if not failed.empty:
			first = failed.iloc[0]
			same = failed[(failed["tier"] == first["tier"]) & (failed["branch"] == first["branch"])]
			raise NoEligibleStaff(
				f"{first['reason']} ({len(failed)} customer(s) unassigned)",
				tier=first["tier"],
				branch=first["branch"],
				serving_role=first["serving_role"],
				reason_code=first["reason_code"],
				customers=same["customer"],
			)
	return result[list(ASSIGN_COLUMNS)]


def _channel_candidates(
	frame: pd.DataFrame, books: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
	"""Per new customer, vectorised: the rule (their acquisition channel), the referring customer,
	that customer's manager in ``books`` (None when not there: a referrer in the same batch), and
	the staff member the rule names as candidate (first server, referring staff or the referrer's
	manager)."""
	channel = _text_column(frame, "acquisition_channel")
	rule = channel.where(channel.isin(ACQUISITION_CHANNELS), None).to_numpy(dtype=object)
	first_served = _text_column(frame, "first_served_by").to_numpy(dtype=object)
	referring_staff = _text_column(frame, "referred_by_staff").to_numpy(dtype=object)
	referrer = _text_column(frame, "referred_by_customer").to_numpy(dtype=object)
	existing_rm = pd.Series(dtype=object)
	if books is not None and not books.empty:
		latest = books.drop_duplicates("customer", keep="last")
		existing_rm = pd.Series(
			_text_column(latest, "relationship_manager").to_numpy(dtype=object), index=latest["customer"]
		)
	referrer_rm = pd.Series(referrer).map(existing_rm).to_numpy(dtype=object)
	referrer_rm = np.where(pd.isna(referrer_rm), None, referrer_rm)
	candidate = np.select(
		[rule == WALK_IN, rule == STAFF_REFERRAL, rule == CUSTOMER_REFERRAL],
		[first_served, referring_staff, referrer_rm],
		None,
	).astype(object)
	return rule, referrer, referrer_rm, candidate


def consulted_staff(customers: pd.DataFrame, staff, books: pd.DataFrame | None, tiers) -> dict:
	"""The staff whose current load ``assign_new_customers`` consults when it places ``customers``
	(same inputs), each mapped to how many customers of their book it needs counted: None, all of
	them, for the active staff of each customer's pool (their branch and their tier's serving role),
	whose loads are compared; their maximum number of customers, for a candidate their channel names
	who is in no pool: the placement only asks whether such a candidate has room, and a book that
	holds their maximum is full whatever else it holds, while a smaller one is counted whole. A
	customer referred by one placed in the same batch is offered to whoever took the referrer, one of
	those already. Passing ``loads`` counted so places the batch exactly as the loads of everyone
	would, so a caller reads only these books, and of a full candidate's book only its maximum (an
	intake batch of Mass customers reads the tellers' books, not the branch's)."""
	frame = customers.reset_index(drop=True)
	if frame.empty:
		return {}
	_tier, serving = customer_tiers(frame, tiers)
	wanted = set(zip(_text_column(frame, "branch").tolist(), serving.tolist(), strict=True))
	st = staff_table(staff)
	active = st[st["is_active"]]
	members = {
		user
		for user, b, r in zip(active["user"], active["branch"], active["role_type"], strict=True)
		if (b, r) in wanted
	}
	named = {c for c in _channel_candidates(frame, books)[3] if c is not None}
	most = dict(zip(st["user"], st["max_customers"], strict=True))
	consulted = {user: None for user in members}
	for user in sorted(named.intersection(most) - members):
		consulted[user] = int(most[user]) if np.isfinite(most[user]) else None
	return dict(sorted(consulted.items()))


def _load_arrays(load: pd.DataFrame, position: pd.Index) -> tuple[np.ndarray, np.ndarray]:
	count, held = np.zeros(len(position)), np.zeros(len(position))
	if load is not None and not load.empty:
		at = position.get_indexer(load["user"])
		known = at >= 0
		np.add.at(count, at[known], pd.to_numeric(load["customers"]).fillna(0).to_numpy(float)[known])
		np.add.at(held, at[known], _amounts(load, "aum")[known])
	return count, held


def _referrers_first(parent: np.ndarray) -> np.ndarray:
	"""Input order, except that a row comes after the row it points to (chains resolved; cycles
	broken at a fixed depth)."""
	depth = np.zeros(len(parent), dtype=np.int64)
	has_parent = parent >= 0
	for _ in range(min(len(parent), 64)):
		new = np.where(has_parent, depth[np.maximum(parent, 0)] + 1, 0)
		if np.array_equal(new, depth):
			break
		depth = new
	return np.lexsort((np.arange(len(parent)), depth))


def _unbalanced(c: int, pool: np.ndarray, x: float, count, held, params: AssignmentParameters) -> bool:
	"""Would one more customer put ``c`` more than the tolerance above the pool's mean book (the mean
	counting the new customer)?"""
	k = len(pool)
	mean_count = (count[pool].sum() + 1) / k
	mean_aum = (held[pool].sum() + x) / k
	return bool(
		count[c] + 1 > mean_count * (1 + params.count_tolerance) + 1e-9
		or held[c] + x > mean_aum * (1 + params.aum_tolerance) + 1e-6
	)


def _least_loaded(pool: np.ndarray, x: float, count, held, max_c, max_a) -> int:
	"""Fewest customers, then least AUM, then user order (``pool`` is in user order and lexsort is
	stable), among those with room for one more customer of AUM ``x``; -1 if nobody has room."""
	best, best_key = -1, None
	for c in pool.tolist():  # a pool is a branch's staff of one role: a few, in user order
		customers, aum = count[c], held[c]
		if (
			customers + 1 <= max_c[c]
			and aum + x <= max_a[c]
			and (best_key is None or (customers, aum) < best_key)
		):
			best, best_key = c, (customers, aum)
	return best


# ---------------------------------------------------------------- auto-balance


@dataclass
class BalanceStats:
	"""How an auto-balance came out. ``books``: one row per manager (``BOOK_STAT_COLUMNS``): load
	before and after, target, deviation in % of the target. The summary fields cover the managers
	that took part (any room left); ``notes`` say in English why the tolerance was not met, if not."""

	books: pd.DataFrame
	placed: int
	unplaced: int
	target_customers: float
	target_aum: float
	max_count_deviation_pct: float
	max_aum_deviation_pct: float
	tolerance_pct: float
	within_tolerance: bool
	swaps: int = 0
	notes: tuple[str, ...] = ()


def auto_balance(
	customers: pd.DataFrame,
	targets: pd.DataFrame,
	params: AssignmentParameters | None = None,
	*,
	templates: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, BalanceStats]:
	"""Distribute ``customers`` (customer, aum) over the managers in ``targets`` (user, max_customers,
	max_aum, and their current load as ``customers`` and ``aum``; capacity 0 or missing = no limit) so
	that every final book is as close as possible to the same customer count and the same AUM.
	Returns (``assignment``: customer, to_rm, aum; ``unplaced``: customer, aum, reason_code, reason;
	``stats``: ``BalanceStats``).

	Algorithm:

	1. Targets by water-filling: a common level L_count such that each manager's quota
	   ``clip(L_count - current, 0, room)`` sums to the customers to place (integers; the remainder goes
	   to the least-loaded), likewise an AUM level over the managers with a quota. Capacity caps both,
	   so books already above the level are not reduced and nobody is filled past ``max_*``.
	2. Greedy, biggest customer first (AUM descending, then customer id): each goes to the manager
	   with the most AUM still to receive per quota slot left (ties: user order), skipping anyone whose
	   ``max_aum`` it would break. Quotas make counts exact; a manager who got a very large customer
	   needs little per slot afterwards and so takes small ones: both measures converge together. If
	   a customer takes a manager past their AUM share, the others' shares of what is left are
	   re-levelled so that they keep converging on each other.
	3. Refinement: swap one customer of the book furthest above its AUM target (relative) with one of
	   the book furthest below, choosing the pair whose difference best closes the gap, while that
	   narrows the gap (counts are unchanged by swaps). A book no swap can help is set aside.

	Guarantee: no book exceeds ``max_customers`` or ``max_aum``; counts end within one customer of
	target (unless ``max_aum`` stops a manager taking their share); a customer is left unplaced only
	when no manager has room (smallest AUM first when the count runs out). The AUM deviation is
	measured and reported, not assumed: a ±``balance_tolerance`` band is impossible when one customer
	alone exceeds a book's target by more than that, or books are tiny (``notes`` says which). On
	100,000 long-tailed customers over 50 managers every book lands within 0.001% of target in both
	count and AUM, in well under a second (branch_crm/benchmarks/auto_balance.py)."""
	params = params or AssignmentParameters()
	frame = customers.reset_index(drop=True)
	tg = _targets_table(targets)
	k = len(tg)
	aum_all = _amounts(frame, "aum")
	ids = frame["customer"].to_numpy(dtype=object)
	order = np.lexsort((pd.factorize(ids, sort=True)[0], -aum_all)) if len(frame) else np.zeros(0, int)
	a = aum_all[order]
	n = len(a)

	cur_c = tg["customers"].to_numpy(float)
	cur_a = tg["aum"].to_numpy(float)
	room_c = np.maximum(tg["max_customers"].to_numpy(float) - cur_c, 0)
	room_a = np.maximum(tg["max_aum"].to_numpy(float) - cur_a, 0)
	room_c = np.where(room_a > 0, np.floor(room_c), 0)
	owner = np.full(n, -1, dtype=np.int64)
	unplaced_code = np.full(n, None, dtype=object)

	if k == 0 or n == 0:
		unplaced_code[:] = "balance_no_staff"
		return _balance_result(
			ids, order, a, owner, unplaced_code, tg, cur_c, cur_a, cur_c, cur_a, 0, params, templates
		)

	too_big = a > room_a.max()
	unplaced_code[too_big] = "balance_aum_capacity"
	placeable = np.flatnonzero(~too_big)
	total_room = room_c.sum()
	to_place = int(min(len(placeable), total_room))
	quota = _integer_water_fill(cur_c, room_c, to_place, cur_a)
	target_c = cur_c + _water_fill(cur_c, room_c, float(to_place))
	target_a = cur_a.copy()
	takes = quota > 0
	expected_aum = float(a[placeable[:to_place]].sum())
	target_a[takes] += _water_fill(cur_a[takes], room_a[takes], min(expected_aum, room_a[takes].sum()))

	# 2. greedy: python scalars in the loop (numpy scalar access is slower)
	got_c = [0] * k
	got_a = [0.0] * k
	want = (target_a - cur_a).tolist()
	slots = quota.astype(int).tolist()
	room_a_list = room_a.tolist()
	saturated = [False] * k
	placeable_list = placeable.tolist()
	suffix = np.concatenate([[0.0], np.cumsum(a[placeable])])  # AUM of the first m placeable customers

	def keys() -> list:
		return [(-((want[j] - got_a[j]) / (slots[j] - got_c[j])), j) for j in range(k) if slots[j] > got_c[j]]

	heap = keys()
	heapq.heapify(heap)
	a_list = a.tolist()
	owner_list = owner.tolist()
	for step, i in enumerate(placeable_list):
		x = a_list[i]
		pick = -1
		skipped = []
		while heap:
			item = heapq.heappop(heap)
			j = item[1]
			if got_a[j] + x <= room_a_list[j]:
				pick = j
				break
			skipped.append(item)
		for item in skipped:
			heapq.heappush(heap, item)
		if pick >= 0:
			got_c[pick] += 1
			got_a[pick] += x
			left = slots[pick] - got_c[pick]
			if got_a[pick] > want[pick] and not saturated[pick]:
				# overshoot (a very large customer): the others' shares of what is left are re-levelled,
				# else they would chase targets that no longer add up
				saturated[pick] = True
				want = _relevel(want, got_a, got_c, slots, saturated, cur_a, room_a, suffix, step)
				heap = keys()
				heapq.heapify(heap)
			elif left > 0:
				heapq.heappush(heap, (-((want[pick] - got_a[pick]) / left), pick))
		else:
			counts = np.asarray(got_c, dtype=float)
			has_room = counts < room_c
			if not has_room.any():  # the count has run out: everyone left (smaller) stays unplaced
				rest = np.asarray(placeable_list[step:], dtype=np.int64)
				unplaced_code[rest] = "balance_no_capacity"
				break
			fits = has_room & (np.asarray(got_a) + x <= room_a)
			if not fits.any():
				unplaced_code[i] = "balance_aum_capacity"
				continue
			options = np.flatnonzero(fits)
			loads_c, loads_a = cur_c[options] + counts[options], cur_a[options] + np.asarray(got_a)[options]
			pick = int(options[np.lexsort((loads_a, loads_c))[0]])
			got_c[pick] += 1
			got_a[pick] += x
		owner_list[i] = pick
	owner = np.asarray(owner_list, dtype=np.int64)

	# 3. refinement
	swaps, set_aside = _refine(a, owner, cur_a + np.asarray(got_a), target_a, room_a + cur_a, params, k)
	return _balance_result(
		ids,
		order,
		a,
		owner,
		unplaced_code,
		tg,
		cur_c,
		cur_a,
		target_c,
		target_a,
		swaps,
		params,
		templates,
		set_aside,
	)


def _targets_table(targets: pd.DataFrame) -> pd.DataFrame:
	frame = targets.copy() if isinstance(targets, pd.DataFrame) else pd.DataFrame([dict(t) for t in targets])
	if frame.empty:
		return pd.DataFrame(
			{
				"user": pd.Series(dtype=object),
				**{c: pd.Series(dtype=float) for c in ("max_customers", "max_aum", "customers", "aum")},
			}
		)
	out = pd.DataFrame({"user": frame["user"].astype(object)})
	for column in ("max_customers", "max_aum"):
		values = (
			pd.to_numeric(frame[column], errors="coerce").astype(float)
			if column in frame
			else pd.Series(np.nan, index=frame.index)
		)
		out[column] = values.where(values > 0, np.inf)
	out["customers"] = (
		pd.to_numeric(frame["customers"], errors="coerce").fillna(0).astype(float)
		if "customers" in frame
		else 0.0
	)
	out["aum"] = _amounts(frame, "aum")
	out = out[out["user"].notna()].drop_duplicates("user", keep="last")
	return out.sort_values("user", kind="stable").reset_index(drop=True)


def _water_fill(current: np.ndarray, room: np.ndarray, total: float) -> np.ndarray:
	"""x = clip(L - current, 0, room) with sum(x) = min(total, sum(room)), by bisection on L."""
	if len(current) == 0 or total <= 0:
		return np.zeros(len(current))
	if total >= room.sum():
		return room.astype(float).copy()
	lo = float(current.min())
	hi = float((current + np.minimum(room, total)).max())
	for _ in range(200):
		mid = (lo + hi) / 2
		if np.clip(mid - current, 0, room).sum() < total:
			lo = mid
		else:
			hi = mid
		if hi - lo <= 1e-12 * max(1.0, abs(hi)):
			break
	return np.clip(hi - current, 0, room)


def _integer_water_fill(
	current: np.ndarray, room: np.ndarray, total: int, tiebreak: np.ndarray
) -> np.ndarray:
	"""Integer quotas clip(L - current, 0, room) for the largest integer level L whose quotas fit in
	``total``; the remaining customers go one each to managers at the level, least ``tiebreak`` (AUM)
	first, then in user order."""
	current = np.round(current).astype(np.int64)
	room = np.where(np.isinf(room), total, room).astype(np.int64)
	if total <= 0 or len(current) == 0:
		return np.zeros(len(current), dtype=np.int64)

	def filled(level: int) -> int:
		return int(np.clip(level - current, 0, room).sum())

	lo, hi = int(current.min()), int((current + np.minimum(room, total)).max())
	while lo < hi:  # largest level with filled(level) <= total
		mid = (lo + hi + 1) // 2
		if filled(mid) <= total:
			lo = mid
		else:
			hi = mid - 1
	quota = np.clip(lo - current, 0, room)
	extra = total - int(quota.sum())
	if extra > 0:
		grows = np.flatnonzero((current <= lo) & (quota < room))
		grows = grows[np.lexsort((grows, tiebreak[grows]))][:extra]
		quota[grows] += 1
	return quota


def _relevel(want, got_a, got_c, slots, saturated, cur_a, room_a, suffix, step) -> list:
	"""AUM still to receive, re-levelled over the managers not yet past their share: the AUM of the
	customers that will fill the remaining slots, water-filled over their current books."""
	got_a_arr, got_c_arr = np.asarray(got_a), np.asarray(got_c)
	left = np.asarray(slots) - got_c_arr
	active = (left > 0) & ~np.asarray(saturated)
	done = step + 1
	remaining = suffix[min(len(suffix) - 1, done + int(left.sum()))] - suffix[done]
	out = got_a_arr.copy()
	if active.any():
		out[active] += _water_fill(
			cur_a[active] + got_a_arr[active], room_a[active] - got_a_arr[active], float(remaining)
		)
	return out.tolist()


def _refine(a, owner, final_a, target_a, max_a, params: AssignmentParameters, k: int) -> tuple[int, int]:
	"""Pairwise swaps between the book furthest above its AUM target (relative) and the one furthest
	below, while a swap narrows the gap between the two. A book no swap can help (one very large
	customer) is set aside and the rest are evened out among themselves. Returns (swaps, books set
	aside)."""
	budget = params.max_swaps if params.max_swaps is not None else 40 * k
	good_enough = params.balance_tolerance / 20
	swaps = 0
	receiving = (np.bincount(owner[owner >= 0], minlength=k) > 0) & (target_a > 0)
	members = np.flatnonzero(receiving)
	set_aside = 0
	while swaps < budget and len(members) >= 2:
		deviation = (final_a[members] - target_a[members]) / target_a[members]
		high, low = int(np.argmax(deviation)), int(np.argmin(deviation))
		o, u = members[high], members[low]
		spread = deviation[high] - deviation[low]
		if spread <= good_enough:
			break
		if not _swap(a, owner, final_a, target_a, max_a, o, u, spread):
			# set aside whichever of the two is the outlier (further from the median book) and carry on
			middle = np.median(deviation)
			drop = high if deviation[high] - middle >= middle - deviation[low] else low
			members = np.delete(members, drop)
			set_aside += 1
			continue
		swaps += 1
	return swaps, set_aside


def _swap(a, owner, final_a, target_a, max_a, o: int, u: int, spread: float) -> bool:
	"""Swap the pair (one customer of ``o``, one of ``u``) whose AUM difference best evens out the two
	books' relative deviations; False if no swap narrows the spread."""
	gap_o, gap_u = final_a[o] - target_a[o], final_a[u] - target_a[u]
	ideal = (gap_o * target_a[u] - gap_u * target_a[o]) / (target_a[o] + target_a[u])
	from_o = np.flatnonzero(owner == o)
	from_u = np.flatnonzero(owner == u)
	if len(from_o) == 0 or len(from_u) == 0:
		return False
	u_sorted = from_u[np.argsort(a[from_u], kind="stable")]
	u_values = a[u_sorted]
	wanted = a[from_o] - ideal
	below = np.clip(np.searchsorted(u_values, wanted), 1, len(u_values)) - 1
	best = None
	for idx in (below, np.minimum(below + 1, len(u_values) - 1)):
		miss = np.abs(u_values[idx] - wanted)
		pos = int(np.argmin(miss))
		if best is None or miss[pos] < best[0]:
			best = (miss[pos], pos, int(idx[pos]))
	_miss, pos, idx = best
	i, j = from_o[pos], u_sorted[idx]
	d = a[i] - a[j]
	new_spread = abs((gap_o - d) / target_a[o] - (gap_u + d) / target_a[u])
	if d <= 0 or new_spread >= spread or final_a[u] + d > max_a[u]:
		return False
	owner[i], owner[j] = u, o
	final_a[o] -= d
	final_a[u] += d
	return True


def _balance_result(
	ids,
	order,
	a,
	owner,
	unplaced_code,
	tg,
	cur_c,
	cur_a,
	target_c,
	target_a,
	swaps,
	params,
	templates,
	set_aside=0,
):
	placed = owner >= 0
	users = tg["user"].to_numpy(dtype=object)
	assignment = pd.DataFrame(
		{
			"customer": ids[order][placed],
			"to_rm": users[owner[placed]] if placed.any() else np.array([], dtype=object),
			"aum": a[placed],
		}
	)
	left = ~placed
	unplaced = pd.DataFrame(
		{"customer": ids[order][left], "aum": a[left], "reason_code": unplaced_code[left]}
	)
	unplaced["reason_code"] = unplaced["reason_code"].fillna("balance_no_capacity")
	unplaced["reason"] = render_assignment_reasons(unplaced, templates)
	unplaced = unplaced[list(UNPLACED_COLUMNS)]

	k = len(tg)
	got_c = np.bincount(owner[placed], minlength=k).astype(float) if k else np.zeros(0)
	got_a = np.bincount(owner[placed], weights=a[placed], minlength=k) if k else np.zeros(0)
	books = pd.DataFrame(
		{
			"user": users,
			"customers_before": cur_c.astype(np.int64),
			"aum_before": cur_a,
			"customers": (cur_c + got_c).astype(np.int64),
			"aum": cur_a + got_a,
			"target_customers": target_c,
			"target_aum": target_a,
		}
	)
	with np.errstate(divide="ignore", invalid="ignore"):
		books["count_deviation_pct"] = np.where(
			target_c > 0, (books["customers"] - target_c) / target_c * 100, 0.0
		)
		books["aum_deviation_pct"] = np.where(target_a > 0, (books["aum"] - target_a) / target_a * 100, 0.0)
	books["max_customers"] = tg["max_customers"].to_numpy(float)
	books["max_aum"] = tg["max_aum"].to_numpy(float)
	books = books[list(BOOK_STAT_COLUMNS)]

	took_part = (target_c > cur_c) | (got_c > 0)
	tolerance_pct = params.balance_tolerance * 100
	max_count = float(books["count_deviation_pct"][took_part].abs().max()) if took_part.any() else 0.0
	max_aum = float(books["aum_deviation_pct"][took_part].abs().max()) if took_part.any() else 0.0
	within = bool(max_count <= tolerance_pct + 1e-9 and max_aum <= tolerance_pct + 1e-9)
	notes = []
	if (~placed).any():
		notes.append(f"{int((~placed).sum()):,} customers could not be placed: no eligible manager has room")
	above = (cur_c > target_c + 0.5) | (cur_a > target_a * 1.0000001)
	if above.any() and took_part.any():
		notes.append(
			f"{int(above.sum())} manager(s) were above the common level before balancing; "
			"auto-balance only adds customers, so their books are not reduced"
		)
	if not within and took_part.any():
		smallest = float(target_c[took_part].min())
		if max_count > tolerance_pct and smallest * params.balance_tolerance < 1:
			notes.append(
				f"books of about {smallest:,.0f} customers cannot be within ±{tolerance_pct:g}% in count: "
				f"one customer is {100 / max(smallest, 1):.1f}% of such a book"
			)
		if max_aum > tolerance_pct and placed.any():
			biggest = float(a[placed].max())
			target = float(target_a[took_part].min())
			if target > 0 and biggest > target * params.balance_tolerance:
				notes.append(
					f"the largest customer holds {biggest:,.0f}, {biggest / target * 100:.1f}% of the smallest "
					f"AUM target ({target:,.0f}): an AUM balance within ±{tolerance_pct:g}% may be impossible"
				)
		if max_aum > tolerance_pct and not notes:
			notes.append("capacity limits kept some books from their AUM target")
		if max_aum > tolerance_pct and set_aside:
			spread = _spread_without_outliers(books["aum_deviation_pct"][took_part].to_numpy(), set_aside)
			notes.append(
				f"{set_aside} book(s) could not be brought nearer their AUM target by any swap; the other "
				f"{int(took_part.sum()) - set_aside} are within {spread:.2f} percentage points of each other"
			)
	stats = BalanceStats(
		books=books,
		placed=int(placed.sum()),
		unplaced=int((~placed).sum()),
		target_customers=float(target_c[took_part].mean()) if took_part.any() else 0.0,
		target_aum=float(target_a[took_part].mean()) if took_part.any() else 0.0,
		max_count_deviation_pct=max_count,
		max_aum_deviation_pct=max_aum,
		tolerance_pct=tolerance_pct,
		within_tolerance=within,
		swaps=int(swaps),
		notes=tuple(notes),
	)
	return assignment, unplaced, stats


def _spread_without_outliers(deviation: np.ndarray, drop: int) -> float:
	"""Range of ``deviation`` after dropping the ``drop`` values furthest from the median."""
	keep = np.argsort(np.abs(deviation - np.median(deviation)), kind="stable")[
		: max(len(deviation) - drop, 1)
	]
	return float(deviation[keep].max() - deviation[keep].min())


# ---------------------------------------------------------------- re-homing


def rehome_proposals(
	profiles: pd.DataFrame,
	staff: pd.DataFrame,
	tiers,
	params: AssignmentParameters | None = None,
	*,
	templates: Mapping[str, str] | None = None,
	labels: Mapping | None = None,
) -> pd.DataFrame:
	"""Customers whose relationship manager does not hold the role their tier calls for (or is no
	longer active staff), each with a proposed ``to_rm``: the eligible staff of the serving role in
	the customer's branch, balanced by ``auto_balance`` against their current books (so a single
	proposal goes to the least-loaded). Nothing moves: the proposals gather into a Book Transfer.

	``profiles``: every profile of the branches concerned (customer, branch, relationship_manager,
	tier or aum, aum): the ones that stay give the managers' current loads. Customers without a
	manager are not proposed here (``assign_new_customers`` places them). ``to_rm`` is None when
	nobody can take the customer, and the reason says why. Columns: ``REHOME_COLUMNS``."""
	params = params or AssignmentParameters()
	frame = profiles.reset_index(drop=True)
	empty = pd.DataFrame({c: pd.Series(dtype=object) for c in REHOME_COLUMNS})
	if frame.empty:
		return empty
	tier, serving = customer_tiers(frame, tiers)
	rm = _text_column(frame, "relationship_manager")
	st = staff_table(staff)
	by_user = st.set_index("user")
	from_role = rm.map(by_user["role_type"]).astype(object)
	active = rm.isin(st.loc[st["is_active"], "user"]).to_numpy()
	has_rm = rm.notna().to_numpy()
	known_tier = serving.notna().to_numpy()
	inactive = has_rm & ~active & known_tier
	mismatch = has_rm & active & known_tier & ~role_serves(from_role, serving, params)
	movers = inactive | mismatch
	if not movers.any():
		return empty

	work = pd.DataFrame(
		{
			"customer": frame["customer"].to_numpy(dtype=object),
			"from_rm": rm.to_numpy(dtype=object),
			"branch": _text_column(frame, "branch").to_numpy(dtype=object),
			"tier": tier.to_numpy(dtype=object),
			"serving_role": serving.to_numpy(dtype=object),
			"from_role": from_role.where(from_role.notna(), None).to_numpy(dtype=object),
			"aum": _amounts(frame, "aum"),
		}
	)
	staying = frame[~movers]
	loads = book_loads(pd.DataFrame({"relationship_manager": rm[~movers], "aum": _amounts(staying, "aum")}))
	moving = work[movers].copy()
	moving["to_rm"] = None
	moving["reason_code"] = np.where(inactive[movers], "rehome_inactive", "rehome_role")
	for (b, role), group in moving.groupby(["branch", "serving_role"], sort=True, dropna=False):
		pool = _pool(st, b, role, loads)
		if pool.empty:
			moving.loc[group.index, "reason_code"] = "rehome_no_eligible"
			continue
		placed, unplaced, _stats = auto_balance(group[["customer", "aum"]], pool, params)
		moving.loc[group.index, "to_rm"] = group["customer"].map(placed.set_index("customer")["to_rm"])
		full = group.index[group["customer"].isin(unplaced["customer"])]
		moving.loc[full, "reason_code"] = "rehome_full"
	moving["to_rm"] = moving["to_rm"].astype(object).where(moving["to_rm"].notna(), None)
	moving["reason"] = render_assignment_reasons(moving, templates, labels)
	return moving.sort_values("customer", kind="stable").reset_index(drop=True)[list(REHOME_COLUMNS)]


def _pool(st: pd.DataFrame, branch, role, loads: pd.DataFrame, exclude: Iterable = ()) -> pd.DataFrame:
	"""Active staff of ``role`` in ``branch`` with their current load, as auto_balance targets."""
	mask = st["is_active"] & (st["role_type"] == role) & ~st["user"].isin(list(exclude))
	mask &= st["branch"].isna() if branch is None or pd.isna(branch) else (st["branch"] == branch)
	return _with_loads(st[mask], loads)


def _with_loads(pool: pd.DataFrame, loads: pd.DataFrame) -> pd.DataFrame:
	by_user = loads.set_index("user") if not loads.empty else pd.DataFrame(columns=["customers", "aum"])
	return pool[["user", "max_customers", "max_aum"]].assign(
		customers=pool["user"].map(by_user["customers"]).fillna(0).astype(float).to_numpy(),
		aum=pool["user"].map(by_user["aum"]).fillna(0).astype(float).to_numpy(),
	)


def propose_books(
	profiles: pd.DataFrame,
	staff: pd.DataFrame,
	tiers,
	params: AssignmentParameters | None = None,
	*,
	templates: Mapping[str, str] | None = None,
	labels: Mapping | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""The books as they would be after re-homing every mismatched customer and assigning every
	customer without a manager: (``proposed``: ``profiles`` with ``relationship_manager`` replaced
	and ``tier`` filled in; ``moves``: customer, from_rm, to_rm, reason_code, reason, kind
	("Re-home" or "Assign")). ``profiles`` as for ``rehome_proposals``, plus the acquisition columns
	of ``assign_new_customers`` for the customers without a manager."""
	params = params or AssignmentParameters()
	proposed = profiles.reset_index(drop=True).copy()
	proposed["tier"] = customer_tiers(proposed, tiers)[0].to_numpy(dtype=object)
	proposed["relationship_manager"] = _text_column(proposed, "relationship_manager").to_numpy(dtype=object)
	rehome = rehome_proposals(proposed, staff, tiers, params, templates=templates, labels=labels)
	moved = rehome[rehome["to_rm"].notna()].set_index("customer")["to_rm"]
	at = proposed["customer"].isin(moved.index)
	proposed.loc[at, "relationship_manager"] = proposed.loc[at, "customer"].map(moved).to_numpy()

	unassigned = proposed["relationship_manager"].isna()
	assigned = assign_new_customers(
		proposed[unassigned], staff, proposed[~unassigned], tiers, params, templates=templates, labels=labels
	)
	placed = assigned[assigned["relationship_manager"].notna()].set_index("customer")["relationship_manager"]
	at = proposed["customer"].isin(placed.index) & unassigned
	proposed.loc[at, "relationship_manager"] = proposed.loc[at, "customer"].map(placed).to_numpy()

	moves = pd.concat(
		[
			rehome[["customer", "from_rm", "to_rm", "reason_code", "reason"]].assign(kind="Re-home"),
			assigned.rename(columns={"relationship_manager": "to_rm"}).assign(from_rm=None, kind="Assign")[
				["customer", "from_rm", "to_rm", "reason_code", "reason", "kind"]
			],
		],
		ignore_index=True,
	)
	return proposed, moves


# ---------------------------------------------------------------- book transfers


def book_transfer_plan(
	profiles: pd.DataFrame,
	from_rm: str,
	to_rms,
	staff: pd.DataFrame,
	effective_date,
	params: AssignmentParameters | None = None,
	*,
	tiers=None,
	templates: Mapping[str, str] | None = None,
	labels: Mapping | None = None,
) -> pd.DataFrame:
	"""A bulk hand-over of ``from_rm``'s book, one row per customer (``PLAN_COLUMNS``).

	``to_rms``: ``"auto"`` to auto-balance among the active staff of the branch who serve each
	customer's tier (needs ``tiers``; without it, staff of ``from_rm``'s role), or one user / a list
	of users to balance among those named (who must be active staff; a named manager whose role does
	not serve a customer's tier is allowed, and the reason says so). ``profiles``: the profiles of the
	branch (customer, relationship_manager, aum, branch, tier): the rest of them give the receiving
	managers' current loads, which ``auto_balance`` evens out within their capacity. A customer
	nobody has room for has ``to_rm`` None and stays put.

	Applying a plan moves each profile to ``to_rm`` with its open follow-ups and contact plans; keep
	the plan rows to undo it with ``reverse_plan``."""
	params = params or AssignmentParameters()
	frame = profiles.reset_index(drop=True)
	rm = _text_column(frame, "relationship_manager")
	leaving = frame[(rm == from_rm).to_numpy()]
	effective = pd.Timestamp(effective_date).normalize()
	if leaving.empty:
		return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS})
	st = staff_table(staff)
	by_user = st.set_index("user")
	if tiers is not None:
		tier, serving = customer_tiers(leaving, tiers)
	else:
		tier = _text_column(leaving, "tier")
		serving = pd.Series(by_user["role_type"].get(from_rm), index=leaving.index, dtype=object)
	plan = pd.DataFrame(
		{
			"customer": leaving["customer"].to_numpy(dtype=object),
			"from_rm": from_rm,
			"to_rm": None,
			"effective_date": effective,
			"branch": _text_column(leaving, "branch").to_numpy(dtype=object),
			"tier": tier.to_numpy(dtype=object),
			"serving_role": serving.to_numpy(dtype=object),
			"aum": _amounts(leaving, "aum"),
		}
	)
	plan["to_rm"] = plan["to_rm"].astype(object)
	staying = frame[(rm != from_rm).to_numpy() | rm.isna().to_numpy()]
	loads = book_loads(staying)

	if isinstance(to_rms, str) and to_rms == AUTO:
		home = by_user["branch"].get(from_rm)
		plan["branch"] = plan["branch"].where(plan["branch"].notna(), home)
		plan["reason_code"] = "transfer_auto"
		for (b, role), group in plan.groupby(["branch", "serving_role"], sort=True, dropna=False):
			pool = _pool(st, b, role, loads, exclude=[from_rm])
			if pool.empty:
				plan.loc[group.index, "reason_code"] = "transfer_no_eligible"
				continue
			_place(plan, group, pool, params, "transfer_full")
	else:
		names = [to_rms] if isinstance(to_rms, str) else list(dict.fromkeys(to_rms))
		if not names:
			raise ValueError("name at least one relationship manager to transfer the book to, or 'auto'")
		if from_rm in names:
			raise ValueError(f"{from_rm} cannot take over their own book")
		unknown = [u for u in names if u not in by_user.index]
		if unknown:
			raise ValueError(f"not staff: {', '.join(map(str, unknown))}")
		inactive = [u for u in names if not by_user.loc[u, "is_active"]]
		if inactive:
			raise ValueError(f"not active: {', '.join(map(str, inactive))}")
		plan["reason_code"] = "transfer_named"
		_place(plan, plan, _with_loads(st[st["user"].isin(names)], loads), params, "transfer_full")
		if tiers is not None:
			to_role = plan["to_rm"].map(by_user["role_type"])
			wrong = plan["to_rm"].notna().to_numpy() & ~role_serves(to_role, plan["serving_role"], params)
			plan.loc[wrong & plan["serving_role"].notna().to_numpy(), "reason_code"] = "transfer_named_role"
	plan["reason"] = render_assignment_reasons(plan, templates, labels)
	return plan.sort_values("customer", kind="stable").reset_index(drop=True)[list(PLAN_COLUMNS)]


def _place(plan: pd.DataFrame, group: pd.DataFrame, pool: pd.DataFrame, params, full_code: str) -> None:
	placed, unplaced, _stats = auto_balance(group[["customer", "aum"]], pool, params)
	plan.loc[group.index, "to_rm"] = group["customer"].map(placed.set_index("customer")["to_rm"]).to_numpy()
	plan.loc[group.index[group["customer"].isin(unplaced["customer"]).to_numpy()], "reason_code"] = full_code


def reverse_plan(
	plan: pd.DataFrame,
	*,
	current: pd.DataFrame | None = None,
	effective_date=None,
	templates: Mapping[str, str] | None = None,
	labels: Mapping | None = None,
) -> pd.DataFrame:
	"""The plan that undoes an applied ``plan``: every moved customer back from ``to_rm`` to
	``from_rm`` (``REVERSE_COLUMNS``; ``reverses_effective_date`` is the original plan's date,
	``effective_date`` this one's, by default the same). With ``current`` (customer,
	relationship_manager: the books now) a customer who has moved on since is not reversed
	(``to_rm`` None, reason "reverse_skipped"). Rows that were never moved are left out."""
	moved = plan[plan["to_rm"].notna()].reset_index(drop=True)
	out = moved.copy()
	out["from_rm"], out["to_rm"] = moved["to_rm"].to_numpy(), moved["from_rm"].to_numpy()
	out["reverses_effective_date"] = pd.to_datetime(moved["effective_date"])
	out["effective_date"] = (
		pd.Timestamp(effective_date).normalize()
		if effective_date is not None
		else out["reverses_effective_date"]
	)
	out["reason_code"] = "transfer_reversal"
	if current is not None and not out.empty:
		now = current.drop_duplicates("customer", keep="last").set_index("customer")["relationship_manager"]
		moved_on = (out["customer"].map(now).astype(object) != out["from_rm"]).to_numpy()
		out.loc[moved_on, "to_rm"] = None
		out.loc[moved_on, "reason_code"] = "reverse_skipped"
	out["to_rm"] = out["to_rm"].astype(object).where(out["to_rm"].notna(), None)
	out["reason"] = render_assignment_reasons(out, templates, labels)
	return out[list(REVERSE_COLUMNS)]
