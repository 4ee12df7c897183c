# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe
from frappe.model.workflow import WorkflowPermissionError, WorkflowTransitionError, apply_workflow

from branch_crm import testing
from branch_crm.branch_crm.doctype.book_transfer.book_transfer import make_reversal
from branch_crm.language import render_text
from branch_crm.testing import BRANCH_A, user

test_ignore = testing.TEST_IGNORE
PROFILE = "Bank Customer Profile"
ADMIN = "_test.crm.admin@bank.example"
RM1_BOOK = ("_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003")


def book(customers=RM1_BOOK):
	return dict(
		frappe.get_all(
			PROFILE,
			filters={"name": ("in", customers)},
			fields=["name", "relationship_manager"],
			as_list=True,
		)
	)


class TestBookTransfer(testing.BranchCRMTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		testing.ensure_user(ADMIN, "Test CRM Admin", roles=("Branch CRM Admin",))

	def setUp(self):
		frappe.db.sql(
			"update `tabBank Customer Profile` set relationship_manager = %s where name in %s",
			(user("rm1"), RM1_BOOK),
		)
		frappe.db.delete("ToDo", {"reference_type": PROFILE, "reference_name": ("in", RM1_BOOK)})

	def tearDown(self):
		super().tearDown()
		frappe.db.rollback()

	def approve(self, name):
		frappe.set_user(user("bm"))
		doc = apply_workflow(frappe.get_doc("Book Transfer", name), "Submit for Approval")
		frappe.set_user(ADMIN)
		doc = apply_workflow(frappe.get_doc("Book Transfer", name), "Approve")
		frappe.set_user("Administrator")
		return doc

	def new_transfer(self):
		frappe.set_user(user("bm"))
		doc = frappe.get_doc(
			{
				"doctype": "Book Transfer",
				"branch": BRANCH_A,
				"from_rm": user("rm1"),
				"mode": "Named Managers",
				"to_rms": [{"relationship_manager": user("rm2")}],
				"reason": "客户经理长假",
			}
		).insert()
		frappe.set_user("Administrator")
		return doc

	def test_transfer_applied_and_reversed_with_follow_ups_and_plans(self):
		todo = frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": user("rm1"),
				"reference_type": PROFILE,
				"reference_name": "_T-CRM-0001",
				"description": "跟进",
			}
		).insert(ignore_permissions=True)
		if not frappe.db.exists("Contact Plan", "_T-CRM-0002"):
			frappe.get_doc(
				{"doctype": "Contact Plan", "customer": "_T-CRM-0002", "relationship_manager": user("rm1")}
			).insert()
		transfer = self.new_transfer()
		self.assertEqual({row.customer for row in transfer.customers}, set(RM1_BOOK))
		self.assertEqual({row.to_rm for row in transfer.customers}, {user("rm2")})
		self.assertTrue(all(row.reason for row in transfer.customers))

		transfer = self.approve(transfer.name)
		self.assertEqual((transfer.workflow_state, transfer.docstatus), ("Approved", 1))
		self.assertEqual(set(book().values()), {user("rm2")})
		self.assertEqual(frappe.db.get_value("ToDo", todo.name, "allocated_to"), user("rm2"))
		self.assertEqual(
			frappe.db.get_value("Contact Plan", "_T-CRM-0002", "relationship_manager"), user("rm2")
		)
		rows = frappe.get_doc("Book Transfer", transfer.name).customers
		self.assertTrue(all(row.applied for row in rows))
		self.assertIn(todo.name, next(r.moved_todos for r in rows if r.customer == "_T-CRM-0001"))

		frappe.set_user(user("bm"))
		reversal = make_reversal(transfer.name)
		frappe.set_user("Administrator")
		self.approve(reversal)
		self.assertEqual(set(book().values()), {user("rm1")})
		self.assertEqual(frappe.db.get_value("ToDo", todo.name, "allocated_to"), user("rm1"))
		self.assertEqual(frappe.db.get_value("Book Transfer", transfer.name, "reversed_by"), reversal)

	def test_relationship_manager_cannot_create_or_apply_a_transfer(self):
		transfer = self.new_transfer()
		frappe.set_user(user("rm1"))
		self.assertFalse(frappe.has_permission("Book Transfer", "create"))
		self.assertFalse(frappe.has_permission("Book Transfer", "submit", transfer.name))
		with self.assertRaises((WorkflowPermissionError, WorkflowTransitionError, frappe.PermissionError)):
			apply_workflow(frappe.get_doc("Book Transfer", transfer.name), "Submit for Approval")
		self.assertEqual(set(book().values()), {user("rm1")})

	def test_concurrent_edit_during_a_transfer_loses_nothing(self):
		transfer = self.new_transfer()
		stale = frappe.get_doc(PROFILE, "_T-CRM-0003")
		# a colleague moves one customer elsewhere after the plan was made
		frappe.db.set_value(PROFILE, "_T-CRM-0002", "relationship_manager", user("rm3"))
		self.approve(transfer.name)
		self.assertEqual(book()["_T-CRM-0002"], user("rm3"))  # not overwritten by the stale plan
		self.assertEqual(book()["_T-CRM-0003"], user("rm2"))
		# a form opened before the transfer cannot write the old manager back
		stale.hobbies = "书法"
		with self.assertRaises(frappe.TimestampMismatchError):
			stale.save()
		self.assertEqual(book()["_T-CRM-0003"], user("rm2"))

	def test_a_future_transfer_waits_for_its_effective_date(self):
		from branch_crm.tasks import apply_due_book_transfers

		transfer = self.new_transfer()
		transfer.db_set("effective_date", frappe.utils.add_days(frappe.utils.today(), 7))
		self.approve(transfer.name)
		self.assertEqual(set(book().values()), {user("rm1")})
		self.assertNotIn(transfer.name, apply_due_book_transfers())
		frappe.db.set_value("Book Transfer", transfer.name, "effective_date", frappe.utils.today())
		self.assertIn(transfer.name, apply_due_book_transfers())
		self.assertEqual(set(book().values()), {user("rm2")})

	def test_new_customer_without_a_manager_is_placed_by_how_they_came_in(self):
		from branch_crm import data_intake

		record = {
			**testing.customer_record("_T-CRM-0001"),
			"customer": "_T-CRM-0101",
			"relationship_manager": None,
			"acquisition_channel": "Staff Referral",
			"referred_by_staff": user("teller"),
		}
		result = data_intake.run("customers", [record]).as_dict()
		self.assertEqual((result["inserted"], result["rejected"]), (1, []))
		profile = frappe.get_doc(PROFILE, "_T-CRM-0101")
		# a new customer has no balances yet: the entry tier, served by tellers, and the referrer is one
		self.assertEqual(profile.relationship_manager, user("teller"))
		# the reason names the referrer as staff know them, not by their login
		teller_name = frappe.db.get_value("Relationship Manager", user("teller"), "full_name")
		self.assertIn(teller_name, render_text(profile.assignment_reason, "en"))
		again = data_intake.run("customers", [record]).as_dict()
		self.assertEqual((again["updated"], again["unchanged"]), (0, 1))
		self.assertEqual(frappe.db.get_value(PROFILE, "_T-CRM-0101", "relationship_manager"), user("teller"))

	def test_tier_changes_gather_rehoming_proposals_into_one_draft_transfer(self):
		from branch_crm.jobs import recompute

		def drop_drafts():
			for name in frappe.get_all(
				"Book Transfer",
				filters={"branch": BRANCH_A, "mode": "Re-homing", "docstatus": 0},
				pluck="name",
			):
				frappe.delete_doc("Book Transfer", name, force=True, ignore_permissions=True)
			frappe.db.commit()

		drop_drafts()
		self.addCleanup(drop_drafts)
		testing.set_history("_T-CRM-0003", [50_000] * 12)
		frappe.db.commit()
		recompute.run(branch=BRANCH_A)
		drafts = frappe.get_all(
			"Book Transfer",
			filters={"branch": BRANCH_A, "mode": "Re-homing", "docstatus": 0, "from_rm": user("rm1")},
			pluck="name",
		)
		self.assertEqual(len(drafts), 1)
		# written set-based, it is the document a form would have inserted
		draft = frappe.get_doc("Book Transfer", drafts[0])
		self.assertTrue(draft.name.startswith("CRM-BT-"))
		self.assertEqual((draft.workflow_state, draft.docstatus), ("Draft", 0))
		self.assertEqual(
			(draft.mode, draft.branch, draft.effective_date), ("Re-homing", BRANCH_A, frappe.utils.getdate())
		)
		draft.run_method("validate")
		rows = {row.customer: row for row in draft.customers}
		# a Mass customer in a relationship manager's book: the tier calls for a teller
		self.assertEqual(rows["_T-CRM-0003"].to_rm, user("teller"))
		self.assertEqual(
			frappe.db.get_value(PROFILE, "_T-CRM-0003", "relationship_manager"), user("rm1")
		)  # proposed, not moved
		from branch_crm.books import propose_rehoming

		saved = frappe.db.get_value("Book Transfer", drafts[0], "modified")
		recompute.run(branch=BRANCH_A)
		self.assertEqual(
			frappe.get_all(
				"Book Transfer",
				filters={"branch": BRANCH_A, "mode": "Re-homing", "docstatus": 0, "from_rm": user("rm1")},
				pluck="name",
			),
			drafts,
		)
		self.assertEqual(propose_rehoming(BRANCH_A), [], "nothing changed: no draft is saved again")
		self.assertEqual(frappe.db.get_value("Book Transfer", drafts[0], "modified"), saved)
		# the customer's AUM moved (a new month): the same draft, its rows rewritten in place (a
		# little more AUM, which the teller proposed can still take)
		count = len(frappe.get_doc("Book Transfer", drafts[0]).customers)
		moved = frappe.db.get_value(PROFILE, "_T-CRM-0003", "aum") + 1.5
		frappe.db.set_value(PROFILE, "_T-CRM-0003", "aum", moved, update_modified=False)
		self.assertEqual(propose_rehoming(BRANCH_A), drafts)
		self.assertEqual(propose_rehoming(BRANCH_A), [], "a second run finds the draft up to date")
		draft = frappe.get_doc("Book Transfer", drafts[0])
		self.assertEqual(len(draft.customers), count)
		self.assertEqual({row.customer: row.aum for row in draft.customers}["_T-CRM-0003"], moved)
		self.assertEqual([row.idx for row in draft.customers], list(range(1, count + 1)))
		self.assertGreater(draft.modified, saved)
		draft.run_method("validate")  # what the branch manager's save checks still holds
		# once sent for approval, the approver sees the rows as sent, whatever the nights propose
		frappe.db.set_value("Book Transfer", drafts[0], "workflow_state", "Pending Approval")
		testing.set_history("_T-CRM-0003", [5_000_000] * 12)
		frappe.db.commit()
		recompute.run(branch=BRANCH_A)
		rows = {row.customer: row for row in frappe.get_doc("Book Transfer", drafts[0]).customers}
		self.assertEqual(rows["_T-CRM-0003"].to_rm, user("teller"))

	def test_a_draft_proposal_no_longer_needed_is_deleted(self):
		from branch_crm.books import propose_rehoming
		from branch_crm.jobs import recompute

		testing.set_history("_T-CRM-0003", [50_000] * 12)
		frappe.db.commit()
		recompute.run(branch=BRANCH_A)
		name = frappe.db.get_value(
			"Book Transfer",
			{"branch": BRANCH_A, "mode": "Re-homing", "docstatus": 0, "from_rm": user("rm1")},
		)
		rows = frappe.get_doc("Book Transfer", name).customers

		def hand_back():
			for row in rows:
				frappe.db.set_value(PROFILE, row.customer, "relationship_manager", row.from_rm)
			frappe.db.commit()

		self.addCleanup(hand_back)
		# every customer proposed has meanwhile moved to the manager proposed (by hand, say)
		for row in rows:
			frappe.db.set_value(PROFILE, row.customer, "relationship_manager", row.to_rm)
		self.assertIn(name, propose_rehoming(BRANCH_A))
		self.assertFalse(frappe.db.exists("Book Transfer", name))
