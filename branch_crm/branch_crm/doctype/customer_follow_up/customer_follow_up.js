// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Customer Follow-up", {
	refresh(frm) {
		if (frm.doc.status === "Open") {
			frm.add_custom_button(__("Log Contact"), () => {
				frappe.new_doc("Contact Log", {
					customer: frm.doc.customer,
					reason: frm.doc.reason,
					channel: frm.doc.channel,
					follow_up: frm.doc.name,
				});
			});
		}
	},
});
