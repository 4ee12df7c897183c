// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Customer Profile", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(
			__("Log Contact"),
			() => frappe.new_doc("Contact Log", { customer: frm.doc.name }),
			__("Contact")
		);
		frm.add_custom_button(
			__("Contact Plan"),
			() =>
				frappe
					.call("branch_crm.api.ensure_contact_plan", { customer: frm.doc.name })
					.then((r) => frappe.set_route("Form", "Contact Plan", r.message)),
			__("Contact")
		);
		frm.add_custom_button(
			__("Follow-ups"),
			() => frappe.set_route("List", "Customer Follow-up", { customer: frm.doc.name }),
			__("Contact")
		);
	},
});
