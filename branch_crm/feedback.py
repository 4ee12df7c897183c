"""Customer feedback on the site (docs/feedback.md): after a contact or a branch event the customer is
asked for a score from 1 to 5 through a signed, single-use, expiring link; the public page
``/feedback`` (``branch_crm/www/feedback.py``) takes the answer without a login.

* ``ask`` (whitelisted; the "Ask for Feedback" buttons) and ``on_contact_logged`` (a Contact Log
  that reached the customer): a Customer Feedback request, sent by email when the customer has an
  address, by SMS when SMS Settings are set up and they have a mobile, else the link is shown to the
  staff member to pass on. Never to a customer marked do-not-contact.
* ``check`` and ``submit_feedback`` (guest): the link's signature and expiry
  (``engine.feedback.check_token``), then the stored request (answered once, row locked).
* ``expire_requests`` (daily): requests past their expiry become Expired, one UPDATE.
* ``profile_summary``: the satisfaction shown on the profile (``engine.feedback.satisfaction_summary``).
"""

from __future__ import annotations

import datetime as dt
import time

import frappe
import pandas as pd
from frappe import _
from frappe.utils.verified_command import get_secret

from branch_crm.engine.feedback import (
	ASK_AGAIN_AFTER_DAYS,
	VALID_DAYS,
	check_token,
	make_token,
	parse_score,
	satisfaction_summary,
	should_ask,
)

FEEDBACK = "Customer Feedback"
PROFILE = "Bank Customer Profile"
COMMENT_LENGTH = 1000
# what a guest is told; the same words whatever was wrong with a link that does not hold, so a link
# never tells whether a request exists
MESSAGES = {
	"invalid": "This survey link is not valid. Please use the link exactly as you received it.",
	"expired": "This survey link has expired. Thank you all the same.",
	"answered": "This survey has already been answered. Thank you.",
	"thanks": "Thank you. Your answer has been recorded.",
	"score": "Please choose a score from 1 to 5.",
}


def _label(doc_or_name) -> str:
	name = getattr(doc_or_name, "name", doc_or_name)
	return f"{_(FEEDBACK)} {name or _('(new)')}"


def survey_url(name: str, expires_on: dt.datetime) -> str:
	"""The public link of a request: its name and expiry, signed with the site's secret."""
	expires = int(frappe.utils.get_datetime(expires_on).timestamp())
	return frappe.utils.get_url(f"/feedback?t={make_token(get_secret(), name, expires)}")


def bank_name() -> str:
	"""The only name the survey page shows: the bank's (the default company), never the customer's."""
	return frappe.db.get_default("company") or _("Your bank")


# ---------------------------------------------------------------- asking


def _last_asked(customer: str) -> dt.datetime | None:
	value = frappe.db.get_value(FEEDBACK, {"customer": customer}, "max(`asked_on`)")
	return frappe.utils.get_datetime(value) if value else None


@frappe.whitelist(methods=["POST"])
def ask(customer: str | None = None, contact_log: str | None = None, branch_event: str | None = None) -> dict:
	"""Ask a customer for feedback about a contact (``contact_log``) or a branch event they
	attended (``branch_event`` + ``customer``): the request is created as the user (the permission
	hooks decide whether they may) and sent; returns its name, channel and link."""
	if contact_log:
		log = frappe.get_doc("Contact Log", contact_log)
		log.check_permission("read")
		if customer and customer != log.customer:
			frappe.throw(
				_("Contact Log {0} belongs to customer {1}, not {2}").format(
					contact_log, log.customer, customer
				)
			)
		customer, branch_event = log.customer, branch_event or log.branch_event
	elif branch_event:
		event = frappe.get_doc("Branch Event", branch_event)
		event.check_permission("read")
		if not customer:
			frappe.throw(
				_("Branch Event {0}: name the attendee to ask").format(branch_event), frappe.MandatoryError
			)
	if not customer:
		frappe.throw(_("Name the customer, the contact or the event to ask about"), frappe.MandatoryError)
	if frappe.db.get_value(PROFILE, customer, "do_not_contact"):
		frappe.throw(
			_("Customer {0} is marked do-not-contact: no feedback is asked").format(customer),
			title=_("Do Not Contact"),
		)
	if contact_log and frappe.db.exists(FEEDBACK, {"contact_log": contact_log, "status": "Asked"}):
		frappe.throw(_("Contact Log {0}: the customer was already asked about it").format(contact_log))
	return create_request(customer, contact_log=contact_log, branch_event=branch_event)


@frappe.whitelist(methods=["POST"])
def ask_event_attendees(branch_event: str) -> dict:
	"""Ask every attendee who came to a branch event and was not asked about it yet (not those
	marked do-not-contact). Returns {"asked", "links"}: the links the staff member passes on."""
	event = frappe.get_doc("Branch Event", branch_event)
	event.check_permission("read")
	attended = [row.customer for row in event.get("attendees") or [] if row.attended and row.customer]
	if not attended:
		frappe.throw(_("Branch Event {0}: no attendee is marked as attended").format(branch_event))
	skip = set(
		frappe.get_all(
			PROFILE,
			filters={"name": ("in", attended), "do_not_contact": 1},
			pluck="name",
			ignore_permissions=True,
		)
	) | set(
		frappe.get_all(
			FEEDBACK, filters={"branch_event": branch_event}, pluck="customer", ignore_permissions=True
		)
	)
	links = {}
	for customer in dict.fromkeys(attended):
		if customer not in skip:
			result = create_request(customer, branch_event=branch_event)
			if result["channel"] == "Given by Staff":
				links[customer] = result["url"]
	return {"asked": len(set(attended) - skip), "links": links}


def on_contact_logged(log) -> None:
	"""Contact Log.after_insert: a contact that reached the customer is followed by a feedback
	request, unless they are do-not-contact or were asked in the last 30 days."""
	profile = frappe.db.get_value(PROFILE, log.customer, ["do_not_contact"], as_dict=True)
	if not profile:
		return
	now = frappe.utils.now_datetime()
	wanted, _why = should_ask(
		log.outcome, bool(profile.do_not_contact), _last_asked(log.customer), now, ASK_AGAIN_AFTER_DAYS
	)
	if not wanted:
		return
	result = create_request(
		log.customer,
		contact_log=log.name,
		branch_event=log.get("branch_event"),
		staff_member=log.owner,
		ignore_permissions=True,
	)
	if result["channel"] == "Given by Staff" and not frappe.flags.in_import:
		frappe.msgprint(
			_("Ask {0} how it went: give them this survey link {1}").format(
				log.customer_name or log.customer, result["url"]
			),
			title=_("Customer Feedback"),
			indicator="blue",
		)


def create_request(
	customer: str,
	*,
	contact_log: str | None = None,
	branch_event: str | None = None,
	staff_member: str | None = None,
	ignore_permissions: bool = False,
) -> dict:
	"""Create and send one feedback request; {"name", "channel", "url", "expires_on"}."""
	now = frappe.utils.now_datetime()
	doc = frappe.get_doc(
		{
			"doctype": FEEDBACK,
			"customer": customer,
			"contact_log": contact_log,
			"branch_event": branch_event,
			"staff_member": staff_member or frappe.session.user,
			"status": "Asked",
			"asked_on": now,
			# whole seconds: the link carries the expiry as Unix seconds
			"expires_on": (now + dt.timedelta(days=VALID_DAYS)).replace(microsecond=0),
		}
	)
	doc.channel = "Given by Staff"
	doc.insert(ignore_permissions=ignore_permissions)
	url = survey_url(doc.name, doc.expires_on)
	channel = send(doc, url)
	if channel != doc.channel:
		doc.db_set("channel", channel, update_modified=False)
	return {"name": doc.name, "channel": channel, "url": url, "expires_on": str(doc.expires_on)}


def _email_configured() -> bool:
	"""An outgoing email account the site sends from (or emails muted, as on a test site)."""
	from frappe.email.doctype.email_account.email_account import EmailAccount

	return bool(EmailAccount.find_default_outgoing())


def _sms_configured() -> bool:
	return bool(frappe.db.get_single_value("SMS Settings", "sms_gateway_url"))


def send(doc, url: str) -> str:
	"""Email when the customer has an address and the site an outgoing email account; SMS when SMS
	Settings are set up and they have a mobile; else the staff member passes the link on. Returns the
	channel used."""
	contact = frappe.db.get_value(PROFILE, doc.customer, ["email_id", "mobile_no"], as_dict=True) or {}
	lang = frappe.db.get_default("lang") or "en"
	bank = bank_name()
	text = _(
		"{0} would like to know how your recent contact with us went. Please answer one question: {1} (the link is valid for {2} days).",
		lang=lang,
	).format(bank, url, VALID_DAYS)
	if contact.get("email_id") and _email_configured():
		frappe.sendmail(
			recipients=[contact["email_id"]],
			subject=_("How did we do? {0}", lang=lang).format(bank),
			message=text,
			reference_doctype=FEEDBACK,
			reference_name=doc.name,
		)
		return "Email"
	if contact.get("mobile_no") and _sms_configured():
		frappe.enqueue(
			"frappe.core.doctype.sms_settings.sms_settings.send_sms",
			receiver_list=[contact["mobile_no"]],
			msg=text,
			enqueue_after_commit=True,
		)
		return "SMS"
	return "Given by Staff"


# ---------------------------------------------------------------- the guest's side


def check(token: str | None, *, for_update: bool = False) -> tuple[str, frappe._dict | None]:
	"""("valid" | "expired" | "answered" | "invalid", the request's name and status) for a link."""
	result = check_token(get_secret(), token, time.time())
	if result.state == "invalid":
		return "invalid", None
	row = frappe.db.get_value(
		FEEDBACK, result.name, ["name", "status", "expires_on"], as_dict=True, for_update=for_update
	)
	if not row or int(frappe.utils.get_datetime(row.expires_on).timestamp()) != result.expires:
		# signed by us, but no such request (deleted) or not this request's expiry
		return "invalid", None
	if row.status == "Answered":
		return "answered", row
	if result.state == "expired" or row.status == "Expired":
		return "expired", row
	return "valid", row


@frappe.whitelist(allow_guest=True, methods=["POST"])
def submit_feedback(token: str | None = None, score=None, comment: str | None = None) -> dict:
	"""The survey page's answer: stored once, when the link holds and has not expired. Returns
	{"ok", "state", "message"} in the guest's language; nothing about the customer."""
	state, row = check(token, for_update=True)
	if state == "valid":
		value = parse_score(score)
		if value is None:
			return _reply(False, "score", 400)
		doc = frappe.get_doc(FEEDBACK, row.name)
		doc.update(
			{
				"score": value,
				"comment": (comment or "").strip()[:COMMENT_LENGTH] or None,
				"answered_on": frappe.utils.now_datetime(),
				"status": "Answered",
			}
		)
		doc.flags.answering = True
		doc.save(ignore_permissions=True)
		return _reply(True, "thanks")
	if state == "expired" and row.status == "Asked":
		frappe.db.set_value(FEEDBACK, row.name, "status", "Expired", update_modified=False)
	return _reply(False, state, 410 if state in ("expired", "answered") else 403)


def _reply(ok: bool, key: str, status: int = 200) -> dict:
	if not ok:
		frappe.local.response["http_status_code"] = status
	return {"ok": ok, "state": key, "message": _(MESSAGES[key])}


def page_state(token: str | None) -> tuple[str, str | None]:
	"""(state, message) for the survey page: "valid" shows the question, the others a message."""
	state, _row = check(token)
	return state, None if state == "valid" else _(MESSAGES[state])


# ---------------------------------------------------------------- jobs and the profile


def expire_requests() -> int:
	"""Daily: requests not answered by their expiry become Expired (one UPDATE)."""
	frappe.db.sql(
		f"""update `tab{FEEDBACK}` set `status` = 'Expired'
		where `status` = 'Asked' and `expires_on` < %(now)s""",
		{"now": frappe.utils.now_datetime()},
	)
	return frappe.db._cursor.rowcount if frappe.db._cursor else 0


def profile_summary(customer: str) -> dict:
	"""The satisfaction the profile form shows (its onload: for whoever reads the profile)."""
	rows = frappe.get_all(
		FEEDBACK,
		filters={"customer": customer},
		fields=["status", "score", "comment", "asked_on", "answered_on", "expires_on"],
		order_by="asked_on desc",
		limit_page_length=200,
		ignore_permissions=True,
	)
	columns = ["status", "score", "comment", "asked_on", "answered_on", "expires_on"]
	frame = pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=columns)
	return satisfaction_summary(frame, frappe.utils.now_datetime())


def answered_feedback(lo: str, hi: str, since: dt.date) -> pd.DataFrame:
	"""Answered requests of the profiles named lo … hi since ``since`` (the churn job's input)."""
	from branch_crm import store

	return store.read_query(
		f"""select `customer`, `answered_on`, `score` from `tab{FEEDBACK}`
		where `customer` between %(lo)s and %(hi)s and `status` = 'Answered' and `answered_on` >= %(since)s""",
		{"lo": lo, "hi": hi, "since": since},
	)
