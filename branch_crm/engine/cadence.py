"""Contact plans (分级制定计划): how often and by which channel each customer is contacted, and when next.

Rules, in the order they apply to one plan (see docs/contact_plans.md):

* **Cadence.** Branch CRM Settings hold cadence rules: tier × intent level → interval in days (daily,
  weekly, monthly or any number) and a channel. ``cadence_table`` completes them into a full
  tier × intent grid: a pair without a rule falls back to the tier's ``contact_interval_days``
  (and the channel of the tier's first rule, else ``default_channel``). A plan whose tier is unknown
  (not tiered yet) uses the lowest tier's row. A blank intent level counts as "Unknown".
* **Manual override.** A relationship manager's ``manual_interval_days`` (≥ 1) wins over the rule;
  ``manual_channel`` wins over everything else for the channel.
* **Channel.** ``manual_channel`` if set and allowed, else the customer's ``channel_preference`` if
  set and allowed, else the rule's channel. The customer's preference wins over the rule's channel:
  reaching a customer the way they asked to be reached is the point of recording it.
* **Next date.** ``due = last_contact_date + interval``. A customer never contacted is due today, and
  an overdue plan is due today too: the plan never points into the past (how late it is stays in
  ``days_overdue``, which ranks follow-ups). The date then rolls forward to the next working day of the
  customer's branch: the branch's own holiday list if it has one, else the default list, plus the
  weekly offs of ``weekmask``.
* **No date** for do-not-contact customers (reason ``do_not_contact``, no channel) and for paused or
  closed plans (``paused`` / ``closed``).

Everything is vectorised over the plans; holidays are applied with ``numpy.busday_offset`` once per
branch that has its own list and once for everyone else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from branch_crm.engine.defaults import DEFAULT_TIERS
from branch_crm.engine.schema import CHANNELS, INTENT_LEVELS
from branch_crm.engine.text import format_columns

DEFAULT_WEEKMASK = "1111100"  # Monday to Friday
DEFAULT_CHANNEL = "Phone"
FALLBACK_INTERVAL_DAYS = 30  # a tier with no default interval of its own
# words a cadence rule may use instead of a number of days
INTERVAL_PRESETS = {"Daily": 1, "Weekly": 7, "Fortnightly": 14, "Monthly": 30, "Quarterly": 90}
PLAN_STATUSES = ("Active", "Paused", "Closed")

CADENCE_COLUMNS = ("tier", "intent_level", "interval_days", "channel", "source")
PLAN_COLUMNS = (
	"customer",
	"tier",
	"intent_level",
	"last_contact_date",
	"manual_interval_days",
	"manual_channel",
	"channel_preference",
	"do_not_contact",
	"branch",
	"status",
)
PLAN_RESULT_COLUMNS = (
	"customer",
	"interval_days",
	"channel",
	"next_contact_date",
	"reason_code",
	"days_overdue",
)
REPLAN_COLUMNS = (
	*PLAN_COLUMNS,
	"previous_intent_level",
	"intent_changed",
	"interval_days",
	"channel",
	"next_contact_date",
	"reason_code",
	"days_overdue",
)

PLAN_REASON_TEMPLATES = {
	"rule": "Cadence rule {tier} / {intent_level}: every {interval_days} day(s) by {channel}",
	"tier_default": "No cadence rule for {tier} / {intent_level}: the tier's default of every {interval_days} day(s)",
	"no_tier": "Not tiered yet: every {interval_days} day(s), as the lowest tier",
	"manual": "Manual override: every {interval_days} day(s) by {channel}",
	"do_not_contact": "Do not contact",
	"paused": "Plan paused",
	"closed": "Plan closed",
}


# ---------------------------------------------------------------- holiday calendars


@dataclass(frozen=True)
class Calendars:
	"""Working-day calendars: one per branch with a holiday list of its own, and a default."""

	default: np.busdaycalendar
	by_branch: Mapping[str, np.busdaycalendar] = field(default_factory=dict)

	def for_branch(self, branch) -> np.busdaycalendar:
		return self.by_branch.get(branch, self.default) if isinstance(branch, str) else self.default

	def roll(self, dates, branches=None, roll: str = "forward") -> np.ndarray:
		"""``dates`` (datetime64[D], NaT kept) moved to the nearest working day of each row's branch:
		``forward`` to the same or next one, ``backward`` to the same or previous one."""
		dates = np.asarray(dates, dtype="datetime64[D]")
		if branches is None or not self.by_branch:
			return np.busday_offset(dates, 0, roll=roll, busdaycal=self.default)
		codes, uniques = pd.factorize(np.asarray(branches, dtype=object))
		own = np.fromiter((u in self.by_branch for u in uniques), dtype=bool, count=len(uniques))
		row_own = np.zeros(len(dates), dtype=bool)
		known = codes >= 0
		row_own[known] = own[codes[known]]
		out = np.empty_like(dates)
		rest = ~row_own
		out[rest] = np.busday_offset(dates[rest], 0, roll=roll, busdaycal=self.default)
		rows = np.flatnonzero(row_own)
		if len(rows):
			order = rows[np.argsort(codes[rows], kind="stable")]
			sorted_codes = codes[order]
			starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
			for start, stop in zip(starts, [*starts[1:], len(order)], strict=True):
				part = order[start:stop]
				calendar = self.by_branch[uniques[sorted_codes[start]]]
				out[part] = np.busday_offset(dates[part], 0, roll=roll, busdaycal=calendar)
		return out

	def working_days(self, branch, start: dt.date, days: int) -> np.ndarray:
		"""The working days of ``branch`` in [start, start + days), as datetime64[D]."""
		first = np.datetime64(pd.Timestamp(start).date(), "D")
		span = np.arange(first, first + np.timedelta64(max(days, 0), "D"))
		return span[np.is_busday(span, busdaycal=self.for_branch(branch))]


def calendars(
	holidays=None,
	weekmask: str = DEFAULT_WEEKMASK,
	*,
	holiday_lists: Mapping | None = None,
) -> Calendars:
	"""Working-day calendars from holidays in any of these shapes:

	* ``None``: weekly offs only;
	* a ``Calendars``: returned as it is;
	* a mapping ``branch -> dates`` (key ``None`` for the default list);
	* a frame with ``date`` (or ERPNext's ``holiday_date``) and ``branch``: rows without a branch form
	  the default list;
	* a frame with ``date`` and ``holiday_list`` (ERPNext Holiday rows, ``parent`` renamed), plus
	  ``holiday_lists``: ``branch -> holiday list name``, key ``None`` naming the default list.

	A branch's own list replaces the default list, as in ERPNext. When the holiday lists already
	include the weekly offs (ERPNext adds them), pass ``weekmask="1111111"`` if a branch opens on days
	the default weekmask calls off."""
	if isinstance(holidays, Calendars):
		return holidays
	lists: dict = {}
	if holidays is None:
		pass
	elif isinstance(holidays, Mapping):
		lists = {key: list(values) for key, values in holidays.items()}
	else:
		frame = pd.DataFrame(holidays)
		date_column = "date" if "date" in frame else "holiday_date"
		if date_column not in frame:
			raise ValueError("holidays need a 'date' (or 'holiday_date') column")
		dates = pd.Series(_days(frame[date_column]), index=frame.index)
		if "branch" in frame:
			own = frame["branch"].map(_is_text).to_numpy(dtype=bool)
			lists[None] = dates[~own]
			for branch, part in dates[own].groupby(frame["branch"][own].to_numpy(), sort=False):
				lists[branch] = part
		elif "holiday_list" in frame:
			names = frame["holiday_list"]
			by_name = {name: dates[(names == name).to_numpy()] for name in names.dropna().unique()}
			for branch, name in (holiday_lists or {}).items():
				if name in by_name:
					lists[branch] = by_name[name]
		else:
			lists[None] = dates

	def calendar(values) -> np.busdaycalendar:
		days = _days(pd.Series(list(values), dtype=object))
		return np.busdaycalendar(weekmask=weekmask, holidays=np.unique(days[~np.isnat(days)]))

	default = calendar(lists.pop(None, ()))
	return Calendars(default, {branch: calendar(values) for branch, values in lists.items()})


def _is_text(value) -> bool:
	return isinstance(value, str) and value.strip() != ""


# ---------------------------------------------------------------- cadence rules


def tier_frame(tiers) -> pd.DataFrame:
	"""tier_name, rank, contact_interval_days, lowest rank first (rank defaults to list order)."""
	frame = tiers.copy() if isinstance(tiers, pd.DataFrame) else pd.DataFrame([dict(t) for t in tiers])
	if frame.empty or "tier_name" not in frame:
		raise ValueError("at least one Customer Tier (tier_name) is needed")
	if "rank" not in frame:
		frame["rank"] = np.arange(len(frame))
	if "contact_interval_days" in frame:
		interval = pd.to_numeric(frame["contact_interval_days"], errors="coerce")
		frame["contact_interval_days"] = interval.where(interval >= 1, FALLBACK_INTERVAL_DAYS).astype(int)
	else:
		frame["contact_interval_days"] = FALLBACK_INTERVAL_DAYS
	return frame.sort_values("rank", kind="stable").reset_index(drop=True)[
		["tier_name", "rank", "contact_interval_days"]
	]


def _interval(value) -> float:
	if isinstance(value, str):
		text = value.strip()
		if text.title() in INTERVAL_PRESETS:
			return INTERVAL_PRESETS[text.title()]
		try:
			return float(text)
		except ValueError:
			return np.nan
	try:
		return float(value)
	except (TypeError, ValueError):
		return np.nan


def cadence_table(rules, tiers=DEFAULT_TIERS, default_channel: str = DEFAULT_CHANNEL) -> pd.DataFrame:
	"""The full tier × intent grid (``CADENCE_COLUMNS``; ``source`` is "rule" or "tier_default") from
	cadence rule rows (tier, intent_level, interval_days, channel). ``interval_days`` may also be one of
	``INTERVAL_PRESETS`` ("Daily", "Weekly", "Monthly", ...).

	Raises ValueError naming the row (its ``idx`` if given, else its 1-based position) for an unknown
	tier or intent level or channel, a non-positive or non-integer interval, or a tier / intent pair
	set twice."""
	table = tier_frame(tiers)
	frame = rules.copy() if isinstance(rules, pd.DataFrame) else pd.DataFrame([dict(r) for r in rules])
	for column in ("tier", "intent_level", "interval_days", "channel"):
		if column not in frame:
			frame[column] = None
	rows = frame["idx"].tolist() if "idx" in frame else list(range(1, len(frame) + 1))
	names = table["tier_name"].tolist()
	seen: dict[tuple, object] = {}
	rule_of: dict[tuple, tuple[int, str | None]] = {}
	for row, tier, intent, interval, channel in zip(
		rows, frame["tier"], frame["intent_level"], frame["interval_days"], frame["channel"], strict=True
	):
		intent = intent if _is_text(intent) else "Unknown"
		where = f"cadence rule row {row} ({tier} / {intent})"
		if tier not in names:
			raise ValueError(f"{where}: unknown tier {tier!r}")
		if intent not in INTENT_LEVELS:
			raise ValueError(f"{where}: unknown intent level {intent!r}")
		days = _interval(interval)
		if not np.isfinite(days) or days < 1 or days != int(days):
			raise ValueError(
				f"{where}: interval_days must be a whole number of days, at least 1; got {interval!r}"
			)
		if _is_text(channel) and channel not in CHANNELS:
			raise ValueError(f"{where}: unknown channel {channel!r}")
		if (tier, intent) in seen:
			raise ValueError(f"{where}: duplicates row {seen[(tier, intent)]}")
		seen[(tier, intent)] = row
		rule_of[(tier, intent)] = (int(days), channel if _is_text(channel) else None)

	out = []
	for tier, default_days in zip(table["tier_name"], table["contact_interval_days"], strict=True):
		tier_channel = next(
			(rule_of[(tier, i)][1] for i in INTENT_LEVELS if (tier, i) in rule_of and rule_of[(tier, i)][1]),
			default_channel,
		)
		for intent in INTENT_LEVELS:
			if (tier, intent) in rule_of:
				days, channel = rule_of[(tier, intent)]
				out.append((tier, intent, days, channel or tier_channel, "rule"))
			else:
				out.append((tier, intent, int(default_days), tier_channel, "tier_default"))
	return pd.DataFrame(out, columns=list(CADENCE_COLUMNS))


# ---------------------------------------------------------------- plans


def _column(frame: pd.DataFrame, name: str, default=None) -> pd.Series:
	return frame[name] if name in frame else pd.Series(default, index=frame.index, dtype=object)


def _days(values) -> np.ndarray:
	"""Any date-like column as datetime64[D] (NaT for blanks and for text that is not an ISO date)."""
	series = pd.Series(values)
	if not pd.api.types.is_datetime64_any_dtype(series):
		series = pd.to_datetime(series, errors="coerce", format="ISO8601")
	return series.to_numpy().astype("datetime64[D]")


def _day(value) -> np.datetime64:
	return np.datetime64(pd.Timestamp(value).date(), "D")


def _allowed(values: pd.Series, allowed: Iterable[str]) -> np.ndarray:
	return values.isin(list(allowed)).to_numpy()


def first_contact_offsets(customers: pd.Series, interval: np.ndarray, today: np.datetime64) -> np.ndarray:
	"""Days from today to a never-contacted customer's first contact, 0 … interval - 1. Each
	customer has a slot every ``interval`` days, placed by a hash of its name (not its position), so
	the date stays put from one night to the next and comes due on its day."""
	period = np.maximum(interval, 1).astype(np.int64)
	hashed = pd.util.hash_pandas_object(customers.astype(str).reset_index(drop=True), index=False)
	slot = (hashed.to_numpy(dtype=np.uint64) % period.astype(np.uint64)).astype(np.int64)
	return (slot - today.astype("datetime64[D]").astype(np.int64)) % period


def plan_contacts(
	plans: pd.DataFrame,
	cadence,
	tiers=DEFAULT_TIERS,
	holidays=None,
	today: dt.date | None = None,
	*,
	weekmask: str = DEFAULT_WEEKMASK,
	allowed_channels: Iterable[str] = CHANNELS,
	holiday_lists: Mapping | None = None,
) -> pd.DataFrame:
	"""One row per plan (``PLAN_RESULT_COLUMNS``), in the order and with the index of ``plans``.

	``plans``: ``PLAN_COLUMNS`` (only ``customer`` is required; a missing column means blank), and
	optionally the stored ``next_contact_date`` (a never-contacted customer whose first date has come
	stays due until contacted).
	``cadence``: a ``cadence_table`` or the raw rule rows. ``holidays``: see ``calendars``.
	``next_contact_date`` is datetime64 (NaT when there is none), ``days_overdue`` counts the days the
	plan was due before ``today`` (0 when not overdue or never contacted)."""
	if today is None:
		raise ValueError("plan_contacts needs today's date")
	grid = (
		cadence
		if isinstance(cadence, pd.DataFrame) and "source" in cadence
		else cadence_table(cadence, tiers)
	)
	names = list(dict.fromkeys(grid["tier"]))
	intervals = grid.pivot(index="tier", columns="intent_level", values="interval_days").reindex(
		index=names, columns=list(INTENT_LEVELS)
	)
	channels = grid.pivot(index="tier", columns="intent_level", values="channel").reindex(
		index=names, columns=list(INTENT_LEVELS)
	)
	sources = grid.pivot(index="tier", columns="intent_level", values="source").reindex(
		index=names, columns=list(INTENT_LEVELS)
	)
	tier_codes = pd.Categorical(_column(plans, "tier"), categories=names).codes.astype(np.int64)
	intent_codes = pd.Categorical(_column(plans, "intent_level"), categories=list(INTENT_LEVELS)).codes
	intent_codes = np.where(intent_codes < 0, 0, intent_codes)  # blank or unknown -> "Unknown"
	no_tier = tier_codes < 0
	t = np.where(no_tier, 0, tier_codes)

	interval = intervals.to_numpy(dtype=np.int64)[t, intent_codes]
	channel = channels.to_numpy(dtype=object)[t, intent_codes]
	from_default = sources.to_numpy(dtype=object)[t, intent_codes] == "tier_default"

	manual = pd.to_numeric(_column(plans, "manual_interval_days"), errors="coerce").to_numpy(dtype=np.float64)
	has_manual = np.isfinite(manual) & (manual >= 1)
	interval = np.where(has_manual, np.floor(np.nan_to_num(manual)).astype(np.int64), interval)

	allowed = list(allowed_channels)
	preference = _column(plans, "channel_preference")
	channel = np.where(_allowed(preference, allowed), preference.to_numpy(dtype=object), channel)
	manual_channel = _column(plans, "manual_channel")
	channel = np.where(_allowed(manual_channel, allowed), manual_channel.to_numpy(dtype=object), channel)

	status = _column(plans, "status").fillna("Active").to_numpy(dtype=object)
	dnc = pd.to_numeric(_column(plans, "do_not_contact", 0), errors="coerce").fillna(0).to_numpy() != 0
	paused, closed = status == "Paused", status == "Closed"
	blocked = paused | closed | dnc

	day = _day(today)
	last = _days(_column(plans, "last_contact_date"))
	due = last + interval.astype("timedelta64[D]")
	overdue = (due < day).astype(bool) & ~np.isnat(due)
	days_overdue = np.where(overdue, (day - due).astype(np.int64), 0)
	# never contacted: a first contact spread over the first interval by a stable hash of the
	# customer, so a new book (or the first night after install) is not all due the same day
	first = day + first_contact_offsets(_column(plans, "customer"), interval, day).astype("timedelta64[D]")
	# ... and once that first date has come (the stored next date, when given), it stays due until
	# the contact is made, like any overdue plan
	stored = _days(_column(plans, "next_contact_date"))
	reached = np.isnat(due) & ~np.isnat(stored) & (stored <= day)
	days_overdue = np.where(reached, (day - stored).astype(np.int64), days_overdue)
	start = np.where(reached | overdue, day, np.where(np.isnat(due), first, due))
	branches = _column(plans, "branch").to_numpy(dtype=object)
	calendar = calendars(holidays, weekmask, holiday_lists=holiday_lists)
	next_date = calendar.roll(start, branches)
	# a slot on a holiday rolls to the next working day: keep it there after the slot day has passed
	previous = calendar.roll(first - interval.astype("timedelta64[D]"), branches)
	keep_previous = np.isnat(due) & ~reached & (previous >= day)
	next_date = np.where(keep_previous, previous, next_date)
	next_date = np.where(blocked, np.datetime64("NaT"), next_date).astype("datetime64[ns]")
	channel = np.where(dnc, None, channel)

	reason = np.select(
		[closed, paused, dnc, has_manual, no_tier, from_default],
		["closed", "paused", "do_not_contact", "manual", "no_tier", "tier_default"],
		default="rule",
	).astype(object)
	return pd.DataFrame(
		{
			"customer": _column(plans, "customer").to_numpy(dtype=object),
			"interval_days": interval.astype(np.int32),
			"channel": channel,
			"next_contact_date": next_date,
			"reason_code": reason,
			"days_overdue": np.where(blocked, 0, days_overdue).astype(np.int32),
		},
		index=plans.index,
	)


def render_plan_reasons(
	plans: pd.DataFrame, result: pd.DataFrame, templates: dict[str, str] | None = None
) -> pd.Series:
	"""The reason behind each plan's cadence in plain words (``PLAN_REASON_TEMPLATES``; the Frappe
	layer passes translated templates). ``plans`` and ``result`` share their index."""
	templates = {**PLAN_REASON_TEMPLATES, **(templates or {})}
	out = pd.Series("", index=result.index, dtype=object)
	for code, template in templates.items():
		rows = result.index[(result["reason_code"] == code).to_numpy()]
		if rows.empty:
			continue
		fields = {
			"tier": _column(plans, "tier").loc[rows].fillna("").astype(str),
			"intent_level": _column(plans, "intent_level").loc[rows].fillna("Unknown").astype(str),
			"interval_days": result.loc[rows, "interval_days"].astype(str),
			"channel": result.loc[rows, "channel"].fillna("").astype(str),
		}
		out[rows] = format_columns(template, fields, rows)
	return out


def replan_on_contact(
	plans: pd.DataFrame,
	contacts: pd.DataFrame,
	cadence,
	tiers=DEFAULT_TIERS,
	holidays=None,
	today: dt.date | None = None,
	**options,
) -> pd.DataFrame:
	"""Plans after contacts were logged: one row per plan that has a contact (``REPLAN_COLUMNS``).

	``contacts``: customer, contact_time (date or datetime), intent_level_after (optional). Per
	customer, the latest contact sets ``last_contact_date`` (never moving it back), and the latest
	contact's non-blank valid ``intent_level_after`` becomes the plan's intent level, unless the plan
	already records a later contact. The next date is then planned from the contact date with the
	new interval. ``today`` defaults to the latest contact date (a contact logged late gives a plan
	due today when its next date would already have passed)."""
	frame = contacts.assign(contact_date=_days(contacts["contact_time"]).astype("datetime64[ns]"))
	frame = frame.dropna(subset=["contact_date"]).sort_values(["customer", "contact_date"], kind="stable")
	if "intent_level_after" not in frame:
		frame["intent_level_after"] = None
	frame["intent_level_after"] = frame["intent_level_after"].where(
		frame["intent_level_after"].isin(INTENT_LEVELS), None
	)
	latest = frame.groupby("customer", sort=False).agg(
		contact_date=("contact_date", "max"), intent_after=("intent_level_after", "last")
	)
	updated = plans[plans["customer"].isin(latest.index)].copy()
	if updated.empty:
		return pd.DataFrame(columns=list(REPLAN_COLUMNS))
	for column in PLAN_COLUMNS:
		if column not in updated:
			updated[column] = None
	found = latest.loc[updated["customer"]]
	contact_date = found["contact_date"].to_numpy()
	previous_last = pd.to_datetime(updated["last_contact_date"], errors="coerce").to_numpy()
	is_latest = np.isnat(previous_last) | (contact_date >= previous_last)
	new_intent = found["intent_after"].to_numpy(dtype=object)
	apply_intent = is_latest & pd.notna(new_intent)
	previous_intent = updated["intent_level"].fillna("Unknown").to_numpy(dtype=object)
	updated["previous_intent_level"] = previous_intent
	updated["intent_level"] = np.where(apply_intent, new_intent, previous_intent)
	updated["intent_changed"] = updated["intent_level"].to_numpy() != previous_intent
	updated["last_contact_date"] = np.where(is_latest, contact_date, previous_last).astype("datetime64[ns]")
	if today is None:
		today = pd.Timestamp(frame["contact_date"].max()).date()
	result = plan_contacts(updated, cadence, tiers, holidays, today, **options)
	for column in PLAN_RESULT_COLUMNS[1:]:
		updated[column] = result[column]
	return updated[list(REPLAN_COLUMNS)]


def plan_changes(stored: pd.DataFrame, planned: pd.DataFrame, today: dt.date) -> pd.DataFrame:
	"""The Contact Plan rows whose stored cadence must change: customer, interval_days, channel,
	next_contact_date (datetime64, NaT for none), for the rows of ``planned`` (``plan_contacts``'
	output) that differ from ``stored`` (same index: the plans' stored interval_days, channel,
	next_contact_date and last_contact_date).

	A plan that is already due keeps the date it fell due on instead of moving to today every day,
	so the desk reads "due since" and a steady night rewrites nothing."""
	day = _day(today)
	was = _days(_column(stored, "next_contact_date"))
	new = _days(planned["next_contact_date"])
	waiting = (planned["days_overdue"].to_numpy() > 0) | np.isnat(_days(_column(stored, "last_contact_date")))
	keep = ~np.isnat(was) & (was <= day) & ~np.isnat(new) & waiting
	next_date = np.where(keep, was, new)
	interval = pd.to_numeric(_column(stored, "interval_days"), errors="coerce").to_numpy()
	# a blank Select comes back as "" or NULL: both mean no channel
	channel = _column(stored, "channel").where(lambda c: c.map(_is_text), None).to_numpy(dtype=object)
	new_channel = planned["channel"].where(planned["channel"].map(_is_text), None).to_numpy(dtype=object)
	same_channel = (channel == new_channel) | (pd.isna(channel) & pd.isna(new_channel))
	same_date = (was == next_date) | (np.isnat(was) & np.isnat(next_date))
	changed = ~(same_date & same_channel & (interval == planned["interval_days"].to_numpy()))
	out = pd.DataFrame(
		{
			"customer": planned["customer"].to_numpy(dtype=object),
			"interval_days": planned["interval_days"].to_numpy(),
			"channel": new_channel,
			"next_contact_date": next_date.astype("datetime64[ns]"),
		},
		index=planned.index,
	)
	return out[changed]
