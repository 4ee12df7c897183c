"""Campaigns to customer groups, measured against a hold-out control group (docs/campaigns.md).

A campaign is ERPNext's Campaign with the bank's custom fields (``CUSTOM_FIELDS``, made at install
and every migrate by ``ensure_setup``): the saved selection (branch, tiers, segments, value classes,
churn bands, a product gap from needs screening, the channels it uses), the target product or
category, the control group's share and how many weeks the effect is measured.

* ``preview`` (whitelisted; the "Preview Selection" button): counts per branch and tier, and who is
  left out (closed, do-not-contact, channel preference), within the reader's scope.
* ``launch`` (whitelisted; the "Launch" button): a Branch CRM Admin (or System Manager) any
  campaign, a branch manager their own branch's; nobody else. The control group is drawn
  (``engine.campaigns.draw_control``, seeded by ``bank_draw_seed``), every member is written
  set-based with their AUM and product categories at launch, and the campaign group's follow-ups go
  to each customer's manager through ``followups.queue_for`` (capacity, one open per customer and
  reason). Launching twice does nothing the second time; a selection larger than
  ``LAUNCH_IN_BACKGROUND`` is launched on the long queue.
* ``validate`` (Campaign.validate): the settings' bounds; a launched campaign's selection is fixed.

The Campaign Effect report measures the effect (``report/campaign_effect``).
"""

from __future__ import annotations

import datetime as dt
import secrets

import frappe
import pandas as pd
from frappe import _

from branch_crm import roles, store
from branch_crm.engine.campaigns import (
	CAMPAIGN,
	CAMPAIGN_TEMPLATES,
	CHURN_BANDS,
	CONTROL,
	DEFAULT_CONTROL_SHARE,
	DEFAULT_MEASURE_WEEKS,
	EXCLUSIONS,
	PROFILE_COLUMNS,
	VALUE_CLASSES,
	Selection,
	baseline_month,
	draw_control,
	select_customers,
	uniforms,
)
from branch_crm.engine.campaigns import (
	preview as preview_counts,
)
from branch_crm.engine.needs import NEEDS_GAP_LABEL_TEMPLATES
from branch_crm.engine.schema import CHANNELS, PRODUCT_CATEGORIES

CAMPAIGN_DOCTYPE = "Campaign"
MEMBER = "Bank Campaign Member"
PROFILE = "Bank Customer Profile"
SNAPSHOT = "Customer Monthly Snapshot"
HOLDING = "Customer Product Holding"
FOLLOWUP = "Customer Follow-up"
# eligible customers above which a launch runs on the long queue instead of in the request
LAUNCH_IN_BACKGROUND = 2000
STATUSES = ("Draft", "Launching", "Launched")
MAX_CONTROL_SHARE = 50.0


def _slug(value: str) -> str:
	return value.lower().replace(" ", "_")


VALUE_CLASS_FIELDS = {v: f"bank_value_{_slug(v)}" for v in VALUE_CLASSES}
CHURN_BAND_FIELDS = {v: f"bank_churn_{_slug(v)}" for v in CHURN_BANDS}
CHANNEL_FIELDS = {v: f"bank_channel_{_slug(v)}" for v in CHANNELS}
VALUE_CLASS_LABELS = {
	"MVC": "MVC (most valuable)",
	"MGC": "MGC (most growable)",
	"Standard": "Standard",
	"BZC": "BZC (below zero)",
}
CHURN_BAND_LABELS = {"Low": "Low churn risk", "Medium": "Medium churn risk", "High": "High churn risk"}
# what a launch fixes: the selection and the settings the draw and the measurement depend on
LOCKED_FIELDS = (
	"bank_campaign_branch",
	"bank_target_tiers",
	"bank_target_segments",
	"bank_gap_type",
	*VALUE_CLASS_FIELDS.values(),
	*CHURN_BAND_FIELDS.values(),
	*CHANNEL_FIELDS.values(),
	"bank_target_category",
	"bank_target_product",
	"bank_control_share",
	"bank_draw_seed",
)
# written by the launch only (validate keeps them as stored)
LAUNCH_RECORD = (
	"bank_campaign_status",
	"bank_launch_date",
	"bank_launched_by",
	"bank_draw_seed",
	"bank_campaign_members",
	"bank_control_members",
	"bank_follow_ups_queued",
)
_LAUNCHED = "eval:['Launching', 'Launched'].includes(doc.bank_campaign_status)"


def _check(fieldname: str, label: str, insert_after: str) -> dict:
	return {
		"fieldname": fieldname,
		"fieldtype": "Check",
		"label": label,
		"insert_after": insert_after,
		"read_only_depends_on": _LAUNCHED,
	}


def _checks(fields: dict[str, str], labels: dict[str, str], after: str) -> list[dict]:
	out = []
	for value, fieldname in fields.items():
		out.append(_check(fieldname, labels.get(value, value), after))
		after = fieldname
	return out


def _custom_fields() -> list[dict]:
	fields = [
		{
			"fieldname": "bank_campaign_section",
			"fieldtype": "Section Break",
			"label": "Bank Campaign",
			"insert_after": "description",
		},
		{
			"fieldname": "bank_campaign_branch",
			"fieldtype": "Link",
			"label": "Branch",
			"options": "Branch",
			"insert_after": "bank_campaign_section",
			"in_standard_filter": 1,
			"search_index": 1,
			"read_only_depends_on": _LAUNCHED,
			"description": "The branch whose customers it reaches; empty: every branch (a Branch CRM Admin's campaign).",
		},
		{
			"fieldname": "bank_target_category",
			"fieldtype": "Select",
			"label": "Target Product Category",
			"options": "\n" + "\n".join(PRODUCT_CATEGORIES),
			"insert_after": "bank_campaign_branch",
			"read_only_depends_on": _LAUNCHED,
			"description": "Take-up is a new holding of this category opened after launch.",
		},
		{
			"fieldname": "bank_target_product",
			"fieldtype": "Link",
			"label": "Target Product",
			"options": "Bank Product",
			"insert_after": "bank_target_category",
			"read_only_depends_on": _LAUNCHED,
			"description": "If set, take-up is a new holding of this product (not of any product of the category).",
		},
		{
			"fieldname": "bank_follow_up_message",
			"fieldtype": "Small Text",
			"label": "Message for the Managers",
			"insert_after": "bank_target_product",
			"description": "What the relationship managers offer; it goes into each follow-up.",
		},
		{
			"fieldname": "bank_campaign_column",
			"fieldtype": "Column Break",
			"insert_after": "bank_follow_up_message",
		},
		{
			"fieldname": "bank_control_share",
			"fieldtype": "Percent",
			"label": "Control Group Share",
			"default": str(int(DEFAULT_CONTROL_SHARE * 100)),
			"insert_after": "bank_campaign_column",
			"read_only_depends_on": _LAUNCHED,
			"description": "Held out at launch, branch by branch and tier by tier, and not contacted for the campaign: the effect is measured against them.",
		},
		{
			"fieldname": "bank_measure_weeks",
			"fieldtype": "Int",
			"label": "Measure for (Weeks)",
			"default": str(DEFAULT_MEASURE_WEEKS),
			"insert_after": "bank_control_share",
		},
		{
			"fieldname": "bank_campaign_status",
			"fieldtype": "Select",
			"label": "Campaign Status",
			"options": "\n".join(STATUSES),
			"default": "Draft",
			"read_only": 1,
			"in_list_view": 1,
			"in_standard_filter": 1,
			"insert_after": "bank_measure_weeks",
		},
		{
			"fieldname": "bank_launch_date",
			"fieldtype": "Date",
			"label": "Launched On",
			"read_only": 1,
			"insert_after": "bank_campaign_status",
		},
		{
			"fieldname": "bank_launched_by",
			"fieldtype": "Link",
			"label": "Launched By",
			"options": "User",
			"read_only": 1,
			"insert_after": "bank_launch_date",
		},
		{
			"fieldname": "bank_draw_seed",
			"fieldtype": "Data",
			"label": "Control Draw Seed",
			"read_only": 1,
			"insert_after": "bank_launched_by",
			"description": "With the member list, it re-derives the control group: see docs/campaigns.md.",
		},
		{
			"fieldname": "bank_campaign_members",
			"fieldtype": "Int",
			"label": "Campaign Group",
			"read_only": 1,
			"insert_after": "bank_draw_seed",
		},
		{
			"fieldname": "bank_control_members",
			"fieldtype": "Int",
			"label": "Control Group",
			"read_only": 1,
			"insert_after": "bank_campaign_members",
		},
		{
			"fieldname": "bank_follow_ups_queued",
			"fieldtype": "Int",
			"label": "Follow-ups Queued",
			"read_only": 1,
			"insert_after": "bank_control_members",
		},
		{
			"fieldname": "bank_selection_section",
			"fieldtype": "Section Break",
			"label": "Selection",
			"insert_after": "bank_follow_ups_queued",
			"description": "Empty means any; the customers must match every criterion that is set.",
		},
		{
			"fieldname": "bank_target_tiers",
			"fieldtype": "Table MultiSelect",
			"label": "Tiers",
			"options": "Bank Campaign Tier",
			"insert_after": "bank_selection_section",
			"read_only_depends_on": _LAUNCHED,
		},
		{
			"fieldname": "bank_target_segments",
			"fieldtype": "Table MultiSelect",
			"label": "Customer Segments",
			"options": "Bank Campaign Segment",
			"insert_after": "bank_target_tiers",
			"read_only_depends_on": _LAUNCHED,
		},
		{
			"fieldname": "bank_gap_type",
			"fieldtype": "Select",
			"label": "Product Gap",
			"options": "\n" + "\n".join(NEEDS_GAP_LABEL_TEMPLATES.values()),
			"insert_after": "bank_target_segments",
			"read_only_depends_on": _LAUNCHED,
			"description": "Customers the nightly needs screening found with this gap.",
		},
		{
			"fieldname": "bank_value_column",
			"fieldtype": "Column Break",
			"label": "Value Classes",
			"insert_after": "bank_gap_type",
		},
	]
	fields += _checks(VALUE_CLASS_FIELDS, VALUE_CLASS_LABELS, "bank_value_column")
	fields.append(
		{
			"fieldname": "bank_churn_column",
			"fieldtype": "Column Break",
			"label": "Churn Bands",
			"insert_after": VALUE_CLASS_FIELDS["BZC"],
		}
	)
	fields += _checks(CHURN_BAND_FIELDS, CHURN_BAND_LABELS, "bank_churn_column")
	fields.append(
		{
			"fieldname": "bank_channel_column",
			"fieldtype": "Column Break",
			"label": "Channels Used",
			"description": "Customers who prefer another channel are left out; none ticked: any channel.",
			"insert_after": CHURN_BAND_FIELDS["High"],
		}
	)
	fields += _checks(CHANNEL_FIELDS, {}, "bank_channel_column")
	return fields


CUSTOM_FIELDS = {CAMPAIGN_DOCTYPE: _custom_fields()}
# who does what with Campaigns (which ones: permissions.campaign_query / has_campaign_permission)
CAMPAIGN_RIGHTS = {
	roles.ADMIN: ("read", "write", "create", "delete", "report", "export"),
	roles.BRANCH_MANAGER: ("read", "write", "create", "report"),
	roles.RELATIONSHIP_MANAGER: ("read", "report"),
	roles.PRIVATE_BANKER: ("read", "report"),
	roles.LOBBY_MANAGER: ("read",),
}


def ensure_setup() -> None:
	"""The Campaign's custom fields and the roles' rights on it; re-runnable."""
	from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
	from frappe.permissions import add_permission, update_permission_property

	create_custom_fields(CUSTOM_FIELDS, update=True)
	for role, granted in CAMPAIGN_RIGHTS.items():
		if not frappe.db.exists("Custom DocPerm", {"parent": CAMPAIGN_DOCTYPE, "role": role, "permlevel": 0}):
			add_permission(CAMPAIGN_DOCTYPE, role, 0)
		for right in granted:
			update_permission_property(CAMPAIGN_DOCTYPE, role, 0, right, 1, validate=False)


def remove_setup() -> None:
	"""Uninstall: the Campaign's custom fields (the roles' rights go with the roles)."""
	for field in CUSTOM_FIELDS[CAMPAIGN_DOCTYPE]:
		frappe.delete_doc(
			"Custom Field",
			f"{CAMPAIGN_DOCTYPE}-{field['fieldname']}",
			ignore_missing=True,
			force=True,
			ignore_permissions=True,
		)


# ---------------------------------------------------------------- the form


def _label(doc) -> str:
	return f"{_('Campaign')} {doc.name or _('(new)')}"


def validate(doc, method=None) -> None:
	"""Campaign.validate: bounds of the control share and the weeks measured; once launched, the
	selection, the target and the control share are what the launch used."""
	_keep_launch_record(doc)
	share = frappe.utils.flt(doc.get("bank_control_share"))
	if share < 0 or share > MAX_CONTROL_SHARE:
		frappe.throw(
			_("{0}: the control group share must be between 0 and {1}%").format(
				_label(doc), MAX_CONTROL_SHARE
			)
		)
	if frappe.utils.cint(doc.get("bank_measure_weeks")) < 0:
		frappe.throw(_("{0}: the weeks measured cannot be negative").format(_label(doc)))
	if doc.is_new() or doc.flags.from_launch:
		return
	before = doc.get_doc_before_save()
	if before is None or before.get("bank_campaign_status") == "Draft":
		return
	changed = [field for field in LOCKED_FIELDS if _value(doc, field) != _value(before, field)]
	if changed:
		labels = ", ".join(_(doc.meta.get_label(field)) for field in changed)
		frappe.throw(
			_("{0} is launched: its {1} cannot change any more").format(_label(doc), labels),
			title=_("Campaign launched"),
		)


def onload(doc, method=None) -> None:
	"""Campaign.onload: what the reader may do with this campaign, for the form's buttons. The desk
	takes a form's rights from the roles, and Frappe asks the row rule (``has_campaign_permission``)
	only whether the reader may read it: a branch manager's role writes Campaigns, but not one of
	every branch, which they read and may neither save nor launch."""
	# frappe.has_permission, not doc.has_permission: asked without raising, it prints no "not allowed"
	doc.set_onload("bank_may_write", frappe.has_permission(CAMPAIGN_DOCTYPE, "write", doc=doc))
	doc.set_onload("bank_may_launch", may_launch(doc))


def _keep_launch_record(doc) -> None:
	"""What the launch records (status, date, who, the seed, the group sizes) is written by the
	launch only: a form or REST call that sends other values keeps the stored ones, so nobody marks a
	campaign launched without its members, nor picks the seed that draws a control group they like."""
	if doc.flags.from_launch:
		return
	before = None if doc.is_new() else doc.get_doc_before_save()
	for field in LAUNCH_RECORD:
		doc.set(field, before.get(field) if before is not None else None)
	doc.bank_campaign_status = doc.get("bank_campaign_status") or "Draft"


def _value(doc, field: str):
	value = doc.get(field)
	if isinstance(value, list):
		return sorted(str(row.get("tier") or row.get("bank_customer_group") or "") for row in value)
	return value or None


def selection_of(doc) -> Selection:
	"""The campaign's saved selection."""
	ticked = lambda fields: [value for value, field in fields.items() if doc.get(field)]  # noqa: E731
	return Selection(
		branches=[doc.bank_campaign_branch] if doc.get("bank_campaign_branch") else [],
		tiers=[row.tier for row in doc.get("bank_target_tiers") or []],
		segments=[row.bank_customer_group for row in doc.get("bank_target_segments") or []],
		value_classes=ticked(VALUE_CLASS_FIELDS),
		churn_bands=ticked(CHURN_BAND_FIELDS),
		gap_types=[doc.bank_gap_type] if doc.get("bank_gap_type") else [],
		channels=ticked(CHANNEL_FIELDS),
	)


def read_profiles(selection: Selection, scope: str | None = None) -> pd.DataFrame:
	"""The profiles a selection can match (its branches and tiers filtered in SQL), within ``scope``
	(an SQL condition on the profile ``p``)."""
	conditions, values = [], {}
	if selection.branches:
		conditions.append("p.`branch` in %(branches)s")
		values["branches"] = tuple(selection.branches)
	if selection.tiers:
		conditions.append("p.`tier` in %(tiers)s")
		values["tiers"] = tuple(selection.tiers)
	if scope:
		conditions.append(scope)
	columns = ", ".join(
		"p.`name` as `customer`" if c == "customer" else f"p.`{c}`"
		for c in (*PROFILE_COLUMNS, "customer_name")
	)
	where = " and ".join(conditions) or "1=1"
	return store.read_query(
		f"select {columns}, cast(p.`aum` as double) as `aum` from `tab{PROFILE}` p where {where}", values
	)


def _selected(doc, scope: str | None = None) -> pd.DataFrame:
	try:
		selection = selection_of(doc)
	except ValueError as error:
		frappe.throw(_("{0}: {1}").format(_label(doc), error))
	return select_customers(read_profiles(selection, scope), selection)


@frappe.whitelist()
def preview(campaign: str) -> dict:
	"""What launching the campaign would do, in counts, within the reader's own scope: matched,
	reached, left out by reason, and the customers reached per branch and per tier."""
	from branch_crm.permissions import profile_condition

	doc = frappe.get_doc(CAMPAIGN_DOCTYPE, campaign)
	doc.check_permission("read")
	counts = preview_counts(_selected(doc, profile_condition(frappe.session.user, table="p")))
	counts["excluded_labels"] = {reason: _(CAMPAIGN_TEMPLATES[reason]) for reason in EXCLUSIONS}
	share = frappe.utils.flt(doc.get("bank_control_share")) / 100
	counts["control_share"] = share
	counts["expected_control"] = round(counts["eligible"] * share)
	for key in ("by_branch", "by_tier"):
		for row in counts[key]:
			row["label"] = _(row["value"]) if row["value"] else _("(none)")
	return counts


# ---------------------------------------------------------------- launch


def may_launch(doc, user: str | None = None) -> bool:
	"""A Branch CRM Admin or System Manager any campaign; a branch manager (an active staff record
	of role type Branch Manager) their own branch's; nobody else."""
	from branch_crm.permissions import staff_record

	user = user or frappe.session.user
	user_roles = set(frappe.get_roles(user))
	if user_roles & roles.UNRESTRICTED_ROLES:
		return True
	if roles.BRANCH_MANAGER not in user_roles:
		return False
	staff = staff_record(user)
	return bool(
		staff
		and staff.is_active
		and staff.role_type == "Branch Manager"
		and doc.get("bank_campaign_branch")
		and staff.branch == doc.bank_campaign_branch
	)


def _launch_result(campaign: str, launched: bool, **extra) -> dict:
	values = frappe.db.get_value(
		CAMPAIGN_DOCTYPE,
		campaign,
		["bank_campaign_status", "bank_campaign_members", "bank_control_members", "bank_follow_ups_queued"],
		as_dict=True,
	)
	return {
		"launched": launched,
		"status": values.bank_campaign_status,
		"campaign_group": values.bank_campaign_members or 0,
		"control_group": values.bank_control_members or 0,
		"follow_ups": values.bank_follow_ups_queued or 0,
		**extra,
	}


@frappe.whitelist(methods=["POST"])
def launch(campaign: str) -> dict:
	"""Launch the campaign: draw the control group, write the members and queue the campaign
	group's follow-ups. Does nothing for a campaign already launched (or launching)."""
	doc = frappe.get_doc(CAMPAIGN_DOCTYPE, campaign)
	doc.check_permission("read")
	if not may_launch(doc):
		frappe.throw(
			_("{0}: only a Branch CRM Admin, or the branch manager of its branch, launches it").format(
				_label(doc)
			),
			frappe.PermissionError,
		)
	# the row lock makes a second click (or a second worker) wait, then find it launched
	status = frappe.db.sql(
		"select `bank_campaign_status` from `tabCampaign` where `name` = %s for update", campaign
	)[0][0]
	if status in ("Launching", "Launched"):
		return _launch_result(campaign, False)
	eligible = int((_selected(doc)["excluded"] == "").sum())
	if not eligible:
		frappe.throw(_("{0}: its selection reaches nobody; preview it and widen it").format(_label(doc)))
	if eligible > LAUNCH_IN_BACKGROUND:
		frappe.db.set_value(CAMPAIGN_DOCTYPE, campaign, "bank_campaign_status", "Launching")
		frappe.db.commit()
		frappe.enqueue(
			"branch_crm.campaigns.run_launch_job",
			queue="long",
			timeout=3600,
			job_id=f"branch_crm:launch_campaign:{campaign}",
			deduplicate=True,
			campaign=campaign,
			user=frappe.session.user,
		)
		return _launch_result(campaign, False, queued=True)
	run_launch(campaign, user=frappe.session.user)
	return _launch_result(campaign, True)


def run_launch(
	campaign: str, user: str | None = None, today: dt.date | None = None, queue_followups: bool = True
) -> dict:
	"""The launch itself (in the request or on the long queue), set-based. A campaign that already
	has members keeps them (a launch interrupted after writing them finishes with the same draw).
	``today``: the launch date (the demo launches in the past). Returns the counts."""
	today = frappe.utils.getdate(today)
	doc = frappe.get_doc(CAMPAIGN_DOCTYPE, campaign)
	seed = doc.get("bank_draw_seed") or secrets.token_hex(8)
	members = _read_members(campaign)
	if members.empty:
		selected = _selected(doc)
		eligible = selected[selected["excluded"] == ""].reset_index(drop=True)
		members = eligible.assign(
			campaign_group=draw_control(eligible, frappe.utils.flt(doc.bank_control_share) / 100, seed),
			draw=uniforms(seed, eligible["customer"]),
		)
		members = _with_baseline(members, doc, today)
		members["name"] = [frappe.generate_hash(length=12) for _i in range(len(members))]
		members["campaign"] = campaign
		for chunk in store.chunked(members, 5000):
			store.insert_rows(
				MEMBER,
				chunk,
				[
					"name",
					"campaign",
					"customer",
					"customer_name",
					"campaign_group",
					"draw",
					"branch",
					"relationship_manager",
					"tier",
					"baseline_month",
					"baseline_aum",
					"baseline_categories",
					"had_target",
				],
				ignore_duplicates=True,
			)
		members = _read_members(campaign)
	reached = members[members["campaign_group"] == CAMPAIGN]
	queued = 0
	if queue_followups and not reached.empty:
		from branch_crm.followups import queue_for

		details = doc.campaign_name or doc.name
		if doc.get("bank_follow_up_message"):
			details = f"{details} ({doc.bank_follow_up_message.strip()})"
		queued = queue_for(
			pd.DataFrame({"customer": reached["customer"].to_numpy(), "details": details}),
			reason="Campaign",
			today=today,
			campaign=campaign,
		)["created"]
		link_follow_ups(campaign)
	frappe.db.set_value(
		CAMPAIGN_DOCTYPE,
		campaign,
		{
			"bank_campaign_status": "Launched",
			"bank_launch_date": today,
			"bank_launched_by": user or frappe.session.user,
			"bank_draw_seed": seed,
			"bank_campaign_members": len(reached),
			"bank_control_members": int((members["campaign_group"] == CONTROL).sum()),
			"bank_follow_ups_queued": queued,
		},
	)
	return {
		"campaign_group": len(reached),
		"control_group": int((members["campaign_group"] == CONTROL).sum()),
		"follow_ups": queued,
	}


def run_launch_job(campaign: str, user: str | None = None) -> dict:
	"""``run_launch`` on the long queue: a failed launch goes back to Draft (its members, if written,
	stay and are used by the next launch) and is logged."""
	try:
		result = run_launch(campaign, user=user)
		frappe.db.commit()
		return result
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=f"Campaign launch failed: {campaign}")
		frappe.db.set_value(CAMPAIGN_DOCTYPE, campaign, "bank_campaign_status", "Draft")
		frappe.db.commit()
		raise


def link_follow_ups(campaign: str) -> None:
	"""Each member of the campaign group gets the follow-up its launch queued."""
	frappe.db.sql(
		f"""update `tab{MEMBER}` m join `tab{FOLLOWUP}` f on f.`campaign` = m.`campaign` and f.`customer` = m.`customer`
		set m.`follow_up` = f.`name` where m.`campaign` = %(campaign)s and m.`follow_up` is null""",
		{"campaign": campaign},
	)


def _read_members(campaign: str) -> pd.DataFrame:
	return store.read_frame(
		MEMBER, ["customer", "campaign_group", "branch"], where="`campaign` = %(c)s", values={"c": campaign}
	)


def _with_baseline(members: pd.DataFrame, doc, today: dt.date) -> pd.DataFrame:
	"""AUM at launch (the last complete month's snapshot, else the profile's latest balance) and the
	product categories held, and whether the target was among them."""
	month = baseline_month(today)
	customers = members["customer"].tolist()
	frames = [
		store.read_query(
			f"""select `customer`, cast(`aum` as double) as `aum` from `tab{SNAPSHOT}`
			where `month` = %(month)s and `customer` in %(customers)s""",
			{"month": month, "customers": tuple(chunk)},
		)
		for chunk in store.chunked(customers, store.READ_CHUNK)
	]
	snapshots = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["customer", "aum"])
	by_customer = snapshots.set_index("customer")["aum"] if not snapshots.empty else pd.Series(dtype=float)
	aum = members["customer"].map(by_customer).astype(float)
	members = members.assign(
		baseline_month=month,
		baseline_aum=aum.fillna(pd.to_numeric(members.get("aum"), errors="coerce")).fillna(0.0),
	)
	holdings = held_at(customers, today)
	categories = holdings.groupby("customer")["product_category"].agg(
		lambda values: ",".join(sorted({v for v in values if v}))
	)
	members["baseline_categories"] = members["customer"].map(categories).fillna("")
	if doc.get("bank_target_product"):
		target = set(holdings.loc[holdings["product"] == doc.bank_target_product, "customer"])
	elif doc.get("bank_target_category"):
		target = set(holdings.loc[holdings["product_category"] == doc.bank_target_category, "customer"])
	else:
		target = set()
	members["had_target"] = members["customer"].isin(target).astype(int)
	return members


def held_at(customers: list[str], day: dt.date) -> pd.DataFrame:
	"""The holdings (customer, product, product_category) of ``customers`` opened before ``day``."""
	frames = [
		store.read_query(
			f"""select `parent` as `customer`, `product`, `product_category` from `tab{HOLDING}`
			where `parenttype` = %(parenttype)s and `parent` in %(customers)s
			and ifnull(`opened_on`, '1900-01-01') < %(day)s""",
			{"parenttype": PROFILE, "customers": tuple(chunk), "day": day},
		)
		for chunk in store.chunked(customers, store.READ_CHUNK)
	]
	return (
		pd.concat(frames, ignore_index=True)
		if frames
		else pd.DataFrame(columns=["customer", "product", "product_category"])
	)
