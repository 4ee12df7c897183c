import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine.cadence import plan_contacts, replan_on_contact
from branch_crm.engine.defaults import DEFAULT_CADENCE, DEFAULT_TIERS
from branch_crm.engine.followups import (
	CARE_TOUCH_COLUMNS,
	CONTACT_LOG_COLUMNS,
	CONTACT_OUTCOMES,
	CONTACT_REASONS,
	ESCALATION_COLUMNS,
	FOLLOWUP_COLUMNS,
	REASONS,
	anniversaries,
	capacity_from_staff,
	care_touches,
	due_followups,
	escalations,
	event_attendance_as_contacts,
	followup_keys,
	schedule_with_capacity,
)

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 10, 12)  # a Monday
T = pd.Timestamp


def contact_log_options(fieldname: str) -> list[str]:
	doc = json.loads((ROOT / "branch_crm/branch_crm/doctype/contact_log/contact_log.json").read_text())
	field = next(f for f in doc["fields"] if f["fieldname"] == fieldname)
	return [o for o in field["options"].split("\n") if o]


def test_reasons_and_outcomes_are_the_contact_log_options():
	assert list(CONTACT_REASONS) == contact_log_options("reason")
	assert list(REASONS) == contact_log_options("reason")[: len(REASONS)]
	assert list(CONTACT_OUTCOMES) == contact_log_options("outcome")


# ---------------------------------------------------------------- due_followups


def plans_frame(rows) -> pd.DataFrame:
	base = {
		"relationship_manager": "rm1",
		"branch": "B1",
		"value_class": "Standard",
		"lifetime_value": 1000.0,
		"do_not_contact": 0,
		"channel": "Phone",
		"interval_days": 30,
		"days_overdue": 0,
		"next_contact_date": T(TODAY),
	}
	return pd.DataFrame([{**base, **row} for row in rows])


def test_plans_due_today_or_within_the_lookahead():
	plans = plans_frame(
		[
			{"customer": "A"},
			{"customer": "B", "next_contact_date": T("2026-10-14")},
			{"customer": "C", "next_contact_date": pd.NaT},
			{"customer": "D", "next_contact_date": T("2026-10-02"), "days_overdue": 10},
		]
	)
	due = due_followups(plans, None, None, None, TODAY, None)
	assert list(due.columns) == list(FOLLOWUP_COLUMNS)
	assert due["customer"].tolist() == ["A", "D"]
	assert (due["reason"] == "Plan Due").all()
	assert due_followups(plans, today=TODAY, lookahead_days=2)["customer"].tolist() == ["A", "B", "D"]


def test_priority_is_reason_plus_value_class_plus_capped_urgency():
	plans = plans_frame(
		[
			{"customer": "A", "value_class": "MVC", "days_overdue": 5},
			{"customer": "B", "value_class": "BZC", "days_overdue": 100},
			{"customer": "C", "value_class": None},
		]
	)
	retention = pd.DataFrame({"customer": ["C"], "details": ["balances down 40%"]})
	needs = pd.DataFrame({"customer": ["A"], "due_date": ["2026-10-10"], "details": ["no insurance"]})
	due = due_followups(plans, None, retention, needs, TODAY, None).set_index(["customer", "reason"])
	assert due.loc[("A", "Plan Due"), "priority"] == 20 + 30 + 5
	assert due.loc[("B", "Plan Due"), "priority"] == 20 + 0 + 30  # urgency capped at 30
	assert due.loc[("C", "Plan Due"), "priority"] == 20 + 10 + 0  # no value class: 10
	assert due.loc[("C", "Retention"), "priority"] == 40 + 10
	assert due.loc[("A", "Needs Screening"), ["priority", "days_overdue"]].tolist() == [15 + 30 + 2, 2]
	assert due.loc[("C", "Retention"), "message"] == "Churn risk for C: balances down 40%"
	assert (
		due.loc[("A", "Plan Due"), "message"]
		== "Contact plan overdue by 5 day(s): reach A by Phone (every 30 day(s))"
	)
	assert due.loc[("C", "Plan Due"), "key"] == "C|Plan Due"


def test_messages_use_names_ready_messages_and_translated_templates():
	plans = plans_frame([{"customer": "A", "customer_name": "王芳"}])
	needs = pd.DataFrame({"customer": ["A"], "message": ["Offer the pension account"]})
	due = due_followups(
		plans,
		None,
		None,
		needs,
		TODAY,
		None,
		templates={"plan_due": "{customer_name}：每{interval_days}天{channel}"},
	)
	assert due["message"].tolist() == ["王芳：每30天Phone", "Offer the pension account"]


def test_do_not_contact_customers_get_nothing():
	plans = plans_frame([{"customer": "A", "do_not_contact": 1}, {"customer": "B"}])
	retention = pd.DataFrame({"customer": ["A", "B"]})
	due = due_followups(plans, None, retention, None, TODAY, None)
	assert sorted(due["customer"]) == ["B", "B"]


def test_rerunning_the_same_day_creates_nothing_new():
	plans = plans_frame([{"customer": c} for c in "ABC"])
	touches = pd.DataFrame(
		{"customer": ["A"], "due_date": [T(TODAY)], "occasion": ["Birthday"], "message": ["hi"]}
	)
	first = due_followups(plans, touches, None, None, TODAY, None)
	assert len(first) == 4
	again = due_followups(plans, touches, None, None, TODAY, first[["customer", "reason"]])
	assert again.empty
	# an open follow-up blocks only its own reason
	partly = due_followups(
		plans, touches, None, None, TODAY, pd.DataFrame({"customer": ["A"], "reason": ["Plan Due"]})
	)
	assert sorted(zip(partly["customer"], partly["reason"], strict=True)) == [
		("A", "Care Touch"),
		("B", "Plan Due"),
		("C", "Plan Due"),
	]


def test_closed_follow_ups_block_the_same_occasion_only():
	touches = pd.DataFrame(
		{
			"customer": ["A", "A", "B"],
			"due_date": [T("2026-10-12"), T("2026-10-14"), T("2026-10-13")],
			"occasion": ["Birthday", "Double Ninth Festival", "Birthday"],
			"message": ["birthday", "festival", "birthday"],
		}
	)
	existing = pd.DataFrame(
		{
			"customer": ["A", "B"],
			"reason": ["Care Touch", "Care Touch"],
			"status": ["Closed", "Cancelled"],
			"due_date": [T("2026-10-12"), T("2026-09-01")],
		}
	)
	plans = plans_frame(
		[{"customer": "A", "next_contact_date": pd.NaT}, {"customer": "B", "next_contact_date": pd.NaT}]
	)
	due = due_followups(plans, touches, None, None, TODAY, existing)
	# A's birthday was done today: the festival comes next; B's old cancelled one blocks nothing
	assert due[["customer", "occasion", "message"]].values.tolist() == [
		["A", "Double Ninth Festival", "festival"],
		["B", "Birthday", "birthday"],
	]


def test_one_follow_up_per_customer_and_reason_the_earliest_wins():
	touches = pd.DataFrame(
		{
			"customer": ["A", "A"],
			"due_date": [T("2026-10-15"), T("2026-10-13")],
			"occasion": ["Festival", "Birthday"],
			"message": ["f", "b"],
		}
	)
	due = due_followups(None, touches, None, None, TODAY, None, customers=plans_frame([{"customer": "A"}]))
	assert due[["occasion", "due_date"]].values.tolist() == [["Birthday", T("2026-10-13")]]
	assert due["priority"].iloc[0] == 10 + 10 + 30  # a care touch counts as fully urgent


def test_customers_without_a_manager_go_to_the_branch_fallback():
	plans = plans_frame(
		[
			{"customer": "A", "relationship_manager": None, "branch": "B1"},
			{"customer": "B", "relationship_manager": None, "branch": "B2"},
			{"customer": "C", "relationship_manager": "rm9", "branch": "B1"},
		]
	)
	due = due_followups(plans, None, None, None, TODAY, None, fallback_assignees={"B1": "lobby.b1"})
	assert due["relationship_manager"].tolist() == ["lobby.b1", None, "rm9"]


def test_customers_of_book_holders_who_work_no_follow_ups_go_to_the_branch_fallback():
	plans = plans_frame(
		[
			{"customer": "A", "relationship_manager": "teller.b1", "branch": "B1"},
			{"customer": "B", "relationship_manager": "teller.b2", "branch": "B2"},
			{"customer": "C", "relationship_manager": "rm9", "branch": "B1"},
		]
	)
	due = due_followups(
		plans,
		None,
		None,
		None,
		TODAY,
		None,
		fallback_assignees={"B1": "lobby.b1"},
		non_working_assignees={"teller.b1", "teller.b2"},
	)
	# a teller's customer goes to the branch's lobby manager; without one, to nobody (never the teller)
	assert due["relationship_manager"].tolist() == ["lobby.b1", None, "rm9"]


# ---------------------------------------------------------------- schedule_with_capacity


def due_rows(rows) -> pd.DataFrame:
	base = {
		"reason": "Plan Due",
		"due_date": T(TODAY),
		"relationship_manager": "rm1",
		"branch": "B1",
		"lifetime_value": 0.0,
	}
	return pd.DataFrame([{**base, **row} for row in rows])


def test_capacity_spills_to_the_next_working_days_highest_priority_first():
	due = due_rows(
		[
			{"customer": "C1", "priority": 30},
			{"customer": "C2", "priority": 90},
			{"customer": "C3", "priority": 50},
			{"customer": "C4", "priority": 70},
			{"customer": "C5", "priority": 10},
		]
	)
	# Friday 10-16 with capacity 2: Fri, Mon, Tue
	out = schedule_with_capacity(due, {"rm1": 2}, dt.date(2026, 10, 16), 14)
	assert out["customer"].tolist() == ["C2", "C4", "C3", "C1", "C5"]
	assert out["scheduled_date"].tolist() == [T("2026-10-16")] * 2 + [T("2026-10-19")] * 2 + [T("2026-10-20")]
	assert out["position"].tolist() == [1, 2, 1, 2, 1]
	assert (out["schedule_status"] == "scheduled").all()
	assert out.index.tolist() == [1, 3, 2, 0, 4]  # the input's index is kept


def test_ties_break_by_value_then_due_date_then_customer_whatever_the_input_order():
	due = due_rows(
		[
			{"customer": "C9", "priority": 50, "lifetime_value": 10.0},
			{"customer": "C3", "priority": 50, "lifetime_value": 10.0},
			{"customer": "C7", "priority": 50, "lifetime_value": 99.0},
			{"customer": "C1", "priority": 50, "lifetime_value": 10.0, "due_date": T("2026-10-12")},
			{"customer": "C2", "priority": 50, "lifetime_value": 10.0, "due_date": T("2026-10-09")},
			{"customer": "C3", "priority": 50, "lifetime_value": 10.0, "reason": "Retention"},
		]
	)
	expected = ["C7", "C2", "C1", "C3", "C3", "C9"]
	for seed in range(5):
		shuffled = due.sample(frac=1, random_state=seed)
		out = schedule_with_capacity(shuffled, 1, TODAY, 14)
		assert out["customer"].tolist() == expected
		assert out[out["customer"] == "C3"]["reason"].tolist() == ["Plan Due", "Retention"]
		assert out["scheduled_date"].is_monotonic_increasing


def test_each_manager_has_their_own_capacity_and_calendar():
	due = due_rows(
		[
			{"customer": f"A{i}", "priority": 50, "relationship_manager": "rm1", "branch": "B1"}
			for i in range(3)
		]
		+ [
			{"customer": f"B{i}", "priority": 50, "relationship_manager": "rm2", "branch": "B2"}
			for i in range(3)
		]
	)
	capacity = pd.DataFrame(
		{"relationship_manager": ["rm1", "rm2"], "capacity": [3, 1], "branch": ["B1", "B2"]}
	)
	holidays = pd.DataFrame({"branch": ["B2"], "date": ["2026-10-13"]})
	out = schedule_with_capacity(due, capacity, TODAY, 14, holidays=holidays).set_index("customer")
	assert out.loc[["A0", "A1", "A2"], "scheduled_date"].tolist() == [T(TODAY)] * 3
	assert out.loc[["B0", "B1", "B2"], "scheduled_date"].tolist() == [
		T("2026-10-12"),
		T("2026-10-14"),
		T("2026-10-15"),
	]


def test_nothing_is_scheduled_before_it_is_due():
	due = due_rows(
		[
			{"customer": "soon", "priority": 99, "due_date": T("2026-10-14")},
			{"customer": "now", "priority": 10},
			{"customer": "weekend", "priority": 99, "due_date": T("2026-10-17")},
		]
	)
	out = schedule_with_capacity(due, 5, TODAY, 14).set_index("customer")
	assert out.loc["soon", "scheduled_date"] == T("2026-10-14")
	assert out.loc["now", "scheduled_date"] == T(TODAY)
	assert out.loc["weekend", "scheduled_date"] == T("2026-10-19")


def test_beyond_the_horizon_unassigned_and_booked_slots():
	due = due_rows(
		[{"customer": f"C{i}", "priority": 100 - i} for i in range(4)]
		+ [{"customer": "X", "priority": 1, "relationship_manager": None}]
	)
	booked = pd.DataFrame(
		{
			"relationship_manager": ["rm1", "rm1", "other"],
			"date": [T("2026-10-01"), T("2026-10-13"), T(TODAY)],
		}
	)
	# horizon 3 days: Mon, Tue, Wed; capacity 1; the overdue booking takes Monday, another Tuesday
	out = schedule_with_capacity(due, 1, TODAY, 3, booked=booked).set_index("customer")
	assert out.loc["C0", "scheduled_date"] == T("2026-10-14")
	assert out.loc[["C1", "C2", "C3"], "schedule_status"].tolist() == ["beyond_horizon"] * 3
	assert out.loc[["C1", "C2", "C3"], "scheduled_date"].isna().all()
	assert out.loc["X", "schedule_status"] == "unassigned"


def test_zero_capacity_and_defaults():
	due = due_rows(
		[
			{"customer": "A", "priority": 1, "relationship_manager": "on-leave"},
			{"customer": "B", "priority": 1},
		]
	)
	out = schedule_with_capacity(due, {"on-leave": 0}, TODAY, 5).set_index("customer")
	assert out.loc["A", "schedule_status"] == "beyond_horizon"
	assert out.loc["B", "schedule_status"] == "scheduled"  # default capacity


def test_scheduling_a_large_book_is_vectorised():
	n = 200_000
	rng = np.random.default_rng(0)
	due = pd.DataFrame(
		{
			"customer": np.char.add("C", np.arange(n).astype(str)).astype(object),
			"reason": "Plan Due",
			"due_date": T(TODAY),
			"relationship_manager": np.char.add("rm", rng.integers(0, 400, n).astype(str)).astype(object),
			"priority": rng.integers(20, 90, n),
			"lifetime_value": rng.integers(0, 50, n).astype(float),  # many ties
		}
	)
	out = schedule_with_capacity(due, 25, TODAY, 14)
	per_day = out.dropna(subset=["scheduled_date"]).groupby(["relationship_manager", "scheduled_date"]).size()
	assert per_day.max() == 25
	first = out.groupby("relationship_manager").head(1)
	top = due.groupby("relationship_manager")["priority"].max()
	assert (
		first.set_index("relationship_manager")["priority"] == top.reindex(first["relationship_manager"])
	).all()


# ---------------------------------------------------------------- escalations


def open_rows(rows) -> pd.DataFrame:
	base = {"reason": "Plan Due", "relationship_manager": "rm1", "branch": "B1"}
	return pd.DataFrame([{**base, **row} for row in rows])


def test_overdue_follow_ups_escalate_to_the_branch_manager_once():
	rows = open_rows(
		[
			{"customer": "A", "due_date": T("2026-10-05")},  # 7 days late
			{"customer": "B", "due_date": T("2026-10-06")},  # 6 days late
			{"customer": "C", "due_date": T("2026-09-01"), "escalated": 1},
			{"customer": "D", "due_date": T("2026-09-01"), "relationship_manager": "bm1"},
			{"customer": "E", "due_date": T("2026-09-20"), "branch": "B9"},
			{"customer": "F", "due_date": T("2026-09-01"), "reason": "Retention"},
		]
	)
	managers = pd.DataFrame({"branch": ["B1"], "user": ["bm1"]})
	out = escalations(
		rows, managers, TODAY, 7, already_escalated=pd.DataFrame({"customer": ["F"], "reason": ["Retention"]})
	)
	assert list(out.columns) == list(ESCALATION_COLUMNS)
	assert out[["customer", "days_overdue", "escalate_to"]].values.tolist() == [
		["E", 22, None],
		["A", 7, "bm1"],
	]
	assert (
		out["message"].iloc[1]
		== "Plan Due follow-up for A is 7 day(s) overdue (due 2026-10-05, assigned to rm1)"
	)
	# once escalated (flag stored), the next run leaves it alone
	again = escalations(
		rows.assign(escalated=rows["customer"].isin(["A", "C", "E", "F"])), {"B1": "bm1"}, TODAY, 7
	)
	assert again.empty


def test_escalation_needs_a_positive_threshold():
	with pytest.raises(ValueError):
		escalations(open_rows([{"customer": "A", "due_date": T(TODAY)}]), {}, TODAY, 0)


# ---------------------------------------------------------------- care touches


def test_anniversaries_handle_leap_days():
	born = np.array(["1988-02-29", "1990-12-31", "NaT", "2000-03-01"], dtype="datetime64[D]")
	assert anniversaries(born, 2027).astype(str).tolist() == ["2027-02-28", "2027-12-31", "NaT", "2027-03-01"]
	assert anniversaries(born, 2028).astype(str).tolist() == ["2028-02-29", "2028-12-31", "NaT", "2028-03-01"]


def customers_frame(rows) -> pd.DataFrame:
	base = {"tier": "Core", "relationship_manager": "rm1", "do_not_contact": 0, "branch": "B1"}
	return pd.DataFrame([{**base, **row} for row in rows])


@pytest.mark.parametrize(
	"today, due",
	[
		(dt.date(2027, 2, 26), "2027-02-26"),  # 2027-02-28 is a Sunday: greet on Friday
		(dt.date(2028, 2, 28), "2028-02-29"),  # leap year: on the day, a Tuesday
		(dt.date(2029, 2, 27), "2029-02-28"),  # Wednesday
	],
)
def test_leap_day_birthdays_every_year(today, due):
	customers = customers_frame(
		[{"customer": "L", "customer_name": "李娜", "date_of_birth": T("1988-02-29")}]
	)
	out = care_touches(customers, None, today, 3)
	assert list(out.columns) == list(CARE_TOUCH_COLUMNS)
	assert out["due_date"].tolist() == [T(due)]
	assert out["occasion"].tolist() == ["Birthday"]
	assert out["message"].iloc[0].startswith("Happy birthday, 李娜!")


def test_birthdays_in_the_window_across_new_year_and_not_for_do_not_contact():
	customers = customers_frame(
		[
			{"customer": "A", "date_of_birth": T("1970-01-02")},  # Saturday 2027-01-02 -> Friday 01-01
			{"customer": "B", "date_of_birth": T("1980-12-30")},  # today
			{"customer": "C", "date_of_birth": T("1980-12-29")},  # yesterday: not again
			{"customer": "D", "date_of_birth": T("1980-12-31"), "do_not_contact": 1},
			{"customer": "E", "date_of_birth": pd.NaT},
			{"customer": "F", "date_of_birth": T("1980-01-20")},  # too far ahead
		]
	)
	out = care_touches(customers, [], dt.date(2026, 12, 30), 3)
	assert out[["customer", "due_date", "occasion_date"]].values.tolist() == [
		["A", T("2027-01-01"), T("2027-01-02")],
		["B", T("2026-12-30"), T("2026-12-30")],
	]


def test_a_greeting_never_falls_due_after_its_occasion():
	customers = customers_frame([{"customer": "A", "date_of_birth": T("1970-10-18")}])  # Sunday 2026-10-18
	assert care_touches(customers, None, dt.date(2026, 10, 16), 0)["due_date"].tolist() == [T("2026-10-16")]
	# on Saturday its due date (Friday) has passed: it was offered on Friday already
	assert care_touches(customers, None, dt.date(2026, 10, 17), 3).empty


def test_festivals_for_chosen_tiers_with_their_message():
	customers = customers_frame(
		[
			{"customer": "M", "tier": "Mass", "customer_name": "马"},
			{"customer": "V", "tier": "VIP", "customer_name": "魏"},
			{"customer": "P", "tier": "Private Banking", "customer_name": "彭"},
		]
	)
	festivals = [
		{"name": "Mid-Autumn Festival", "date": "2026-10-14", "tiers": ["VIP", "Private Banking"]},
		{
			"name": "Double Ninth Festival",
			"date": "2026-10-13",
			"tiers": "Private Banking",
			"message": "{festival}：{customer_name}",
		},
		{"name": "Chongyang", "date": "2026-10-15", "tiers": "all"},
		{"name": "Next Year", "date": "2027-10-14", "tiers": None},
		{"name": "National Day", "date": "2020-10-13", "repeat_yearly": 1, "tiers": ""},
	]
	out = care_touches(customers, festivals, TODAY, 3)
	got = sorted(zip(out["customer"], out["occasion"], out["due_date"], strict=True))
	assert got == sorted(
		[
			("V", "Mid-Autumn Festival", T("2026-10-14")),
			("P", "Mid-Autumn Festival", T("2026-10-14")),
			("P", "Double Ninth Festival", T("2026-10-13")),
			("M", "Chongyang", T("2026-10-15")),
			("V", "Chongyang", T("2026-10-15")),
			("P", "Chongyang", T("2026-10-15")),
			("M", "National Day", T("2026-10-13")),
			("V", "National Day", T("2026-10-13")),
			("P", "National Day", T("2026-10-13")),
		]
	)
	messages = dict(zip(zip(out["customer"], out["occasion"], strict=True), out["message"], strict=True))
	assert messages[("P", "Double Ninth Festival")] == "Double Ninth Festival：彭"
	assert messages[("V", "Mid-Autumn Festival")].startswith("Happy Mid-Autumn Festival, 魏!")


def test_a_festival_message_with_an_unknown_placeholder_is_rejected():
	with pytest.raises(ValueError, match=r"festival row 1 \(Spring Festival\).*\['amount'\]"):
		care_touches(
			customers_frame([{"customer": "A"}]),
			[{"name": "Spring Festival", "date": "2027-02-06", "message": "Hi {amount}"}],
			TODAY,
			3,
		)


def test_care_touches_become_follow_ups_once():
	customers = customers_frame([{"customer": "A", "date_of_birth": T("1970-10-13"), "customer_name": "安"}])
	touches = care_touches(customers, None, TODAY, 3)
	due = due_followups(None, touches, None, None, TODAY, None, customers=customers)
	assert due[["customer", "reason", "due_date", "relationship_manager"]].values.tolist() == [
		["A", "Care Touch", T("2026-10-13"), "rm1"]
	]
	closed = due.assign(status="Closed")
	assert due_followups(
		None, care_touches(customers, None, TODAY, 3), None, None, TODAY, closed, customers=customers
	).empty


# ---------------------------------------------------------------- events and helpers


def test_event_attendance_counts_as_a_contact():
	attendance = pd.DataFrame(
		{
			"event": ["EV-1", "EV-1", "EV-1", "EV-1"],
			"event_title": ["Wealth Salon", "Wealth Salon", "Wealth Salon", "Wealth Salon"],
			"customer": ["A", "B", "A", "C"],
			"event_date": [T("2026-10-10")] * 4,
			"attended": [1, 0, 1, 1],
		}
	)
	logs = event_attendance_as_contacts(attendance)
	assert list(logs.columns) == list(CONTACT_LOG_COLUMNS)
	assert logs["customer"].tolist() == ["A", "C"]
	assert set(logs["channel"]) == {"Visit"} and set(logs["outcome"]) == {"Attended Event"}
	assert set(logs["reason"]) == {"Event"} and set(logs["notes"]) == {"Attended Wealth Salon"}
	plans = pd.DataFrame(
		{"customer": ["A"], "tier": ["Core"], "intent_level": ["Low"], "last_contact_date": [T("2026-09-01")]}
	)
	replanned = replan_on_contact(plans, logs, DEFAULT_CADENCE, today=TODAY, weekmask="1111111").iloc[0]
	assert replanned["last_contact_date"] == T("2026-10-10")
	assert replanned["next_contact_date"] == T("2026-11-09")


def test_capacity_from_staff_and_keys():
	staff = pd.DataFrame(
		{
			"user": ["rm", "pb", "lobby", "x"],
			"role_type": ["Relationship Manager", "Private Banker", "Lobby Manager", "Other"],
			"branch": ["B1"] * 4,
			"max_followups_per_day": [np.nan, np.nan, np.nan, 5],
		}
	)
	assert capacity_from_staff(staff)["capacity"].tolist() == [20, 8, 40, 5]
	assert followup_keys(pd.DataFrame({"customer": ["C1"], "reason": ["Retention"]})).tolist() == [
		"C1|Retention"
	]


def test_the_whole_day_on_a_small_book():
	"""plan_contacts -> care_touches -> due_followups -> schedule_with_capacity, then the same day again."""
	customers = customers_frame(
		[
			{
				"customer": f"C{i}",
				"tier": tier,
				"intent_level": intent,
				"date_of_birth": T("1980-10-14"),
				"lifetime_value": float(i),
			}
			for i, (tier, intent) in enumerate(
				[("VIP", "High"), ("Core", "Low"), ("Mass", "Unknown"), ("VIP", "Low")]
			)
		]
	).assign(last_contact_date=[T("2026-10-11"), T("2026-09-01"), T("2026-09-01"), T("2026-05-01")])
	planned = plan_contacts(customers, DEFAULT_CADENCE, DEFAULT_TIERS, None, TODAY)
	context = pd.concat([customers, planned.drop(columns="customer")], axis=1)
	touches = care_touches(customers, None, TODAY, 3)
	due = due_followups(context, touches, None, None, TODAY, None)
	assert sorted(due.loc[due["reason"] == "Plan Due", "customer"]) == ["C0", "C1", "C3"]
	assert len(due[due["reason"] == "Care Touch"]) == 4
	scheduled = schedule_with_capacity(due, 3, TODAY, 14)
	assert (scheduled.groupby("scheduled_date").size() <= 3).all()
	open_now = scheduled[["customer", "reason", "relationship_manager", "scheduled_date"]]
	again = due_followups(context, care_touches(customers, None, TODAY, 3), None, None, TODAY, open_now)
	assert again.empty
