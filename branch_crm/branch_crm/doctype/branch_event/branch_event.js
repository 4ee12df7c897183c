// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Branch Event", {
	refresh(frm) {
		// satisfaction asked after the event (docs/feedback.md)
		if (!frm.is_new() && frappe.model.can_create("Customer Feedback")) {
			frm.add_custom_button(__("Ask Attendees for Feedback"), () =>
				frappe
					.call("branch_crm.feedback.ask_event_attendees", { branch_event: frm.doc.name })
					.then((r) => show_feedback_links(r.message))
			);
		}
	},
	invite_customers(frm) {
		const invite = () =>
			frm.call("invite_customers").then((r) => {
				frm.reload_doc();
				frappe.show_alert({
					message: __("{0} customer(s) invited", [r.message || 0]),
					indicator: "green",
				});
			});
		if (frm.is_dirty()) {
			frm.save().then(invite);
		} else {
			invite();
		}
	},
});

function show_feedback_links(result) {
	const links = Object.entries(result.links || {});
	frappe.msgprint({
		title: __("Customer Feedback"),
		indicator: "green",
		message:
			__("{0} attendee(s) asked for feedback", [result.asked]) +
			(links.length
				? "<br>" +
				  __("Give these customers their survey link:") +
				  "<ul>" +
				  links
						.map(([customer, url]) => `<li>${frappe.utils.escape_html(customer)}: <a href="${url}">${url}</a></li>`)
						.join("") +
				  "</ul>"
				: ""),
	});
}
