// Book of business (分户): customers and AUM by relationship manager and tier, load against capacity.
frappe.query_reports["Book of Business"] = {
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
			fieldname: "role_type",
			label: __("Role"),
			fieldtype: "Select",
			options: ["", "Relationship Manager", "Private Banker", "Branch Manager", "Lobby Manager", "Teller"],
		},
	],
};
