"""Customer information kept current and reviewed on the site (docs/complaints_and_information.md).

* Each profile records when its identity, contact and occupation/income data were last confirmed
  (``engine.information``): the intake sets them for what core banking sends new or changed, the
  profile form for what staff change, ``confirm_information`` for what staff confirm unchanged.
* Identity changes made in the desk are held: the profile keeps its values and a Profile Change
  Request waits for the branch manager or a Branch CRM Admin (never the requester) to approve it.
  The intake from core banking is authoritative and never held.
* ``queue_stale`` (daily): profiles not confirmed within the review period get an "Update
  Information" follow-up through the follow-up machinery (``followups.queue_for``: within each
  manager's capacity, one open per customer).
"""

from __future__ import annotations

import datetime as dt

import frappe
import pandas as pd
from frappe import _

from branch_crm import roles, store
from branch_crm.engine import intake
from branch_crm.engine.information import (
	CONFIRMED_FIELDS,
	HELD_FIELDS,
	PARTS,
	confirmed_on,
	held_changes,
	review_cutoff,
	stale_profiles,
)
from branch_crm.engine.masking import mask_one

PROFILE = "Bank Customer Profile"
REQUEST = "Profile Change Request"
FOLLOWUP = "Customer Follow-up"
REASON = "Update Information"
JOB_ID = "branch_crm:queue_update_information"
PART_FIELDS = [field for fields in PARTS.values() for field in fields]
# the request's fields for each held profile field
NEW_FIELDS = {field: f"new_{field}" for field in HELD_FIELDS}
CURRENT_FIELDS = {
	"customer_name": "current_customer_name",
	"id_type": "current_id_type",
	"id_number_masked": "current_id_number_masked",
	"date_of_birth": "current_date_of_birth",
}


# ---------------------------------------------------------------- profile form


def on_profile_validate(doc) -> None:
	"""From the profile's validate: hold identity changes, then date what changed."""
	if not doc.is_new():
		hold_identity_changes(doc)
	before = None if doc.is_new() else doc.get_doc_before_save()
	new = pd.DataFrame([{"customer": doc.name, **{f: doc.get(f) for f in PART_FIELDS}}])
	old = (
		None
		if before is None
		else pd.DataFrame(
			[
				{
					"customer": doc.name,
					**{f: before.get(f) for f in PART_FIELDS},
					**{f: before.get(f) for f in CONFIRMED_FIELDS.values()},
				}
			]
		)
	)
	dates = confirmed_on(new, old, frappe.utils.getdate()).iloc[0]
	for field in CONFIRMED_FIELDS.values():
		doc.set(field, dates[field])


def hold_identity_changes(doc) -> str | None:
	"""Identity fields changed in the desk go back to their stored values; the change waits in a
	Profile Change Request (Pending Approval). Returns the request's name."""
	before = doc.get_doc_before_save()
	if before is None:
		return None
	changes = held_changes(before.as_dict(), doc.as_dict())
	if not changes:
		return None
	for field, (old, _new) in changes.items():
		doc.set(field, old)
	request = frappe.get_doc(
		{
			"doctype": REQUEST,
			"customer": doc.name,
			"reason": _("Changed in the profile form by {0}").format(
				frappe.utils.get_fullname(frappe.session.user)
			),
			**{NEW_FIELDS[field]: new for field, (_old, new) in changes.items()},
		}
	)
	request.insert(ignore_permissions=True)
	_submit_for_approval(request)
	labels = ", ".join(_(doc.meta.get_label(field)) for field in changes)
	frappe.msgprint(
		_("{0} of {1} changed in the desk: held for review in Profile Change Request {2}").format(
			labels, doc.name, request.name
		),
		indicator="orange",
		alert=True,
	)
	return request.name


def _submit_for_approval(request) -> None:
	"""The held change goes to the approvers at once, as its editor would send it; an editor the
	workflow gives no "Submit for Approval" (a System Manager without the app's roles) leaves it
	there all the same: approving is what the maker-checker guards."""
	from frappe.model.workflow import WorkflowPermissionError, apply_workflow

	try:
		apply_workflow(request, "Submit for Approval")
	except WorkflowPermissionError:
		request.db_set("workflow_state", "Pending Approval")


# ---------------------------------------------------------------- change requests


def _label(doc) -> str:
	return f"{_(REQUEST)} {doc.name or _('(new)')}"


def validate_change_request(doc) -> None:
	"""The customer's profile, its current values (while not submitted), the requester, and the new
	values checked with the intake's rules."""
	profile = frappe.db.get_value(
		PROFILE,
		doc.customer,
		["branch", "relationship_manager", *CURRENT_FIELDS],
		as_dict=True,
	)
	if not profile:
		frappe.throw(_("{0}: customer {1} has no Bank Customer Profile").format(_label(doc), doc.customer))
	doc.branch, doc.relationship_manager = profile.branch, profile.relationship_manager
	if doc.docstatus == 0:
		for field, target in CURRENT_FIELDS.items():
			doc.set(target, profile.get(field))
	if doc.is_new():
		doc.requested_by = frappe.session.user
	for field in NEW_FIELDS.values():
		if isinstance(doc.get(field), str):
			doc.set(field, doc.get(field).strip() or None)
	current = {
		"customer_name": profile.customer_name,
		"id_type": profile.id_type,
		"date_of_birth": profile.date_of_birth,
	}
	asked = {field: doc.get(target) for field, target in NEW_FIELDS.items() if doc.get(target)}
	if not held_changes(current, {k: v for k, v in asked.items() if k != "id_number"}) and not asked.get(
		"id_number"
	):
		frappe.throw(
			_("{0}: give at least one new value that differs from the current one").format(_label(doc))
		)
	if not (doc.reason or "").strip():
		frappe.throw(_("{0}: a reason is required").format(_label(doc)))
	record = {"customer": doc.customer, "customer_name": asked.get("customer_name") or profile.customer_name}
	record.update({k: v for k, v in asked.items() if k != "customer_name"})
	if record.get("id_number") and not record.get("id_type"):
		record["id_type"] = profile.id_type
	try:
		intake.MODELS["customers"].model_validate(record, context={"today": frappe.utils.getdate()})
	except Exception as error:  # pydantic's ValidationError: the first problem, named
		problems = getattr(error, "errors", None)
		if not problems:
			raise
		problem = problems(include_url=False)[0]
		field = str(problem["loc"][0]) if problem["loc"] else ""
		template, params = intake.describe_problem(problem)
		frappe.throw(
			_("{0}: {1}: {2}").format(
				_label(doc), _(doc.meta.get_label(NEW_FIELDS.get(field, field))), _(template).format(**params)
			),
			title=_("Invalid value"),
		)


APPROVERS = frozenset({roles.ADMIN, "System Manager"})


def ensure_reviewer_approves(doc) -> None:
	"""Maker-checker: a request counts (is submitted) only when the branch manager of the customer's
	branch or a Branch CRM Admin, other than its requester, approves it through the workflow, by
	whatever path it is submitted."""
	user = frappe.session.user
	user_roles = set(frappe.get_roles(user))
	if not user_roles & APPROVERS:
		from branch_crm.permissions import staff_record

		staff = staff_record(user)
		if not (
			roles.BRANCH_MANAGER in user_roles
			and staff
			and staff.is_active
			and staff.role_type == "Branch Manager"
			and staff.branch == doc.branch
		):
			frappe.throw(
				_("{0}: only the branch manager of {1} or a Branch CRM Admin approves it").format(
					_label(doc), doc.branch
				),
				frappe.PermissionError,
			)
	if user != "Administrator" and user in (doc.owner, doc.requested_by):
		frappe.throw(
			_("{0}: you cannot approve what you requested").format(_label(doc)), frappe.PermissionError
		)
	if doc.get("workflow_state") != "Approved":
		frappe.throw(_("{0}: approve it through its workflow").format(_label(doc)), frappe.PermissionError)


def apply_change_request(doc) -> None:
	"""The approved values on the profile (and the ERPNext Customer's name), identity confirmed
	today. Written directly: the profile's own hold is for desk edits, and this is the review."""
	values = {field: doc.get(target) for field, target in NEW_FIELDS.items() if doc.get(target)}
	if "id_number" in values:
		values["id_number_masked"] = mask_one(values["id_number"], "id_number")
	values[CONFIRMED_FIELDS["identity"]] = frappe.utils.getdate()
	frappe.db.set_value(PROFILE, doc.customer, values)
	if values.get("customer_name") and frappe.db.exists("Customer", doc.customer):
		frappe.db.set_value("Customer", doc.customer, "customer_name", values["customer_name"])
	doc.db_set({"approved_by": frappe.session.user, "applied_on": frappe.utils.now_datetime()})


# ---------------------------------------------------------------- confirmation and review


@frappe.whitelist(methods=["POST"])
def confirm_information(customer: str, parts=None) -> dict:
	"""Staff confirmed the customer's information unchanged (``parts``: identity, contact,
	occupation; default all): those parts are confirmed today and the customer's open "Update
	Information" follow-up is closed. Needs write access to the profile."""
	parts = frappe.parse_json(parts) if isinstance(parts, str) else parts
	parts = list(parts or PARTS)
	unknown = [p for p in parts if p not in PARTS]
	if unknown:
		frappe.throw(_("Unknown information part(s): {0}").format(", ".join(map(str, unknown))))
	profile = frappe.get_doc(PROFILE, customer)
	profile.check_permission("write")
	today = frappe.utils.getdate()
	frappe.db.set_value(PROFILE, customer, {CONFIRMED_FIELDS[p]: today for p in parts})
	from branch_crm.followups import close_followups

	open_rows = frappe.get_all(
		FOLLOWUP, filters={"customer": customer, "reason": REASON, "status": "Open"}, pluck="name"
	)
	close_followups(open_rows)
	return {CONFIRMED_FIELDS[p]: today for p in parts}


def queue_update_information() -> None:
	"""Daily entry point: the review on the long queue, never twice at once."""
	frappe.enqueue("branch_crm.information.queue_stale", queue="long", job_id=JOB_ID, deduplicate=True)


def queue_stale(today: dt.date | None = None, chunk_size: int = 20000) -> dict:
	"""Profiles (not closed, not do-not-contact) with a part confirmed before the review period, or
	never, and no open "Update Information" follow-up: queued as follow-ups for their managers within
	capacity, oldest first. Read set-based, chunk by chunk of names; what does not fit the horizon
	is left for the next days. Returns {"stale": n, "created": n}."""
	today = frappe.utils.getdate(today)
	months = frappe.utils.cint(frappe.db.get_single_value("Branch CRM Settings", "information_review_months"))
	if months <= 0:
		return {"stale": 0, "created": 0}
	cutoff = review_cutoff(today, months)
	dates = ", ".join(f"p.`{field}`" for field in CONFIRMED_FIELDS.values())
	stale_dates = " or ".join(
		f"ifnull(p.`{field}`, '1900-01-01') < %(cutoff)s" for field in CONFIRMED_FIELDS.values()
	)
	from branch_crm.followups import queue_for

	after, found, created = "", 0, 0
	while True:
		rows = store.read_query(
			f"""select p.`name` as `customer`, {dates} from `tab{PROFILE}` p
			where p.`name` > %(after)s and ifnull(p.`status`, '') != 'Closed' and ifnull(p.`do_not_contact`, 0) = 0
			and ({stale_dates})
			and not exists (select 1 from `tab{FOLLOWUP}` f where f.`customer` = p.`name`
				and f.`reason` = %(reason)s and f.`status` = 'Open')
			order by p.`name` limit %(limit)s""",
			{"after": after, "cutoff": cutoff, "reason": REASON, "limit": chunk_size},
		)
		if rows.empty:
			break
		after = rows["customer"].iloc[-1]
		stale = stale_profiles(rows, today, months)
		found += len(stale)
		if not stale.empty:
			created += queue_for(stale[["customer", "details"]], reason=REASON, today=today)["created"]
		if len(rows) < chunk_size:
			break
	return {"stale": found, "created": created}
