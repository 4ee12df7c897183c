// "Recompute Now": the nightly recompute, started by hand; progress shows on this form.
frappe.ui.form.on("Branch CRM Settings", {
	refresh(frm) {
		if (!frappe.user.has_role(["Branch CRM Admin", "System Manager"])) return;
		frm.add_custom_button(__("Recompute Now"), () => {
			frappe.call({ method: "branch_crm.api.recompute_now" }).then(() => {
				frappe.show_alert({ message: __("Recompute started in the background"), indicator: "blue" });
			});
		});
	},
});
