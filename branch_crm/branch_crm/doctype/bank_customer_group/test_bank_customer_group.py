# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

import frappe

from branch_crm import testing
from branch_crm.engine.defaults import DEFAULT_GROUPS
from branch_crm.patches.v1_0 import customer_groups_by_life_stage as patch

test_ignore = testing.TEST_IGNORE
GROUP = "Bank Customer Group"


def active_groups():
	return frappe.get_all(
		GROUP,
		filters={"is_active": 1},
		fields=["name", "priority", "life_stage", "occupation_category"],
		order_by="priority asc",
	)


class TestBankCustomerGroup(testing.BranchCRMTestCase):
	def test_default_segments_are_four_to_eight_by_life_stage_then_occupation_with_a_catch_all(self):
		groups = active_groups()
		self.assertEqual(len({g.priority for g in groups}), len(groups))
		last = groups[-1]
		self.assertEqual((last.life_stage, last.occupation_category), ("Any", "Any"))
		self.assertTrue(4 <= len(groups) - 1 <= 8, groups)
		# familiarity is a flag on the profile, not a rule of the group
		self.assertFalse(frappe.get_meta(GROUP).has_field("familiarity"))
		self.assertTrue(frappe.get_meta("Bank Customer Profile").has_field("familiarity"))

	def test_patch_turns_the_old_familiarity_groups_into_the_life_stage_groups(self):
		# a site as installed by the previous version: the old defaults, familiarity rule included
		self.addCleanup(frappe.db.rollback)
		frappe.db.delete(GROUP)
		for name, (priority, familiarity, stage, occupation) in patch.OLD_DEFAULTS.items():
			frappe.get_doc(
				{
					"doctype": GROUP,
					"group_name": name,
					"priority": priority,
					"is_active": 1,
					"life_stage": stage,
					"occupation_category": occupation,
					"description": patch.OLD_DESCRIPTIONS.get(name),
				}
			).db_insert()
			if frappe.db.has_column(GROUP, "familiarity"):
				frappe.db.sql(
					f"update `tab{GROUP}` set `familiarity` = %s where name = %s", (familiarity, name)
				)
		# and an admin's own group that asked for unfamiliar customers
		frappe.get_doc(
			{
				"doctype": GROUP,
				"group_name": "_Test Newcomers",
				"priority": 5,
				"is_active": 1,
				"life_stage": "Any",
				"occupation_category": "Any",
			}
		).db_insert()
		if frappe.db.has_column(GROUP, "familiarity"):
			frappe.db.sql(
				f"update `tab{GROUP}` set `familiarity` = 'Unfamiliar' where name = '_Test Newcomers'"
			)
			patch.execute()
			self.assertFalse(frappe.db.get_value(GROUP, "_Test Newcomers", "is_active"))
		else:
			frappe.db.delete(GROUP, {"name": "_Test Newcomers"})
			patch.execute()
		self.assertEqual(
			[(g.name, g.priority, g.life_stage, g.occupation_category) for g in active_groups()],
			[
				(g["group_name"], g["priority"], g["life_stage"], g["occupation_category"])
				for g in DEFAULT_GROUPS
			],
		)
		self.assertEqual(
			frappe.db.get_value(GROUP, "Retirees", "description"),
			next(g["description"] for g in DEFAULT_GROUPS if g["group_name"] == "Retirees"),
		)
		for old in ("Unfamiliar Prospects", "Other Familiar Customers"):
			self.assertFalse(frappe.db.get_value(GROUP, old, "is_active"))
