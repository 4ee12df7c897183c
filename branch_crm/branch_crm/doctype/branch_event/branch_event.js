// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Branch Event", {
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
