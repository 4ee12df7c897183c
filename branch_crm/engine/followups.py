"""Follow-ups: what each relationship manager should do, when, in which order (see docs/contact_plans.md).

* ``due_followups``: one candidate per customer and reason ("Plan Due", "Care Touch", "Retention",
  "Needs Screening"), minus those that already have an open follow-up. The key (customer, reason) is
  the idempotency key: re-running the daily job the same day creates nothing new.
* ``schedule_with_capacity``: each RM's daily load is capped; what does not fit spills to the next
  working days, most valuable and most urgent first.
* ``escalations``: follow-ups overdue by N days go to the branch manager, once.
* ``care_touches``: birthdays every year (29 February falls on 28 February in other years) and the
  festivals the admin configures, for chosen tiers, with a suggested message.
* ``event_attendance_as_contacts``: attending a branch event counts as a contact.

Priority (higher first) = reason weight + value-class weight + urgency, where urgency is the days
overdue capped at ``MAX_URGENCY`` (a care touch, being time-bound, always counts as fully urgent).
Ties go to the higher lifetime value, then the earlier due date, then the customer number, then the
reason order: the schedule is deterministic.

Pure pandas / numpy, vectorised: no loop runs per customer.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from branch_crm.engine.cadence import DEFAULT_WEEKMASK, _column, _day, _days, _is_text, calendars
from branch_crm.engine.text import format_columns, template_fields

REASONS = ("Plan Due", "Care Touch", "Retention", "Needs Screening", "Update Information", "Campaign")
# the Contact Log "reason" Select options: follow-up reasons plus contacts nobody planned
CONTACT_REASONS = (*REASONS, "Customer Initiated", "Event")
CONTACT_OUTCOMES = (
	"Reached - Interested",
	"Reached - Not Now",
	"Reached - Declined",
	"No Answer",
	"Complaint Raised",
	"Product Opened",
	"Attended Event",
)
REASON_WEIGHTS = {
	"Retention": 40,
	"Plan Due": 20,
	"Needs Screening": 15,
	"Care Touch": 10,
	"Update Information": 5,
	"Campaign": 15,
}
VALUE_CLASS_WEIGHTS = {"MVC": 30, "MGC": 20, "Standard": 10, "BZC": 0}
UNKNOWN_VALUE_WEIGHT = 10  # no value class yet
MAX_URGENCY = 30  # days overdue counted at most
DEFAULT_DAILY_CAPACITY = 20
# follow-ups per working day by staff role, when the Relationship Manager record sets none
DEFAULT_CAPACITY_BY_ROLE = {
	"Relationship Manager": 20,
	"Private Banker": 8,
	"Lobby Manager": 40,
	"Branch Manager": 10,
	"Teller": 30,
}
OPEN_STATUSES = ("Open",)
SCHEDULE_STATUSES = ("scheduled", "beyond_horizon", "unassigned")

FOLLOWUP_COLUMNS = (
	"customer",
	"reason",
	"due_date",
	"relationship_manager",
	"branch",
	"priority",
	"days_overdue",
	"lifetime_value",
	"channel",
	"occasion",
	"message",
	"key",
)
SCHEDULE_COLUMNS = (*FOLLOWUP_COLUMNS, "scheduled_date", "position", "schedule_status")
ESCALATION_COLUMNS = (
	"customer",
	"reason",
	"relationship_manager",
	"branch",
	"due_date",
	"days_overdue",
	"escalate_to",
	"message",
)
CARE_TOUCH_COLUMNS = (
	"customer",
	"reason",
	"due_date",
	"occasion",
	"occasion_date",
	"relationship_manager",
	"branch",
	"message",
)
CONTACT_LOG_COLUMNS = (
	"customer",
	"contact_time",
	"channel",
	"outcome",
	"reason",
	"relationship_manager",
	"intent_level_after",
	"notes",
	"event",
)

FOLLOWUP_TEMPLATES = {
	"plan_due": "Contact plan due: reach {customer_name} by {channel} (every {interval_days} day(s))",
	"plan_overdue": "Contact plan overdue by {days_overdue} day(s): reach {customer_name} by {channel} (every {interval_days} day(s))",
	"birthday_occasion": "Birthday",
	"birthday": "Happy birthday, {customer_name}! Wishing you good health and happiness in the year ahead.",
	"festival": "Happy {festival}, {customer_name}! Wishing you and your family every happiness.",
	"retention": "Churn risk for {customer_name}: {details}",
	"needs_screening": "Needs screening for {customer_name}: {details}",
	"update_information": "Confirm the information of {customer_name} (identity, contact, occupation and income): last confirmed {details}",
	"update_information_never": "Confirm the information of {customer_name} (identity, contact, occupation and income): never confirmed",
	"campaign": "Campaign {details}: offer it to {customer_name}",
	"escalation": "{reason} follow-up for {customer_name} is {days_overdue} day(s) overdue (due {due_date}, assigned to {relationship_manager})",
	"event_attended": "Attended {event}",
}
FESTIVAL_PLACEHOLDERS = ("customer_name", "festival")

_NAT = np.datetime64("NaT", "D")


def _templates(templates: Mapping | None) -> dict[str, str]:
	return {**FOLLOWUP_TEMPLATES, **(templates or {})}


def _text(values) -> pd.Series:
	return pd.Series(values, dtype=object).fillna("").astype(str)


def _frame(rows) -> pd.DataFrame:
	if rows is None:
		return pd.DataFrame()
	return rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame([dict(r) for r in rows])


def _reason_codes(reasons) -> np.ndarray:
	return pd.Categorical(reasons, categories=list(CONTACT_REASONS)).codes.astype(np.int64)


class _Context:
	"""Per customer context from a frame (first row per customer wins): relationship_manager,
	branch, lifetime_value, value_class, do_not_contact, customer_name."""

	def __init__(self, frame: pd.DataFrame | None):
		self.frame = frame if frame is not None and len(frame) else None
		if self.frame is None:
			self.index, self.rows = pd.Index([], dtype=object), np.zeros(0, dtype=np.int64)
			return
		index = pd.Index(self.frame["customer"].to_numpy(dtype=object))
		rows = np.arange(len(index))
		if not index.is_unique:
			first = ~index.duplicated()
			index, rows = index[first], rows[first]
		self.index, self.rows = index, rows

	@property
	def empty(self) -> bool:
		return self.frame is None

	def positions(self, customers) -> np.ndarray:
		"""Row of each customer in the frame, -1 when unknown."""
		if self.frame is None:
			return np.full(len(customers), -1, dtype=np.int64)
		at = self.index.get_indexer(customers)
		return np.where(at >= 0, self.rows[np.maximum(at, 0)], -1)

	def numbers(self, column: str, positions: np.ndarray) -> np.ndarray:
		out = np.full(len(positions), np.nan)
		if self.frame is not None and column in self.frame:
			found = positions >= 0
			values = pd.to_numeric(self.frame[column], errors="coerce").to_numpy(dtype=np.float64)
			out[found] = values[positions[found]]
		return out

	def values(self, column: str, positions: np.ndarray) -> np.ndarray:
		out = np.full(len(positions), None, dtype=object)
		if self.frame is not None and column in self.frame:
			found = positions >= 0
			out[found] = self.frame[column].to_numpy(dtype=object)[positions[found]]
		return out


def _key(customers: pd.Series, reasons: pd.Series) -> pd.Series:
	"""The idempotency key of a follow-up: ``customer|reason``."""
	return customers.astype(str) + "|" + reasons.astype(str)


# ---------------------------------------------------------------- due follow-ups


def due_followups(
	plans: pd.DataFrame | None,
	care_touches: pd.DataFrame | None = None,
	retention: pd.DataFrame | None = None,
	needs: pd.DataFrame | None = None,
	today: dt.date | None = None,
	open_followups: pd.DataFrame | None = None,
	*,
	customers: pd.DataFrame | None = None,
	update_information: pd.DataFrame | None = None,
	campaign: pd.DataFrame | None = None,
	lookahead_days: int = 0,
	fallback_assignees: Mapping | None = None,
	non_working_assignees: Collection | None = None,
	reason_weights: Mapping | None = None,
	value_class_weights: Mapping | None = None,
	templates: Mapping | None = None,
) -> pd.DataFrame:
	"""Follow-ups to create now (``FOLLOWUP_COLUMNS``), one per customer and reason.

	* ``plans``: plans with their planned dates: customer, next_contact_date, and if known
	  days_overdue, channel, interval_days (``plan_contacts``' output) plus customer context:
	  relationship_manager, branch, lifetime_value, value_class, do_not_contact, customer_name.
	  A plan is due when its next date is on or before today + ``lookahead_days``.
	* ``care_touches``: ``care_touches()``' output (customer, due_date, occasion, message).
	* ``retention``, ``needs``, ``update_information``, ``campaign``: customer, and optionally
	  due_date (default today), details (the churn reasons / the gap found / the date the
	  information was last confirmed / the campaign: goes into the message) or a ready message.
	* ``open_followups``: existing follow-ups: customer, reason, and optionally status (default
	  "Open") and due_date. An open one blocks its customer and reason. A closed or cancelled one
	  blocks a candidate with the same customer, reason and due date, so a care touch closed today is
	  not created again tomorrow while its occasion is still ahead.
	* ``customers``: customer context when ``plans`` does not carry it.
	* ``fallback_assignees``: branch -> user for customers without a relationship manager (e.g. the
	  branch's lobby manager); without one, such rows keep relationship_manager None.
	* ``non_working_assignees``: book owners who cannot work follow-ups (tellers): their customers'
	  follow-ups go to the branch's fallback assignee instead, or to nobody.

	Customers flagged do-not-contact get nothing. When one customer has several candidates for the
	same reason (a birthday and a festival), the earliest due date wins. Rows come in the order of
	the sources (plans, care touches, retention, needs), with a fresh index."""
	if today is None:
		raise ValueError("due_followups needs today's date")
	day = _day(today)
	parts = []
	if plans is not None and len(plans):
		next_date = _days(plans["next_contact_date"])
		due = ~np.isnat(next_date) & (next_date <= day + np.timedelta64(int(lookahead_days), "D"))
		chosen = plans[due]
		overdue = (
			pd.to_numeric(chosen["days_overdue"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
			if "days_overdue" in chosen
			else np.maximum((day - next_date[due]).astype(np.int64), 0)
		)
		parts.append(
			{
				"customer": chosen["customer"].to_numpy(dtype=object),
				"reason": "Plan Due",
				"due_date": next_date[due],
				"days_overdue": overdue,
				"channel": _column(chosen, "channel").to_numpy(dtype=object),
				"interval_days": pd.to_numeric(_column(chosen, "interval_days"), errors="coerce").to_numpy(
					dtype=np.float64
				),
			}
		)
	for reason, source in (
		("Care Touch", care_touches),
		("Retention", retention),
		("Needs Screening", needs),
		("Update Information", update_information),
		("Campaign", campaign),
	):
		source = _frame(source)
		if source.empty:
			continue
		due_date = _days(source["due_date"]) if "due_date" in source else np.full(len(source), day)
		due_date = np.where(np.isnat(due_date), day, due_date)
		parts.append(
			{
				"customer": source["customer"].to_numpy(dtype=object),
				"reason": reason,
				"due_date": due_date,
				"days_overdue": np.maximum((day - due_date).astype(np.int64), 0),
				"channel": _column(source, "channel").to_numpy(dtype=object),
				"occasion": _column(source, "occasion").to_numpy(dtype=object),
				"details": _column(source, "details").to_numpy(dtype=object),
				"message": _column(source, "message").to_numpy(dtype=object),
			}
		)
	if not parts:
		return pd.DataFrame(columns=list(FOLLOWUP_COLUMNS))
	cand = _stack(parts)
	n = len(cand["customer"])
	context = _Context(customers if customers is not None else plans)
	if context.empty and care_touches is not None and len(care_touches):
		context = _Context(_frame(care_touches))
	cand_at = context.positions(cand["customer"])

	existing = _frame(open_followups)
	codes, _uniques = pd.factorize(
		np.concatenate([cand["customer"], _column(existing, "customer").to_numpy(dtype=object)])
	)
	cand_key = codes[:n] * 8 + _reason_codes(cand["reason"])
	cand_due = cand["due_date"].astype(np.int64)
	keep = np.ones(n, dtype=bool)
	if not existing.empty:
		existing_key = codes[n:] * 8 + _reason_codes(_column(existing, "reason"))
		status = _column(existing, "status").fillna("Open").to_numpy(dtype=object)
		is_open = np.isin(status, OPEN_STATUSES)
		closed_due = _days(_column(existing, "due_date"))
		done = ~is_open & ~np.isnat(closed_due)
		if done.any():
			day_bits = (1 << 21) - 1
			closed = existing_key[done] * (1 << 21) + (closed_due[done].astype(np.int64) & day_bits)
			keep &= ~np.isin(cand_key * (1 << 21) + (cand_due & day_bits), closed)
		keep &= ~np.isin(cand_key, existing_key[is_open])

	# do-not-contact customers get no follow-up
	keep &= np.nan_to_num(context.numbers("do_not_contact", cand_at)) == 0

	# one per customer and reason: the earliest due date, then the first source
	order = np.lexsort((np.arange(n), cand_due, cand_key))
	order = order[keep[order]]
	sorted_key = cand_key[order]
	first = np.sort(order[np.r_[True, sorted_key[1:] != sorted_key[:-1]]]) if len(order) else order
	out = {name: values[first] for name, values in cand.items()}

	at = cand_at[first]

	def looked_up(column: str) -> np.ndarray:
		return context.values(column, at)

	manager = looked_up("relationship_manager")
	branch = looked_up("branch")
	if non_working_assignees:
		manager = np.where(
			pd.Series(manager, dtype=object).isin(set(non_working_assignees)).to_numpy(), None, manager
		)
	if fallback_assignees:
		missing = pd.isna(manager) & ~pd.isna(branch)
		manager[missing] = pd.Series(branch[missing], dtype=object).map(dict(fallback_assignees)).to_numpy()
	manager = np.where(pd.isna(manager) | (manager == ""), None, manager)
	value = np.nan_to_num(context.numbers("lifetime_value", at))
	names = looked_up("customer_name")
	names = np.where(pd.isna(names), out["customer"], names)
	# a care touch is time-bound: once offered it counts as fully urgent, so it is not pushed past
	# its occasion by routine plan contacts
	urgency = np.where(out["reason"] == "Care Touch", MAX_URGENCY, out["days_overdue"])
	result = pd.DataFrame(
		{
			"customer": out["customer"],
			"reason": out["reason"],
			"due_date": out["due_date"].astype("datetime64[ns]"),
			"relationship_manager": manager,
			"branch": branch,
			"priority": priority(
				out["reason"], looked_up("value_class"), urgency, reason_weights, value_class_weights
			),
			"days_overdue": out["days_overdue"].astype(np.int32),
			"lifetime_value": value,
			"channel": out["channel"],
			"occasion": out["occasion"],
			"message": _followup_messages(out, names, _templates(templates)),
			"key": _render(
				"{customer}|{reason}", {"customer": _strings(out["customer"]), "reason": out["reason"]}
			),
		}
	)
	return result[list(FOLLOWUP_COLUMNS)]


_CANDIDATE_DEFAULTS = {
	"customer": None,
	"reason": None,
	"due_date": _NAT,
	"days_overdue": 0,
	"channel": None,
	"interval_days": np.nan,
	"occasion": None,
	"details": None,
	"message": None,
}


def _stack(parts: list[dict]) -> dict[str, np.ndarray]:
	"""Concatenate column dicts (scalars broadcast, missing columns take their default)."""
	out = {}
	for name, default in _CANDIDATE_DEFAULTS.items():
		arrays = []
		for part in parts:
			size = len(part["customer"])
			value = part.get(name, default)
			if np.ndim(value) == 0:
				dtype = object if isinstance(value, str) or value is None else None
				value = np.full(size, value, dtype=dtype)
			arrays.append(np.asarray(value))
		out[name] = np.concatenate(arrays)
	out["due_date"] = out["due_date"].astype("datetime64[D]")
	out["days_overdue"] = out["days_overdue"].astype(np.int64)
	return out


def _strings(values) -> np.ndarray:
	"""Object array of str ("" for blanks)."""
	values = np.asarray(values, dtype=object)
	blank = pd.isna(values)
	out = values.copy()
	out[blank] = ""
	if len(out) and pd.api.types.infer_dtype(out, skipna=False) != "string":
		out = np.array([str(v) for v in out], dtype=object)
	return out


def _render(template: str, fields: Mapping[str, np.ndarray]) -> np.ndarray:
	"""``format_columns`` over object arrays of one length."""
	size = len(next(iter(fields.values())))
	return format_columns(template, fields, pd.RangeIndex(size)).to_numpy(dtype=object)


def priority(
	reasons,
	value_classes,
	days_overdue,
	reason_weights: Mapping | None = None,
	value_class_weights: Mapping | None = None,
) -> np.ndarray:
	"""reason weight + value-class weight + min(days overdue, MAX_URGENCY), as int32."""
	reason_weights = {**REASON_WEIGHTS, **(reason_weights or {})}
	value_class_weights = {**VALUE_CLASS_WEIGHTS, **(value_class_weights or {})}
	by_reason = pd.Series(reasons, dtype=object).map(reason_weights).fillna(0).to_numpy()
	by_value = pd.Series(value_classes, dtype=object).map(value_class_weights).fillna(UNKNOWN_VALUE_WEIGHT)
	urgency = np.clip(np.asarray(days_overdue, dtype=np.int64), 0, MAX_URGENCY)
	return (by_reason + by_value.to_numpy() + urgency).astype(np.int32)


def _followup_messages(
	out: dict[str, np.ndarray], names: np.ndarray, templates: dict[str, str]
) -> np.ndarray:
	"""A ready message wins; otherwise the reason's template."""
	message = _strings(out["message"])
	todo = message == ""
	plan = out["reason"] == "Plan Due"
	overdue = out["days_overdue"] > 0
	for code, rows in (
		("plan_overdue", todo & plan & overdue),
		("plan_due", todo & plan & ~overdue),
		("retention", todo & (out["reason"] == "Retention")),
		("needs_screening", todo & (out["reason"] == "Needs Screening")),
		(
			"update_information",
			todo & (out["reason"] == "Update Information") & (_strings(out["details"]) != ""),
		),
		(
			"update_information_never",
			todo & (out["reason"] == "Update Information") & (_strings(out["details"]) == ""),
		),
		("campaign", todo & (out["reason"] == "Campaign")),
	):
		if not rows.any():
			continue
		interval = out["interval_days"][rows]
		interval_text = np.where(
			np.isfinite(interval), np.nan_to_num(interval).astype(np.int64).astype(str), ""
		).astype(object)
		fields = {
			"customer_name": _strings(names[rows]),
			"customer": _strings(out["customer"][rows]),
			"channel": _strings(out["channel"][rows]),
			"interval_days": interval_text,
			"days_overdue": out["days_overdue"][rows].astype(str).astype(object),
			"details": _strings(out["details"][rows]),
		}
		message[rows] = _render(templates[code], fields)
	return message


# ---------------------------------------------------------------- capacity


def _capacity(capacity, managers: np.ndarray, default: int) -> tuple[np.ndarray, dict]:
	"""Daily capacity per manager (in the order of ``managers``) and manager -> branch if given."""
	branches: dict = {}
	if capacity is None:
		return np.full(len(managers), default, dtype=np.int64), branches
	if isinstance(capacity, int | np.integer):
		return np.full(len(managers), int(capacity), dtype=np.int64), branches
	if isinstance(capacity, pd.DataFrame):
		column = next(
			(c for c in ("capacity", "max_followups_per_day", "daily_capacity") if c in capacity), None
		)
		if column is None:
			raise ValueError("capacity needs a 'capacity' column (follow-ups per day)")
		frame = capacity.drop_duplicates("relationship_manager", keep="last").set_index(
			"relationship_manager"
		)
		if "branch" in frame:
			branches = frame["branch"].dropna().to_dict()
		values = pd.to_numeric(frame[column], errors="coerce")
	else:
		values = pd.Series(dict(capacity), dtype=float)
	values = values.reindex(managers)
	return values.fillna(default).clip(lower=0).astype(np.int64).to_numpy(), branches


def _dense_rank(values: np.ndarray) -> np.ndarray:
	"""0 for the smallest value, equal values share a rank."""
	_unique, inverse = np.unique(values, return_inverse=True)
	return inverse.reshape(-1).astype(np.int64)


def _order(frame: pd.DataFrame, manager_codes: np.ndarray) -> np.ndarray:
	"""Row order: manager, priority desc, lifetime value desc, due date, customer, reason."""
	keys = [
		manager_codes.astype(np.int64) + 1,
		_dense_rank(-pd.to_numeric(frame["priority"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)),
		_dense_rank(
			-pd.to_numeric(_column(frame, "lifetime_value", 0), errors="coerce")
			.fillna(0)
			.to_numpy(dtype=np.float64)
		),
		_dense_rank(_days(frame["due_date"]).astype(np.int64)),
	]
	# one int64 sort key when the ranks fit in 63 bits, else a lexsort
	bits = [max(int(k.max(initial=0)), 1).bit_length() for k in keys]
	if sum(bits) <= 63:
		composite = np.zeros(len(frame), dtype=np.int64)
		for key, width in zip(keys, bits, strict=True):
			composite = (composite << width) | key
		order = np.argsort(composite, kind="stable")
		ranked = composite[order]
		same = ranked[1:] == ranked[:-1]
	else:
		order = np.lexsort(keys[::-1])
		same = np.ones(max(len(order) - 1, 0), dtype=bool)
		for key in keys:
			ranked = key[order]
			same &= ranked[1:] == ranked[:-1]
	if not same.any():
		return order
	# the customer number (then the reason) breaks exact ties: sort the text of the tied rows only
	tied = np.zeros(len(order), dtype=bool)
	tied[1:] |= same
	tied[:-1] |= same
	positions = np.flatnonzero(tied)
	rows = order[positions]
	run = np.cumsum(np.r_[True, ~same])[positions]  # the tie group of each tied row
	text = np.asarray(frame["customer"].to_numpy(dtype=object)[rows], dtype=str)
	reason = _reason_codes(frame["reason"].to_numpy(dtype=object)[rows])
	order[positions] = rows[np.lexsort((reason, text, run))]
	return order


def schedule_with_capacity(
	due: pd.DataFrame,
	capacity=None,
	today: dt.date | None = None,
	horizon_days: int = 14,
	*,
	holidays=None,
	weekmask: str = DEFAULT_WEEKMASK,
	booked: pd.DataFrame | None = None,
	default_capacity: int = DEFAULT_DAILY_CAPACITY,
	holiday_lists: Mapping | None = None,
) -> pd.DataFrame:
	"""``due`` (``due_followups``' output) with ``scheduled_date``, ``position`` (1 = first of that
	manager's day) and ``schedule_status`` ("scheduled", "beyond_horizon", "unassigned"), in schedule
	order (manager, then priority order), keeping ``due``'s index.

	Slots are the working days in [today, today + horizon_days) of the manager's branch (from
	``capacity``'s ``branch`` column, else the branch of the manager's first follow-up). Each day,
	each manager takes the highest-priority follow-ups already due (a follow-up is never scheduled
	before its due date) up to the day's capacity; the rest wait for the next working day. What
	does not fit within the horizon is "beyond_horizon" (no date: the next run offers it again), and
	rows without a manager are "unassigned".

	``capacity``: a frame (relationship_manager, capacity[, branch]), a mapping manager -> capacity,
	one number for everyone, or None for ``default_capacity``. ``booked``: follow-ups already open
	(relationship_manager, date): they use up capacity on their day (an overdue one on today) and
	are never moved, so an RM's to-do list stays stable from one run to the next."""
	if today is None:
		raise ValueError("schedule_with_capacity needs today's date")
	out = due.copy()
	n = len(out)
	manager_codes, managers = pd.factorize(out["relationship_manager"].to_numpy(dtype=object))
	managers = np.asarray(managers, dtype=object)
	cap, manager_branch = _capacity(capacity, managers, default_capacity)
	order = _order(out, manager_codes)
	out = out.iloc[order]
	m = manager_codes[order]
	assigned = m >= 0
	ms = np.where(assigned, m, 0)

	cals = calendars(holidays, weekmask, holiday_lists=holiday_lists)
	first_branch = (
		pd.Series(_column(out, "branch").to_numpy(dtype=object)[assigned]).groupby(m[assigned]).first()
		if assigned.any()
		else pd.Series(dtype=object)
	)
	slots_by_branch: dict = {}
	manager_slots = []
	for code, manager in enumerate(managers):
		branch = manager_branch.get(manager, first_branch.get(code))
		key = branch if branch in cals.by_branch else None
		if key not in slots_by_branch:
			slots_by_branch[key] = cals.working_days(key, today, horizon_days)
		manager_slots.append(slots_by_branch[key])
	width = max((len(s) for s in manager_slots), default=0)
	slot_dates = np.full((max(len(managers), 1), max(width, 1)), _NAT)
	for code, slots in enumerate(manager_slots):
		slot_dates[code, : len(slots)] = slots
	n_slots = np.array([len(s) for s in manager_slots] or [0], dtype=np.int64)

	# the first slot each row may take: the first working day on or after its due date
	due_day = _days(out["due_date"])
	due_day = np.where(np.isnat(due_day), _day(today), due_day)
	release = np.zeros(n, dtype=np.int64)
	for k in range(width):
		release += slot_dates[ms, k] < due_day  # NaT compares False

	remaining = (
		np.repeat(cap[:, None], max(width, 1), axis=1) if len(managers) else np.zeros((1, 1), np.int64)
	)
	if booked is not None and len(booked) and width:
		booked_codes = pd.Index(managers).get_indexer(booked["relationship_manager"].to_numpy(dtype=object))
		date_column = next(c for c in ("date", "scheduled_date", "due_date") if c in booked)
		booked_day = np.maximum(_days(booked[date_column]), _day(today))
		ok = (booked_codes >= 0) & ~np.isnat(booked_day)
		bc, bd = booked_codes[ok], booked_day[ok]
		booked_slot = np.zeros(len(bc), dtype=np.int64)
		for k in range(width):
			booked_slot += slot_dates[bc, k] < bd
		inside = booked_slot < n_slots[bc]
		np.subtract.at(remaining, (bc[inside], booked_slot[inside]), 1)
	remaining = np.maximum(remaining, 0)

	slot = np.full(n, -1, dtype=np.int64)
	position = np.zeros(n, dtype=np.int64)
	candidates = np.flatnonzero(assigned & (release < n_slots[ms]))
	group_start = np.zeros(max(len(managers), 1), dtype=np.int64)
	if len(candidates):
		cm = ms[candidates]
		starts = np.flatnonzero(np.r_[True, cm[1:] != cm[:-1]])
		group_start[cm[starts]] = starts
		cr = release[candidates]
		open_ = np.ones(len(candidates), dtype=bool)
		for k in range(width):
			avail = open_ & (cr <= k) & (k < n_slots[cm])
			if not avail.any():
				continue
			before = np.cumsum(avail) - avail
			rank = before - before[group_start[cm]]
			take = avail & (rank < remaining[cm, k])
			slot[candidates[take]] = k
			position[candidates[take]] = rank[take] + 1
			open_ &= ~take

	scheduled = slot >= 0
	dates = np.full(n, _NAT)
	dates[scheduled] = slot_dates[ms[scheduled], slot[scheduled]]
	out["scheduled_date"] = dates.astype("datetime64[ns]")
	out["position"] = position.astype(np.int32)
	out["schedule_status"] = np.select(
		[scheduled, ~assigned], ["scheduled", "unassigned"], default="beyond_horizon"
	).astype(object)
	return out


# ---------------------------------------------------------------- escalations


def escalations(
	open_followups: pd.DataFrame,
	branch_managers,
	today: dt.date,
	overdue_days: int,
	*,
	already_escalated: pd.DataFrame | None = None,
	templates: Mapping | None = None,
) -> pd.DataFrame:
	"""Open follow-ups at least ``overdue_days`` calendar days past their due date, to hand to the
	branch manager (``ESCALATION_COLUMNS``), each once.

	``open_followups``: customer, relationship_manager, branch, due_date, reason, and optionally
	status (only "Open" rows count), escalated (truthy once escalated), customer_name.
	``branch_managers``: a frame (branch, user) or a mapping branch -> user.
	``already_escalated``: (customer, reason) pairs escalated before, if not flagged on the rows.
	A follow-up that already belongs to the branch manager is not escalated to them; one whose branch
	has no manager gets ``escalate_to`` None so the job can report it."""
	frame = _frame(open_followups)
	if frame.empty:
		return pd.DataFrame(columns=list(ESCALATION_COLUMNS))
	if overdue_days < 1:
		raise ValueError("overdue_days must be at least 1")
	day = _day(today)
	due = _days(frame["due_date"])
	late = (day - due).astype(np.int64)
	keep = ~np.isnat(due) & (late >= overdue_days)
	if "status" in frame:
		keep &= frame["status"].fillna("Open").isin(OPEN_STATUSES).to_numpy()
	if "escalated" in frame:
		keep &= ~frame["escalated"].map(_truthy).to_numpy(dtype=bool)
	if already_escalated is not None and len(already_escalated):
		done = _key(already_escalated["customer"], already_escalated["reason"])
		keep &= ~_key(frame["customer"], frame["reason"]).isin(set(done)).to_numpy()
	if isinstance(branch_managers, pd.DataFrame):
		managers = (
			branch_managers.dropna(subset=["branch"]).drop_duplicates("branch").set_index("branch")["user"]
		)
	else:
		managers = pd.Series(dict(branch_managers or {}), dtype=object)
	out = frame[keep].copy()
	out["days_overdue"] = late[keep].astype(np.int32)
	out["escalate_to"] = out["branch"].map(managers).where(lambda s: s.notna(), None)
	out = out[(out["escalate_to"] != out["relationship_manager"]) | out["escalate_to"].isna()]
	due_day = _days(out["due_date"])
	out["due_date"] = due_day.astype("datetime64[ns]")
	names = _column(out, "customer_name").to_numpy(dtype=object)
	customer = out["customer"].to_numpy(dtype=object)
	fields = {
		"reason": _strings(out["reason"]),
		"customer_name": _strings(np.where(pd.isna(names), customer, names)),
		"customer": _strings(customer),
		"days_overdue": out["days_overdue"].to_numpy().astype(str).astype(object),
		"due_date": np.datetime_as_string(due_day, unit="D").astype(object),
		"relationship_manager": _strings(out["relationship_manager"]),
	}
	out["message"] = _render(_templates(templates)["escalation"], fields) if len(out) else []
	# most overdue first, then by customer and reason
	order = np.lexsort(
		(
			_reason_codes(out["reason"].to_numpy(dtype=object)),
			np.asarray(customer, dtype=str),
			-out["days_overdue"].to_numpy(),
		)
	)
	out = out.iloc[order]
	return out[list(ESCALATION_COLUMNS)].reset_index(drop=True)


# ---------------------------------------------------------------- care touches


def anniversaries(dates, year: int) -> np.ndarray:
	"""The month and day of each date in ``year`` (datetime64[D]); 29 February becomes 28 February
	in a year that is not a leap year. NaT stays NaT."""
	days = np.asarray(dates, dtype="datetime64[D]")
	missing = np.isnat(days)
	safe = np.where(missing, np.datetime64("2000-01-01"), days)
	month = (safe.astype("datetime64[M]") - safe.astype("datetime64[Y]").astype("datetime64[M]")).astype(
		np.int64
	)
	day = (safe - safe.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
	if not _calendar.isleap(year):
		day = np.where((month == 1) & (day == 29), 28, day)
	start = np.datetime64(f"{year:04d}-01", "M") + month.astype("timedelta64[M]")
	out = start.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
	return np.where(missing, _NAT, out)


def _tier_list(value) -> list[str] | None:
	"""None means every tier."""
	if value is None or (isinstance(value, float) and np.isnan(value)):
		return None
	if isinstance(value, str):
		items = [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
		return None if not items or any(item.lower() == "all" for item in items) else items
	items = [str(v).strip() for v in value if str(v).strip()]
	return None if not items or any(item.lower() == "all" for item in items) else items


def care_touches(
	customers: pd.DataFrame,
	festivals=None,
	today: dt.date | None = None,
	lookahead_days: int = 3,
	*,
	holidays=None,
	weekmask: str = DEFAULT_WEEKMASK,
	holiday_lists: Mapping | None = None,
	templates: Mapping | None = None,
) -> pd.DataFrame:
	"""Care touches due within the lookahead (``CARE_TOUCH_COLUMNS``, reason "Care Touch").

	``customers``: customer, date_of_birth, tier, relationship_manager, do_not_contact, and optionally
	customer_name, branch, status (Closed profiles are skipped). ``festivals``: rows of name (or
	festival), date, tiers (a list, a comma-separated text, or "all"/blank for every tier), message
	(a template with {customer_name} and {festival}; blank for the default), repeat_yearly (the date's
	month and day every year, for fixed-date festivals; lunar festivals are entered per year).

	Each occasion is due on the last working day of the customer's branch on or before it (a
	greeting is early, never late), and is offered while that due date lies in
	[today, today + lookahead_days]. Birthdays recur every year; a 29 February birthday is
	celebrated on 28 February in other years."""
	if today is None:
		raise ValueError("care_touches needs today's date")
	templates = _templates(templates)
	day = _day(today)
	horizon = day + np.timedelta64(int(lookahead_days), "D")
	# an occasion a little after the window can fall due inside it after rolling back over holidays
	reach = horizon + np.timedelta64(21, "D")
	cals = calendars(holidays, weekmask, holiday_lists=holiday_lists)
	frame = customers
	eligible = pd.to_numeric(_column(frame, "do_not_contact", 0), errors="coerce").fillna(0).to_numpy() == 0
	if "status" in frame:
		eligible &= (frame["status"] != "Closed").to_numpy()
	branches = _column(frame, "branch").to_numpy(dtype=object)
	names = _column(frame, "customer_name").to_numpy(dtype=object)
	names = np.where(pd.isna(names), frame["customer"].to_numpy(dtype=object), names)
	years = range(pd.Timestamp(day).year, pd.Timestamp(reach).year + 1)
	parts = []

	def add(
		rows: np.ndarray, occasion_dates: np.ndarray, occasion, template: str, festival: str = ""
	) -> None:
		if not len(rows):
			return
		due = cals.roll(occasion_dates, branches[rows], roll="backward")
		inside = (due >= day) & (due <= horizon)
		rows, due, occasion_dates = rows[inside], due[inside], occasion_dates[inside]
		if not len(rows):
			return
		index = pd.RangeIndex(len(rows))
		fields = {
			"customer_name": _text(names[rows]),
			"festival": pd.Series(festival, index=index, dtype=object),
			"customer": _text(frame["customer"].to_numpy(dtype=object)[rows]),
		}
		parts.append(
			pd.DataFrame(
				{
					"row": rows,
					"due_date": due,
					"occasion": occasion,
					"occasion_date": occasion_dates,
					"message": format_columns(template, fields, index).to_numpy(dtype=object),
				}
			)
		)

	birth = _days(_column(frame, "date_of_birth"))
	for year in years:
		dates = anniversaries(birth, year)
		rows = np.flatnonzero(eligible & ~np.isnat(dates) & (dates >= day) & (dates <= reach))
		# the occasion is a template without placeholders: formatted, it is its words (or its code)
		add(rows, dates[rows], templates["birthday_occasion"].format(), templates["birthday"])

	tiers = _column(frame, "tier").to_numpy(dtype=object)
	for number, festival in enumerate(_frame(festivals).to_dict("records"), start=1):
		name = festival.get("name") or festival.get("festival")
		if not _is_text(name):
			raise ValueError(f"festival row {number}: a name is needed")
		template = festival.get("message") if _is_text(festival.get("message")) else templates["festival"]
		unknown = [f for f in _placeholders(template) if f not in FESTIVAL_PLACEHOLDERS]
		if unknown:
			raise ValueError(
				f"festival row {number} ({name}): unknown placeholder(s) {unknown} in the message; "
				f"use {{customer_name}} and {{festival}}"
			)
		date = _days(pd.Series([festival.get("date")], dtype=object))[0]
		if np.isnat(date):
			raise ValueError(f"festival row {number} ({name}): a date is needed")
		if _truthy(festival.get("repeat_yearly")):
			occurrences = [anniversaries(np.array([date]), year)[0] for year in years]
		else:
			occurrences = [date]
		chosen = _tier_list(festival.get("tiers"))
		mask = eligible & (
			pd.Series(tiers, dtype=object).isin(chosen).to_numpy() if chosen is not None else True
		)
		for when in occurrences:
			if day <= when <= reach:
				rows = np.flatnonzero(mask)
				add(rows, np.full(len(rows), when), name, template, name)

	if not parts:
		return pd.DataFrame(columns=list(CARE_TOUCH_COLUMNS))
	found = pd.concat(parts, ignore_index=True).sort_values(["row", "due_date"], kind="stable")
	rows = found["row"].to_numpy()
	return pd.DataFrame(
		{
			"customer": frame["customer"].to_numpy(dtype=object)[rows],
			"reason": "Care Touch",
			"due_date": found["due_date"].to_numpy().astype("datetime64[ns]"),
			"occasion": found["occasion"].to_numpy(dtype=object),
			"occasion_date": found["occasion_date"].to_numpy().astype("datetime64[ns]"),
			"relationship_manager": _column(frame, "relationship_manager").to_numpy(dtype=object)[rows],
			"branch": branches[rows],
			"message": found["message"].to_numpy(dtype=object),
		}
	)


def _placeholders(template: str) -> list[str]:
	return template_fields(template)


# ---------------------------------------------------------------- events


def event_attendance_as_contacts(
	attendance: pd.DataFrame, *, templates: Mapping | None = None
) -> pd.DataFrame:
	"""Branch-event attendance as Contact Log rows (``CONTACT_LOG_COLUMNS``): channel "Visit",
	outcome "Attended Event", reason "Event", one per event and customer who came.

	``attendance``: event, customer, event_date (or attended_on), and optionally attended (rows with
	a false value are invitations only and are skipped), event_title, relationship_manager."""
	frame = _frame(attendance)
	if frame.empty:
		return pd.DataFrame(columns=list(CONTACT_LOG_COLUMNS))
	if "attended" in frame:
		attended = pd.to_numeric(frame["attended"], errors="coerce").fillna(0) != 0
		frame = frame[attended.to_numpy()]
	frame = frame.drop_duplicates(["event", "customer"], keep="first")
	date_column = "event_date" if "event_date" in frame else "attended_on"
	title = _column(frame, "event_title")
	title = title.where(title.map(_is_text), frame["event"])
	index = frame.index
	notes = format_columns(
		_templates(templates)["event_attended"], {"event": _text(title).set_axis(index)}, index
	)
	return pd.DataFrame(
		{
			"customer": frame["customer"].to_numpy(dtype=object),
			"contact_time": pd.to_datetime(frame[date_column]).to_numpy(),
			"channel": "Visit",
			"outcome": "Attended Event",
			"reason": "Event",
			"relationship_manager": _column(frame, "relationship_manager").to_numpy(dtype=object),
			"intent_level_after": None,
			"notes": notes.to_numpy(dtype=object),
			"event": frame["event"].to_numpy(dtype=object),
		}
	)


def followup_keys(frame: pd.DataFrame) -> pd.Series:
	"""``customer|reason`` for each row: the value of the unique key the site stores per open
	follow-up (see docs/contact_plans.md)."""
	return _key(frame["customer"], frame["reason"])


def capacity_from_staff(staff: pd.DataFrame, by_role: Mapping | None = None) -> pd.DataFrame:
	"""relationship_manager, capacity, branch from staff rows (user, role_type, branch, and
	optionally max_followups_per_day), with ``DEFAULT_CAPACITY_BY_ROLE`` where none is set."""
	by_role = {**DEFAULT_CAPACITY_BY_ROLE, **(by_role or {})}
	own = pd.to_numeric(_column(staff, "max_followups_per_day"), errors="coerce")
	role = _column(staff, "role_type").map(by_role)
	return pd.DataFrame(
		{
			"relationship_manager": staff["user"].to_numpy(dtype=object),
			"capacity": own.where(own.notna(), role).fillna(DEFAULT_DAILY_CAPACITY).astype(int).to_numpy(),
			"branch": _column(staff, "branch").to_numpy(dtype=object),
		}
	)


def _truthy(value) -> bool:
	"""A check box, a flag or a date (``escalated_on``): set unless blank, 0 or false."""
	if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
		return False
	if isinstance(value, str):
		return value.strip() not in ("", "0")
	return bool(value)
