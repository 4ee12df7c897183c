// Campaign effect (营销活动效果): a launched campaign's group against its hold-out control group,
// product take-up, AUM change and churn after launch, with the difference and whether it can be trusted.
frappe.query_reports["Campaign Effect"] = {
	filters: [
		{
			fieldname: "campaign",
			label: __("Campaign"),
			fieldtype: "Link",
			options: "Campaign",
			reqd: 1,
			get_query: () => ({ filters: { bank_campaign_status: "Launched" } }),
		},
		{ fieldname: "branch", label: __("Branch"), fieldtype: "Link", options: "Branch" },
	],
};
