// Churn warning (流失预警): value × risk from the nightly churn scores stored on the profile, and the
// customers behind it, highest risk × value first, with the reasons in words.
frappe.query_reports["Churn Warning"] = {
	// tick customers, then "Create Follow-ups": Retention follow-ups in their managers' to-do lists
	...branch_crm.report.follow_up_rows("Retention", "churn_reasons"),
	filters: [
		{ fieldname: "branch", label: __("Branch"), fieldtype: "Link", options: "Branch" },
		{
			fieldname: "relationship_manager",
			label: __("Relationship Manager"),
			fieldtype: "Link",
			options: "Relationship Manager",
		},
		{ fieldname: "tier", label: __("Tier"), fieldtype: "Link", options: "Customer Tier" },
		{
			fieldname: "bank_customer_group",
			label: __("Customer Segment"),
			fieldtype: "Link",
			options: "Bank Customer Group",
		},
		{
			fieldname: "value_class",
			label: __("Value Class"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				{ value: "MVC", label: __("MVC") },
				{ value: "MGC", label: __("MGC") },
				{ value: "Standard", label: __("Standard") },
				{ value: "BZC", label: __("BZC") },
			],
		},
		{
			fieldname: "churn_band",
			label: __("Churn Risk"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				{ value: "High", label: __("High") },
				{ value: "Medium", label: __("Medium") },
				{ value: "Low", label: __("Low") },
				{ value: "No Score", label: __("No Score") },
			],
		},
		{
			fieldname: "limit",
			label: __("Rows Listed"),
			fieldtype: "Int",
			default: 500,
			description: __("Highest risk × value first; 0 lists everyone. Cards and chart count everyone."),
		},
	],
};
