// Report rows → follow-ups: a "Create Follow-ups" button for script reports that list customers
// (Needs Screening, Churn Warning). The ticked rows are queued through
// branch_crm.api.queue_follow_ups, within each manager's capacity and one open per customer and reason.
frappe.provide("branch_crm.report");

branch_crm.report.follow_up_rows = function (reason, details_field) {
	return {
		get_datatable_options(options) {
			return Object.assign(options, { checkboxColumn: true });
		},
		onload(report) {
			report.page.add_inner_button(__("Create Follow-ups"), () => {
				const checked = report.datatable ? report.datatable.rowmanager.getCheckedRows() : [];
				const rows = checked.map((index) => report.data[index]).filter((row) => row && row.customer);
				if (!rows.length) {
					frappe.msgprint(__("Tick the customers to follow up first."));
					return;
				}
				frappe.call({
					method: "branch_crm.api.queue_follow_ups",
					args: {
						customers: rows.map((row) => ({ customer: row.customer, details: row[details_field] })),
						reason: reason,
					},
					freeze: true,
					callback(r) {
						const result = r.message || {};
						let message = __("{0} follow-ups created.", [result.created || 0]);
						if ((result.skipped || []).length) {
							message +=
								"<br>" +
								__(
									"Not queued (do not contact, one already open, or no room in the plan horizon): {0}",
									[result.skipped.join(", ")]
								);
						}
						frappe.msgprint(message);
					},
				});
			});
		},
	};
};
