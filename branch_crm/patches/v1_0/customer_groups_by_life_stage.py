"""Customer groups by life stage, then occupation; familiarity a flag, not a group (seed 001 §2).

Sites installed before held "Unfamiliar Prospects" (familiarity = Unfamiliar, priority 10), which
took every customer without recent contact, and a catch-all "Other Familiar Customers". Groups no
longer have a familiarity rule, so a group that asked for unfamiliar customers would now take
everyone: it is deactivated. The old defaults an admin left as installed get the new priorities
(retirees first, students, business owners, then the other stages); the old catch-all gives way
to "Life Stage Unknown"; the new defaults are created. Groups an admin edited are left as they are.
Profiles move to their new group at the next recompute, which writes every changed group."""

import frappe

from branch_crm.engine.defaults import DEFAULT_GROUPS
from branch_crm.install import install_defaults

GROUP = "Bank Customer Group"

# name: (priority, familiarity, life stage, occupation) as installed by earlier versions
OLD_DEFAULTS = {
	"Unfamiliar Prospects": (10, "Unfamiliar", "Any", "Any"),
	"Business Owners": (20, "Familiar", "Any", "Business Owner"),
	"Young Professionals": (30, "Familiar", "Youth", "Any"),
	"Young Families": (40, "Familiar", "Young Family", "Any"),
	"Established Families": (50, "Familiar", "Mature Family", "Any"),
	"Pre-retirees": (60, "Familiar", "Pre-retirement", "Any"),
	"Retirees": (70, "Familiar", "Retired", "Any"),
	"Other Familiar Customers": (1000, "Any", "Any", "Any"),
}
OLD_DESCRIPTIONS = {
	"Business Owners": "Entrepreneurs: settlement, business loans, family wealth.",
	"Retirees": "Retired: stable income products, health insurance, care.",
}


def execute():
	has_familiarity = frappe.db.has_column(GROUP, "familiarity")
	familiarity = "`familiarity`" if has_familiarity else "null"
	stored = frappe.db.sql(
		f"""select `name`, `priority`, `life_stage`, `occupation_category`, `description`,
		{familiarity} as familiarity from `tab{GROUP}`""",
		as_dict=True,
	)
	new = {g["group_name"]: g for g in DEFAULT_GROUPS}
	for group in stored:
		old = OLD_DEFAULTS.get(group.name)
		as_installed = old is not None and (
			(int(group.priority or 0), group.life_stage, group.occupation_category)
			== (old[0], old[2], old[3])
		)
		if group.familiarity == "Unfamiliar" or (as_installed and group.name not in new):
			# a familiarity group, or the old catch-all "Other Familiar Customers"
			frappe.db.set_value(GROUP, group.name, "is_active", 0)
		elif as_installed:
			values = {"priority": new[group.name]["priority"]}
			if group.description == OLD_DESCRIPTIONS.get(group.name):
				values["description"] = new[group.name]["description"]
			frappe.db.set_value(GROUP, group.name, values)
	install_defaults()
