# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import datetime as dt

import frappe
import pandas as pd
from frappe.desk.form.load import getdoc

from branch_crm import followups, testing
from branch_crm.language import render_text
from branch_crm.testing import BRANCH_A, BRANCH_B, CUSTOMERS, user

test_ignore = testing.TEST_IGNORE

PROFILE = "Bank Customer Profile"
FOLLOWUP = "Customer Follow-up"
BRANCH_A_CUSTOMERS = {c for c, (_owner, branch) in CUSTOMERS.items() if branch == BRANCH_A}


def open_followups(**filters) -> list[dict]:
	return frappe.get_all(
		FOLLOWUP,
		filters={"customer": ("in", tuple(CUSTOMERS)), "status": "Open", **filters},
		fields=["name", "customer", "reason", "relationship_manager", "scheduled_date", "todo", "message"],
		order_by="scheduled_date asc, priority desc",
	)


class TestCustomerFollowup(testing.BranchCRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.today = frappe.utils.getdate()

	@classmethod
	def tearDownClass(cls):
		testing.clear_contacts()
		super().tearDownClass()

	def setUp(self):
		testing.clear_contacts()

	def queue(self, today=None, branch=BRANCH_A) -> dict:
		return followups.run(today=str(today or self.today), branch=branch)

	def test_plan_due_follow_ups_are_queued_once_into_each_managers_todo(self):
		started = frappe.utils.now_datetime()
		first = self.queue()
		self.assertEqual(first["failed_branches"], [])
		rows = open_followups(reason="Plan Due")
		self.assertEqual({r.customer for r in rows}, BRANCH_A_CUSTOMERS)
		for row in rows:
			owner = user(CUSTOMERS[row.customer][0])
			self.assertEqual(row.relationship_manager, owner)
			todo = frappe.get_doc("ToDo", row.todo)
			self.assertEqual(
				(todo.allocated_to, todo.reference_type, todo.reference_name), (owner, PROFILE, row.customer)
			)
			self.assertEqual(todo.status, "Open")
			self.assertGreaterEqual(row.scheduled_date, self.today)
			self.assertLess(row.scheduled_date.weekday(), 5, "follow-ups fall on working days")
		self.assertIn(user("rm1"), frappe.db.get_value(PROFILE, "_T-CRM-0001", "_assign"))
		# one bell notification per manager, not one per follow-up
		self.assertEqual(
			frappe.db.count(
				"Notification Log",
				{"for_user": user("rm1"), "document_type": "ToDo", "creation": (">=", started)},
			),
			1,
		)
		# every profile got a plan, and the plan's date shows on the profile
		plan = frappe.get_doc("Contact Plan", "_T-CRM-0001")
		self.assertEqual(
			plan.next_contact_date, frappe.db.get_value(PROFILE, "_T-CRM-0001", "next_contact_date")
		)
		self.assertGreaterEqual(plan.interval_days, 1)

		second = self.queue()
		self.assertEqual(second["created"], 0)
		self.assertEqual(second["plans_updated"], 0)
		self.assertEqual(len(open_followups()), len(rows))

	def test_open_key_refuses_a_second_open_follow_up(self):
		self.queue()
		row = open_followups(reason="Plan Due")[0]
		duplicate = frappe.get_doc(FOLLOWUP, row.name).as_dict()
		for field in ("name", "creation", "modified", "todo"):
			duplicate.pop(field, None)
		with self.assertRaises(frappe.UniqueValidationError):
			frappe.get_doc({**duplicate, "doctype": FOLLOWUP}).db_insert()
		frappe.db.rollback()

	def test_contact_log_closes_the_follow_up_and_moves_the_next_date(self):
		self.queue()
		row = open_followups(customer="_T-CRM-0001", reason="Plan Due")[0]
		frappe.set_user(user("rm1"))
		log = frappe.get_doc(
			{
				"doctype": "Contact Log",
				"customer": "_T-CRM-0001",
				"channel": "Phone",
				"outcome": "Reached - Interested",
				"intent_level_after": "High",
				"follow_up": row.name,
			}
		).insert()
		frappe.set_user("Administrator")
		followup = frappe.get_doc(FOLLOWUP, row.name)
		self.assertEqual(
			(followup.status, followup.open_key, followup.contact_log), ("Closed", None, log.name)
		)
		self.assertEqual(frappe.db.get_value("ToDo", row.todo, "status"), "Closed")
		plan = frappe.get_doc("Contact Plan", "_T-CRM-0001")
		self.assertEqual(plan.intent_level, "High")
		self.assertEqual(plan.last_contact_date, self.today)
		tier = (
			frappe.db.get_value(PROFILE, "_T-CRM-0001", "tier")
			or frappe.get_all("Customer Tier", order_by="`rank` asc", pluck="name", limit=1)[0]
		)
		rule = frappe.get_all(
			"Branch CRM Cadence Rule",
			filters={"parent": "Branch CRM Settings", "tier": tier, "intent_level": "High"},
			pluck="interval_days",
		)
		self.assertEqual(plan.interval_days, rule[0])
		self.assertGreaterEqual(plan.next_contact_date, frappe.utils.add_days(self.today, plan.interval_days))
		self.assertEqual(
			frappe.db.get_value("Contact Log", log.name, "next_contact_date"), plan.next_contact_date
		)
		profile = frappe.db.get_value(
			PROFILE,
			"_T-CRM-0001",
			["intent_level", "last_contact_date", "next_contact_date", "_assign"],
			as_dict=True,
		)
		self.assertEqual(
			(profile.intent_level, profile.last_contact_date, profile.next_contact_date),
			("High", self.today, plan.next_contact_date),
		)
		self.assertNotIn(user("rm1"), profile._assign or "")
		# the same day, the job does not queue that customer's plan again
		self.queue()
		self.assertFalse(open_followups(customer="_T-CRM-0001", reason="Plan Due"))

	def test_a_manual_next_date_on_the_log_wins(self):
		wanted = frappe.utils.add_days(self.today, 40)
		frappe.get_doc(
			{
				"doctype": "Contact Log",
				"customer": "_T-CRM-0002",
				"channel": "Visit",
				"outcome": "Reached - Not Now",
				"next_contact_date": wanted,
			}
		).insert()
		self.assertEqual(frappe.db.get_value("Contact Plan", "_T-CRM-0002", "next_contact_date"), wanted)

	def test_follow_ups_overdue_escalate_to_the_branch_manager_once(self):
		self.queue()
		later = frappe.utils.add_days(self.today, 10)
		result = self.queue(later)
		self.assertEqual(result["escalated"], len(BRANCH_A_CUSTOMERS))
		rows = frappe.get_all(
			FOLLOWUP,
			filters={"customer": ("in", tuple(BRANCH_A_CUSTOMERS)), "status": "Open", "reason": "Plan Due"},
			fields=["escalated_on", "escalated_to", "escalation_todo"],
		)
		for row in rows:
			self.assertEqual((row.escalated_on, row.escalated_to), (later, user("bm")))
			self.assertEqual(frappe.db.get_value("ToDo", row.escalation_todo, "allocated_to"), user("bm"))
		self.assertEqual(self.queue(later)["escalated"], 0)
		# the branch manager's escalations name the manager, in the branch manager's language
		todo = rows[0].escalation_todo
		description = frappe.db.get_value("ToDo", todo, "description")
		self.assertRegex(description, r"^Plan Due follow-up for 测试客户 \d{4} is \d+ day\(s\) overdue")
		self.assertIn("assigned to Test rm", description)
		manager = frappe.get_doc("User", user("bm"))
		manager.language = "zh"
		manager.save(ignore_permissions=True)
		self.addCleanup(frappe.db.set_value, "User", user("bm"), "language", None)
		self.assertNotIn("follow-up", frappe.db.get_value("ToDo", todo, "description"))
		self.assertIn("逾期", frappe.db.get_value("ToDo", todo, "description"))

	def test_a_manager_only_sees_follow_ups_of_their_own_customers(self):
		self.queue(branch=None)
		self.assertTrue(open_followups(customer="_T-CRM-0004"))
		self.assertTrue(open_followups(customer="_T-CRM-0006"))
		frappe.set_user(user("rm1"))
		mine = {
			r.customer
			for r in frappe.get_list(
				FOLLOWUP,
				filters={"customer": ("in", tuple(CUSTOMERS))},
				fields=["customer"],
				limit_page_length=0,
			)
		}
		self.assertEqual(mine, {"_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003"})
		todos = frappe.get_list(
			"ToDo",
			filters={"reference_type": PROFILE, "reference_name": ("in", tuple(CUSTOMERS))},
			fields=["allocated_to", "reference_name"],
			limit_page_length=0,
		)
		self.assertTrue(todos)
		self.assertEqual({t.allocated_to for t in todos}, {user("rm1")})
		other = open_followups(customer="_T-CRM-0004")[0]
		self.assertFalse(frappe.has_permission(FOLLOWUP, "read", other.name))
		frappe.set_user(user("bm"))
		self.assertTrue(frappe.has_permission(FOLLOWUP, "read", other.name))
		self.assertFalse(
			frappe.has_permission(FOLLOWUP, "read", open_followups(customer="_T-CRM-0006")[0].name)
		)

	def test_capacity_spreads_a_managers_follow_ups_over_working_days(self):
		frappe.db.set_value("Relationship Manager", user("rm1"), "max_followups_per_day", 1)
		frappe.db.commit()
		self.queue()
		days = [r.scheduled_date for r in open_followups(relationship_manager=user("rm1"))]
		self.assertEqual(len(days), 3)
		self.assertEqual(len(set(days)), 3, "one per day")
		self.assertTrue(all(d.weekday() < 5 for d in days))

	def test_todo_closed_by_hand_closes_the_follow_up(self):
		self.queue()
		row = open_followups(customer="_T-CRM-0004")[0]
		frappe.set_user(user("rm2"))
		todo = frappe.get_doc("ToDo", row.todo)
		todo.status = "Cancelled"
		todo.save()
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value(FOLLOWUP, row.name, ["status", "open_key"]), ("Cancelled", None))

	def test_birthdays_and_festivals_become_care_touches(self):
		birthday = self.next_working_day(frappe.utils.add_days(self.today, 1))
		frappe.db.set_value(PROFILE, "_T-CRM-0002", "date_of_birth", birthday.replace(year=1980))
		settings = frappe.get_single("Branch CRM Settings")
		saved_festivals = [row.as_dict() for row in settings.festivals]
		settings.care_touch_lookahead_days = 3
		settings.set(
			"festivals",
			[
				{
					"festival": "Test Festival",
					"date": birthday,
					"tiers": "",
					"message": "{festival}快乐, {customer_name}",
				}
			],
		)
		settings.save()
		frappe.db.commit()
		try:
			self.queue()
		finally:
			settings.reload()
			settings.set("festivals", saved_festivals)
			settings.save()
			frappe.db.commit()
		care = open_followups(reason="Care Touch")
		# one care touch per customer: the birthday and the festival fall on the same day, the first wins
		self.assertEqual({r.customer for r in care}, BRANCH_A_CUSTOMERS)
		greeting = next(r for r in care if r.customer == "_T-CRM-0002")
		self.assertIn("测试客户 0002", greeting.message)
		self.assertEqual(
			frappe.db.get_value(FOLLOWUP, greeting.name, "due_date"),
			birthday,
			"due on the occasion's working day",
		)

	def test_high_value_customers_at_high_churn_risk_get_a_retention_follow_up(self):
		frappe.db.set_value(
			PROFILE,
			"_T-CRM-0005",
			{
				"churn_band": "High",
				"churn_score": 82,
				"value_class": "MVC",
				"churn_reasons": "AUM down 42% over 3 months",
			},
		)
		frappe.db.set_value(
			PROFILE, "_T-CRM-0004", {"churn_band": "High", "churn_score": 90, "value_class": "BZC"}
		)
		frappe.db.commit()
		self.queue()
		retention = open_followups(reason="Retention")
		self.assertEqual([r.customer for r in retention], ["_T-CRM-0005"])
		self.assertIn("AUM down 42% over 3 months", render_text(retention[0].message, "en"))
		self.assertEqual(frappe.db.get_value("ToDo", retention[0].todo, "priority"), "High")

	def test_a_follow_up_reads_in_the_language_of_whoever_reads_it(self):
		"""Stored coded; the to-do and the bell in the assignee's language, the form in the reader's."""
		frappe.db.set_value(
			PROFILE,
			"_T-CRM-0005",
			{
				"churn_band": "High",
				"churn_score": 82,
				"value_class": "MVC",
				"churn_reasons": '["churn:no_recent_data",{"months":"3"}]',
			},
		)
		frappe.db.set_value("User", user("rm2"), "language", "zh")
		frappe.db.commit()
		started = frappe.utils.now_datetime()
		try:
			self.queue()
		finally:
			frappe.db.set_value("User", user("rm2"), "language", None)
			frappe.db.commit()
		[retention] = open_followups(reason="Retention")
		self.assertTrue(retention.message.startswith('["followup:retention"'), retention.message)
		self.assertEqual(
			frappe.db.get_value("ToDo", retention.todo, "description"),
			"测试客户 0005 存在流失风险：最近3个月无数据",
			"the to-do in its assignee's language, nested reasons included",
		)
		bell = frappe.get_all(
			"Notification Log",
			filters={"for_user": user("rm2"), "creation": (">=", started)},
			pluck="subject",
		)
		self.assertTrue(bell and all("条跟进任务" in subject for subject in bell), bell)
		# the form, as the desk loads it, in each reader's language; the codes stay stored
		for lang, expected in (("en", "No data in the last 3 months"), ("zh", "最近3个月无数据")):
			frappe.set_user(user("rm2"))
			frappe.local.lang = lang
			try:
				frappe.local.response = frappe._dict(docs=[])
				getdoc(FOLLOWUP, retention.name)
				shown = frappe.response.docs[-1]
			finally:
				frappe.set_user("Administrator")
				frappe.local.lang = "en"
			self.assertIn(expected, shown.message, lang)
		self.assertEqual(frappe.db.get_value(FOLLOWUP, retention.name, "message"), retention.message)
		# the assignee switches language (My Settings): their to-dos follow
		manager = frappe.get_doc("User", user("rm2"))
		manager.language = "en"
		manager.save(ignore_permissions=True)
		self.addCleanup(frappe.db.set_value, "User", user("rm2"), "language", None)
		self.assertEqual(
			frappe.db.get_value("ToDo", retention.todo, "description"),
			"Churn risk for 测试客户 0005: No data in the last 3 months",
		)

	def test_do_not_contact_cancels_open_follow_ups_and_queues_none(self):
		self.queue()
		self.assertTrue(open_followups(customer="_T-CRM-0003"))
		frappe.db.set_value(PROFILE, "_T-CRM-0003", "do_not_contact", 1)
		frappe.db.commit()
		result = self.queue()
		self.assertEqual(result["cancelled"], 1)
		self.assertFalse(open_followups(customer="_T-CRM-0003"))
		self.assertFalse(frappe.db.get_value("Contact Plan", "_T-CRM-0003", "next_contact_date"))

	def test_the_job_runs_per_branch_and_a_failing_branch_does_not_stop_the_others(self):
		from unittest.mock import patch

		real = followups.run_branch

		def broken(config, branch, **rows):
			if branch == BRANCH_B:
				raise RuntimeError("boom")
			return real(config, branch, **rows)

		with patch.object(followups, "run_branch", broken):
			result = followups.run(today=str(self.today))
		self.assertIn(BRANCH_B, result["failed_branches"])
		self.assertTrue(open_followups(customer="_T-CRM-0001"))
		self.assertFalse(open_followups(customer="_T-CRM-0006"))
		self.assertTrue(
			frappe.get_all("Error Log", filters={"method": ("like", f"%{BRANCH_B}%")}, limit=1),
			"the failed branch is logged",
		)

	def test_an_ordinary_day_reads_only_the_plans_that_can_need_work(self):
		self.assertTrue(followups.run(today=str(self.today), full=True)["full"])
		again = followups.run(today=str(self.today))
		self.assertFalse(again["full"])
		self.assertEqual((again["created"], again["plans_updated"]), (0, 0))
		# a tier change since is still seen: the plan follows the profile
		tiers = frappe.get_all("Customer Tier", order_by="`rank` desc", pluck="name")
		frappe.db.set_value(PROFILE, "_T-CRM-0002", "tier", tiers[0])
		frappe.db.commit()
		moved = followups.run(today=str(self.today))
		self.assertFalse(moved["full"])
		self.assertEqual(frappe.db.get_value("Contact Plan", "_T-CRM-0002", "tier"), tiers[0])
		# new cadence rules re-plan every plan
		settings = frappe.get_single("Branch CRM Settings")
		rule = settings.cadence_rules[0]
		rule.interval_days += 1
		settings.save()
		frappe.db.commit()
		try:
			self.assertTrue(followups.run(today=str(self.today))["full"])
		finally:
			settings.reload()
			settings.cadence_rules[0].interval_days -= 1
			settings.save()
			frappe.db.commit()

	def test_plans_read_as_one_text_match_the_ordinary_read(self):
		from branch_crm import store

		self.queue()  # plans with dates, intervals and channels
		frappe.db.set_value(PROFILE, "_T-CRM-0002", "customer_name", 'Wang, "Li"\nJr')
		where, values = "p.`name` in %(customers)s", {"customers": tuple(CUSTOMERS)}
		fast = followups.read_plans(where, values).sort_values("customer").reset_index(drop=True)
		plain = store.read_query(f"{followups.PLAN_QUERY} where {where}", values)
		plain = plain.sort_values("customer").reset_index(drop=True)
		self.assertEqual(len(fast), len(CUSTOMERS))
		self.assertTrue(fast["next_contact_date"].map(lambda d: isinstance(d, dt.date)).any())

		def values_of(frame, column):
			if column in followups.PLAN_NUMBERS:
				numbers = pd.to_numeric(frame[column], errors="coerce").astype(float)
				return [None if pd.isna(n) else n for n in numbers]
			return frame[column].tolist()

		for column in followups.PLAN_FIELDS:
			if column != "status":  # read_plans fills the status of a profile without a plan
				self.assertEqual(values_of(fast, column), values_of(plain, column), column)
		frappe.db.rollback()

	def test_a_plan_missing_behind_a_stray_plan_is_still_created(self):
		"""The job counts plans and profiles instead of looking for every missing plan; a plan left by a
		deleted profile must not hide a profile without one."""
		followups.run(today=str(self.today))
		frappe.db.delete("Contact Plan", {"customer": "_T-CRM-0001"})
		frappe.db.sql(
			"""insert into `tabContact Plan` (`name`, `customer`, `status`, `creation`, `modified`)
			values ('_T-CRM-STRAY', '_T-CRM-STRAY', 'Active', now(), now())"""
		)
		frappe.db.commit()
		try:
			self.assertEqual(frappe.db.count("Contact Plan"), frappe.db.count(PROFILE))
			result = followups.run(today=str(self.today))
			self.assertEqual(result["plans_created"], 1)
			self.assertEqual(result["failed_branches"], [])
			self.assertTrue(frappe.db.get_value("Contact Plan", "_T-CRM-0001", "next_contact_date"))
		finally:
			frappe.db.delete("Contact Plan", {"name": "_T-CRM-STRAY"})
			frappe.db.commit()

	def test_needs_screening_follow_ups_are_queued_for_chosen_customers_in_ones_own_book(self):
		from branch_crm.api import queue_follow_ups

		frappe.set_user(user("rm1"))
		result = queue_follow_ups(
			[{"customer": "_T-CRM-0001", "details": "idle deposits, no wealth product"}]
		)
		self.assertEqual(result, {"created": 1, "skipped": []})
		row = open_followups(reason="Needs Screening")[0]
		self.assertEqual((row.customer, row.relationship_manager), ("_T-CRM-0001", user("rm1")))
		self.assertIn("idle deposits, no wealth product", render_text(row.message, "en"))
		self.assertEqual(queue_follow_ups(["_T-CRM-0001"])["created"], 0, "one open per customer and reason")
		with self.assertRaises(frappe.PermissionError):
			queue_follow_ups(["_T-CRM-0004"])

	@staticmethod
	def next_working_day(day: dt.date) -> dt.date:
		while day.weekday() >= 5:
			day = frappe.utils.add_days(day, 1)
		return day

	def test_a_book_never_contacted_is_spread_over_its_first_interval(self):
		customers = tuple(BRANCH_A_CUSTOMERS)
		frappe.db.sql(
			"update `tabBank Customer Profile` set `last_contact_date` = null where `name` in %(c)s",
			{"c": customers},
		)
		frappe.db.commit()
		self.queue()
		plans = frappe.get_all(
			"Contact Plan",
			filters={"customer": ("in", customers)},
			fields=["customer", "next_contact_date", "interval_days"],
		)
		self.assertEqual({p.customer for p in plans}, BRANCH_A_CUSTOMERS)
		for plan in plans:
			# within the first interval (a working day at most a few days past it), not all today
			self.assertGreaterEqual(plan.next_contact_date, self.today)
			self.assertLessEqual(
				plan.next_contact_date, frappe.utils.add_days(self.today, plan.interval_days + 4)
			)
		due_today = {p.customer for p in plans if p.next_contact_date <= self.today}
		self.assertEqual({r.customer for r in open_followups(reason="Plan Due")}, due_today)
		# the next night the dates stay where they are: nothing is re-planned
		dates = {p.customer: p.next_contact_date for p in plans}
		again = self.queue(today=frappe.utils.add_days(self.today, 1))
		self.assertEqual(again["plans_updated"], 0)
		self.assertEqual(
			dict(
				frappe.get_all(
					"Contact Plan",
					filters={"customer": ("in", customers)},
					fields=["customer", "next_contact_date"],
					as_list=True,
				)
			),
			dates,
		)
