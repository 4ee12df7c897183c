// Plan effect (计划执行效果): planned vs done contacts, overdue, outcomes and products opened after a contact.
frappe.query_reports["Plan Effect"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -30),
			reqd: 1,
		},
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today(), reqd: 1 },
		{ fieldname: "branch", label: __("Branch"), fieldtype: "Link", options: "Branch" },
		{
			fieldname: "relationship_manager",
			label: __("Relationship Manager"),
			fieldtype: "Link",
			options: "Relationship Manager",
		},
	],
};
