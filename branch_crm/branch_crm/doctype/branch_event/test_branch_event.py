# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing
from branch_crm.testing import BRANCH_A, BRANCH_B, user

test_ignore = testing.TEST_IGNORE


class TestBranchEvent(testing.BranchCRMTestCase):
	@classmethod
	def tearDownClass(cls):
		testing.clear_contacts()
		super().tearDownClass()

	def setUp(self):
		testing.clear_contacts()

	def make_event(self, **values):
		return frappe.get_doc(
			{
				"doctype": "Branch Event",
				"title": "理财沙龙",
				"branch": BRANCH_A,
				"event_date": frappe.utils.today(),
				**values,
			}
		).insert()

	def test_invite_by_manager_and_attendance_counts_as_a_contact(self):
		frappe.set_user(user("bm"))
		event = self.make_event(invite_relationship_manager=user("rm1"))
		self.assertEqual(event.invite_customers(), 3)
		self.assertEqual(
			{row.customer for row in event.attendees}, {"_T-CRM-0001", "_T-CRM-0002", "_T-CRM-0003"}
		)
		self.assertEqual(event.invite_customers(), 0, "already invited customers are not added twice")
		event.reload()
		for row in event.attendees:
			row.attended = row.customer != "_T-CRM-0003"
		event.status = "Completed"
		event.save()
		event.reload()
		self.assertEqual((event.invited_count, event.attended_count), (3, 2))
		logs = frappe.get_all(
			"Contact Log",
			filters={"branch_event": event.name},
			fields=["customer", "channel", "outcome", "reason", "relationship_manager"],
		)
		self.assertEqual({log.customer for log in logs}, {"_T-CRM-0001", "_T-CRM-0002"})
		for log in logs:
			self.assertEqual((log.channel, log.outcome, log.reason), ("Visit", "Attended Event", "Event"))
			self.assertEqual(log.relationship_manager, user("rm1"))
		self.assertEqual(
			frappe.db.get_value("Contact Plan", "_T-CRM-0001", "last_contact_date"), frappe.utils.getdate()
		)
		self.assertFalse(frappe.db.get_value("Contact Plan", "_T-CRM-0003", "last_contact_date"))
		self.assertTrue(all(row.contact_log for row in event.attendees if row.attended))
		# saving again records nothing twice
		event.save()
		self.assertEqual(frappe.db.count("Contact Log", {"branch_event": event.name}), 2)

	def test_events_belong_to_their_branch(self):
		event = self.make_event()
		frappe.set_user(user("rm3"))
		self.assertFalse(frappe.has_permission("Branch Event", "read", event.name))
		self.assertNotIn(event.name, frappe.get_list("Branch Event", pluck="name"))
		frappe.set_user(user("rm1"))
		self.assertTrue(frappe.has_permission("Branch Event", "read", event.name))
		frappe.set_user(user("bm"))
		with self.assertRaises(frappe.PermissionError):
			self.make_event(branch=BRANCH_B)

	def test_a_customer_listed_twice_is_refused_naming_the_row(self):
		with self.assertRaisesRegex(frappe.ValidationError, "row 2"):
			self.make_event(attendees=[{"customer": "_T-CRM-0001"}, {"customer": "_T-CRM-0001"}])
