// The names of the configured tiers, segments, products and branches are translated doctypes: links show them
// in the reader's language, and so do the lists of the records themselves (their subject column).
(() => {
	const subjects = {
		"Customer Tier": ["name", "tier_name"],
		"Bank Customer Group": ["name", "group_name"],
		"Bank Product": ["name", "product_name"],
		Branch: ["name", "branch"],
		// the nightly jobs' names
		"Branch CRM Run Log": ["job"],
	};
	for (const [doctype, fieldnames] of Object.entries(subjects)) {
		const settings = (frappe.listview_settings[doctype] = frappe.listview_settings[doctype] || {});
		settings.formatters = settings.formatters || {};
		for (const fieldname of fieldnames) {
			settings.formatters[fieldname] = (value) => (value ? __(value) : value);
		}
	}
})();
