"""Past activity for a demo branch network: the tier changes its snapshots imply month by month, and
two years of contact logs (with the follow-ups they answered) by each customer's manager.

Pure and deterministic for a seed, like ``engine.sample``: the site's ``demo-data`` writes what these
functions return set-based, and the nightly jobs then find a bank that has been working for a while
(customers familiar and unfamiliar, tier moves over the period, contacts that led to products).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from branch_crm.engine.followups import REASON_WEIGHTS, REASONS
from branch_crm.engine.text import format_columns
from branch_crm.engine.tiering import TierRules, compute_tiers, month_index, pivot_months, render_reasons

HISTORY_COLUMNS = (
	"customer",
	"relationship_manager",
	"contact_time",
	"channel",
	"outcome",
	"reason",
	"intent_level_after",
	"notes",
	"product",
)
FOLLOWUP_HISTORY_COLUMNS = (
	"log",  # row of the contact history the follow-up was closed by
	"customer",
	"reason",
	"status",
	"due_date",
	"scheduled_date",
	"closed_on",
	"relationship_manager",
	"channel",
	"priority",
)
MISSED_COLUMNS = (
	"customer",
	"reason",
	"due_date",
	"scheduled_date",
	"relationship_manager",
	"channel",
	"priority",
	"days_overdue",
)
HISTORY_MONTHS = 12  # months of snapshots the nightly recompute reads (engine.recompute)
TIER_CHANGE_COLUMNS = (
	"customer",
	"from_tier",
	"to_tier",
	"direction",
	"reason",
	"branch",
	"relationship_manager",
	"changed_on",
)

# contacts a year by tier, lowest tier first (tiers above the table's end use its last value):
# a private banker sees their clients monthly, a teller's mass customer hears once or twice a year
CONTACTS_PER_YEAR_BY_RANK = (1.5, 4.0, 8.0, 12.0)
# share of each tier nobody has reached yet (new to the bank, wrong number, never picked up)
NEVER_CONTACTED_BY_RANK = (0.3, 0.1, 0.03, 0.0)
# a do-not-contact customer is only heard from when they come in or call
DO_NOT_CONTACT_RATE = 0.15

OUTBOUND_REASONS = {
	"Plan Due": 0.64,
	"Care Touch": 0.12,
	"Retention": 0.06,
	"Needs Screening": 0.08,
	"Customer Initiated": 0.10,
}
OUTCOMES = {
	"Reached - Interested": 0.22,
	"Reached - Not Now": 0.33,
	"Reached - Declined": 0.08,
	"No Answer": 0.34,
	"Complaint Raised": 0.03,
}
REACHED = ("Reached - Interested", "Reached - Not Now", "Reached - Declined", "Product Opened")
# the channel a manager picks when the customer states no preference, lowest tier first
CHANNELS_BY_RANK = (
	{"Phone": 0.45, "SMS": 0.2, "WeChat": 0.25, "Visit": 0.05, "Mobile App": 0.05},
	{"Phone": 0.45, "WeChat": 0.35, "Visit": 0.15, "Email": 0.05},
	{"Phone": 0.4, "WeChat": 0.35, "Visit": 0.25},
	{"Phone": 0.35, "WeChat": 0.25, "Visit": 0.4},
)
PREFERENCE_FOLLOWED = 0.7  # how often the manager uses the customer's preferred channel
# a product opened after the bank got the customer, with a contact that led to it
PRODUCT_LEAD_SHARE = 0.35
# services that come with an account: nobody is sold a debit card or the mobile app
SERVICE_PRODUCTS = frozenset({"DEP-DEMAND", "CARD-DEBIT", "MOBILE-BANKING", "PAYROLL"})
PRODUCT_LEAD_DAYS = (2, 25)  # the contact came this many days before the opening
OPENING_LOGGED_SHARE = 0.5  # ... and the opening itself was logged as a visit
BUNDLE_DAYS = 7  # products opened this soon after acquisition came with the account, not a contact
FOLLOWUP_EARLY_DAYS = 4  # a planned contact is made up to this many days after it fell due
MISSED_SHARE = 0.03  # customers whose plan follow-up of the last days nobody got to yet
MISSED_DAYS = (1, 8)  # ... due this many days ago

NOTE_TEMPLATES = {
	"Reached - Interested": "Interested; send product details",
	"Reached - Not Now": "Not now; try again later",
	"Reached - Declined": "Declined the offer",
	"No Answer": "No answer",
	"Complaint Raised": "Raised a complaint; passed to the branch manager",
	"Product Opened": "Opened {product}",
	"lead": "Interested in {product}",
}

_DAY = np.timedelta64(1, "D")


def _rank(tiers: pd.Series, tier_order: Sequence[str]) -> np.ndarray:
	"""Position of each tier in ``tier_order`` (lowest first); no tier or an unknown one is 0."""
	positions = {name: i for i, name in enumerate(tier_order)}
	return tiers.map(positions).fillna(0).to_numpy(dtype=np.int64)


def _by_rank(table: Sequence, rank: np.ndarray) -> np.ndarray:
	return np.asarray(table, dtype=float)[np.minimum(rank, len(table) - 1)]


def _choice(rng: np.random.Generator, weights: Mapping[str, float], size: int) -> np.ndarray:
	names = np.asarray(list(weights), dtype=object)
	p = np.asarray(list(weights.values()), dtype=float)
	return names[rng.choice(len(names), size=size, p=p / p.sum())]


def _weekday(days: np.ndarray) -> np.ndarray:
	"""Days as datetime64[D], a Saturday moved back to Friday and a Sunday on to Monday."""
	weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
	return days - np.where(weekday == 5, 1, 0) * _DAY + np.where(weekday == 6, 1, 0) * _DAY


def _office_times(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
	"""A time between 09:00 and 17:30 on each day, to the minute."""
	minutes = rng.integers(9 * 60, 17 * 60 + 30, len(days))
	return days.astype("datetime64[m]") + minutes.astype("timedelta64[m]")


def _channels(rank: np.ndarray, preference: np.ndarray, rng: np.random.Generator) -> np.ndarray:
	out = np.empty(len(rank), dtype=object)
	for r in np.unique(rank):
		rows = np.flatnonzero(rank == r)
		out[rows] = _choice(rng, CHANNELS_BY_RANK[min(r, len(CHANNELS_BY_RANK) - 1)], len(rows))
	preferred = pd.notna(preference) & (rng.random(len(rank)) < PREFERENCE_FOLLOWED)
	out[preferred] = preference[preferred]
	return out


def contact_history(
	customers: pd.DataFrame,
	holdings: pd.DataFrame,
	tier_order: Sequence[str],
	*,
	start: dt.date,
	today: dt.date,
	seed: int = 7,
	templates: Mapping[str, str] | None = None,
	product_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
	"""Contact logs (``HISTORY_COLUMNS``) from ``start`` up to the day before ``today``, by each
	customer's relationship manager, ordered by time.

	``customers``: customer, relationship_manager, tier, intent_level, channel_preference,
	do_not_contact, acquired_on. ``holdings``: customer, product, opened_on. ``tier_order``: tier
	names, lowest first. ``templates``: notes by outcome (``NOTE_TEMPLATES``; the site passes
	translated ones), ``product_names`` the product shown for a code in them.

	Higher tiers are contacted more often; some customers were never reached; do-not-contact
	customers only come in by themselves; contacts fall on working days in office hours and never
	before the customer joined. A share of the products opened in the period follow a contact that
	showed interest a few days before (and some openings were logged too), so the products opened
	after a contact show in the Plan Effect report. A reached contact records the customer's intent
	level, the latest one the level the profile holds today."""
	rng = np.random.default_rng(np.random.SeedSequence([seed, 16]))
	templates = {**NOTE_TEMPLATES, **(templates or {})}
	product_names = dict(product_names or {})
	start_day, end_day = np.datetime64(start, "D"), np.datetime64(today, "D")
	frame = customers.reset_index(drop=True)
	n = len(frame)
	rank = _rank(frame["tier"], tier_order)
	acquired = pd.to_datetime(frame["acquired_on"]).to_numpy().astype("datetime64[D]")
	acquired = np.where(np.isnat(acquired), start_day, acquired)
	first = np.maximum(acquired, start_day)
	span = np.maximum((end_day - first).astype(np.int64), 0)
	do_not_contact = pd.to_numeric(frame["do_not_contact"], errors="coerce").fillna(0).to_numpy() != 0

	# routine contacts: a Poisson number over each customer's time with the bank
	rate = _by_rank(CONTACTS_PER_YEAR_BY_RANK, rank) * np.where(do_not_contact, DO_NOT_CONTACT_RATE, 1.0)
	never = rng.random(n) < _by_rank(NEVER_CONTACTED_BY_RANK, rank)
	counts = np.where(never | (span == 0), 0, rng.poisson(rate * span / 365.0))
	row = np.repeat(np.arange(n), counts)
	days = first[row] + (rng.random(len(row)) * span[row]).astype(np.int64) * _DAY
	reason = _choice(rng, OUTBOUND_REASONS, len(row))
	reason[do_not_contact[row]] = "Customer Initiated"
	routine = pd.DataFrame(
		{
			"row": row,
			"day": days,
			"reason": reason,
			"outcome": _choice(rng, OUTCOMES, len(row)),
			"product": None,
		}
	)

	# products opened after a contact that led to them
	opened = holdings[["customer", "product", "opened_on"]].copy()
	opened["row"] = opened["customer"].map(pd.Series(np.arange(n), index=frame["customer"]))
	opened = opened.dropna(subset=["row", "opened_on"])
	opened = opened[~opened["product"].isin(SERVICE_PRODUCTS)]
	opened["row"] = opened["row"].astype(np.int64)
	opened_day = pd.to_datetime(opened["opened_on"]).to_numpy().astype("datetime64[D]")
	lead_days = rng.integers(PRODUCT_LEAD_DAYS[0], PRODUCT_LEAD_DAYS[1] + 1, len(opened)) * _DAY
	led = (
		(opened_day - lead_days >= first[opened["row"]])
		& (opened_day > acquired[opened["row"]] + BUNDLE_DAYS * _DAY)
		& (opened_day < end_day)
		& ~do_not_contact[opened["row"]]
		& (rng.random(len(opened)) < PRODUCT_LEAD_SHARE)
	)
	leads = pd.DataFrame(
		{
			"row": opened["row"].to_numpy()[led],
			"day": (opened_day - lead_days)[led],
			"reason": np.where(rng.random(int(led.sum())) < 0.5, "Needs Screening", "Plan Due"),
			"outcome": "Reached - Interested",
			"product": opened["product"].to_numpy(dtype=object)[led],
		}
	)
	logged = led & (rng.random(len(opened)) < OPENING_LOGGED_SHARE)
	openings = pd.DataFrame(
		{
			"row": opened["row"].to_numpy()[logged],
			"day": opened_day[logged],
			"reason": "Customer Initiated",
			"outcome": "Product Opened",
			"product": opened["product"].to_numpy(dtype=object)[logged],
		}
	)

	logs = pd.concat([routine, leads, openings], ignore_index=True)
	if logs.empty:
		return pd.DataFrame({column: pd.Series(dtype=object) for column in HISTORY_COLUMNS})
	logs["day"] = _weekday(logs["day"].to_numpy().astype("datetime64[D]"))
	# a weekend moved to Monday may reach today, and a Friday may fall before the customer joined
	logs = logs[(logs["day"].to_numpy() < end_day) & (logs["day"].to_numpy() >= first[logs["row"]])]
	rows = logs["row"].to_numpy()
	channel = _channels(rank[rows], frame["channel_preference"].to_numpy(dtype=object)[rows], rng)
	channel[logs["outcome"].to_numpy() == "Product Opened"] = "Visit"
	logs = logs.assign(
		contact_time=_office_times(logs["day"].to_numpy().astype("datetime64[D]"), rng).astype(
			"datetime64[ns]"
		),
		channel=channel,
	).sort_values(["contact_time", "row"], kind="stable")

	logs["intent_level_after"] = _intents_after(logs, frame["intent_level"].to_numpy(dtype=object), rng)
	logs["notes"] = _notes(logs, templates, product_names)
	rows = logs["row"].to_numpy()
	out = pd.DataFrame(
		{
			"customer": frame["customer"].to_numpy(dtype=object)[rows],
			"relationship_manager": frame["relationship_manager"].to_numpy(dtype=object)[rows],
			"contact_time": logs["contact_time"].to_numpy(),
			"channel": logs["channel"].to_numpy(dtype=object),
			"outcome": logs["outcome"].to_numpy(dtype=object),
			"reason": logs["reason"].to_numpy(dtype=object),
			"intent_level_after": logs["intent_level_after"].to_numpy(dtype=object),
			"notes": logs["notes"].to_numpy(dtype=object),
			"product": logs["product"].to_numpy(dtype=object),
		}
	)
	return out.reset_index(drop=True)


INTENT_ORDER = ("Low", "Medium", "High")


def _intents_after(logs: pd.DataFrame, intent_now: np.ndarray, rng: np.random.Generator) -> np.ndarray:
	"""The intent level a reached contact found: the customer's level today at their latest reached
	contact, now and then a step lower before it (interest grows); nothing when nobody answered or
	the level was never assessed."""
	rows = logs["row"].to_numpy()
	reached = logs["outcome"].isin(REACHED).to_numpy()
	level = pd.Series(intent_now[rows]).map({name: i for i, name in enumerate(INTENT_ORDER)})
	known = reached & level.notna().to_numpy()
	latest = np.zeros(len(logs), dtype=bool)
	reached_rows = pd.Series(np.where(known, rows, -1))
	last_position = reached_rows[known].index.to_series().groupby(reached_rows[known]).max()
	latest[last_position.to_numpy()] = True
	earlier_lower = known & ~latest & (rng.random(len(logs)) < 0.3)
	index = level.fillna(0).to_numpy(dtype=np.int64) - earlier_lower.astype(np.int64)
	out = np.asarray(INTENT_ORDER, dtype=object)[np.clip(index, 0, len(INTENT_ORDER) - 1)]
	out[~known] = None
	return out


def _notes(logs: pd.DataFrame, templates: Mapping[str, str], product_names: Mapping[str, str]) -> np.ndarray:
	product = logs["product"].map(lambda code: product_names.get(code, code) if code else "")
	out = pd.Series(None, index=logs.index, dtype=object)
	kind = np.where(
		logs["product"].notna() & (logs["outcome"] == "Reached - Interested"), "lead", logs["outcome"]
	)
	for key, template in templates.items():
		rows = kind == key
		if rows.any():
			index = logs.index[rows]
			out[index] = format_columns(template, {"product": product[index].astype(str)}, index)
	return out.to_numpy(dtype=object)


def followup_history(logs: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
	"""The follow-ups the planned contacts in ``logs`` answered (``FOLLOWUP_HISTORY_COLUMNS``): one
	closed follow-up per contact made for a plan reason (Plan Due, Care Touch, Retention, Needs
	Screening), due a few days before it, closed by it. ``log`` is the contact's row in ``logs``."""
	rng = np.random.default_rng(np.random.SeedSequence([seed, 17]))
	planned = logs[logs["reason"].isin(REASONS)]
	contact_day = pd.to_datetime(planned["contact_time"]).dt.normalize()
	late = pd.to_timedelta(rng.integers(0, FOLLOWUP_EARLY_DAYS + 1, len(planned)), unit="D")
	due = (contact_day - late).dt.date
	return pd.DataFrame(
		{
			"log": planned.index.to_numpy(),
			"customer": planned["customer"].to_numpy(dtype=object),
			"reason": planned["reason"].to_numpy(dtype=object),
			"status": "Closed",
			"due_date": due.to_numpy(dtype=object),
			"scheduled_date": due.to_numpy(dtype=object),
			"closed_on": pd.to_datetime(planned["contact_time"]).to_numpy(),
			"relationship_manager": planned["relationship_manager"].to_numpy(dtype=object),
			"channel": planned["channel"].to_numpy(dtype=object),
			"priority": planned["reason"].map(REASON_WEIGHTS).fillna(0).astype(int).to_numpy(),
		},
		columns=list(FOLLOWUP_HISTORY_COLUMNS),
	)


def missed_followups(
	customers: pd.DataFrame,
	*,
	today: dt.date,
	working_managers: Sequence[str],
	min_days_since_contact: int = 30,
	seed: int = 7,
) -> pd.DataFrame:
	"""Plan follow-ups of the last days that are still open (``MISSED_COLUMNS``): a few customers of
	managers who work follow-ups, not contacted for ``min_days_since_contact`` days, due 1-8 days
	ago, so a demo shows overdue work, its escalation, and a completion rate below 100%.

	``customers``: customer, relationship_manager, channel_preference, do_not_contact,
	last_contact_date."""
	rng = np.random.default_rng(np.random.SeedSequence([seed, 19]))
	last_contact = pd.to_datetime(customers["last_contact_date"])
	quiet = last_contact.isna() | ((pd.Timestamp(today) - last_contact).dt.days >= min_days_since_contact)
	do_not_contact = pd.to_numeric(customers["do_not_contact"], errors="coerce").fillna(0) != 0
	eligible = customers[
		quiet & ~do_not_contact & customers["relationship_manager"].isin(list(working_managers))
	].reset_index(drop=True)
	picked = eligible[rng.random(len(eligible)) < MISSED_SHARE].reset_index(drop=True)
	days_overdue = rng.integers(MISSED_DAYS[0], MISSED_DAYS[1] + 1, len(picked))
	due = _weekday(np.datetime64(today, "D") - days_overdue * _DAY)
	due = np.minimum(due, np.datetime64(today, "D") - _DAY)  # a Sunday moved to Monday may be today
	channel = picked["channel_preference"].where(picked["channel_preference"].notna(), "Phone")
	return pd.DataFrame(
		{
			"customer": picked["customer"].to_numpy(dtype=object),
			"reason": "Plan Due",
			"due_date": pd.to_datetime(due).date,
			"scheduled_date": pd.to_datetime(due).date,
			"relationship_manager": picked["relationship_manager"].to_numpy(dtype=object),
			"channel": channel.to_numpy(dtype=object),
			"priority": REASON_WEIGHTS["Plan Due"],
			"days_overdue": (np.datetime64(today, "D") - due).astype(np.int64),
		},
		columns=list(MISSED_COLUMNS),
	)


def month_processed_on(month: pd.Timestamp) -> dt.date:
	"""The day a month's snapshots were processed: the night after they arrived, on the 2nd."""
	return (pd.Timestamp(month) + pd.DateOffset(months=1, days=1)).date()


def tier_history(
	profiles: pd.DataFrame,
	aum: pd.DataFrame,
	contribution: pd.DataFrame,
	tiers,
	rules: TierRules,
	*,
	reason_templates: Mapping[str, str] | None = None,
	with_log: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""The tiers each month's nightly recompute would have given, replayed over the snapshots: the
	Tier Change Log rows (``TIER_CHANGE_COLUMNS``, ``changed_on`` the day after the month's data
	came) and each customer's tier after the second-to-last month (customer, tier, tier_reason,
	tier_since; None where the customer had not joined). The last month is left to the site's own
	recompute, which then continues from there.

	``profiles``: customer, branch, relationship_manager, acquired_on. ``aum`` / ``contribution``:
	customers × months frames in the profiles' order, oldest month first (columns are the months).
	A customer takes part from the first month they were with the bank. Without ``with_log`` only the
	final frame is made (the log comes back empty)."""
	customers = profiles["customer"].to_numpy(dtype=object)
	months = pd.DatetimeIndex(aum.columns)
	needed = rules.window_months + rules.downgrade_after_months - 1
	joined = pd.to_datetime(profiles["acquired_on"]).fillna(months[0]).dt.to_period("M").dt.to_timestamp()
	joined = joined.to_numpy()
	current = pd.Series([None] * len(customers), dtype=object)
	reason = pd.Series([None] * len(customers), dtype=object)
	since = pd.Series([None] * len(customers), dtype=object)
	# the columns the nightly job reads (RecomputeConfig.months): the result is the same as over the
	# whole past, since a customer is never below their tier for longer than the downgrade delay
	width = max(HISTORY_MONTHS, needed)
	last = len(months) - 2
	changes = []
	for k in range(needed - 1, len(months) - 1):
		member = joined <= months[k].to_datetime64()
		if not member.any():
			continue
		index = np.flatnonzero(member)
		result = compute_tiers(
			pd.DataFrame({"customer": customers[index], "tier": current.to_numpy()[index]}),
			aum.iloc[index, max(0, k + 1 - width) : k + 1],
			tiers,
			rules,
			contribution=contribution.iloc[index, max(0, k + 1 - 12) : k + 1],
			as_of=months[k].date(),
		)
		processed_on = month_processed_on(months[k])
		moved = (result["tier"].to_numpy() != result["previous_tier"].to_numpy()) | pd.isna(
			result["previous_tier"]
		).to_numpy()
		# reasons in words for the changes, and for everyone in the month the replay ends with
		if k == last:
			words = render_reasons(result, rules, reason_templates)
		elif with_log:
			words = render_reasons(result[moved], rules, reason_templates)
		if moved.any() and with_log:
			at = index[moved]
			changes.append(
				pd.DataFrame(
					{
						"customer": customers[at],
						"from_tier": result["previous_tier"].to_numpy(dtype=object)[moved],
						"to_tier": result["tier"].to_numpy(dtype=object)[moved],
						"direction": result["direction"].to_numpy(dtype=object)[moved],
						"reason": words.loc[result.index[moved]].to_numpy(dtype=object),
						"branch": profiles["branch"].to_numpy(dtype=object)[at],
						"relationship_manager": profiles["relationship_manager"].to_numpy(dtype=object)[at],
						"changed_on": processed_on,
					}
				)
			)
		if moved.any():
			since.iloc[index[moved]] = processed_on
		current.iloc[index] = result["tier"].to_numpy(dtype=object)
		if k == last:
			reason.iloc[index] = words.to_numpy(dtype=object)
	log = (
		pd.concat(changes, ignore_index=True)
		if changes
		else pd.DataFrame({column: pd.Series(dtype=object) for column in TIER_CHANGE_COLUMNS})
	)
	final = pd.DataFrame(
		{
			"customer": customers,
			"tier": current.to_numpy(),
			"tier_reason": reason.to_numpy(),
			"tier_since": since.to_numpy(),
		}
	)
	return log[list(TIER_CHANGE_COLUMNS)], final


def tiers_before_last_month(
	customers: pd.DataFrame,
	snapshots: pd.DataFrame,
	tiers,
	rules: TierRules,
	*,
	reason_templates: Mapping[str, str] | None = None,
	first_month: dt.date | None = None,
	last_month: dt.date | None = None,
) -> pd.DataFrame:
	"""What the nightly job would hold on each customer before the snapshots' last month came: the
	monthly recompute replayed from the first month of ``snapshots`` (``tier_history``'s final
	frame: customer, tier, tier_reason, tier_since; None for customers it has not tiered). The
	offline analysis recomputes the last month from here, so that its tiers keep the downgrade delay
	as the site's do; with fewer months than the delay needs, every customer is tiered as new.

	``customers``: customer (acquired_on, branch, relationship_manager when known). ``snapshots``:
	customer, month, aum, contribution (the intake shape). ``first_month``/``last_month``: the
	months of the whole data when ``snapshots`` holds a part of the customers (default: its own)."""
	frame = pd.DataFrame(
		{
			column: customers[column].to_numpy() if column in customers else None
			for column in ("customer", "branch", "relationship_manager", "acquired_on")
		}
	)
	if snapshots.empty:
		return frame[["customer"]].assign(tier=None, tier_reason=None, tier_since=None)
	month = pd.to_datetime(snapshots["month"]).dt.to_period("M")
	first = pd.Period(first_month, "M") if first_month is not None else month.min()
	last = pd.Period(last_month, "M") if last_month is not None else month.max()
	span = (last - first).n + 1
	needed = rules.window_months + rules.downgrade_after_months - 1
	# the replay starts with the first month of data, the months before it being empty
	months = month_index(last.to_timestamp().date(), span + needed - 1)
	index = pd.Index(frame["customer"])
	aum = pivot_months(snapshots, "aum", index, months)
	contribution = pivot_months(snapshots, "contribution", index, months)
	_log, final = tier_history(
		frame, aum, contribution, tiers, rules, reason_templates=reason_templates, with_log=False
	)
	return final


# ---------------------------------------------------------------- satisfaction asked after contacts

FEEDBACK_HISTORY_COLUMNS = (
	"log",  # row of the contact history the customer was asked about
	"customer",
	"staff_member",
	"asked_on",
	"expires_on",
	"status",
	"score",
	"answered_on",
	"comment",
)
# the usual score of a customer (most are content, a few not); each answer is that or a point off
USUAL_SCORES = {5: 0.45, 4: 0.40, 3: 0.10, 2: 0.04, 1: 0.01}


def feedback_history(
	logs: pd.DataFrame,
	now: dt.datetime,
	seed: int = 7,
	*,
	unhappy: Sequence[str] = (),
	ask_after: Sequence[str] = (),
	comments: Mapping[str, Sequence[str]] | None = None,
	response_rate: float = 0.4,
	valid_days: int = 14,
	again_after_days: int = 30,
) -> pd.DataFrame:
	"""The feedback requests two years of contacts leave (``FEEDBACK_HISTORY_COLUMNS``): after each
	contact with an outcome in ``ask_after``, unless the customer was asked in the last
	``again_after_days`` (as ``engine.feedback.should_ask`` decides one at a time); ``response_rate``
	of them answered within 3 days with the customer's usual score (``USUAL_SCORES``) or a point off
	it, the others expired (or still open when asked in the last ``valid_days``). Customers in
	``unhappy`` (those whose balances drift away) answer 1-2 in their last 3 months. ``comments``:
	"negative" / "positive" -> texts a customer might write, one in three answers has one.
	``logs``: customer, relationship_manager, contact_time, outcome (the contact history)."""
	rng = np.random.default_rng(seed + 18)
	rows = logs.reset_index(drop=True)
	rows = rows[rows["outcome"].isin(ask_after)].sort_values(["customer", "contact_time"], kind="stable")
	customers = rows["customer"].to_numpy()
	times = pd.to_datetime(rows["contact_time"]).to_numpy()
	gap = np.timedelta64(again_after_days, "D")
	keep = np.zeros(len(rows), dtype=bool)
	last_customer, last_time = None, None
	for i in range(len(rows)):
		if customers[i] != last_customer or times[i] - last_time >= gap:
			keep[i] = True
			last_customer, last_time = customers[i], times[i]
	asked = rows[keep]
	n = len(asked)
	asked_on = pd.to_datetime(asked["contact_time"]).dt.floor("s").to_numpy() + np.timedelta64(2, "h")
	expires_on = asked_on + np.timedelta64(valid_days, "D")
	answered_on = asked_on + (rng.random(n) * 3 * 86_400).astype("timedelta64[s]")
	answered = (rng.random(n) < response_rate) & (answered_on < np.datetime64(now))
	usual_by_customer = pd.Series(
		rng.choice(list(USUAL_SCORES), size=asked["customer"].nunique(), p=list(USUAL_SCORES.values())),
		index=asked["customer"].unique(),
	)
	step = rng.choice([-1, 0, 1], size=n, p=[0.1, 0.8, 0.1])
	score = np.clip(asked["customer"].map(usual_by_customer).to_numpy() + step, 1, 5)
	late = asked_on >= np.datetime64(now) - np.timedelta64(90, "D")
	sour = asked["customer"].isin(set(unhappy)).to_numpy() & late
	score = np.where(sour, rng.integers(1, 3, size=n), score)
	status = np.where(answered, "Answered", np.where(expires_on < np.datetime64(now), "Expired", "Asked"))
	comments = comments or {}
	texts = np.full(n, None, dtype=object)
	with_comment = answered & (rng.random(n) < 1 / 3)
	for kind, mask in (("negative", score <= 2), ("positive", score >= 4)):
		choices = list(comments.get(kind) or [])
		pick = with_comment & mask
		if choices and pick.any():
			texts[pick] = np.asarray(choices, dtype=object)[
				rng.integers(0, len(choices), size=int(pick.sum()))
			]
	return pd.DataFrame(
		{
			"log": asked.index.to_numpy(),
			"customer": customers[keep],
			"staff_member": asked["relationship_manager"].to_numpy(),
			"asked_on": asked_on,
			"expires_on": expires_on,
			"status": status,
			"score": np.where(answered, score, 0).astype(int),
			"answered_on": np.where(answered, answered_on, np.datetime64("NaT")),
			"comment": np.where(answered, texts, None),
		}
	)
