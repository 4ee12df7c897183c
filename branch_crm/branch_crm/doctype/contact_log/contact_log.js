// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Contact Log", {
	refresh(frm) {
		// satisfaction asked after the contact (docs/feedback.md)
		if (frm.is_new() || !frappe.model.can_create("Customer Feedback")) return;
		frm.add_custom_button(__("Ask for Feedback"), () =>
			frappe
				.call("branch_crm.feedback.ask", { contact_log: frm.doc.name })
				.then((r) => {
					const result = r.message;
					frappe.msgprint({
						title: __("Customer Feedback"),
						indicator: "green",
						message:
							result.channel === "Given by Staff"
								? __("Give the customer this survey link:") +
								  `<br><a href="${result.url}">${result.url}</a>`
								: __("The survey link was sent by {0}", [__(result.channel)]),
					});
				})
		);
		frm.add_custom_button(__("Feedback"), () =>
			frappe.set_route("List", "Customer Feedback", { contact_log: frm.doc.name })
		);
	},
});
