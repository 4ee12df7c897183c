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
after_migrate = "branch_crm.install.after_migrate"
before_uninstall = "branch_crm.install.before_uninstall"

# Desk
# ----
# the "Create Follow-ups" button the customer-listing reports share (plain file: no bundling step)
app_include_js = ["/assets/branch_crm/js/follow_up_rows.js", "/assets/branch_crm/js/translated_lists.js"]

doctype_js = {
	"Customer": "public/js/customer.js",
	"Lead": "public/js/lead.js",
	"ToDo": "public/js/todo.js",
	"Campaign": "public/js/campaign.js",
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
	{
		"dt": "Workflow",
		"filters": [
			["name", "in", ["Tier Override Approval", "Book Transfer Approval", "Profile Change Approval"]]
		],
	},
]

# Access (docs/security.md): row rules here, perm levels in the doctypes, and guards on the Frappe
# paths that skip either (branch_crm.guards).
_FACTS = ("Customer Monthly Snapshot", "Contact Plan", "Contact Log", "Tier Change Log", "Tier Override")
permission_query_conditions = {
	"Bank Customer Profile": "branch_crm.permissions.profile_query",
	**{doctype: "branch_crm.permissions.customer_fact_query" for doctype in _FACTS},
	"Customer Follow-up": "branch_crm.permissions.follow_up_query",
	"Book Transfer": "branch_crm.permissions.book_transfer_query",
	"Branch Event": "branch_crm.permissions.branch_event_query",
	# ERPNext's records of bank customers belong to the bank's access model
	"Customer": "branch_crm.permissions.erpnext_customer_query",
	"Contact": "branch_crm.permissions.contact_query",
	"Address": "branch_crm.permissions.address_query",
	"File": "branch_crm.permissions.file_query",
	# complaints: ERPNext Issues of bank customers (branch_crm.complaints)
	"Issue": "branch_crm.permissions.complaint_query",
	"Profile Change Request": "branch_crm.permissions.change_request_query",
	"Customer Feedback": "branch_crm.permissions.feedback_query",
	# campaigns: ERPNext's Campaign with the bank's selection, and who it reached (branch_crm.campaigns)
	"Campaign": "branch_crm.permissions.campaign_query",
	"Bank Campaign Member": "branch_crm.permissions.campaign_member_query",
}
has_permission = {
	"Bank Customer Profile": "branch_crm.permissions.has_profile_permission",
	**{doctype: "branch_crm.permissions.has_customer_fact_permission" for doctype in _FACTS},
	"Customer Follow-up": "branch_crm.permissions.has_follow_up_permission",
	"Book Transfer": "branch_crm.permissions.has_book_transfer_permission",
	"Branch Event": "branch_crm.permissions.has_branch_event_permission",
	"Relationship Manager": "branch_crm.permissions.has_staff_permission",
	"Customer": "branch_crm.permissions.has_erpnext_customer_permission",
	"Contact": "branch_crm.permissions.has_contact_or_address_permission",
	"Address": "branch_crm.permissions.has_contact_or_address_permission",
	"File": "branch_crm.permissions.has_file_permission",
	"Issue": "branch_crm.permissions.has_complaint_permission",
	"Profile Change Request": "branch_crm.permissions.has_change_request_permission",
	"Customer Feedback": "branch_crm.permissions.has_feedback_permission",
	"Campaign": "branch_crm.permissions.has_campaign_permission",
	"Bank Campaign Member": "branch_crm.permissions.has_campaign_member_permission",
}

# Frappe endpoints that skip permissions, replaced by versions that apply them
override_whitelisted_methods = {
	"frappe.client.get_count": "branch_crm.guards.get_count",
	"frappe.desk.listview.get_group_by_count": "branch_crm.guards.get_group_by_count",
	"frappe.desk.search.search_link": "branch_crm.guards.search_link",
	"frappe.desk.search.search_widget": "branch_crm.guards.search_widget",
	"frappe.desk.form.load.getdoc": "branch_crm.guards.getdoc",
	"frappe.desk.form.load.get_docinfo": "branch_crm.guards.get_docinfo",
	"frappe.desk.query_report.export_query": "branch_crm.audit.export_report",
	# the group labels of the workspace charts in the reader's language
	"frappe.desk.doctype.dashboard_chart.dashboard_chart.get": "branch_crm.workspace_cards.get_chart",
}
before_request = ["branch_crm.guards.before_request"]
override_doctype_class = {"File": "branch_crm.overrides.BankCRMFile"}

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
	"Issue": {
		# a complaint of a bank customer: its response deadline by tier, its first response
		"validate": "branch_crm.complaints.validate",
	},
	"Campaign": {
		# a bank campaign's selection and settings; its selection is fixed once launched
		"validate": "branch_crm.campaigns.validate",
		# what the reader may do with it (save, launch), for the form's buttons
		"onload": "branch_crm.campaigns.onload",
	},
	"User": {
		# a to-do is written in its reader's language: written again when they change it
		"on_update": "branch_crm.followups.on_user_update",
	},
}

# Scheduled jobs: entry points only find the work and enqueue chunks on the long queue.
scheduler_events = {
	# complaints past their response deadline go to the branch manager (deadlines are in hours)
	"hourly": ["branch_crm.complaints.escalate_overdue_complaints"],
	# the night, in order, fanned out over the long queue's workers (branch_crm.jobs.pipeline)
	"daily_long": ["branch_crm.jobs.pipeline.start_night"],
	"daily": [
		"branch_crm.tasks.apply_due_book_transfers",
		# profiles not confirmed within the review period: "Update Information" follow-ups
		"branch_crm.information.queue_update_information",
		# survey links not answered by their expiry (docs/feedback.md)
		"branch_crm.feedback.expire_requests",
	],
	# chunks whose worker died are queued again; a late night is told to the admins
	"cron": {"*/5 * * * *": ["branch_crm.jobs.pipeline.resume_stalled"]},
}

# Tests
# -----
before_tests = "branch_crm.install.before_tests"
