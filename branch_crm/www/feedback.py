"""The public survey page (docs/feedback.md): /feedback?t=<signed link>. No login; the link's
signature, expiry and single use are checked by ``branch_crm.feedback``; the page shows the bank's
name, a score from 1 to 5 and a comment box, and nothing about the customer."""

import frappe
from frappe import _

from branch_crm import feedback

no_cache = 1
sitemap = 0


def get_context(context):
	token = frappe.form_dict.get("t")
	state, message = feedback.page_state(token)
	context.no_cache = 1
	context.show_sidebar = False
	context.no_breadcrumbs = True
	context.state = state
	context.message = message
	context.token = token if state == "valid" else ""
	context.bank = feedback.bank_name()
	context.title = _("How did we do?")
	context.comment_length = feedback.COMMENT_LENGTH
	return context
