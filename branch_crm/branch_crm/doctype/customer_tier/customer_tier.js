// What-if before saving: how many customers would move between tiers with the thresholds on screen.
frappe.ui.form.on("Customer Tier", {
	refresh(frm) {
		if (!frappe.user.has_role(["Branch CRM Admin", "System Manager"])) return;
		frm.add_custom_button(__("Preview Impact"), () => branch_crm_preview_tiers(frm));
	},
});

function branch_crm_preview_tiers(frm) {
	frappe.db
		.get_list("Customer Tier", {
			fields: ["name", "tier_name", "rank", "min_avg_aum", "min_annual_contribution"],
			limit: 100,
		})
		.then((tiers) => {
			// the form's unsaved values replace the stored row of this tier
			const proposed = tiers.filter((t) => t.name !== frm.doc.name);
			proposed.push({
				tier_name: frm.doc.tier_name,
				rank: frm.doc.rank,
				min_avg_aum: frm.doc.min_avg_aum || 0,
				min_annual_contribution: frm.doc.min_annual_contribution || 0,
			});
			return frappe.call({
				method: "branch_crm.api.preview_tiers",
				args: { tiers: proposed },
				freeze: true,
				freeze_message: __("Computing the tier moves…"),
			});
		})
		.then((r) => {
			const m = r.message;
			const head = m.tiers.map((t) => `<th class="text-right">${frappe.utils.escape_html(__(t))}</th>`).join("");
			const body = m.rows
				.map(
					(row) =>
						`<tr><th>${frappe.utils.escape_html(__(row.from))}</th>${row.counts
							.map((n, i) => {
								const same = m.tiers[i] === row.from;
								return `<td class="text-right ${same ? "text-muted" : n ? "bold" : ""}">${format_number(n, null, 0)}</td>`;
							})
							.join("")}</tr>`
				)
				.join("");
			frappe.msgprint({
				title: __("Tier moves if saved: {0} customers change tier", [format_number(m.moving, null, 0)]),
				message: `<p>${__("Rows: current tier. Columns: tier after the next recompute.")}</p>
					<table class="table table-bordered table-sm"><thead><tr><th>${__("From")} \\ ${__("To")}</th>${head}</tr></thead>
					<tbody>${body}</tbody></table>`,
				wide: true,
			});
		});
}
