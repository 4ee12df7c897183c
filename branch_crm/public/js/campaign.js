// A bank campaign on ERPNext's Campaign (docs/campaigns.md): preview the selection with counts,
// launch it (the control group is drawn then), and read its effect against the control group.
frappe.ui.form.on("Campaign", {
	onload(frm) {
		// a branch manager's campaign is for their own branch
		if (!frm.is_new() || frm.doc.bank_campaign_branch) return;
		frappe.db.get_value("Relationship Manager", frappe.session.user, "branch").then(({ message }) => {
			if (message && message.branch) frm.set_value("bank_campaign_branch", message.branch);
		});
	},
	refresh(frm) {
		if (frm.is_new()) return;
		const status = frm.doc.bank_campaign_status || "Draft";
		// the form's rights come from the roles; the campaign's own say what this reader may do
		// (a branch manager reads a campaign of every branch but neither saves nor launches it)
		const may = frm.doc.__onload || {};
		if (may.bank_may_write === false) frm.disable_form();
		frm.add_custom_button(__("Preview Selection"), () => branch_crm_campaign.preview(frm));
		if (status === "Draft" && may.bank_may_launch) {
			frm.add_custom_button(__("Launch"), () => branch_crm_campaign.launch(frm)).addClass("btn-primary");
		}
		if (status === "Launched") {
			// lobby managers read campaigns, not their effect or members
			if ((frappe.boot.user.all_reports || {})["Campaign Effect"]) {
				frm.add_custom_button(__("Campaign Effect"), () =>
					frappe.set_route("query-report", "Campaign Effect", { campaign: frm.doc.name })
				);
			}
			if (frappe.model.can_read("Bank Campaign Member")) {
				frm.add_custom_button(__("Members"), () =>
					frappe.set_route("List", "Bank Campaign Member", { campaign: frm.doc.name })
				);
			}
		}
		if (status === "Launching") {
			frm.dashboard.set_headline(__("The launch runs in the background; reload in a minute."));
		}
	},
});

const branch_crm_campaign = {
	counts_table(title, rows) {
		const body = rows
			.map((row) => `<tr><td>${frappe.utils.escape_html(row.label)}</td><td class="text-right">${row.customers}</td></tr>`)
			.join("");
		return `<h5>${title}</h5><table class="table table-bordered table-condensed"><tbody>${body}</tbody></table>`;
	},
	summary(counts) {
		const excluded = Object.entries(counts.excluded)
			.map(([reason, n]) => `<li>${frappe.utils.escape_html(counts.excluded_labels[reason])}: ${n}</li>`)
			.join("");
		return (
			`<p>${__("Customers matching the selection: {0}", [counts.matched])}</p>` +
			`<p><b>${__("Customers reached: {0}", [counts.eligible])}</b> ` +
			`${__("(about {0} of them held out as the control group)", [counts.expected_control])}</p>` +
			`<p>${__("Left out:")}</p><ul>${excluded}</ul>` +
			this.counts_table(__("Reached per branch"), counts.by_branch) +
			this.counts_table(__("Reached per tier"), counts.by_tier)
		);
	},
	preview(frm) {
		const run = () =>
			frappe.call("branch_crm.campaigns.preview", { campaign: frm.doc.name }).then(({ message }) => {
				frappe.msgprint({ title: __("Selection Preview"), message: this.summary(message), wide: true });
			});
		frm.is_dirty() ? frm.save().then(run) : run();
	},
	launch(frm) {
		const go = () =>
			frappe.call("branch_crm.campaigns.preview", { campaign: frm.doc.name }).then(({ message }) => {
				frappe.confirm(
					this.summary(message) +
						`<p>${__("Launch now? The control group is drawn and the follow-ups are queued; the selection cannot change afterwards.")}</p>`,
					() =>
						frappe
							.call({
								method: "branch_crm.campaigns.launch",
								args: { campaign: frm.doc.name },
								freeze: true,
								freeze_message: __("Launching..."),
							})
							.then(({ message }) => {
								frappe.show_alert({
									message: message.queued
										? __("The launch runs in the background")
										: __("Launched: {0} in the campaign group, {1} in the control group, {2} follow-ups queued", [
												message.campaign_group,
												message.control_group,
												message.follow_ups,
										  ]),
									indicator: "green",
								});
								frm.reload_doc();
							})
				);
			});
		frm.is_dirty() ? frm.save().then(go) : go();
	},
};
