"""Book transfers (分户 hand-over): plan with the engine, apply set-based, reverse by a new transfer.

Applying moves each planned customer's profile, contact plan and open follow-ups (ToDos on the
profile) from one manager to another, but only while the customer is still with the manager the
plan took them from, so nothing a colleague changed in between is overwritten. Every move bumps
``modified``, so a form opened before the transfer cannot silently write the old manager back."""

from __future__ import annotations

import hashlib

import frappe
import pandas as pd
from frappe import _
from frappe.model.naming import make_autoname
from frappe.model.workflow import get_workflow_name

from branch_crm import followups, store
from branch_crm.audit import logged_run
from branch_crm.engine.assignment import (
	assign_new_customers,
	book_transfer_plan,
	consulted_staff,
	rehome_proposals,
	reverse_plan,
)
from branch_crm.language import coded

PROFILE = "Bank Customer Profile"
ROW = "Book Transfer Customer"


def _templates() -> dict:
	"""Assignment reasons are stored coded: each reader gets them in their own language."""
	return coded("assignment")


def _names(staff: pd.DataFrame) -> dict:
	"""Staff by name in the reasons, not by login: "assigned to 张玲", not to her e-mail address."""
	return dict(zip(staff["user"], staff["full_name"].fillna(staff["user"]), strict=True))


def _staff(*branches: str) -> pd.DataFrame:
	return store.read_frame(
		"Relationship Manager",
		["user", "full_name", "branch", "role_type", "max_customers", "max_aum", "is_active"],
		where="`branch` in %(branches)s",
		values={"branches": branches},
	)


def _set_rows(doc, rows: pd.DataFrame) -> None:
	"""The transfer's customer rows, from an engine plan (PLAN_COLUMNS or REHOME_COLUMNS)."""
	doc.set("customers", [])
	for row in rows.itertuples(index=False):
		doc.append(
			"customers",
			{
				"customer": row.customer,
				"from_rm": row.from_rm,
				"to_rm": row.to_rm,
				"tier": row.tier,
				"aum": row.aum,
				"reason": row.reason,
			},
		)


def plan(doc) -> None:
	"""Fill the transfer's customer rows from the engine's plan."""
	profiles = store.read_frame(
		PROFILE,
		["customer", "relationship_manager", "aum", "branch", "tier"],
		where="`branch` = %(branch)s",
		values={"branch": doc.branch},
	)
	tiers = _tiers()
	targets = "auto" if doc.mode == "Auto-balance" else [row.relationship_manager for row in doc.to_rms]
	if doc.mode == "Named Managers" and not targets:
		frappe.throw(
			_("Book Transfer {0}: name at least one receiving relationship manager").format(
				doc.name or _("(new)")
			)
		)
	try:
		staff = _staff(doc.branch)
		rows = book_transfer_plan(
			profiles,
			doc.from_rm,
			targets,
			staff,
			doc.effective_date,
			tiers=tiers,
			templates=_templates(),
			labels=_names(staff),
		)
	except ValueError as error:
		frappe.throw(_("Book Transfer {0}: {1}").format(doc.name or _("(new)"), str(error)))
	_set_rows(doc, rows)


@logged_run("Apply Book Transfer", reference_doctype="Book Transfer")
def apply(doc) -> int:
	"""Move the planned customers; returns how many moved. Rows whose customer has meanwhile left
	``from_rm`` are skipped (and stay unapplied)."""
	moved = 0
	now, user = frappe.utils.now_datetime(), frappe.session.user
	for row in doc.customers:
		if not row.to_rm or row.applied:
			continue
		# lock the profile and move it only if it is still where the plan found it
		current = frappe.db.sql(
			f"select `relationship_manager` from `tab{PROFILE}` where `name` = %s for update", row.customer
		)
		if not current or current[0][0] != row.from_rm:
			continue
		frappe.db.sql(
			f"""update `tab{PROFILE}` set `relationship_manager` = %(to)s, `modified` = %(now)s, `modified_by` = %(user)s
			where `name` = %(customer)s""",
			{"to": row.to_rm, "customer": row.customer, "now": now, "user": user},
		)
		frappe.db.sql(
			"update `tabContact Plan` set `relationship_manager` = %(to)s, `modified` = %(now)s where `customer` = %(customer)s",
			{"to": row.to_rm, "customer": row.customer, "now": now},
		)
		frappe.db.sql(
			"""update `tabCustomer Follow-up` set `relationship_manager` = %(to)s, `modified` = %(now)s
			where `customer` = %(customer)s and `status` = 'Open' and `relationship_manager` = %(from)s""",
			{"to": row.to_rm, "from": row.from_rm, "customer": row.customer, "now": now},
		)
		todos = frappe.get_all(
			"ToDo",
			filters={
				"reference_type": PROFILE,
				"reference_name": row.customer,
				"status": "Open",
				"allocated_to": row.from_rm,
			},
			pluck="name",
		)
		if todos:
			frappe.db.sql(
				"update `tabToDo` set `allocated_to` = %(to)s, `modified` = %(now)s where `name` in %(todos)s",
				{"to": row.to_rm, "todos": tuple(todos), "now": now},
			)
		row.db_set({"applied": 1, "moved_todos": ",".join(todos)}, update_modified=False)
		moved += 1
	doc.db_set("applied_on", now)
	# the moved to-dos in the words of their new reader
	followups.rerender_todos(sorted({row.to_rm for row in doc.customers if row.applied and row.to_rm}))
	return moved


def make_reversal(source: str) -> str:
	"""A draft transfer that moves back every customer the applied transfer ``source`` moved and
	who is still where it put them; it goes through the same approval."""
	original = frappe.get_doc("Book Transfer", source)
	if not original.applied_on:
		frappe.throw(
			_("Book Transfer {0} has not been applied, so there is nothing to reverse").format(source)
		)
	if original.reversed_by:
		frappe.throw(_("Book Transfer {0} is already reversed by {1}").format(source, original.reversed_by))
	rows = pd.DataFrame(
		[
			{"customer": r.customer, "from_rm": r.from_rm, "to_rm": r.to_rm, "aum": r.aum, "tier": r.tier}
			for r in original.customers
			if r.applied
		]
	)
	current = (
		store.read_by_values(PROFILE, ["customer", "relationship_manager"], "name", rows["customer"])
		if not rows.empty
		else None
	)
	back = rows
	if not rows.empty:
		# the plan as the engine wrote it, so that reverse_plan can turn it around
		applied = rows.assign(
			effective_date=original.effective_date,
			branch=original.branch,
			serving_role=None,
			reason_code="transfer_named",
			reason="",
		)
		back = reverse_plan(applied, current=current, templates=_templates())
	reversal = frappe.new_doc("Book Transfer")
	reversal.update(
		{
			"branch": original.branch,
			"from_rm": original.from_rm,
			"mode": "Reversal",
			"reverses": original.name,
			"effective_date": frappe.utils.today(),
			"reason": _("Reversal of {0}").format(original.name),
		}
	)
	_set_rows(reversal, back)
	reversal.insert()
	original.db_set("reversed_by", reversal.name)
	return reversal.name


def _tiers() -> list[dict]:
	return frappe.get_all(
		"Customer Tier",
		fields=["tier_name", "rank", "min_avg_aum", "min_annual_contribution", "serving_role"],
	)


def propose_rehoming(branch: str | None = None) -> list[str]:
	"""Customers whose tier now calls for another role than their manager's are proposed for a
	move, not moved: one draft "Re-homing" Book Transfer per branch and current manager, for the
	branch manager to approve. A draft is saved only when its proposal changed (so a night with
	nothing new saves nothing), one already sent for approval is left as the approver sees it, and
	a draft none of whose customers needs moving any more is deleted."""
	branches = [branch] if branch else frappe.get_all("Branch", pluck="name")
	touched = []
	for name in branches:
		profiles = store.read_frame_fast(
			PROFILE,
			["customer", "branch", "relationship_manager", "tier", "aum"],
			where="`branch` = %(b)s",
			values={"b": name},
		)
		if profiles.empty:
			continue
		staff = _staff(name)
		proposals = rehome_proposals(profiles, staff, _tiers(), templates=_templates(), labels=_names(staff))
		proposals = proposals[proposals["to_rm"].notna()]
		drafts = {
			d.from_rm: d
			for d in frappe.get_all(
				"Book Transfer",
				filters={"branch": name, "mode": "Re-homing", "docstatus": 0},
				fields=["name", "from_rm", "workflow_state"],
			)
		}
		stored = _draft_rows([d.name for d in drafts.values()])
		outdated, first, branch_staff = {}, {}, set(staff["user"])
		for from_rm, rows in proposals.groupby("from_rm"):
			draft = drafts.get(from_rm)
			if draft and draft.workflow_state not in (None, "", "Draft"):
				continue
			if draft and _same_rows(stored.get(draft.name), rows):
				continue
			if draft:
				outdated[draft.name] = rows
			elif from_rm in branch_staff:
				first[from_rm] = rows
			else:
				# a manager from another branch: the form's validation says what is wrong
				doc = frappe.new_doc("Book Transfer")
				doc.update(
					{"branch": name, "from_rm": from_rm, "mode": "Re-homing", "reason": _rehoming_reason()}
				)
				_set_rows(doc, rows)
				doc.insert(ignore_permissions=True)
		_replace_draft_rows(outdated)
		touched += list(outdated) + _insert_drafts(name, first)
		# a manager none of whose customers needs moving any more: their draft proposal goes
		proposing = set(proposals["from_rm"])
		for from_rm, draft in drafts.items():
			if from_rm not in proposing and draft.workflow_state in (None, "", "Draft"):
				frappe.delete_doc("Book Transfer", draft.name, ignore_permissions=True)
				touched.append(draft.name)
	return touched


def _rehoming_reason() -> str:
	"""A re-homing proposal's reason, in the language of whoever runs the night (as the form's)."""
	return _("Tier changes: serving role no longer matches")


def _replace_draft_rows(outdated: dict[str, pd.DataFrame]) -> None:
	"""New customer rows for draft re-homing transfers whose proposal changed (every draft, on the
	night a new month moves every AUM), set-based: their old rows deleted and the new inserted in
	a few statements, instead of loading and saving each document. The rows come from this branch's
	profiles and the reasons are already coded, which is what the form's validation ensures; a
	draft has no version history to keep (its approval, through the workflow, is what is recorded)."""
	if not outdated:
		return
	for chunk in store.chunked(list(outdated), store.IN_LIST_LIMIT):
		frappe.db.sql(
			f"delete from `tab{ROW}` where `parenttype` = 'Book Transfer' and `parent` in %(drafts)s",
			{"drafts": tuple(chunk)},
		)
		frappe.db.sql(
			"""update `tabBook Transfer` set `modified` = %(now)s, `modified_by` = %(user)s
			where `name` in %(drafts)s and `docstatus` = 0""",
			{"drafts": tuple(chunk), "now": frappe.utils.now_datetime(), "user": frappe.session.user},
		)
	_insert_draft_rows(outdated)


def _insert_drafts(branch: str, proposals: dict[str, pd.DataFrame]) -> list[str]:
	"""A first draft re-homing transfer for each manager of ``proposals`` (their customers' rows),
	set-based: named from the doctype's series, in the workflow's first state, as inserting each
	document would, for the thousands a first night proposes. Their managers are staff of the
	branch and the rows its customers (what the form's validation checks)."""
	if not proposals:
		return []
	series = frappe.get_meta("Book Transfer").get_field("naming_series").default
	names = [make_autoname(f"{series}.#####", "Book Transfer") for _ in proposals]
	drafts = pd.DataFrame(
		{
			"name": names,
			"naming_series": series,
			"branch": branch,
			"from_rm": list(proposals),
			"mode": "Re-homing",
			"effective_date": frappe.utils.getdate(),
			"reason": _rehoming_reason(),
		}
	)
	if workflow := get_workflow_name("Book Transfer"):
		workflow = frappe.get_cached_doc("Workflow", workflow)
		drafts[workflow.workflow_state_field] = workflow.states[0].state
	store.insert_rows("Book Transfer", drafts, list(drafts.columns))
	_insert_draft_rows(dict(zip(names, proposals.values(), strict=True)))
	return names


def _insert_draft_rows(rows_by_draft: dict[str, pd.DataFrame]) -> None:
	rows = pd.concat(
		[frame.assign(parent=draft, idx=range(1, len(frame) + 1)) for draft, frame in rows_by_draft.items()],
		ignore_index=True,
	)
	# one row per customer in a draft: a name made of both is unique and the same on a re-run
	rows["name"] = [
		hashlib.sha1(f"{parent}:{customer}".encode()).hexdigest()[:12]
		for parent, customer in zip(rows["parent"], rows["customer"], strict=True)
	]
	rows = rows.assign(parenttype="Book Transfer", parentfield="customers", applied=0)
	store.insert_rows(
		ROW,
		rows,
		["name", "parent", "parenttype", "parentfield", "idx", *_PROPOSAL_FIELDS, "from_rm", "applied"],
	)


_PROPOSAL_FIELDS = ["customer", "to_rm", "tier", "aum", "reason"]


def _draft_rows(drafts: list[str]) -> dict[str, pd.DataFrame]:
	"""The customer rows of the draft transfers, read at once, by transfer."""
	if not drafts:
		return {}
	rows = store.read_by_values(ROW, ["parent", *_PROPOSAL_FIELDS], "parent", drafts, fast=True)
	return {name: group for name, group in rows.groupby("parent")}


def _same_rows(stored: pd.DataFrame | None, proposed: pd.DataFrame) -> bool:
	"""Whether a draft already holds exactly this proposal (AUM to the fen)."""
	if stored is None or len(stored) != len(proposed):
		return False

	def key(frame: pd.DataFrame) -> list[tuple]:
		frame = frame[_PROPOSAL_FIELDS].assign(aum=pd.to_numeric(frame["aum"]).fillna(0).round(2))
		return sorted(frame.fillna("").itertuples(index=False, name=None))

	return key(stored) == key(proposed)


def assign_new(frame: pd.DataFrame) -> pd.DataFrame:
	"""Relationship managers for new customers who came without one (intake), by how they came in;
	returns customer, relationship_manager, assignment_reason."""
	return place_new(frame, placement_inputs(frame))


def placement_inputs(frame: pd.DataFrame) -> dict | None:
	"""What placing the new customers of ``frame`` reads from the site (``place_new`` then uses no
	database): the branches' staff, the tiers, the managers of the customers who referred someone,
	and the loads of the staff the placement consults (engine.assignment.consulted_staff), summed
	by the database, so an intake batch reads the books it places into, not whole branches. None when
	no customer names a branch."""
	branches = tuple(frame["branch"].dropna().unique())
	if not branches:
		return None
	staff = _staff(*branches)
	tiers = _tiers()
	referrers = (
		tuple(frame["referred_by_customer"].dropna().unique()) if "referred_by_customer" in frame else ()
	)
	books = store.read_frame(
		PROFILE,
		["customer", "relationship_manager", "aum"],
		where="`branch` in %(b)s and `customer` in %(r)s",
		values={"b": branches, "r": referrers or ("",)},
	)
	consulted = consulted_staff(_as_new(frame), staff, books, tiers)
	return {
		"staff": staff,
		"tiers": tiers,
		"books": books,
		"loads": branch_loads(branches, consulted),
		"templates": _templates(),
		"labels": _names(staff),
	}


def _as_new(frame: pd.DataFrame) -> pd.DataFrame:
	return frame.assign(aum=0.0, tier=None)


def place_new(frame: pd.DataFrame, inputs: dict | None) -> pd.DataFrame:
	"""``assign_new`` from what ``placement_inputs`` read (no database)."""
	if inputs is None:
		return pd.DataFrame(columns=["customer", "relationship_manager", "assignment_reason"])
	result = assign_new_customers(
		_as_new(frame),
		inputs["staff"],
		inputs["books"],
		inputs["tiers"],
		loads=inputs["loads"],
		templates=inputs["templates"],
		labels=inputs["labels"],
	)
	return result.rename(columns={"reason": "assignment_reason"})[
		["customer", "relationship_manager", "assignment_reason"]
	]


def branch_loads(branches: tuple, staff) -> pd.DataFrame:
	"""user, customers, aum: the load each of ``staff`` holds in ``branches`` (customers whose
	manager they are, and the sum of their AUM above 0), as ``engine.assignment.book_loads`` counts
	it, summed by the database. ``staff``: users, or users mapped to how many customers of their
	book to count at most (None: all), as ``engine.assignment.consulted_staff`` gives them.

	Read from the ``branch_churn_report`` index (branch, churn_scored_on, relationship_manager, …,
	aum) without touching a row: first the branches' scoring dates (a few, found by skipping through
	the index), then, for each branch and date, only the entries of these staff, and of a capped
	book no more than its cap. The read costs the books of the staff consulted, not every customer
	of the branches (grouping a branch of 200,000 customers by manager took 0.5 s a batch). Both
	reads see the transaction's snapshot, so no date is missed."""
	caps = dict(staff) if isinstance(staff, dict) else dict.fromkeys(staff)
	caps = {u: cap for u, cap in caps.items() if isinstance(u, str) and u.strip()}
	empty = pd.DataFrame({"user": pd.Series(dtype=object), "customers": 0.0, "aum": 0.0}).iloc[:0]
	if not branches or not caps:
		return empty
	values: dict = {"b": tuple(branches)}
	# (branch, date) pairs, as the index's loose scan finds them; the dates alone would be found by
	# reading the whole index
	dates = [
		date
		for _branch, date in frappe.db.sql(
			f"select distinct `branch`, `churn_scored_on` from `tab{PROFILE}` where `branch` in %(b)s", values
		)
	]
	scored = [d for d in dates if d is not None]
	when = ["`churn_scored_on` in %(dates)s"] if scored else []
	if len(scored) < len(dates):
		when.append("`churn_scored_on` is null")
	if not when:  # no customer in these branches
		return empty
	values["dates"] = tuple(scored) or (None,)
	books = f"from `tab{PROFILE}` where `branch` in %(b)s and ({' or '.join(when)})"
	parts = []
	whole = tuple(u for u, cap in caps.items() if cap is None)
	if whole:
		values["whole"] = whole
		parts.append(
			"select `relationship_manager` as user, count(*) as customers, sum(greatest(`aum`, 0)) as aum "
			f"{books} and `relationship_manager` in %(whole)s group by `relationship_manager`"
		)
	for number, (user, cap) in enumerate((u, c) for u, c in caps.items() if c is not None):
		values[f"u{number}"] = user
		parts.append(
			f"select %(u{number})s as user, count(*) as customers, sum(`aum`) as aum from "
			f"(select greatest(`aum`, 0) as aum "
			f"{books} and `relationship_manager` = %(u{number})s limit {int(cap)}) as book{number}"
		)
	loads = store.read_query(" union all ".join(parts), values, floats=["customers", "aum"])
	return loads[loads["customers"] > 0].reset_index(drop=True)
