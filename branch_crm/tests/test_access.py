"""The access model over the endpoints the desk and REST really call, as each role and as an
attacker would (docs/security.md). Requests go through Frappe's whole request cycle (werkzeug test
client, token auth), so hooks, overrides and guards run as they do on a live site."""

from __future__ import annotations

import json

import frappe
from frappe.tests.test_api import FrappeAPITestCase

from branch_crm import testing
from branch_crm.tests import access_world
from branch_crm.tests.access_world import BRANCH, OTHER_BRANCH, book, user

PROFILE = "Bank Customer Profile"
HOLDING = "Customer Product Holding"


class AccessTestCase(FrappeAPITestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		access_world.make()
		cls.headers = {}

	def tearDown(self):
		frappe.set_user("Administrator")
		super().tearDown()

	def auth(self, key: str) -> dict:
		if key not in self.headers:
			self.headers[key] = testing.api_headers(user(key))
		return self.headers[key]

	def call(self, key: str, _method: str, **params):
		return self.post(self.method(_method), params, headers=self.auth(key))

	def workflow(self, key: str, doc: dict, action: str):
		"""``apply_workflow`` as the desk's action menu calls it; the raw response."""
		return self.call(key, "frappe.model.workflow.apply_workflow", doc=json.dumps(doc), action=action)

	def resource_list(self, key: str, doctype: str, **params):
		params.setdefault("limit_page_length", 0)
		return self.get(self.resource(doctype), params, headers=self.auth(key))

	def names(self, response, field: str = "name") -> set:
		self.assertEqual(response.status_code, 200, response.text[:300])
		data = response.json.get("data", response.json.get("message"))
		if isinstance(data, dict) and "keys" in data:
			data = [dict(zip(data["keys"], values, strict=True)) for values in data["values"]]
		return {row[field] for row in data}

	def assertRefused(self, response):
		self.assertIn(response.status_code, (401, 403), response.text[:300])


class TestReadPaths(AccessTestCase):
	"""Leak classes 1-7 of issue 14, each over the path that leaked."""

	def test_counts_follow_the_row_rules(self):
		mine = self.call(
			"rm", "frappe.client.get_count", doctype=PROFILE, filters={"name": ["like", "_T-ACC-%"]}
		)
		self.assertEqual(mine.json["message"], len(book("rm")))
		other = self.call(
			"rm",
			"frappe.client.get_count",
			doctype=PROFILE,
			filters={"relationship_manager": user("rm_other")},
		)
		self.assertEqual(other.json["message"], 0)
		# no CRM role: no count, so no ID-number oracle either
		self.assertRefused(
			self.call("desk", "frappe.client.get_count", doctype=PROFILE, filters={"id_number": "x"})
		)

	def test_assignment_counts_cover_only_own_todos_of_readable_records(self):
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": user("rm_other"),
				"reference_type": PROFILE,
				"reference_name": "_T-ACC-0001",
				"description": "colleague's to-do on rm's customer",
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		self.addCleanup(
			lambda: (frappe.db.delete("ToDo", {"allocated_to": user("rm_other")}), frappe.db.commit())
		)
		counts = self.call(
			"rm",
			"frappe.desk.listview.get_group_by_count",
			doctype=PROFILE,
			current_filters=json.dumps([]),
			field="assigned_to",
		)
		self.assertEqual(counts.status_code, 200)
		self.assertFalse({row["name"] for row in counts.json["message"]} - {user("rm")})
		self.assertRefused(
			self.call(
				"desk",
				"frappe.desk.listview.get_group_by_count",
				doctype=PROFILE,
				current_filters=json.dumps([["id_number", "=", "x"]]),
				field="assigned_to",
			)
		)

	def test_hidden_fields_cannot_filter_sort_or_group(self):
		for params in (
			{"filters": json.dumps([["churn_score", ">=", 60]])},
			{"filters": json.dumps([["id_number", "like", "1101%"]])},
			{"order_by": "`tabBank Customer Profile`.`churn_score` desc"},
			{"or_filters": json.dumps([["mobile_no", "like", "139%"]])},
		):
			response = self.call(
				"teller",
				"frappe.desk.reportview.get",
				doctype=PROFILE,
				fields=json.dumps(["`tabBank Customer Profile`.`name`"]),
				**params,
			)
			self.assertRefused(response)
		# nor through a linked record: a lobby manager's follow-ups ranked by the customers' churn
		self.assertRefused(
			self.call(
				"lobby",
				"frappe.desk.reportview.get",
				doctype="Customer Follow-up",
				fields=json.dumps(
					["`tabCustomer Follow-up`.`name`", "customer.customer_name as customer_customer_name"]
				),
				order_by="`tabBank Customer Profile_1`.`churn_score` desc",
			)
		)
		self.assertRefused(
			self.call(
				"teller",
				"frappe.desk.listview.get_group_by_count",
				doctype=PROFILE,
				current_filters="[]",
				field="churn_band",
			)
		)
		# the relationship manager reads churn, so may filter and sort by it
		allowed = self.call(
			"rm",
			"frappe.desk.reportview.get",
			doctype=PROFILE,
			fields=json.dumps(["`tabBank Customer Profile`.`name`"]),
			filters=json.dumps([["churn_score", ">=", 0]]),
			order_by="`tabBank Customer Profile`.`churn_score` desc",
		)
		self.assertEqual(self.names(allowed) & set(access_world.CUSTOMERS), book("rm"))

	def test_search_ignores_ignore_user_permissions_and_hidden_columns(self):
		found = self.call(
			"rm",
			"frappe.desk.search.search_widget",
			doctype=PROFILE,
			txt="权限客户",
			ignore_user_permissions=1,
			as_dict=1,
			page_length=50,
		)
		self.assertEqual({row["name"] for row in found.json["message"]}, book("rm"))
		teller = self.call(
			"teller",
			"frappe.desk.search.search_widget",
			doctype=PROFILE,
			txt="权限客户",
			searchfield="id_number",
			filter_fields=json.dumps(["mobile_no", "aum", "churn_score"]),
			ignore_user_permissions=1,
			as_dict=1,
			page_length=50,
		)
		rows = teller.json["message"]
		self.assertEqual({row["name"] for row in rows}, set(access_world.CUSTOMERS))
		self.assertFalse(
			[f for row in rows for f in ("id_number", "mobile_no", "aum", "churn_score") if f in row]
		)
		link = self.call(
			"rm", "frappe.desk.search.search_link", doctype=PROFILE, txt="权限客户", page_length=50
		)
		self.assertEqual({row["value"] for row in link.json["message"]}, book("rm"))

	def test_linked_records_do_not_travel(self):
		frappe.db.set_value(PROFILE, "_T-ACC-0001", "referred_by_customer", "_T-CRM-0001")
		frappe.db.commit()
		self.addCleanup(
			lambda: (
				frappe.db.set_value(PROFILE, "_T-ACC-0001", "referred_by_customer", None),
				frappe.db.commit(),
			)
		)
		self.assertRefused(
			self.get(self.resource(PROFILE, "_T-ACC-0001"), {"expand_links": 1}, headers=self.auth("rm"))
		)
		# a linked record comes through its own row rules: another branch's referrer joins as empty
		fields = json.dumps(["name", "referred_by_customer.customer_name as referrer"])
		joined = self.resource_list(
			"rm", PROFILE, fields=fields, filters=json.dumps([["name", "=", "_T-ACC-0001"]])
		)
		self.assertEqual(joined.json["data"], [{"name": "_T-ACC-0001", "referrer": None}])
		frappe.db.set_value(PROFILE, "_T-ACC-0001", "referred_by_customer", "_T-ACC-0002")
		frappe.db.commit()
		own = self.resource_list(
			"rm", PROFILE, fields=fields, filters=json.dumps([["name", "=", "_T-ACC-0001"]])
		)
		self.assertEqual(own.json["data"], [{"name": "_T-ACC-0001", "referrer": "权限客户 0002"}])
		# the list view joins the customer's name so: a lobby manager's follow-up list works
		frappe.get_doc(
			{
				"doctype": "Customer Follow-up",
				"customer": "_T-ACC-0002",
				"reason": "Needs Screening",
				"status": "Open",
				"scheduled_date": frappe.utils.today(),
				"due_date": frappe.utils.today(),
				"relationship_manager": user("rm"),
				"branch": BRANCH,
				"open_key": "_T-ACC-0002|link test",
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		self.addCleanup(
			lambda: (
				frappe.db.delete("Customer Follow-up", {"open_key": "_T-ACC-0002|link test"}),
				frappe.db.commit(),
			)
		)
		listed = self.call(
			"lobby",
			"frappe.desk.reportview.get",
			doctype="Customer Follow-up",
			fields=json.dumps(
				[
					"`tabCustomer Follow-up`.`name`",
					"`tabCustomer Follow-up`.`customer`",
					"customer.customer_name as customer_customer_name",
				]
			),
		)
		self.assertEqual(listed.status_code, 200, listed.text[:300])
		self.assertTrue(self.names(listed, "customer_customer_name") - {None})
		# the plain read still works
		plain = self.get(self.resource(PROFILE, "_T-ACC-0001"), headers=self.auth("rm"))
		self.assertEqual(plain.json["data"]["referred_by_customer"], "_T-ACC-0002")

	def test_holdings_follow_their_profile(self):
		frappe.db.delete(HOLDING, {"parent": ("like", "_T-ACC-%")})
		product = frappe.get_all("Bank Product", pluck="name", limit=1)[0]
		from branch_crm import data_intake

		data_intake.run(
			"holdings",
			[
				{"customer": c, "product": product, "account_no": f"ACC-{c}", "balance": 1000}
				for c in access_world.CUSTOMERS
			],
		)
		frappe.db.commit()
		rows = self.resource_list("rm", HOLDING, parent=PROFILE, fields=json.dumps(["parent", "balance"]))
		self.assertEqual(self.names(rows, "parent") & set(access_world.CUSTOMERS), book("rm"))
		self.assertFalse(self.names(rows, "parent") - book("rm"))
		view = self.call(
			"rm",
			"frappe.desk.reportview.get",
			doctype=HOLDING,
			parent_doctype=PROFILE,
			fields=json.dumps(["`tabCustomer Product Holding`.`parent`"]),
		)
		self.assertFalse(self.names(view, "parent") - book("rm"))
		self.assertRefused(
			self.resource_list("teller", HOLDING, parent=PROFILE, fields=json.dumps(["parent"]))
		)
		child_columns = self.resource_list(
			"teller", PROFILE, fields=json.dumps(["name", "`tabCustomer Product Holding`.`balance`"])
		)
		self.assertRefused(child_columns)
		other = self.call(
			"rm",
			"frappe.client.get_value",
			doctype=HOLDING,
			parent=PROFILE,
			fieldname=json.dumps(["parent", "balance"]),
			filters=json.dumps({"parent": "_T-ACC-0003"}),
		)
		self.assertFalse(other.json.get("message"))

	def test_history_and_attachments_respect_perm_levels(self):
		doc = frappe.get_doc(PROFILE, "_T-ACC-0006")
		doc.hobbies = "钓鱼 history"
		doc.save(ignore_permissions=True, ignore_version=False)
		file = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": "acc-id-scan.txt",
				"is_private": 1,
				"attached_to_doctype": PROFILE,
				"attached_to_name": "_T-ACC-0006",
				"content": b"scan of ID 310105199001010006",
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		self.addCleanup(
			lambda: (
				frappe.delete_doc("File", file.name, force=True, ignore_permissions=True),
				frappe.db.commit(),
			)
		)
		loaded = self.call("teller", "frappe.desk.form.load.getdoc", doctype=PROFILE, name="_T-ACC-0006")
		self.assertEqual(loaded.status_code, 200)
		docinfo = loaded.json["docinfo"]
		self.assertNotIn("hobbies", json.dumps(docinfo["versions"]))
		self.assertEqual(docinfo["attachments"], [])
		self.assertIn(self.get(file.file_url, headers=self.auth("teller")).status_code, (401, 403))
		self.assertEqual(self.get(file.file_url, headers=self.auth("bm")).status_code, 200)
		rm_view = self.call("bm", "frappe.desk.form.load.getdoc", doctype=PROFILE, name="_T-ACC-0006")
		self.assertIn("hobbies", json.dumps(rm_view.json["docinfo"]["versions"]))

	def test_erpnext_records_of_bank_customers_stay_inside_the_model(self):
		self.assertFalse(self.names(self.resource_list("sales", "Customer")) & set(access_world.CUSTOMERS))
		self.assertRefused(self.resource_list("rm", "Customer"))
		self.assertRefused(self.call("rm", "frappe.desk.search.search_link", doctype="Customer", txt=""))
		# the admin opens the Customer form that carries the profile button
		opened = self.call("admin", "frappe.desk.form.load.getdoc", doctype="Customer", name="_T-ACC-0001")
		self.assertEqual(opened.status_code, 200, opened.text[:300])

	def test_global_search_holds_no_customers(self):
		# what the queued rebuild after a migrate does: profiles would be indexed if a field asked for it
		from frappe.utils.global_search import rebuild_for_doctype

		rebuild_for_doctype(PROFILE)
		frappe.db.commit()
		found = self.call("teller", "frappe.utils.global_search.search", text="权限客户")
		self.assertEqual(found.status_code, 200)
		self.assertFalse([row for row in found.json["message"] if row.get("doctype") == PROFILE])

	def test_integration_writes_but_reads_nothing(self):
		self.assertRefused(self.get(self.resource(PROFILE, "_T-ACC-0001"), headers=self.auth("integration")))
		record = {
			**testing.customer_record("_T-CRM-0001"),
			"customer": "_T-ACC-0001",
			"customer_name": "权限客户 0001",
			"branch": BRANCH,
			"relationship_manager": user("rm"),
			"id_number": "310105199001010001",
			"mobile_no": "13900000001",
		}
		sent = self.post(
			self.method("branch_crm.api.upsert_customers"),
			{"records": [record]},
			headers=self.auth("integration"),
		)
		self.assertEqual(sent.json["message"]["received"], 1)


class TestWritePaths(AccessTestCase):
	"""Leak classes 8-10: writes are checked against the stored row, computed and ownership fields
	are the jobs', approvals are a checker's."""

	def put(self, key, doctype, name, body):
		return self.put_(self.resource(doctype, name), body, headers=self.auth(key))

	def put_(self, path, body, headers):
		return super().put(path, body, headers=headers)

	def test_staff_cannot_take_or_retier_customers(self):
		before = frappe.db.get_value(
			PROFILE, "_T-ACC-0003", ["relationship_manager", "hobbies"], as_dict=True
		)
		# taking a colleague's customer, with or without another change riding along
		self.assertRefused(self.put("rm", PROFILE, "_T-ACC-0003", {"relationship_manager": user("rm")}))
		self.assertRefused(
			self.put("rm", PROFILE, "_T-ACC-0003", {"relationship_manager": user("rm"), "hobbies": "taken"})
		)
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.get_value(PROFILE, "_T-ACC-0003", ["relationship_manager", "hobbies"], as_dict=True),
			before,
		)
		# giving one's own customer away is refused too: books move by approved Book Transfer
		self.assertRefused(self.put("rm", PROFILE, "_T-ACC-0001", {"relationship_manager": user("rm_other")}))
		# own customer: computed and ownership fields stay, the rest is saved
		stored = frappe.db.get_value(
			PROFILE,
			"_T-ACC-0001",
			["tier", "churn_score", "aum", "branch", "relationship_manager"],
			as_dict=True,
		)
		response = self.put(
			"rm",
			PROFILE,
			"_T-ACC-0001",
			{
				"tier": "Private Banking",
				"churn_score": 1,
				"aum": 99999999,
				"branch": OTHER_BRANCH,
				"value_class": "MVC",
				"hobbies": "书法",
			},
		)
		self.assertEqual(response.status_code, 200, response.text[:300])
		frappe.db.rollback()
		after = frappe.db.get_value(
			PROFILE,
			"_T-ACC-0001",
			["tier", "churn_score", "aum", "branch", "relationship_manager", "hobbies"],
			as_dict=True,
		)
		self.assertEqual({k: after[k] for k in stored}, stored)
		self.assertEqual(after.hobbies, "书法")
		# branch and lobby managers move books only by an approved Book Transfer
		for key in ("bm", "lobby"):
			self.put(key, PROFILE, "_T-ACC-0001", {"relationship_manager": user("rm_other")})
			frappe.db.rollback()
			self.assertEqual(frappe.db.get_value(PROFILE, "_T-ACC-0001", "relationship_manager"), user("rm"))
		# identity in clear is nobody's to type over
		self.put("bm", PROFILE, "_T-ACC-0001", {"id_number": "FORGED", "mobile_no": "13000000000"})
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(PROFILE, "_T-ACC-0001", "id_number"), "310105199001010001")

	def test_a_teller_creates_walk_ins_only_in_their_branch_and_without_identity(self):
		frappe.db.delete(PROFILE, {"name": ("in", ("_T-ACC-WALK", "_T-ACC-WALK2"))})
		for name in ("_T-ACC-WALK", "_T-ACC-WALK2"):
			if not frappe.db.exists("Customer", name):
				frappe.get_doc(
					{
						"doctype": "Customer",
						"customer_name": name,
						"customer_type": "Individual",
						"customer_group": "Individual",
						"territory": "All Territories",
					}
				).insert(ignore_permissions=True, set_name=name)
		frappe.db.commit()
		self.addCleanup(
			lambda: (frappe.db.delete(PROFILE, {"name": ("like", "_T-ACC-WALK%")}), frappe.db.commit())
		)
		refused = self.post(
			self.resource(PROFILE),
			{"customer": "_T-ACC-WALK", "branch": OTHER_BRANCH},
			headers=self.auth("teller"),
		)
		self.assertRefused(refused)
		made = self.post(
			self.resource(PROFILE),
			{"customer": "_T-ACC-WALK2", "id_number": "FORGED", "mobile_no": "13100000000"},
			headers=self.auth("teller"),
		)
		self.assertEqual(made.status_code, 200, made.text[:300])
		row = frappe.db.get_value(PROFILE, "_T-ACC-WALK2", ["branch", "id_number", "mobile_no"], as_dict=True)
		self.assertEqual((row.branch, row.id_number, row.mobile_no), (BRANCH, None, None))

	def new_override(self, key="bm", customer="_T-ACC-0001"):
		response = self.post(
			self.resource("Tier Override"),
			{
				"customer": customer,
				"tier": "Private Banking",
				"valid_from": frappe.utils.today(),
				"valid_until": frappe.utils.add_days(frappe.utils.today(), 30),
				"reason": "access test",
			},
			headers=self.auth(key),
		)
		if response.status_code == 200:
			name = response.json["data"]["name"]
			self.addCleanup(lambda: (frappe.db.delete("Tier Override", {"name": name}), frappe.db.commit()))
		return response

	def test_maker_cannot_approve(self):
		draft = self.new_override()
		self.assertEqual(draft.status_code, 200, draft.text[:300])
		doc = draft.json["data"]
		self.assertRefused(self.call("bm", "frappe.client.submit", doc=json.dumps(doc)))
		self.assertRefused(
			self.put_(self.resource("Tier Override", doc["name"]), {"docstatus": 1}, self.auth("bm"))
		)
		sent = self.workflow("bm", doc, "Submit for Approval")
		self.assertEqual(sent.status_code, 200, sent.text[:300])
		self.assertIn(
			self.workflow("bm", sent.json["message"], "Approve").status_code,
			(401, 403, 417),
		)
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value("Tier Override", doc["name"], "docstatus"), 0)
		# the checker approves
		approved = self.workflow("admin", sent.json["message"], "Approve")
		self.assertEqual(approved.status_code, 200, approved.text[:300])
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.get_value("Tier Override", doc["name"], ["docstatus", "workflow_state"]),
			(1, "Approved"),
		)
		# relationship managers request no overrides; other branches' customers are out of reach
		self.assertRefused(self.new_override(key="rm"))
		frappe.set_user("Administrator")

	def test_transfer_rows_stay_in_their_branch(self):
		response = self.post(
			self.resource("Book Transfer"),
			{
				"branch": BRANCH,
				"from_rm": user("rm"),
				"mode": "Re-homing",
				"effective_date": frappe.utils.today(),
				"reason": "access test",
				"customers": [
					{"customer": "_T-CRM-0004", "from_rm": testing.user("rm2"), "to_rm": user("rm")}
				],
			},
			headers=self.auth("bm"),
		)
		self.assertIn(response.status_code, (403, 417), response.text[:300])
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.get_value(PROFILE, "_T-CRM-0004", "relationship_manager"), testing.user("rm2")
		)

	def test_staff_records_are_the_admins(self):
		self.assertRefused(self.put("bm", "Relationship Manager", user("bm"), {"branch": OTHER_BRANCH}))
		self.put(
			"bm",
			"Relationship Manager",
			user("teller"),
			{"role_type": "Branch Manager", "branch": OTHER_BRANCH},
		)
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.get_value("Relationship Manager", user("teller"), ["role_type", "branch"]),
			("Teller", BRANCH),
		)
		capacity = self.put("bm", "Relationship Manager", user("teller"), {"max_followups_per_day": 40})
		self.assertEqual(capacity.status_code, 200, capacity.text[:300])
		# a deactivated record sees nothing of its old book
		self.assertFalse(self.names(self.resource_list("rm_gone", PROFILE)))

	def test_events_invite_and_record_only_what_the_user_sees(self):
		made = self.post(
			self.resource("Branch Event"),
			{
				"naming_series": "EVT-.YYYY.-",
				"title": "access test",
				"branch": BRANCH,
				"event_date": frappe.utils.add_days(frappe.utils.today(), 10),
				"status": "Planned",
				"invite_relationship_manager": user("rm_other"),
				"invite_limit": 20,
			},
			headers=self.auth("rm"),
		)
		self.assertEqual(made.status_code, 200, made.text[:300])
		name = made.json["data"]["name"]
		self.addCleanup(
			lambda: (
				frappe.delete_doc("Branch Event", name, force=True, ignore_permissions=True),
				frappe.db.commit(),
			)
		)
		self.call("rm", "run_doc_method", dt="Branch Event", dn=name, method="invite_customers")
		attendees = self.get(self.resource("Branch Event", name), headers=self.auth("rm")).json["data"][
			"attendees"
		]
		self.assertFalse({row["customer"] for row in attendees} - book("rm"))
		other = self.post(
			self.resource("Branch Event"),
			{
				"naming_series": "EVT-.YYYY.-",
				"title": "access test 2",
				"branch": BRANCH,
				"event_date": frappe.utils.today(),
				"status": "Completed",
				"attendees": [{"customer": "_T-ACC-0003", "attended": 1}],
			},
			headers=self.auth("rm"),
		)
		self.assertRefused(other)
		frappe.db.rollback()
		self.assertFalse(frappe.db.exists("Contact Log", {"customer": "_T-ACC-0003", "reason": "Event"}))

	def test_lobby_manager_reads_no_sensitive_follow_up_text(self):
		frappe.get_doc(
			{
				"doctype": "Customer Follow-up",
				"customer": "_T-ACC-0001",
				"reason": "Retention",
				"status": "Open",
				"scheduled_date": frappe.utils.today(),
				"due_date": frappe.utils.today(),
				"relationship_manager": user("rm"),
				"branch": BRANCH,
				"message": "AUM down 42% over 3 months",
				"open_key": "_T-ACC-0001|Retention",
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		self.addCleanup(
			lambda: (frappe.db.delete("Customer Follow-up", {"customer": "_T-ACC-0001"}), frappe.db.commit())
		)
		rows = self.resource_list("lobby", "Customer Follow-up", fields=json.dumps(["customer", "message"]))
		data = rows.json["data"]
		self.assertIn("_T-ACC-0001", {row["customer"] for row in data})
		self.assertFalse([row for row in data if row.get("message")])


def _now() -> str:
	return frappe.utils.now_datetime().strftime("%Y-%m-%d %H:%M:%S")


class TestEverydayTasks(AccessTestCase):
	"""docs/security.md's role x task table, each task through the endpoints the desk calls."""

	def savedocs(self, key: str, doc: dict, action: str = "Save"):
		response = self.call(key, "frappe.desk.form.save.savedocs", doc=json.dumps(doc), action=action)
		self.assertEqual(response.status_code, 200, response.text[:400])
		return response.json["docs"][0]

	def log_contact(self, key: str, customer: str, **values):
		"""Save a Contact Log as the desk does; the raw response."""
		doc = {
			"doctype": "Contact Log",
			"customer": customer,
			"contact_time": _now(),
			"channel": "Visit",
			"outcome": "Reached - Interested",
			**values,
		}
		response = self.call(key, "frappe.desk.form.save.savedocs", doc=json.dumps(doc), action="Save")
		if response.status_code == 200:
			name = response.json["docs"][0]["name"]
			self.addCleanup(lambda: (frappe.db.delete("Contact Log", {"name": name}), frappe.db.commit()))
		return response

	def test_each_report_opens_for_the_roles_it_is_for(self):
		for report in (
			"Needs Screening",
			"Churn Warning",
			"Book of Business",
			"Tier Migration",
			"Plan Effect",
			"Complaint Handling",
		):
			for key in ("admin", "bm", "rm", "pb"):
				response = self.call(
					key, "frappe.desk.query_report.run", report_name=report, filters=json.dumps({})
				)
				self.assertEqual(response.status_code, 200, f"{report} as {key}: {response.text[:300]}")
				rows = [row for row in response.json["message"]["result"] if isinstance(row, dict)]
				if key == "rm" and rows and "customer" in rows[0]:
					self.assertFalse({row["customer"] for row in rows} - book("rm"), report)
				if key in ("rm", "bm") and report == "Book of Business":
					# staff rows too stay within the user's scope (a manager sees no colleagues' books)
					managers = {row.get("relationship_manager") for row in rows} - {None, ""}
					allowed = (
						{user("rm")}
						if key == "rm"
						else {user(k) for k, v in access_world.STAFF.items() if v[1] == BRANCH}
					)
					self.assertFalse(managers - allowed, f"{report} as {key}")
			for key in ("teller", "lobby", "integration"):
				self.assertRefused(
					self.call(key, "frappe.desk.query_report.run", report_name=report, filters="{}")
				)

	def test_a_filter_beyond_ones_access_says_so(self):
		for key, filters, words in (
			("rm", {"relationship_manager": user("rm_other")}, "own book only"),
			("bm", {"branch": OTHER_BRANCH}, f"branch {BRANCH} only"),
		):
			for report in ("Churn Warning", "Book of Business"):
				response = self.call(
					key, "frappe.desk.query_report.run", report_name=report, filters=json.dumps(filters)
				)
				message = response.json["message"]
				self.assertIn(words, message["message"] or "", f"{report} as {key}")
				self.assertFalse(
					[row for row in message["result"] if isinstance(row, dict) and row.get("customer")]
				)
		plain = self.call("rm", "frappe.desk.query_report.run", report_name="Churn Warning", filters="{}")
		self.assertFalse(plain.json["message"]["message"])

	def test_relationship_manager_finds_a_customer_and_logs_a_contact(self):
		found = self.call(
			"rm",
			"frappe.desk.search.search_link",
			doctype=PROFILE,
			txt="0001",
			reference_doctype="Contact Log",
		)
		self.assertIn("_T-ACC-0001", {row["value"] for row in found.json["message"]})
		logged = self.log_contact("rm", "_T-ACC-0001", channel="Phone", notes="access task")
		self.assertEqual(logged.status_code, 200, logged.text[:300])
		self.assertEqual(logged.json["docs"][0]["customer_name"], "权限客户 0001")
		# not on a colleague's customer
		self.assertRefused(self.log_contact("rm", "_T-ACC-0003"))

	def test_lobby_manager_works_their_own_book_and_the_teller_none(self):
		self.assertEqual(self.log_contact("lobby", "_T-ACC-0005").status_code, 200)
		self.assertRefused(self.log_contact("lobby", "_T-ACC-0001"))
		self.assertRefused(self.log_contact("teller", "_T-ACC-0006"))

	def test_teller_looks_up_a_customer_and_sees_masked_identity(self):
		found = self.call(
			"teller", "frappe.desk.search.search_link", doctype=PROFILE, txt="权限客户", page_length=50
		)
		self.assertEqual({row["value"] for row in found.json["message"]}, set(access_world.CUSTOMERS))
		loaded = self.call("teller", "frappe.desk.form.load.getdoc", doctype=PROFILE, name="_T-ACC-0001")
		doc = loaded.json["docs"][0]
		self.assertEqual(
			(doc["id_number_masked"], doc["mobile_masked"]), ("**************0001", "139****0001")
		)
		self.assertFalse(
			{"id_number", "mobile_no", "aum", "churn_score", "holdings"} & {k for k, v in doc.items() if v}
		)
		self.assertFalse(doc["__onload"]["may_reveal"])
		own = self.call("teller", "frappe.desk.form.load.getdoc", doctype=PROFILE, name="_T-ACC-0006")
		self.assertTrue(own.json["docs"][0]["__onload"]["may_reveal"])

	def test_branch_manager_requests_an_override_and_the_admin_approves(self):
		draft = self.savedocs(
			"bm",
			{
				"doctype": "Tier Override",
				"customer": "_T-ACC-0002",
				"tier": "VIP",
				"valid_from": frappe.utils.today(),
				"valid_until": frappe.utils.add_days(frappe.utils.today(), 30),
				"reason": "access task",
			},
		)
		self.addCleanup(
			lambda: (frappe.db.delete("Tier Override", {"name": draft["name"]}), frappe.db.commit())
		)
		sent = self.workflow("bm", draft, "Submit for Approval")
		self.assertEqual(sent.status_code, 200, sent.text[:300])
		approved = self.workflow("admin", sent.json["message"], "Approve")
		self.assertEqual(approved.status_code, 200, approved.text[:300])
		self.assertEqual(approved.json["message"]["docstatus"], 1)

	def test_branch_manager_hands_over_a_book_and_runs_an_event(self):
		branches = self.call("bm", "frappe.desk.search.search_link", doctype="Branch", txt="Branch C")
		self.assertIn(BRANCH, {row["value"] for row in branches.json["message"]})
		colleagues = self.call(
			"bm", "frappe.desk.search.search_link", doctype="Relationship Manager", txt="acc"
		)
		self.assertIn(user("rm_other"), {row["value"] for row in colleagues.json["message"]})
		transfer = self.savedocs(
			"bm",
			{
				"doctype": "Book Transfer",
				"branch": BRANCH,
				"from_rm": user("rm"),
				"mode": "Named Managers",
				"to_rms": [{"relationship_manager": user("rm_other")}],
				"effective_date": frappe.utils.add_days(frappe.utils.today(), 30),
				"reason": "access task",
			},
		)
		self.addCleanup(
			lambda: (frappe.db.delete("Book Transfer", {"name": transfer["name"]}), frappe.db.commit())
		)
		self.assertEqual({row["customer"] for row in transfer["customers"]}, book("rm"))
		event = self.savedocs(
			"bm",
			{
				"doctype": "Branch Event",
				"naming_series": "EVT-.YYYY.-",
				"title": "access task",
				"branch": BRANCH,
				"event_date": frappe.utils.add_days(frappe.utils.today(), 5),
				"status": "Planned",
			},
		)
		self.addCleanup(
			lambda: (
				frappe.delete_doc("Branch Event", event["name"], force=True, ignore_permissions=True),
				frappe.db.commit(),
			)
		)
		invited = self.call(
			"bm", "run_doc_method", dt="Branch Event", dn=event["name"], method="invite_customers"
		)
		self.assertEqual(invited.status_code, 200, invited.text[:300])

	def test_follow_ups_go_only_to_those_who_can_work_them(self):
		from branch_crm import followups

		testing.clear_contacts()
		frappe.db.delete("Customer Follow-up", {"customer": ("like", "_T-ACC-%")})
		frappe.db.delete("ToDo", {"reference_name": ("like", "_T-ACC-%")})
		frappe.db.delete("Contact Plan", {"customer": ("like", "_T-ACC-%")})
		frappe.db.delete("Contact Log", {"customer": ("like", "_T-ACC-%")})
		# last contacted long ago (also undoing contacts logged by earlier runs): every customer is due
		frappe.db.sql(
			"""update `tabBank Customer Profile` set `last_contact_date` = %s, `next_contact_date` = null
			where `name` like '\\_T-ACC-%%'""",
			frappe.utils.add_days(frappe.utils.today(), -400),
		)
		frappe.db.commit()
		followups.run(branch=BRANCH)
		frappe.db.commit()
		assigned = dict(
			frappe.get_all(
				"Customer Follow-up",
				filters={"customer": ("like", "_T-ACC-%")},
				fields=["customer", "relationship_manager"],
				as_list=True,
			)
		)
		self.assertTrue(assigned)
		self.assertNotIn(user("teller"), set(assigned.values()))
		self.assertEqual(
			assigned.get("_T-ACC-0006"), user("lobby"), "the teller's customer goes to the lobby manager"
		)
		self.assertFalse(frappe.db.exists("ToDo", {"allocated_to": user("teller"), "status": "Open"}))
		# and the lobby manager can work it: open the plan, log the contact
		plan = self.call("lobby", "branch_crm.api.ensure_contact_plan", customer="_T-ACC-0006")
		self.assertEqual(plan.status_code, 200, plan.text[:300])
		self.assertEqual(self.log_contact("lobby", "_T-ACC-0006").status_code, 200)


class TestAuditTrail(AccessTestCase):
	def access_logs(self, **filters):
		return frappe.get_all(
			"Access Log",
			filters={"user": ("like", f"%@{access_world.DOMAIN}"), **filters},
			fields=["user", "method", "reference_document", "report_name", "file_type"],
		)

	def test_reveal_is_permission_checked_and_logged(self):
		frappe.db.delete("Access Log", {"user": ("like", f"%@{access_world.DOMAIN}")})
		frappe.db.commit()
		for key, customer, allowed in (
			("rm", "_T-ACC-0001", True),
			("rm", "_T-ACC-0003", False),
			("bm", "_T-ACC-0003", True),
			("teller", "_T-ACC-0006", True),
			("teller", "_T-ACC-0001", False),
			("lobby", "_T-ACC-0005", True),
		):
			response = self.call(key, "branch_crm.audit.reveal", customer=customer, field="mobile_no")
			if allowed:
				self.assertEqual(response.json["message"], f"1390000{customer[-4:]}", key)
			else:
				self.assertRefused(response)
		logs = self.access_logs(method="Reveal mobile_no")
		self.assertEqual(
			sorted((log.user, log.reference_document) for log in logs),
			sorted(
				[
					(user("rm"), "_T-ACC-0001"),
					(user("bm"), "_T-ACC-0003"),
					(user("teller"), "_T-ACC-0006"),
					(user("lobby"), "_T-ACC-0005"),
				]
			),
		)

	def test_a_customer_is_found_by_the_whole_id_number_within_scope_only(self):
		found = self.call("teller", "branch_crm.audit.find_by_id_number", id_number="310105199001010003")
		self.assertEqual(found.json["message"], "_T-ACC-0003")
		# a colleague's customer, another branch's customer: not found
		self.assertIsNone(
			self.call("rm", "branch_crm.audit.find_by_id_number", id_number="310105199001010003").json.get(
				"message"
			)
		)
		self.assertIsNone(
			self.call(
				"teller", "branch_crm.audit.find_by_id_number", id_number="110105198005170001"
			).json.get("message")
		)
		self.assertEqual(
			self.call("teller", "branch_crm.audit.find_by_id_number", id_number="1101").status_code, 417
		)
		self.assertIn(
			(user("teller"), "_T-ACC-0003"),
			{(l.user, l.reference_document) for l in self.access_logs(method="Find by ID number")},
		)

	def test_exports_and_report_runs_are_logged_and_exports_are_masked(self):
		frappe.db.delete("Access Log", {"user": ("like", f"%@{access_world.DOMAIN}")})
		frappe.db.commit()
		self.call("rm", "frappe.desk.query_report.run", report_name="Churn Warning", filters=json.dumps({}))
		exported = self.call(
			"bm",
			"frappe.desk.query_report.export_query",
			report_name="Churn Warning",
			file_format_type="CSV",
			filters=json.dumps({}),
			visible_idx="[]",
			custom_columns="[]",
		)
		self.assertEqual(exported.status_code, 200, exported.text[:300])
		listed = self.call(
			"bm",
			"frappe.desk.reportview.export_query",
			doctype=PROFILE,
			file_format_type="CSV",
			fields=json.dumps(
				[
					"`tabBank Customer Profile`.`name`",
					"`tabBank Customer Profile`.`mobile_no`",
					"`tabBank Customer Profile`.`mobile_masked`",
				]
			),
			filters=json.dumps([["name", "like", "_T-ACC-%"]]),
			title="acc",
		)
		self.assertEqual(listed.status_code, 200, listed.text[:300])
		self.assertNotIn("13900000001", listed.text)
		self.assertIn("139****0001", listed.text)
		logs = self.access_logs()
		self.assertIn(
			(user("rm"), "Run Report", "Churn Warning"), {(l.user, l.method, l.report_name) for l in logs}
		)
		self.assertIn(
			(user("bm"), "Export Report", "Churn Warning", "CSV"),
			{(l.user, l.method, l.report_name, l.file_type) for l in logs},
		)
		# Frappe logs the list export itself
		self.assertIn(
			(user("bm"), "CSV"), {(l.user, l.file_type) for l in logs if not l.method and not l.report_name}
		)

	def test_opening_a_profile_is_logged(self):
		frappe.db.delete("View Log", {"viewed_by": user("pb")})
		frappe.db.commit()
		self.call("pb", "frappe.desk.form.load.getdoc", doctype=PROFILE, name="_T-ACC-0004")
		self.assertTrue(
			frappe.db.exists("View Log", {"viewed_by": user("pb"), "reference_name": "_T-ACC-0004"})
		)
