// A follow-up's to-do: log the contact straight from it (the log closes the follow-up and the to-do).
frappe.ui.form.on("ToDo", {
	refresh(frm) {
		if (frm.doc.reference_type !== "Bank Customer Profile" || frm.doc.status !== "Open") return;
		frappe.db
			.get_value("Customer Follow-up", { todo: frm.doc.name, status: "Open" }, ["name", "reason", "channel"])
			.then(({ message }) => {
				if (!message || !message.name) return;
				frm.add_custom_button(__("Log Contact"), () => {
					frappe.new_doc("Contact Log", {
						customer: frm.doc.reference_name,
						reason: message.reason,
						channel: message.channel,
						follow_up: message.name,
					});
				});
			});
	},
});
