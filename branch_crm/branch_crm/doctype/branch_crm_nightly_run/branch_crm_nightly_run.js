// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Branch CRM Nightly Run", {
	refresh(frm) {
		if (frm.doc.status === "Failed") {
			frm.add_custom_button(__("Re-run Failed"), () =>
				frappe
					.call({
						method: "branch_crm.jobs.pipeline.rerun_failed",
						args: { run: frm.doc.name },
						freeze: true,
					})
					.then((r) => {
						frappe.show_alert({
							message: __("{0} failed chunks queued again", [r.message]),
							indicator: "blue",
						});
						frm.reload_doc();
					})
			);
		}
		if (frm.doc.status === "Running") {
			// the chunk jobs write the rows while the night runs
			setTimeout(() => frm.doc.status === "Running" && frm.reload_doc(), 10000);
		}
	},
});
