"""Each role's workspace, walked as the desk walks it: the page (``get_desktop_page``), then every
number card, chart, shortcut, link and quick list it offers, each through the endpoint its widget
calls. Requests go through Frappe's whole request cycle (werkzeug test client, token auth), so the
row rules, perm levels and guards apply as on a live site: nothing offered may be refused, and the
counts are the user's book or branch."""

from __future__ import annotations

import json

import frappe
from frappe.tests.test_api import FrappeAPITestCase

from branch_crm import testing
from branch_crm.staff import FRONT_DESK_WORKSPACE, WORKSPACE, WORKSPACE_ROLES
from branch_crm.tests import access_world
from branch_crm.tests.access_world import BRANCH, book, user

PROFILE = "Bank Customer Profile"
FOLLOW_UP = "Customer Follow-up"
LANDING = {
	"bm": WORKSPACE,
	"rm": WORKSPACE,
	"pb": WORKSPACE,
	"admin": WORKSPACE,
	"lobby": FRONT_DESK_WORKSPACE,
	"teller": FRONT_DESK_WORKSPACE,
}
# what each role's day shows, at least (cards and charts of records it may not read stay away)
MANAGER_DAY = {"My Customers", "High Churn Risk", "Needs to Act On", "Follow-ups Due Today", "AUM by Tier"}
FRONT_DESK_DAY = {"Branch Customers", "Customers in My Book", "Customers by Tier"}
LOBBY_DAY = FRONT_DESK_DAY | {"Follow-ups Due Today", "Overdue Follow-ups", "Open Follow-ups by Reason"}
SENSITIVE = {"High Churn Risk", "Needs to Act On", "AUM by Tier"}
RUN_LOG_WIDGETS = {"Last Night's Run", "Latest Job Runs"}


def dynamic_value(expression: str, email: str):
	"""The value the desk computes for a dynamic filter (JavaScript, evaluated in the browser)."""
	values = {"frappe.session.user": email, "frappe.datetime.get_today()": frappe.utils.today()}
	if expression not in values:
		raise AssertionError(f"a dynamic filter this test cannot evaluate: {expression}")
	return values[expression]


def card_filters(doc: dict, email: str) -> list:
	"""``frappe.dashboard_utils.get_all_filters``: the stored filters plus the dynamic ones."""
	filters = json.loads(doc.get("filters_json") or "[]")
	dynamic = json.loads(doc.get("dynamic_filters_json") or "[]")
	return filters + [[*f[:3], dynamic_value(f[3], email)] for f in dynamic]


def shortcut_filters(stats_filter: str | None, email: str) -> dict | None:
	"""A shortcut's count filter is a JavaScript object literal; the session user is its only
	expression."""
	if not stats_filter:
		return None
	return json.loads(stats_filter.replace("frappe.session.user", json.dumps(email)))


class TestWorkspaces(FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		access_world.make()
		cls.headers = {}

	def tearDown(self):
		frappe.set_user("Administrator")
		super().tearDown()

	def call(self, key: str, _method: str, **params):
		if key not in self.headers:
			self.headers[key] = testing.api_headers(user(key))
		params = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
		return self.post(self.method(_method), params, headers=self.headers[key])

	def ok(self, response, what: str):
		self.assertEqual(response.status_code, 200, f"{what}: {response.text[:400]}")
		return response.json.get("message")

	def walk(self, key: str) -> dict:
		"""Open the role's landing workspace and every widget on it; the values by label."""
		email = user(key)
		name = frappe.db.get_value("User", email, "default_workspace")
		page = self.ok(
			self.call(
				key,
				"frappe.desk.desktop.get_desktop_page",
				page=json.dumps({"name": name, "title": name, "public": 1}),
			),
			f"{key}: workspace {name}",
		)
		values = {}
		for item in page["number_cards"]["items"]:
			label = item["number_card_name"]
			doc = self.getdoc(key, "Number Card", label)
			if doc["type"] == "Custom":
				values[label] = self.ok(self.call(key, doc["method"], filters="{}"), f"{key}: {label}")
				continue
			values[label] = self.ok(
				self.call(
					key,
					"frappe.desk.doctype.number_card.number_card.get_result",
					doc=json.dumps(doc, default=str),
					filters=json.dumps(card_filters(doc, email)),
				),
				f"{key}: card {label}",
			)
		for item in page["charts"]["items"]:
			label = item["chart_name"]
			chart = self.getdoc(key, "Dashboard Chart", label)
			values[label] = self.ok(
				self.call(
					key,
					"frappe.desk.doctype.dashboard_chart.dashboard_chart.get",
					chart_name=label,
					filters=json.dumps(card_filters(chart, email)),
					refresh=1,
				),
				f"{key}: chart {label}",
			)
		for item in page["quick_lists"]["items"]:
			self.open_doctype(key, item["document_type"])
			values[item["label"]] = True
		for item in page["shortcuts"]["items"]:
			self.open_target(key, item["type"], item["link_to"])
			filters = shortcut_filters(item.get("stats_filter"), email)
			if filters is not None:
				values[item["label"]] = self.ok(
					self.call(key, "frappe.client.get_count", doctype=item["link_to"], filters=filters),
					f"{key}: shortcut count {item['label']}",
				)
			else:
				values.setdefault(item["label"], True)
		for card in page["cards"]["items"]:
			for link in card["links"]:
				self.open_target(key, link["link_type"], link["link_to"])
		return values

	def getdoc(self, key: str, doctype: str, name: str) -> dict:
		"""``frappe.model.with_doc``, as a widget loads its definition."""
		response = self.call(key, "frappe.desk.form.load.getdoc", doctype=doctype, name=name)
		self.ok(response, f"{key}: {doctype} {name}")
		return response.json["docs"][0]

	def open_target(self, key: str, kind: str, target: str) -> None:
		"""What the desk calls when a shortcut or link is opened."""
		if kind == "Report":
			self.ok(
				self.call(key, "frappe.desk.query_report.get_script", report_name=target),
				f"{key}: report {target}",
			)
		elif kind == "DocType":
			self.open_doctype(key, target)
		else:
			raise AssertionError(f"{key}: a {kind} shortcut this test does not open: {target}")

	def open_doctype(self, key: str, doctype: str) -> None:
		if frappe.get_meta(doctype).issingle:
			self.getdoc(key, doctype, doctype)
			return
		self.ok(
			self.call(key, "frappe.desk.reportview.get", doctype=doctype, fields=["name"], page_length=1),
			f"{key}: list {doctype}",
		)

	# ------------------------------------------------------------------ tests

	def test_each_role_lands_on_the_workspace_of_its_role_family(self):
		for key, workspace in LANDING.items():
			with self.subTest(key):
				self.assertEqual(frappe.db.get_value("User", user(key), "default_workspace"), workspace)
				sidebar = self.ok(
					self.call(key, "frappe.desk.desktop.get_workspace_sidebar_items"), f"{key}: sidebar"
				)
				ours = {page["name"] for page in sidebar["pages"]} & set(WORKSPACE_ROLES)
				self.assertEqual(ours, {workspace})
				if key != "admin":
					# branch staff's sidebar is their day, not ERPNext's Accounting, Quality, Website…
					self.assertEqual({page["name"] for page in sidebar["pages"]}, {workspace}, key)
		for key in ("integration", "sales"):
			self.assertFalse(frappe.db.get_value("User", user(key), "default_workspace"), key)

	def test_the_workspaces_admit_the_roles_that_land_on_them(self):
		for workspace, roles in WORKSPACE_ROLES.items():
			stored = {row.role for row in frappe.get_doc("Workspace", workspace).roles}
			self.assertEqual(stored, set(roles), workspace)

	def test_every_widget_opens_for_each_role_and_counts_its_scope(self):
		frappe.set_user("Administrator")
		not_closed = {"status": ("!=", "Closed")}
		branch_count = frappe.db.count(PROFILE, {**not_closed, "branch": BRANCH})
		seen = {}
		for key in LANDING:
			with self.subTest(key):
				seen[key] = self.walk(key)

		for key in ("bm", "rm", "pb", "admin"):
			self.assertLessEqual(MANAGER_DAY, set(seen[key]), key)
		self.assertLessEqual(LOBBY_DAY, set(seen["lobby"]))
		self.assertLessEqual(FRONT_DESK_DAY, set(seen["teller"]))
		for key in ("lobby", "teller"):
			self.assertFalse(SENSITIVE & set(seen[key]), key)
		# a teller reads no follow-ups: none of their cards or charts is offered
		self.assertFalse({label for label in seen["teller"] if "Follow-up" in label})
		for key in ("bm", "rm", "pb", "lobby", "teller"):
			self.assertFalse(RUN_LOG_WIDGETS & set(seen[key]), key)
		self.assertLessEqual(RUN_LOG_WIDGETS, set(seen["admin"]))
		self.assertIn("jobs ran", seen["admin"]["Last Night's Run"])

		# the counts are the user's book or branch: the row rules scope the cards
		for key in ("rm", "pb"):
			in_book = {**not_closed, "relationship_manager": user(key)}
			self.assertEqual(seen[key]["My Customers"], frappe.db.count(PROFILE, in_book), key)
			self.assertEqual(seen[key]["My Customers"], len(book(key)), key)
			aum = seen[key]["AUM by Tier"]
			stored = frappe.get_all(PROFILE, {**in_book, "tier": ("is", "set")}, pluck="aum")
			self.assertAlmostEqual(
				sum(aum["datasets"][0]["values"]) if aum else 0, sum(a or 0 for a in stored), places=2
			)
		self.assertEqual(seen["bm"]["My Customers"], branch_count)
		self.assertEqual(seen["teller"]["Branch Customers"], branch_count)
		self.assertEqual(seen["teller"]["Customers in My Book"], len(book("teller")))
		self.assertEqual(seen["admin"]["My Customers"], frappe.db.count(PROFILE, not_closed))

	def make_follow_ups(self, *rows) -> None:
		"""Open follow-ups (customer, scheduled days from today, due days from today) as the daily
		job queues them; removed after the test."""
		today = frappe.utils.getdate(frappe.utils.today())
		made = []
		for customer, scheduled, due in rows:
			made.append(
				frappe.get_doc(
					{
						"doctype": FOLLOW_UP,
						"customer": customer,
						"reason": "Care Touch",
						"status": "Open",
						"scheduled_date": frappe.utils.add_days(today, scheduled),
						"due_date": frappe.utils.add_days(today, due),
						"relationship_manager": user(access_world.CUSTOMERS[customer]),
						"branch": BRANCH,
						"open_key": f"{customer}|Care Touch|workspace-test",
					}
				)
				.insert(ignore_permissions=True)
				.name
			)
		frappe.db.commit()
		self.addCleanup(lambda: (frappe.db.delete(FOLLOW_UP, {"name": ("in", made)}), frappe.db.commit()))

	def test_follow_up_cards_count_the_users_own_due_and_overdue(self):
		today = frappe.utils.today()
		# rm: one due today, one left from three days ago; rm_other: one due today
		self.make_follow_ups(("_T-ACC-0001", 0, 0), ("_T-ACC-0002", -3, -3), ("_T-ACC-0003", 0, 0))

		def stored(key: str, **filters) -> int:
			return frappe.db.count(
				FOLLOW_UP, {"status": "Open", "relationship_manager": user(key), **filters}
			)

		for key, due_today, overdue in (("rm", 1, 1), ("rm_other", 1, 0), ("bm", 0, 0)):
			with self.subTest(key):
				seen = self.walk(key)
				# the user's own: what this test made, and whatever else is open in their name
				self.assertEqual(seen["Follow-ups Due Today"], stored(key, scheduled_date=today))
				self.assertEqual(seen["Overdue Follow-ups"], stored(key, due_date=("<", today)))
				self.assertEqual(seen["My Open Follow-ups"], stored(key))
				self.assertGreaterEqual(seen["Follow-ups Due Today"], due_today)
				self.assertGreaterEqual(seen["Overdue Follow-ups"], overdue)
		# the branch manager's own list holds none of them; the branch chart counts all three
		bm = self.walk("bm")
		reasons = bm["Open Follow-ups by Reason"]
		counts = dict(zip(reasons["labels"], reasons["datasets"][0]["values"], strict=True))
		self.assertGreaterEqual(counts.get("Care Touch", 0), 3)

	def test_what_the_front_desk_is_not_offered_it_could_not_open(self):
		"""Why tellers and lobby managers have a workspace of their own: the managers' cards filter
		and sum on computed-sensitive fields (level 4), which the query guard refuses them."""
		for key in ("lobby", "teller"):
			for card in ("High Churn Risk", "Needs to Act On"):
				doc = frappe.get_doc("Number Card", card).as_dict()
				response = self.call(
					key,
					"frappe.desk.doctype.number_card.number_card.get_result",
					doc=json.dumps(doc, default=str),
					filters=json.dumps(card_filters(doc, user(key))),
				)
				self.assertIn(response.status_code, (401, 403), f"{key}: {card}")
		self.assertIn(self.call("bm", "branch_crm.workspace_cards.last_night_run").status_code, (401, 403))

	def test_chart_groups_are_in_the_readers_language(self):
		from frappe.translate import get_all_translations

		self.make_follow_ups(("_T-ACC-0001", 0, 0))
		chart = self.ok(
			self.call(
				"bm",
				"frappe.desk.doctype.dashboard_chart.dashboard_chart.get",
				chart_name="Open Follow-ups by Reason",
				refresh=1,
				# a desk session answers in the user's language; token auth resolves it before the
				# user is known, so the test asks for it as the language switcher would
				_lang="zh",
			),
			"bm: chart",
		)
		care_touch = get_all_translations("zh")["Care Touch"]
		self.assertIn(care_touch, chart["labels"])
		self.assertNotIn("Care Touch", chart["labels"])
