# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt
"""Campaigns on a site (docs/campaigns.md), as the real roles use them: the selection previewed with
counts, launched by the admin or the branch manager of the campaign's branch only, the control group
held out, the campaign group's follow-ups queued within capacity, a second launch doing nothing,
members written by the launch only, and Campaign over REST within the role model."""

from __future__ import annotations

import frappe
from frappe.tests.test_api import FrappeAPITestCase

from branch_crm import campaigns, testing
from branch_crm.tests import access_world
from branch_crm.tests.access_world import BRANCH, user

test_ignore = testing.TEST_IGNORE
MEMBER = "Bank Campaign Member"
FOLLOWUP = "Customer Follow-up"
PROFILE = "Bank Customer Profile"
CUSTOMERS = tuple(access_world.CUSTOMERS)


def new_campaign(key: str = "admin", branch: str | None = BRANCH, **values) -> str:
	"""A campaign made through the insert as ``key``'s user."""
	frappe.set_user(user(key) if key != "test_bm" else testing.user("bm"))
	try:
		doc = frappe.get_doc(
			{
				"doctype": "Campaign",
				"campaign_name": f"_Test Campaign {frappe.generate_hash(length=6)}",
				"bank_campaign_branch": branch,
				"bank_target_category": "Wealth Management",
				"bank_control_share": 30,
				**values,
			}
		).insert()
		return doc.name
	finally:
		frappe.set_user("Administrator")


def as_user(key: str, function, *args, **kwargs):
	frappe.set_user(user(key) if key != "test_bm" else testing.user("bm"))
	try:
		return function(*args, **kwargs)
	finally:
		frappe.set_user("Administrator")


def members(campaign: str) -> dict[str, str]:
	return dict(
		frappe.get_all(
			MEMBER, filters={"campaign": campaign}, fields=["customer", "campaign_group"], as_list=True
		)
	)


def campaign_followups(campaign: str) -> list[frappe._dict]:
	return frappe.get_all(
		FOLLOWUP,
		filters={"campaign": campaign},
		fields=["name", "customer", "reason", "status", "relationship_manager", "scheduled_date", "todo"],
	)


class TestCampaigns(FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		access_world.make()
		cls.headers = {}
		# the site's campaign custom fields and rights (install / migrate made them; a test site too)
		campaigns.ensure_setup()

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.db.delete(FOLLOWUP, {"customer": ("in", CUSTOMERS)})
		frappe.db.delete("ToDo", {"reference_type": PROFILE, "reference_name": ("in", CUSTOMERS)})
		frappe.db.sql(
			"""update `tabBank Customer Profile` set `do_not_contact` = 0, `channel_preference` = null,
			`status` = 'Active' where `name` in %(c)s""",
			{"c": CUSTOMERS},
		)

	def tearDown(self):
		frappe.set_user("Administrator")
		super().tearDown()

	def test_preview_counts_per_branch_and_tier_with_exclusions(self):
		frappe.db.set_value(PROFILE, "_T-ACC-0002", "do_not_contact", 1)
		frappe.db.set_value(PROFILE, "_T-ACC-0003", "channel_preference", "Visit")
		frappe.db.set_value(PROFILE, "_T-ACC-0004", "channel_preference", "Phone")
		name = new_campaign("bm", bank_channel_phone=1, bank_channel_sms=1)
		counts = as_user("bm", campaigns.preview, name)
		self.assertEqual(counts["matched"], len(CUSTOMERS))
		self.assertEqual(counts["excluded"], {"closed": 0, "do_not_contact": 1, "channel": 1})
		self.assertEqual(counts["eligible"], len(CUSTOMERS) - 2)
		self.assertEqual([row["value"] for row in counts["by_branch"]], [BRANCH])
		self.assertEqual(sum(row["customers"] for row in counts["by_tier"]), counts["eligible"])
		# a relationship manager previews within their own book
		mine = as_user("rm", campaigns.preview, name)
		self.assertEqual(mine["matched"], len(access_world.book("rm")))
		self.assertEqual(mine["excluded"]["do_not_contact"], 1)

	def test_who_may_launch(self):
		name = new_campaign("bm")
		for key in ("teller", "lobby", "rm", "pb", "integration", "sales", "desk"):
			with self.assertRaises(frappe.PermissionError, msg=key):
				as_user(key, campaigns.launch, name)
		# the branch manager of another branch neither reads nor launches it
		with self.assertRaises(frappe.PermissionError):
			as_user("test_bm", campaigns.launch, name)
		self.assertEqual(frappe.db.get_value("Campaign", name, "bank_campaign_status"), "Draft")
		self.assertFalse(members(name))
		# a branch manager's own campaign, and never one of every branch
		self.assertTrue(as_user("bm", campaigns.launch, name)["launched"])
		network = new_campaign("admin", branch=None)
		with self.assertRaises(frappe.PermissionError):
			as_user("bm", campaigns.launch, network)
		# a branch manager makes campaigns for their own branch only
		with self.assertRaises(frappe.PermissionError):
			new_campaign("bm", branch=testing.BRANCH_A)
		with self.assertRaises(frappe.PermissionError):
			new_campaign("rm")

	def test_the_form_offers_only_what_the_reader_may_do(self):
		# the desk's form rights come from the roles (a branch manager's role writes Campaigns);
		# the campaign's onload says what this reader may do with this one, for Save and Launch
		from frappe.desk.form.load import run_onload

		def offered(key: str, name: str) -> tuple[bool, bool]:
			def load():
				doc = frappe.get_doc("Campaign", name)
				frappe.clear_messages()
				run_onload(doc)
				# asking shows the reader nothing (no "not allowed" message on opening the form)
				self.assertEqual(frappe.get_message_log(), [], key)
				return doc.get_onload().bank_may_write, doc.get_onload().bank_may_launch

			return as_user(key, load)

		mine = new_campaign("bm")
		network = new_campaign("admin", branch=None)
		self.assertEqual(offered("bm", mine), (True, True))
		self.assertEqual(offered("bm", network), (False, False))
		self.assertEqual(offered("admin", network), (True, True))
		for key in ("rm", "pb", "lobby"):
			self.assertEqual(offered(key, mine), (False, False), key)

	def test_launch_holds_out_the_control_group_and_queues_follow_ups_for_the_campaign_group(self):
		frappe.db.set_value(PROFILE, "_T-ACC-0007", "do_not_contact", 1)
		name = new_campaign("bm", bank_control_share=30, bank_follow_up_message="稳健理财")
		result = as_user("bm", campaigns.launch, name)
		drawn = members(name)
		self.assertEqual(set(drawn), set(CUSTOMERS) - {"_T-ACC-0007"})
		control = {c for c, g in drawn.items() if g == "Control"}
		reached = {c for c, g in drawn.items() if g == "Campaign"}
		self.assertEqual((result["campaign_group"], result["control_group"]), (len(reached), len(control)))
		self.assertTrue(control and reached)
		doc = frappe.get_doc("Campaign", name)
		self.assertEqual((doc.bank_campaign_status, doc.bank_launched_by), ("Launched", user("bm")))
		self.assertTrue(doc.bank_draw_seed)
		# the draw is the engine's, re-derived from the stored seed
		from branch_crm.engine.campaigns import draw_control

		frame = frappe.get_all(MEMBER, filters={"campaign": name}, fields=["customer", "branch", "tier"])
		import pandas as pd

		frame = pd.DataFrame([dict(row) for row in frame]).fillna("")
		again = draw_control(frame, 0.30, doc.bank_draw_seed)
		self.assertEqual(set(frame.loc[again == "Control", "customer"]), control)
		# follow-ups for the campaign group only, to each customer's manager, with a to-do
		followups = campaign_followups(name)
		self.assertEqual({f.customer for f in followups}, reached)
		self.assertTrue(all(f.reason == "Campaign" and f.status == "Open" and f.todo for f in followups))
		self.assertFalse(
			frappe.db.exists("ToDo", {"reference_type": PROFILE, "reference_name": ("in", tuple(control))})
		)
		self.assertEqual(doc.bank_follow_ups_queued, len(followups))
		linked = frappe.get_all(
			MEMBER, filters={"campaign": name, "campaign_group": "Campaign"}, pluck="follow_up"
		)
		self.assertEqual(set(linked), {str(f.name) for f in followups})
		message = frappe.db.get_value(FOLLOWUP, followups[0].name, "message")
		self.assertIn(doc.campaign_name, message)
		# launching again does nothing again
		again = as_user("bm", campaigns.launch, name)
		self.assertFalse(again["launched"])
		self.assertEqual(members(name), drawn)
		self.assertEqual(len(campaign_followups(name)), len(followups))
		# the selection is fixed once launched; the message may still change
		frappe.set_user(user("bm"))
		doc = frappe.get_doc("Campaign", name)
		doc.bank_control_share = 50
		with self.assertRaisesRegex(frappe.ValidationError, "cannot change any more"):
			doc.save()
		doc.reload()
		doc.bank_follow_up_message = "新话术"
		doc.save()

	def test_follow_ups_stay_within_each_managers_capacity(self):
		frappe.db.set_value("Relationship Manager", user("rm"), "max_followups_per_day", 1)
		name = new_campaign("admin", bank_control_share=0)
		as_user("admin", campaigns.launch, name)
		self.assertEqual(set(members(name).values()), {"Campaign"})
		followups = campaign_followups(name)
		mine = [f for f in followups if f.relationship_manager == user("rm")]
		self.assertEqual(len(mine), len(access_world.book("rm")))
		self.assertEqual(len({f.scheduled_date for f in mine}), len(mine), "one a day for rm")
		# a customer's open campaign follow-up is not doubled by a second campaign
		other = new_campaign("admin", bank_control_share=0)
		as_user("admin", campaigns.launch, other)
		self.assertFalse(campaign_followups(other))
		self.assertEqual(len(members(other)), len(members(name)))

	def test_a_large_selection_launches_once_on_the_long_queue(self):
		from unittest.mock import patch

		name = new_campaign("bm")
		with (
			patch.object(campaigns, "LAUNCH_IN_BACKGROUND", 2),
			patch.object(frappe, "enqueue") as enqueue,
			patch.object(frappe.db, "commit"),
		):
			queued = as_user("bm", campaigns.launch, name)
			again = as_user("bm", campaigns.launch, name)
		self.assertTrue(queued["queued"])
		self.assertEqual((queued["status"], again["status"]), ("Launching", "Launching"))
		self.assertFalse(again.get("queued"))
		enqueue.assert_called_once()
		kwargs = enqueue.call_args.kwargs
		self.assertEqual(enqueue.call_args.args, ("branch_crm.campaigns.run_launch_job",))
		self.assertEqual(
			(kwargs["queue"], kwargs["job_id"], kwargs["deduplicate"], kwargs["campaign"]),
			("long", f"branch_crm:launch_campaign:{name}", True, name),
		)
		self.assertFalse(members(name))
		# the job itself, as the worker runs it
		with patch.object(frappe.db, "commit"):
			campaigns.run_launch_job(name, user=user("bm"))
		self.assertEqual(frappe.db.get_value("Campaign", name, "bank_campaign_status"), "Launched")
		self.assertEqual(len(members(name)), len(CUSTOMERS))

	def test_members_are_written_by_the_launch_only(self):
		name = new_campaign("admin")
		as_user("admin", campaigns.launch, name)
		row = frappe.get_all(MEMBER, filters={"campaign": name}, pluck="name", limit=1)[0]
		doc = frappe.get_doc(MEMBER, row)
		doc.campaign_group = "Campaign" if doc.campaign_group == "Control" else "Control"
		with self.assertRaises(frappe.PermissionError):
			doc.save()
		# members follow the profile: a relationship manager reads their own book's only
		frappe.set_user(user("rm"))
		seen = set(frappe.get_list(MEMBER, filters={"campaign": name}, pluck="customer"))
		self.assertEqual(seen, access_world.book("rm") & set(members(name)))

	# ------------------------------------------------------------ REST

	def auth(self, key: str) -> dict:
		if key not in self.headers:
			self.headers[key] = testing.api_headers(user(key) if key != "test_bm" else testing.user("bm"))
		return self.headers[key]

	def test_rest_campaigns_follow_the_role_model(self):
		# requests run on connections of their own: what they read is committed, so this test starts
		# from what is committed (nothing of the tests before it) and removes what it commits
		frappe.db.rollback()
		self.setUp()
		mine = new_campaign("bm")
		network = new_campaign("admin", branch=None)
		elsewhere = new_campaign("test_bm", branch=testing.BRANCH_A)
		frappe.db.commit()
		self.addCleanup(self._drop, mine, network, elsewhere)
		listed = self.get(self.resource("Campaign"), {"limit_page_length": 0}, headers=self.auth("bm"))
		self.assertEqual(listed.status_code, 200, listed.text[:300])
		names = {row["name"] for row in listed.json["data"]}
		self.assertTrue({mine, network} <= names)
		self.assertNotIn(elsewhere, names)
		self.assertEqual(
			self.get(self.resource("Campaign", elsewhere), headers=self.auth("bm")).status_code, 403
		)
		self.assertEqual(self.get(self.resource("Campaign", mine), headers=self.auth("rm")).status_code, 200)
		for key in ("teller", "integration"):
			self.assertIn(
				self.get(self.resource("Campaign", mine), headers=self.auth(key)).status_code, (401, 403), key
			)
		# a relationship manager reads but does not change it; the branch manager does
		self.assertEqual(
			self.put(
				self.resource("Campaign", mine), {"description": "x"}, headers=self.auth("rm")
			).status_code,
			403,
		)
		self.assertEqual(
			self.put(
				self.resource("Campaign", mine), {"description": "新描述"}, headers=self.auth("bm")
			).status_code,
			200,
		)
		# and cannot move it to another branch
		self.assertEqual(
			self.put(
				self.resource("Campaign", mine),
				{"bank_campaign_branch": testing.BRANCH_A},
				headers=self.auth("bm"),
			).status_code,
			403,
		)
		# what the launch records is the launch's: a request that sends it changes nothing of it
		forged = self.put(
			self.resource("Campaign", mine),
			{"bank_campaign_status": "Launched", "bank_draw_seed": "chosen", "bank_campaign_members": 9},
			headers=self.auth("bm"),
		)
		self.assertEqual(forged.status_code, 200, forged.text[:300])
		self.assertEqual(
			(forged.json["data"]["bank_campaign_status"], forged.json["data"].get("bank_draw_seed")),
			("Draft", None),
		)
		# the launch over REST: refused to a relationship manager, done once for the branch manager
		launch = "branch_crm.campaigns.launch"
		self.assertEqual(
			self.post(self.method(launch), {"campaign": mine}, headers=self.auth("rm")).status_code, 403
		)
		first = self.post(self.method(launch), {"campaign": mine}, headers=self.auth("bm"))
		self.assertEqual(first.status_code, 200, first.text[:300])
		self.assertTrue(first.json["message"]["launched"])
		second = self.post(self.method(launch), {"campaign": mine}, headers=self.auth("bm"))
		self.assertFalse(second.json["message"]["launched"])

	def _drop(self, *names):
		frappe.set_user("Administrator")
		frappe.db.rollback()
		for name in names:
			todos = frappe.get_all(FOLLOWUP, filters={"campaign": name}, pluck="todo")
			frappe.db.delete("ToDo", {"name": ("in", todos or [""])})
			frappe.db.delete(FOLLOWUP, {"campaign": name})
			frappe.db.delete(MEMBER, {"campaign": name})
			frappe.delete_doc("Campaign", name, force=True, ignore_permissions=True)
		frappe.db.commit()
