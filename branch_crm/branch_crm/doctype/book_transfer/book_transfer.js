// Book transfer: re-plan while in draft; reverse once applied.
frappe.ui.form.on("Book Transfer", {
	refresh(frm) {
		if (frm.doc.docstatus === 0 && !frm.is_new() && frm.doc.mode !== "Reversal") {
			frm.add_custom_button(__("Refresh Plan"), () =>
				frappe
					.call("branch_crm.branch_crm.doctype.book_transfer.book_transfer.refresh_plan", { name: frm.doc.name })
					.then(() => frm.reload_doc())
			);
		}
		if (frm.doc.docstatus === 1 && frm.doc.applied_on && !frm.doc.reversed_by) {
			frm.add_custom_button(__("Reverse"), () =>
				frappe
					.call("branch_crm.branch_crm.doctype.book_transfer.book_transfer.make_reversal", { name: frm.doc.name })
					.then((r) => frappe.set_route("Form", "Book Transfer", r.message))
			);
		}
	},
});
