// "Bank Customer Profile" on the ERPNext Customer form: one click opens the profile, creating it once.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (frm.is_new() || !frappe.model.can_read("Bank Customer Profile")) return;
		frm.add_custom_button(
			__("Bank Customer Profile"),
			() => {
				frappe.call({
					method: "branch_crm.api.make_profile",
					args: { customer: frm.doc.name },
					freeze: true,
					callback: (r) => r.message && frappe.set_route("Form", "Bank Customer Profile", r.message),
				});
			},
			__("Create")
		);
	},
});
