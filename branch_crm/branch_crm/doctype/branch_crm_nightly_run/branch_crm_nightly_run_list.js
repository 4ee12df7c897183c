// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.listview_settings["Branch CRM Nightly Run"] = {
	get_indicator(doc) {
		const colour = { Running: "blue", Completed: "green", Failed: "red" }[doc.status];
		return [__(doc.status), colour, "status,=," + doc.status];
	},
};
