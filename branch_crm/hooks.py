app_name = "branch_crm"
app_title = "Branch CRM"
app_publisher = "branch_crm contributors"
app_description = "Bank-branch customer relationship management on ERPNext v15"
app_email = "maintainers@branch-crm.example"
app_license = "MIT"
app_icon = "octicon octicon-organization"
app_color = "#2E7D32"

# org/app form: Frappe resolves a bare app name by asking GitHub, which a closed network cannot reach
required_apps = ["frappe/erpnext"]

# Installation
# ------------
after_install = "branch_crm.install.after_install"
before_uninstall = "branch_crm.install.before_uninstall"

# Desk
# ----
# the "Create Follow-ups" button the customer-listing reports share (plain file: no bundling step)
app_include_js = ["/assets/branch_crm/js/follow_up_rows.js"]

doctype_js = {
	"Customer": "public/js/customer.js",
	"Lead": "public/js/lead.js",
	"ToDo": "public/js/todo.js",
}

# Fixtures: the app's roles (branch_crm/roles.py names them) and its approval workflows.
fixtures = [
	{
		"dt": "Role",
		"filters": [
			[
				"role_name",
				"in",
				[
					"Branch CRM Admin",
					"Branch Manager",
					"Relationship Manager",
					"Private Banker",
					"Lobby Manager",
					"Bank Teller",
					"Branch CRM Integration",
				],
			]
		],
	},
	{
		"dt": "Workflow State",
		"filters": [["name", "in", ["Draft", "Pending Approval", "Approved", "Rejected", "Cancelled"]]],
	},
	{
		"dt": "Workflow Action Master",
		"filters": [["name", "in", ["Submit for Approval", "Approve", "Reject", "Cancel"]]],
	},
	{"dt": "Workflow", "filters": [["name", "in", ["Tier Override Approval", "Book Transfer Approval"]]]},
]

# Row-level access: a relationship manager sees their book, a branch manager their branch.
# Field-level access (tellers see basic fields only) is done with perm levels in the doctypes.
permission_query_conditions = {
	"Bank Customer Profile": "branch_crm.permissions.profile_query",
	"Customer Monthly Snapshot": "branch_crm.permissions.customer_fact_query",
	"Contact Plan": "branch_crm.permissions.customer_fact_query",
	"Contact Log": "branch_crm.permissions.customer_fact_query",
	"Tier Change Log": "branch_crm.permissions.customer_fact_query",
	"Tier Override": "branch_crm.permissions.customer_fact_query",
	"Customer Follow-up": "branch_crm.permissions.customer_fact_query",
	"Book Transfer": "branch_crm.permissions.book_transfer_query",
	"Branch Event": "branch_crm.permissions.branch_event_query",
}
has_permission = {
	"Bank Customer Profile": "branch_crm.permissions.has_profile_permission",
	"Customer Monthly Snapshot": "branch_crm.permissions.has_customer_fact_permission",
	"Contact Plan": "branch_crm.permissions.has_customer_fact_permission",
	"Contact Log": "branch_crm.permissions.has_customer_fact_permission",
	"Tier Change Log": "branch_crm.permissions.has_customer_fact_permission",
	"Tier Override": "branch_crm.permissions.has_customer_fact_permission",
	"Customer Follow-up": "branch_crm.permissions.has_customer_fact_permission",
	"Book Transfer": "branch_crm.permissions.has_book_transfer_permission",
	"Branch Event": "branch_crm.permissions.has_branch_event_permission",
}

# Document events
# ---------------
doc_events = {
	"Customer": {
		# A Lead converted into a Customer gets its bank profile straight away.
		"after_insert": "branch_crm.profiles.create_profile_for_converted_lead",
	},
	"ToDo": {
		# closing a follow-up's to-do by hand closes the follow-up
		"on_update": "branch_crm.followups.on_todo_update",
	},
}

# Scheduled jobs: entry points in tasks.py only find the work and enqueue chunks on the long queue.
scheduler_events = {
	"daily_long": [
		"branch_crm.tasks.refresh_profile_balances",
		"branch_crm.tasks.recompute_all",
		# after the recompute on the long queue (FIFO): scores read the day's snapshots and logs
		"branch_crm.tasks.score_churn",
		"branch_crm.tasks.screen_needs",
	],
	"daily": [
		"branch_crm.tasks.apply_due_book_transfers",
		"branch_crm.tasks.queue_follow_ups",
	],
}

# Tests
# -----
before_tests = "branch_crm.install.before_tests"
