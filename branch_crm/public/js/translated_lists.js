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

// A workspace quick list shows its records' title field as stored: the nightly jobs' names (the
// admin's "Latest Job Runs") are translated like the list does it.
(() => {
	const translated_titles = ["Branch CRM Run Log"];
	const QuickList = frappe.widget?.widget_factory?.quick_list;
	if (!QuickList || QuickList.prototype.__branch_crm_translated) return;
	const setup_item = QuickList.prototype.setup_quick_list_item;
	QuickList.prototype.setup_quick_list_item = function (doc) {
		const field = this.title_field_name;
		if (translated_titles.includes(this.document_type) && field && doc[field]) {
			doc = { ...doc, [field]: __(doc[field]) };
		}
		return setup_item.call(this, doc);
	};
	QuickList.prototype.__branch_crm_translated = true;
})();
