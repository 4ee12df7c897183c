import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.cadence import (
	PLAN_RESULT_COLUMNS,
	cadence_table,
	calendars,
	plan_changes,
	plan_contacts,
	render_plan_reasons,
	replan_on_contact,
)
from branch_crm.engine.defaults import DEFAULT_CADENCE, DEFAULT_TIERS
from branch_crm.engine.schema import INTENT_LEVELS

TODAY = dt.date(2026, 10, 12)  # a Monday
EVERY_DAY = "1111111"
ROOT = Path(__file__).resolve().parents[1]


def plan(**fields) -> dict:
	return {
		"customer": "C1",
		"tier": "Core",
		"intent_level": "Low",
		"last_contact_date": pd.Timestamp(TODAY),
		"branch": "Haidian Branch",
		**fields,
	}


def run(
	rows, today=TODAY, holidays=None, weekmask=EVERY_DAY, rules=DEFAULT_CADENCE, **options
) -> pd.DataFrame:
	return plan_contacts(
		pd.DataFrame(rows), rules, DEFAULT_TIERS, holidays, today, weekmask=weekmask, **options
	)


def day(text: str) -> pd.Timestamp:
	return pd.Timestamp(text)


# ---------------------------------------------------------------- cadence_table


def test_cadence_table_is_the_full_grid_of_the_default_rules():
	grid = cadence_table(DEFAULT_CADENCE)
	assert len(grid) == len(DEFAULT_TIERS) * len(INTENT_LEVELS) == 16
	assert (grid["source"] == "rule").all()
	vip_high = grid[(grid["tier"] == "VIP") & (grid["intent_level"] == "High")].iloc[0]
	assert (vip_high["interval_days"], vip_high["channel"]) == (1, "WeChat")


def test_a_missing_pair_falls_back_to_the_tiers_default_interval():
	rules = [r for r in DEFAULT_CADENCE if not (r["tier"] == "VIP" and r["intent_level"] == "High")]
	rules = [r for r in rules if r["tier"] != "Mass"]  # no rule at all for Mass
	grid = cadence_table(rules).set_index(["tier", "intent_level"])
	assert grid.loc[("VIP", "High"), "interval_days"] == 14  # VIP's contact_interval_days
	assert grid.loc[("VIP", "High"), "source"] == "tier_default"
	assert grid.loc[("VIP", "High"), "channel"] == "WeChat"  # the tier's first rule's channel
	assert grid.loc[("Mass", "Medium"), "interval_days"] == 90
	assert grid.loc[("Mass", "Medium"), "channel"] == "Phone"  # no rule for the tier: the default
	assert grid.loc[("VIP", "Medium"), "source"] == "rule"


def test_interval_words_and_blank_channels():
	grid = cadence_table(
		[
			{"tier": "Core", "intent_level": "High", "interval_days": "Weekly", "channel": "SMS"},
			{"tier": "Core", "intent_level": "Medium", "interval_days": "monthly", "channel": ""},
			{"tier": "Core", "intent_level": None, "interval_days": "Daily", "channel": None},
		]
	).set_index(["tier", "intent_level"])
	assert grid.loc[("Core", "High"), "interval_days"] == 7
	assert grid.loc[("Core", "Medium"), ["interval_days", "channel"]].tolist() == [30, "SMS"]
	assert grid.loc[("Core", "Unknown"), "interval_days"] == 1  # blank intent means Unknown


@pytest.mark.parametrize(
	"rows, message",
	[
		(
			[
				{"tier": "VIP", "intent_level": "High", "interval_days": 1},
				{"tier": "VIP", "intent_level": "High", "interval_days": 2},
			],
			"cadence rule row 2 (VIP / High): duplicates row 1",
		),
		(
			[{"tier": "VIP", "intent_level": "Low", "interval_days": 0}],
			"cadence rule row 1 (VIP / Low): interval_days",
		),
		([{"tier": "VIP", "intent_level": "Low", "interval_days": -3}], "row 1 (VIP / Low): interval_days"),
		([{"tier": "VIP", "intent_level": "Low", "interval_days": 2.5}], "whole number"),
		([{"tier": "VIP", "intent_level": "Low", "interval_days": None}], "interval_days"),
		([{"tier": "Gold", "intent_level": "Low", "interval_days": 3}], "unknown tier 'Gold'"),
		([{"tier": "VIP", "intent_level": "Hot", "interval_days": 3}], "unknown intent level 'Hot'"),
		(
			[{"tier": "VIP", "intent_level": "Low", "interval_days": 3, "channel": "Fax"}],
			"unknown channel 'Fax'",
		),
	],
)
def test_bad_rules_are_named(rows, message):
	with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
		cadence_table(rows)


def test_a_child_table_idx_names_the_row():
	rows = [
		{"idx": 4, "tier": "Core", "intent_level": "Low", "interval_days": 5},
		{"idx": 9, "tier": "Core", "intent_level": "Low", "interval_days": 6},
	]
	with pytest.raises(ValueError, match=r"row 9 \(Core / Low\): duplicates row 4"):
		cadence_table(rows)


# ---------------------------------------------------------------- plan_contacts: intervals


@pytest.mark.parametrize("rule", DEFAULT_CADENCE, ids=lambda r: f"{r['tier']}-{r['intent_level']}")
def test_interval_and_channel_per_tier_and_intent(rule):
	last = day("2026-10-10")
	out = run([plan(tier=rule["tier"], intent_level=rule["intent_level"], last_contact_date=last)]).iloc[0]
	assert out["interval_days"] == rule["interval_days"]
	assert out["channel"] == rule["channel"]
	assert out["reason_code"] == "rule"
	expected = max(last + pd.Timedelta(days=rule["interval_days"]), pd.Timestamp(TODAY))
	assert out["next_contact_date"] == expected


def test_blank_intent_is_unknown_and_an_untiered_customer_uses_the_lowest_tier():
	out = run([plan(customer="A", intent_level=None), plan(customer="B", tier=None, intent_level="High")])
	assert out["interval_days"].tolist() == [30, 14]  # Core/Unknown, Mass/High
	assert out["reason_code"].tolist() == ["rule", "no_tier"]


def test_fallback_to_the_tier_default_is_reported():
	rules = [r for r in DEFAULT_CADENCE if r["tier"] != "Private Banking"]
	out = run([plan(tier="Private Banking", intent_level="High")], rules=rules).iloc[0]
	assert (out["interval_days"], out["reason_code"]) == (7, "tier_default")


def test_manual_override_wins():
	out = run(
		[
			plan(customer="A", manual_interval_days=3, manual_channel="Visit", channel_preference="SMS"),
			plan(customer="B", manual_interval_days=0, manual_channel=None, channel_preference="SMS"),
			plan(customer="C", manual_interval_days=np.nan, manual_channel="Visit"),
		]
	)
	assert out["interval_days"].tolist() == [3, 30, 30]
	assert out["channel"].tolist() == ["Visit", "SMS", "Visit"]
	assert out["reason_code"].tolist() == ["manual", "rule", "rule"]
	assert out["next_contact_date"].iloc[0] == pd.Timestamp(TODAY) + pd.Timedelta(days=3)


def test_channel_preference_wins_over_the_rule_when_allowed():
	out = run(
		[
			plan(customer="A", channel_preference="WeChat"),
			plan(customer="B", channel_preference="Carrier Pigeon"),
			plan(customer="C", channel_preference=None),
			plan(customer="D", channel_preference="Visit"),
		],
		allowed_channels=("Phone", "WeChat", "SMS"),
	)
	assert out["channel"].tolist() == ["WeChat", "Phone", "Phone", "Phone"]


def test_overdue_plans_are_due_today_and_never_contacted_ones_within_their_first_interval():
	out = run(
		[
			plan(customer="new", last_contact_date=pd.NaT),
			plan(customer="late", last_contact_date=day("2026-09-01")),  # due 10-01
			plan(customer="soon", last_contact_date=day("2026-10-01")),  # due 10-31
		]
	)
	first = out["next_contact_date"].iloc[0]
	assert (
		pd.Timestamp(TODAY)
		<= first
		< pd.Timestamp(TODAY) + pd.Timedelta(days=int(out["interval_days"].iloc[0]))
	)
	assert out["next_contact_date"].tolist()[1:] == [pd.Timestamp(TODAY), day("2026-10-31")]
	assert out["days_overdue"].tolist() == [0, 11, 0]


def test_a_first_contact_that_rolled_past_a_weekend_stays_until_its_working_day():
	rows = [plan(customer=f"C{i:04d}", last_contact_date=pd.NaT) for i in range(400)]
	friday, saturday, sunday = dt.date(2026, 10, 9), dt.date(2026, 10, 10), dt.date(2026, 10, 11)
	by_day = {
		today: run(rows, today=today, weekmask="1111100").set_index("customer")["next_contact_date"]
		for today in (friday, saturday, sunday)
	}
	# from Saturday to Sunday every plan keeps its date: slots on the weekend are Monday's
	assert by_day[saturday].equals(by_day[sunday])
	assert (by_day[saturday] == day("2026-10-12")).sum() > 0
	# a plan whose first date came on Friday stays due, overdue, until the contact is made
	stored = by_day[friday]
	came = stored[stored == pd.Timestamp(friday)].index
	assert len(came) > 0
	later = run(
		[{**row, "next_contact_date": stored[row["customer"]]} for row in rows],
		today=dt.date(2026, 10, 12),
		weekmask="1111100",
	).set_index("customer")
	assert (later.loc[came, "next_contact_date"] == day("2026-10-12")).all()
	assert (later.loc[came, "days_overdue"] == 3).all()


def test_a_new_book_is_spread_over_the_first_interval_the_same_way_every_run():
	rows = [plan(customer=f"C{i:05d}", last_contact_date=pd.NaT) for i in range(3000)]
	out = run(rows)
	interval = int(out["interval_days"].iloc[0])
	per_day = out["next_contact_date"].value_counts()
	# about 3000 / interval a day, never the whole book on the first day
	assert len(per_day) == interval
	assert per_day.max() < 3 * len(rows) / interval
	# a customer keeps its day whatever else is in the batch, and whatever its position
	again = run(rows[::-1])
	assert again.set_index("customer")["next_contact_date"].equals(
		out.set_index("customer")["next_contact_date"].reindex(again["customer"])
	)


def test_do_not_contact_and_paused_or_closed_plans_get_no_date():
	out = run(
		[
			plan(customer="dnc", do_not_contact=1),
			plan(customer="paused", status="Paused"),
			plan(customer="closed", status="Closed", do_not_contact=1),
			plan(customer="active", status="Active"),
		]
	)
	assert out["next_contact_date"].isna().tolist() == [True, True, True, False]
	assert out["reason_code"].tolist() == ["do_not_contact", "paused", "closed", "rule"]
	assert out["channel"].iloc[0] is None
	assert (out["days_overdue"] == 0).all()


def test_result_keeps_order_index_and_columns():
	frame = pd.DataFrame([plan(customer=f"C{i}") for i in range(3)], index=[10, 5, 7])
	out = plan_contacts(frame, DEFAULT_CADENCE, DEFAULT_TIERS, None, TODAY)
	assert list(out.columns) == list(PLAN_RESULT_COLUMNS)
	assert out.index.tolist() == [10, 5, 7]
	assert out["customer"].tolist() == ["C0", "C1", "C2"]


def test_only_customer_is_required():
	out = plan_contacts(pd.DataFrame({"customer": ["X"]}), DEFAULT_CADENCE, DEFAULT_TIERS, None, TODAY)
	assert out.iloc[0][["interval_days", "reason_code"]].tolist() == [90, "no_tier"]


# ---------------------------------------------------------------- holidays and weekends


def test_weekends_roll_forward_to_monday():
	# Core / High: 7 days; 2026-10-03 + 7 = Saturday 2026-10-10 -> Monday 2026-10-12
	out = run(
		[plan(intent_level="High", last_contact_date=day("2026-10-03"))],
		today=dt.date(2026, 10, 5),
		weekmask="1111100",
	)
	assert out["next_contact_date"].iloc[0] == day("2026-10-12")


def test_holidays_per_branch_with_a_default_list():
	holidays = pd.DataFrame(
		{
			"branch": [None, None, "Pudong Branch", "Pudong Branch"],
			"date": ["2026-10-12", "2026-10-13", "2026-10-12", "2026-10-16"],
		}
	)
	rows = [
		plan(
			customer="default",
			branch="Haidian Branch",
			intent_level="High",
			last_contact_date=day("2026-10-05"),
		),
		plan(
			customer="own", branch="Pudong Branch", intent_level="High", last_contact_date=day("2026-10-05")
		),
		plan(customer="none", branch=None, intent_level="High", last_contact_date=day("2026-10-05")),
		plan(
			customer="own-later",
			branch="Pudong Branch",
			intent_level="High",
			last_contact_date=day("2026-10-09"),
		),
	]
	out = run(rows, today=dt.date(2026, 10, 9), holidays=holidays, weekmask="1111100")
	# due Monday 10-12: default list closes 10-12 and 10-13; Pudong's own list replaces it (10-12 only)
	assert out["next_contact_date"].tolist() == [
		day("2026-10-14"),
		day("2026-10-13"),
		day("2026-10-14"),
		day("2026-10-19"),  # due Friday 10-16, a Pudong holiday -> Monday
	]


def test_erpnext_holiday_lists_mapped_to_branches():
	holidays = pd.DataFrame(
		{
			"holiday_list": ["China 2026", "China 2026", "Shanghai 2026"],
			"holiday_date": ["2026-10-12", "2026-10-13", "2026-10-12"],
		}
	)
	cals = calendars(holidays, holiday_lists={None: "China 2026", "Pudong Branch": "Shanghai 2026"})
	rolled = cals.roll(
		np.array(["2026-10-12", "2026-10-12", "2026-10-12"], dtype="datetime64[D]"),
		["Haidian Branch", "Pudong Branch", None],
	)
	assert rolled.astype(str).tolist() == ["2026-10-14", "2026-10-13", "2026-10-14"]
	back = cals.roll(
		np.array(["2026-10-13", "NaT"], dtype="datetime64[D]"), ["Haidian Branch", None], "backward"
	)
	assert back.astype(str).tolist() == ["2026-10-09", "NaT"]


def test_working_days_of_a_branch():
	cals = calendars({None: ["2026-10-13"], "Pudong Branch": []})
	assert cals.working_days("Haidian Branch", TODAY, 7).astype(str).tolist() == [
		"2026-10-12",
		"2026-10-14",
		"2026-10-15",
		"2026-10-16",
	]
	assert len(cals.working_days("Pudong Branch", TODAY, 7)) == 5


def test_today_on_a_holiday_moves_a_due_plan_to_the_next_working_day():
	# last contacted in May: overdue, so due today (a Saturday), which rolls to Monday
	out = run([plan(last_contact_date=day("2026-05-01"))], today=dt.date(2026, 10, 10), weekmask="1111100")
	assert out["next_contact_date"].iloc[0] == day("2026-10-12")


# ---------------------------------------------------------------- reasons and re-planning


def test_reasons_render_with_templates():
	frame = pd.DataFrame(
		[plan(customer="A"), plan(customer="B", do_not_contact=1), plan(customer="C", manual_interval_days=2)]
	)
	out = plan_contacts(frame, DEFAULT_CADENCE, DEFAULT_TIERS, None, TODAY)
	text = render_plan_reasons(frame, out)
	assert text.tolist() == [
		"Cadence rule Core / Low: every 30 day(s) by Phone",
		"Do not contact",
		"Manual override: every 2 day(s) by Phone",
	]
	translated = render_plan_reasons(frame, out, {"do_not_contact": "请勿打扰"})
	assert translated.iloc[1] == "请勿打扰"


def test_a_contact_that_raises_intent_replans_from_the_contact_date():
	plans = pd.DataFrame(
		[
			plan(customer="A", tier="VIP", intent_level="Low", last_contact_date=day("2026-10-01")),
			plan(customer="B", tier="Core", intent_level="Medium", last_contact_date=day("2026-10-01")),
			plan(customer="C", tier="Core", intent_level="Low", last_contact_date=day("2026-10-01")),
		]
	)
	contacts = pd.DataFrame(
		{
			"customer": ["A", "B", "B"],
			"contact_time": ["2026-10-12 10:30:00", "2026-10-12", "2026-10-14"],
			"intent_level_after": ["High", "Low", None],
		}
	)
	out = replan_on_contact(
		plans, contacts, DEFAULT_CADENCE, DEFAULT_TIERS, today=dt.date(2026, 10, 14), weekmask=EVERY_DAY
	)
	assert out["customer"].tolist() == ["A", "B"]  # C had no contact
	a, b = out.iloc[0], out.iloc[1]
	assert (a["previous_intent_level"], a["intent_level"], bool(a["intent_changed"])) == ("Low", "High", True)
	assert a["interval_days"] == 1  # VIP / High
	assert a["last_contact_date"] == day("2026-10-12")
	assert a["next_contact_date"] == day("2026-10-14")  # 10-13 has passed: due today
	# B: the latest intent given (Low) counts, the latest contact moves the date
	assert (b["intent_level"], b["interval_days"]) == ("Low", 30)
	assert b["last_contact_date"] == day("2026-10-14")
	assert b["next_contact_date"] == day("2026-11-13")


def test_a_late_logged_older_contact_does_not_override_a_newer_intent():
	plans = pd.DataFrame([plan(customer="A", intent_level="High", last_contact_date=day("2026-10-10"))])
	contacts = pd.DataFrame(
		{"customer": ["A"], "contact_time": [day("2026-10-02")], "intent_level_after": ["Low"]}
	)
	out = replan_on_contact(plans, contacts, DEFAULT_CADENCE, today=TODAY, weekmask=EVERY_DAY).iloc[0]
	assert out["intent_level"] == "High"
	assert out["last_contact_date"] == day("2026-10-10")
	assert not out["intent_changed"]


def test_an_invalid_intent_in_a_contact_is_ignored():
	plans = pd.DataFrame([plan(customer="A", intent_level="Medium", last_contact_date=pd.NaT)])
	contacts = pd.DataFrame(
		{"customer": ["A"], "contact_time": ["2026-10-12"], "intent_level_after": ["Sky-high"]}
	)
	out = replan_on_contact(plans, contacts, DEFAULT_CADENCE, weekmask=EVERY_DAY).iloc[0]
	assert out["intent_level"] == "Medium"
	assert out["next_contact_date"] == day("2026-10-26")  # Core / Medium: 14 days from the contact


def test_engine_and_report_modules_never_import_frappe():
	for path in (
		"branch_crm/engine/cadence.py",
		"branch_crm/engine/followups.py",
		"branch_crm/reports/plan_effect.py",
	):
		tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
		names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
		names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
		assert not any(name.split(".")[0] == "frappe" for name in names), path


# ---------------------------------------------------------------- plan_changes (what the job writes)


def stored_after(rows, today=TODAY) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""The plans as stored after a first run on ``today``: their planned cadence written back."""
	frame = pd.DataFrame(rows)
	planned = run(rows, today)
	stored = frame.assign(
		interval_days=planned["interval_days"],
		channel=planned["channel"],
		next_contact_date=planned["next_contact_date"],
	)
	return stored, planned


def test_a_steady_plan_rewrites_nothing():
	stored, planned = stored_after([plan(customer="C1"), plan(customer="C2", last_contact_date=None)])
	assert plan_changes(stored, planned, TODAY).empty
	# next day: the plan contacted today is still ahead; the never-contacted one stays due since today
	later = TODAY + dt.timedelta(days=1)
	assert plan_changes(stored, run(stored.to_dict("records"), later), later).empty


def test_a_due_plan_keeps_the_date_it_fell_due_on():
	last = pd.Timestamp(TODAY) - pd.Timedelta(days=40)  # Core / Low: every 30 days, due 10 days ago
	stored, _planned = stored_after([plan(last_contact_date=last)], TODAY - dt.timedelta(days=10))
	assert stored["next_contact_date"].iloc[0] == pd.Timestamp(TODAY) - pd.Timedelta(days=10)
	again = run(stored.to_dict("records"), TODAY)
	assert again["next_contact_date"].iloc[0] == pd.Timestamp(TODAY)  # offered today ...
	assert plan_changes(stored, again, TODAY).empty  # ... but the stored date stays the due date


def test_a_new_interval_or_channel_is_written_and_blank_channels_match():
	stored, planned = stored_after([plan(customer="C1"), plan(customer="C2", do_not_contact=1)])
	assert planned["channel"].iloc[1] is None
	stored.loc[1, "channel"] = ""  # a blank Select read back from the database
	assert plan_changes(stored, planned, TODAY).empty
	upgraded = run(stored.assign(tier="VIP").to_dict("records"))
	changes = plan_changes(stored, upgraded, TODAY)
	assert list(changes["customer"]) == ["C1", "C2"]
	row = changes.iloc[0]
	assert (row["interval_days"], row["channel"]) == (14, "WeChat")
	assert row["next_contact_date"] == pd.Timestamp(TODAY) + pd.Timedelta(days=14)
	# a do-not-contact plan keeps no channel and no date, whatever its interval
	assert changes.iloc[1]["channel"] is None and pd.isna(changes.iloc[1]["next_contact_date"])
