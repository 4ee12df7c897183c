// On a converted Lead, jump straight to the bank profile created for its customer.
frappe.ui.form.on("Lead", {
	refresh(frm) {
		if (frm.is_new() || frm.doc.status !== "Converted") return;
		frappe.db.get_value("Customer", { lead_name: frm.doc.name }, "name").then((r) => {
			const customer = r.message && r.message.name;
			if (!customer) return;
			frm.add_custom_button(__("Bank Customer Profile"), () => {
				frappe.call({
					method: "branch_crm.api.make_profile",
					args: { customer },
					callback: (res) => res.message && frappe.set_route("Form", "Bank Customer Profile", res.message),
				});
			});
		});
	},
});
