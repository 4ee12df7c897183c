// Copyright (c) 2026, branch_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Customer Profile", {
	refresh(frm) {
		if (frm.is_new()) return;
		// only what the user can open is offered (tellers work no contact plans)
		if (frappe.model.can_create("Contact Log")) {
			frm.add_custom_button(
				__("Log Contact"),
				() => frappe.new_doc("Contact Log", { customer: frm.doc.name }),
				__("Contact", null, "Bank Customer Profile")
			);
		}
		if (frappe.model.can_read("Contact Plan")) {
			frm.add_custom_button(
				__("Contact Plan"),
				() =>
					frappe
						.call("branch_crm.api.ensure_contact_plan", { customer: frm.doc.name })
						.then((r) => frappe.set_route("Form", "Contact Plan", r.message)),
				__("Contact", null, "Bank Customer Profile")
			);
		}
		if (frappe.model.can_read("Customer Follow-up")) {
			frm.add_custom_button(
				__("Follow-ups"),
				() => frappe.set_route("List", "Customer Follow-up", { customer: frm.doc.name }),
				__("Contact", null, "Bank Customer Profile")
			);
		}
		// information kept current (docs/complaints_and_information.md): who edits the sensitive
		// fields confirms them with the customer, and asks for identity changes to be reviewed
		if (frm.perm[1] && frm.perm[1].write) {
			frm.add_custom_button(
				__("Confirm Information"),
				() =>
					frappe
						.call("branch_crm.information.confirm_information", { customer: frm.doc.name })
						.then(() => {
							frappe.show_alert({
								message: __("Identity, contact, occupation and income confirmed with the customer today"),
								indicator: "green",
							});
							frm.reload_doc();
						}),
				__("Identity")
			);
		}
		if (frappe.model.can_create("Profile Change Request")) {
			frm.add_custom_button(
				__("Request Identity Change"),
				() => frappe.new_doc("Profile Change Request", { customer: frm.doc.name }),
				__("Identity")
			);
		}
		if ((frm.doc.__onload || {}).may_reveal) {
			const reveal = (field, label) =>
				frappe
					.call("branch_crm.audit.reveal", { customer: frm.doc.name, field: field })
					.then((r) =>
						frappe.msgprint({
							title: __(label),
							message: frappe.utils.escape_html(r.message || "") +
								"<br><small class='text-muted'>" + __("This reveal is logged.") + "</small>",
						})
					);
			if (frm.doc.id_number_masked) {
				frm.add_custom_button(__("Reveal ID Number"), () => reveal("id_number", "ID Number"), __("Identity"));
			}
			if (frm.doc.mobile_masked) {
				frm.add_custom_button(__("Reveal Mobile"), () => reveal("mobile_no", "Mobile"), __("Identity"));
			}
		}
		show_satisfaction(frm);
	},
});

// satisfaction asked after contacts and events (docs/feedback.md): the onload's summary
function show_satisfaction(frm) {
	const s = (frm.doc.__onload || {}).satisfaction;
	if (!s || (!s.answers && !s.unanswered)) return;
	const esc = frappe.utils.escape_html;
	const trend = { up: __("rising"), down: __("falling"), steady: __("steady") }[s.trend] || "";
	const color = s.average === null ? "gray" : s.average >= 4 ? "green" : s.average > 2 ? "orange" : "red";
	const scores = s.recent.map((r) => `<span title="${esc(r.date)}">${r.score}</span>`).join(" → ");
	let html = `<div class="row"><div class="col-sm-6">
		<div><span class="indicator-pill ${color}">${__("Average {0} of 5", [s.average ?? "-"])}</span>
		${trend ? `<span class="text-muted ml-2">${trend}</span>` : ""}</div>
		<div class="mt-2">${__("Recent scores")}: ${scores || "-"}</div>
		<div class="text-muted">${__("Unanswered requests")}: ${s.unanswered}</div></div>`;
	if (s.last_negative) {
		html += `<div class="col-sm-6"><div>${__("Last negative answer")} (${esc(s.last_negative.date)},
			${s.last_negative.score}/5)</div>
			<div class="text-muted">${esc(s.last_negative.comment || __("(no comment)"))}</div></div>`;
	}
	html += "</div>";
	frm.dashboard.add_section(html, __("Satisfaction"));
	frm.dashboard.show();
}
