# Copyright (c) 2026, branch_crm contributors
# For license information, please see license.txt

from branch_crm import store
from branch_crm.audit import log_report_run
from branch_crm.report_utils import PROFILE, fill_listed, listed_only, profile_scope, translated
from branch_crm.reports.churn_warning import build_churn_warning, from_stored

COLUMNS = [
	"name",
	"customer_name",
	"branch",
	"relationship_manager",
	"tier",
	"bank_customer_group",
	"value_class",
	"lifetime_value",
	"aum",
	"churn_score",
	"churn_band",
	"churn_reasons",
]
# long texts, read for the listed rows only when the report lists some of its customers: field -> column
LISTED = {"customer_name": "customer_name", "churn_reasons": "churn_reasons"}


def execute(filters=None):
	"""Value × risk from the churn scores the nightly job stored (``branch_crm.jobs.churn``), and the
	customers behind it by risk × value, within the user's book or branch."""
	filters = dict(filters or {})
	log_report_run("Churn Warning", filters)
	scope, values = profile_scope(filters)
	later = list(LISTED.values()) if listed_only(filters) else []
	profiles = store.read_frame_fast(
		PROFILE,
		[c for c in COLUMNS if c not in later],
		where=f"{scope} and `churn_scored_on` is not null",
		values=values,
	).rename(columns={"name": "customer"})
	for column in later:
		profiles[column] = None
	result = build_churn_warning(
		from_stored(profiles),
		{k: filters.get(k) for k in ("value_class", "churn_band", "limit") if filters.get(k)},
	)
	if later:
		fill_listed(result.data, LISTED)
	return translated(
		result,
		translate_rows=("churn_band", "value_class", "branch"),
		filters=filters,
		coded_rows=("churn_reasons",),
	)
