// Needs screening (需求排查): product gaps, main-account likelihood, merchant-like flows, priority and
// the suggested next action per customer, from the nightly screening stored on the profile.
frappe.query_reports["Needs Screening"] = {
	// tick customers, then "Create Follow-ups": Needs Screening follow-ups in their managers' to-do lists
	...branch_crm.report.follow_up_rows("Needs Screening", "next_action"),
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
			fieldname: "gap_type",
			label: __("Gap Type"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				{ value: "idle_deposits_no_wealth", label: __("Idle deposits, no wealth product") },
				{ value: "salary_no_card", label: __("Salary here, no credit card") },
				{
					value: "retirement_no_pension_or_insurance",
					label: __("Near retirement, no pension or insurance"),
				},
				{ value: "mortgage_no_home_insurance", label: __("Mortgage, no home insurance") },
				{ value: "peer_gap", label: __("Lacks what similar customers hold") },
				{ value: "main_bank_elsewhere", label: __("Main bank likely elsewhere") },
				{ value: "merchant_like", label: __("Merchant-like cash flows") },
			],
		},
		{
			fieldname: "limit",
			label: __("Rows Listed"),
			fieldtype: "Int",
			default: 500,
			description: __("Highest priority first; 0 lists everyone. Cards and chart count everyone."),
		},
	],
};
