"""Guards on the Frappe paths that do not apply a doctype's row rules or perm levels by themselves.

The row rules (``permissions.py``) and the perm levels (doctype JSON) are the access model. Frappe
applies both to lists, forms and reports, but a few of its generic paths skip one or the other:

- a list query applies row rules and drops unreadable *columns*, but still filters, sorts and groups
  on unreadable fields, joins linked records whatever their row rules (``link_field.field``), reads
  child-table columns whatever the parent's perm level, and reads a child table (``parent_doctype``)
  with no row rule at all: ``QueryGuard`` refuses the first and third, joins only the linked rows the
  user may read, and applies the parent's row rule to child rows;
- ``frappe.client.get_count`` counts with no permission, ``get_group_by_count(assigned_to)`` counts
  to-dos over an unpermitted sub-query, ``search_widget(ignore_user_permissions=1)`` reads with no
  permission: replaced by permission-aware versions (``override_whitelisted_methods``);
- a form's change history, comments and attachments ignore perm levels: scrubbed for the reader;
- ``/api/resource/...?expand_links=1`` and ``expand=`` load linked records with no permission:
  refused when the link leads to a record under row rules (``before_request``).

Every guard leaves Administrator, System Manager and Branch CRM Admin as Frappe has them.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from urllib.parse import unquote

import frappe
from frappe import _

from branch_crm import permissions

MODULE = "Branch CRM"
PROFILE = permissions.PROFILE


def install() -> None:
	"""Wrap ``DatabaseQuery.build_conditions`` once per process (idempotent). Called before every
	request and job, and when the permission hooks are first imported."""
	from frappe.model.db_query import DatabaseQuery

	if getattr(DatabaseQuery, "_branch_crm_guarded", False):
		return
	original = DatabaseQuery.build_conditions

	def build_conditions(self):
		original(self)
		if not self.flags.ignore_permissions:
			QueryGuard(self).apply()

	DatabaseQuery.build_conditions = build_conditions
	DatabaseQuery._branch_crm_guarded = True


def row_ruled(doctype: str) -> bool:
	"""Whether a doctype's rows are under this app's row rules."""
	return doctype in (frappe.get_hooks("permission_query_conditions") or {}) and (
		_is_app_doctype(doctype) or doctype in ("Customer", "Contact", "Address", "File", "Issue")
	)


def _is_app_doctype(doctype: str) -> bool:
	try:
		return frappe.get_meta(doctype).module == MODULE
	except frappe.DoesNotExistError:
		return False


def readable_fields(doctype: str, parenttype: str | None = None, user: str | None = None) -> set[str]:
	from frappe.model import child_table_fields, default_fields, get_permitted_fields, optional_fields

	return {
		*get_permitted_fields(doctype, parenttype=parenttype, user=user, permission_type="read"),
		*default_fields,
		*optional_fields,
		*child_table_fields,
	}


_IDENTIFIER = re.compile(r"`?(?:tab(?P<table>[^`.]+)`?\.)?`?(?P<field>[A-Za-z_][A-Za-z0-9_]*)`?")
# words of an ORDER BY / GROUP BY clause that are not column names
_SQL_WORDS = frozenset(
	"asc desc null is not and or as in like between if ifnull nullif coalesce case when then else end "
	"count sum avg min max distinct locate date year month day cast char signed unsigned field length "
	"lower upper concat timestamp decimal".split()
)


def _verb(what: str) -> str:
	return {"filter": _("filter"), "sort": _("sort"), "group": _("group")}[what]


class QueryGuard:
	"""Checks one ``DatabaseQuery`` of a user who is not unrestricted (see the module docstring)."""

	def __init__(self, query):
		self.query = query
		self.doctype = query.doctype
		self.user = query.user or frappe.session.user

	@cached_property
	def readable(self) -> set[str]:
		"""The fields of the queried doctype the user reads (for a child table, under its parent)."""
		return readable_fields(self.doctype, parenttype=self.query.parent_doctype, user=self.user)

	def apply(self) -> None:
		meta = frappe.get_meta(self.doctype)
		parent = self.query.parent_doctype
		if meta.istable and parent and parent != self.doctype and row_ruled(parent):
			if permissions._unrestricted(self.user):
				return
			self.check_table_field(parent, self.doctype)
			self.add_parent_rule(parent)
			self.check_fields_used()
			return
		if not _is_app_doctype(self.doctype) or permissions._unrestricted(self.user):
			return
		self.check_fields_used()
		self.check_joins()
		self.drop_unreadable_columns()

	def refuse(self, message: str) -> None:
		frappe.throw(message, frappe.PermissionError, title=_("Not permitted"))

	def check_table_field(self, parent: str, child: str) -> None:
		"""A child table is read only by those who may read its table field on the parent."""
		levels = permissions.readable_levels(parent, self.user)
		tables = [df for df in frappe.get_meta(parent).get_table_fields() if df.options == child]
		if not any(df.permlevel in levels for df in tables):
			self.refuse(_("You cannot read {0} of {1}").format(_(child), _(parent)))

	def add_parent_rule(self, parent: str) -> None:
		"""Child rows follow their parent's row rules, which Frappe does not apply to a child query."""
		from frappe.model.db_query import DatabaseQuery

		condition = DatabaseQuery(parent, user=self.user).get_permission_query_conditions()
		table = f"`tab{self.doctype}`"
		rule = f"{table}.`parenttype` = {frappe.db.escape(parent)}"
		if condition:
			rule += (
				f" and {table}.`parent` in (select `tab{parent}`.`name` from `tab{parent}` where {condition})"
			)
		self.query.conditions.append(f"({rule})")

	def check_fields_used(self) -> None:
		"""Filters, sort order and grouping may use only fields the user can read."""
		readable = self.readable
		for f in [*(self.query.filters or []), *(self.query.or_filters or [])]:
			parsed = frappe.utils.data.get_filter(self.doctype, f)
			if parsed.doctype == self.doctype:
				if parsed.fieldname not in readable:
					self.refuse_field("filter", parsed.fieldname)
			else:
				self.check_child_column(parsed.doctype, parsed.fieldname, "filter")
		for clause, what in ((self.query.order_by, "sort"), (self.query.group_by, "group")):
			if not clause or not isinstance(clause, str) or clause == "KEEP_DEFAULT_ORDERING":
				continue
			for match in _IDENTIFIER.finditer(clause):
				table, field = match.group("table"), match.group("field")
				if field.lower() in _SQL_WORDS:
					continue
				linked = self.query.linked_table_aliases.get(f"tab{table}") if table else None
				if linked:
					# sorting by a linked record's hidden field would rank what one cannot read
					doctype = linked.strip("`").removeprefix("tab")
					if field not in readable_fields(doctype, user=self.user) and frappe.get_meta(
						doctype
					).has_field(field):
						self.refuse(_("You cannot {0} by {1} of {2}").format(_verb(what), field, _(doctype)))
				elif table and table != self.doctype:
					self.check_child_column(table, field, what)
				elif field not in readable and frappe.get_meta(self.doctype).has_field(field):
					self.refuse_field(what, field)

	def drop_unreadable_columns(self) -> None:
		"""Frappe drops unreadable columns too, but pops from the list it is iterating, so a column
		right after a dropped one survives: drop them here first, all of them."""
		from frappe.desk.reportview import extract_fieldnames

		meta = frappe.get_meta(self.doctype)
		readable = self.readable

		def unreadable(field: str | None) -> bool:
			if not field or "(" in field:
				return False
			columns = extract_fieldnames(field)
			column = columns[0] if columns else None
			if not column or "*" in column:
				return False
			table, _dot, name = column.rpartition(".")
			if table and table.strip("`").removeprefix("tab") != self.doctype:
				return False
			return meta.has_field(name) and name not in readable

		if self.query.as_list:
			self.query.fields = [None if unreadable(f) else f for f in self.query.fields]
		else:
			self.query.fields = [f for f in self.query.fields if not unreadable(f)]

	def refuse_field(self, what: str, field: str) -> None:
		self.refuse(
			_("You cannot {0} {1} by {2}: you do not have access to that field").format(
				_verb(what), _(self.doctype), field
			)
		)

	def check_child_column(self, child: str, field: str, what: str) -> None:
		if not frappe.db.exists("DocType", child) or not frappe.get_meta(child).istable:
			return
		self.check_table_field(self.doctype, child)
		if field not in readable_fields(child, parenttype=self.doctype, user=self.user):
			self.refuse(_("You cannot {0} by {1} of {2}").format(_verb(what), field, _(child)))

	def check_joins(self) -> None:
		"""Columns of linked records (``link_field.field``: the list view joins the customer's name
		that way) come through the linked record's row rules: a linked row the user may not read
		joins as empty. Child-table columns need the parent's perm level."""
		from frappe.model.db_query import DatabaseQuery

		for link in self.query.link_tables:
			if not row_ruled(link.doctype):
				continue
			condition = DatabaseQuery(link.doctype, user=self.user).get_permission_query_conditions()
			if condition:
				# joined as a derived table of the readable rows; MariaDB merges it into the query
				link.table_name = f"(select * from `tab{link.doctype}` where {condition})"
		for table in self.query.tables[1:]:
			self.check_table_field(self.doctype, table.strip("`")[3:])


# ---------------------------------------------------------------- whitelisted replacements


@frappe.whitelist()
def get_count(doctype, filters=None, debug=False, cache=False):
	"""``frappe.client.get_count`` with the user's permissions (Frappe's counts every row)."""
	from frappe.utils import get_safe_filters

	rows = frappe.get_list(
		doctype,
		filters=get_safe_filters(filters),
		fields=["count(*) as count"],
		order_by=None,
		limit_page_length=0,
		as_list=True,
	)
	return rows[0][0] if rows else 0


@frappe.whitelist()
def get_group_by_count(doctype: str, current_filters: str, field: str) -> list[dict]:
	"""The list sidebar's counts. For "assigned to", Frappe counts to-dos over every record that
	matches the filters; here only the records the user may read count, and a user under row rules
	sees only their own to-dos."""
	from frappe.desk import listview

	if field != "assigned_to" or not row_ruled(doctype) or permissions._unrestricted():
		return listview.get_group_by_count(doctype, current_filters, field)
	names = frappe.get_list(
		doctype, filters=frappe.parse_json(current_filters), pluck="name", limit_page_length=0
	)
	if not names:
		return []
	ToDo = frappe.qb.DocType("ToDo")
	count = frappe.query_builder.functions.Count("*").as_("count")
	return (
		frappe.qb.from_(ToDo)
		.select(ToDo.allocated_to.as_("name"), count)
		.where(
			(ToDo.status != "Cancelled")
			& (ToDo.allocated_to == frappe.session.user)
			& (ToDo.reference_type == doctype)
			& (ToDo.reference_name.isin(names))
		)
		.groupby(ToDo.allocated_to)
		.run(as_dict=True)
	)


def _may_ignore_user_permissions(doctype: str, ignore_user_permissions) -> bool:
	# Frappe turns ignore_user_permissions into ignore_permissions, row rules included
	return bool(frappe.utils.cint(ignore_user_permissions)) and not row_ruled(doctype)


@frappe.whitelist()
def search_link(
	doctype: str,
	txt: str,
	query: str | None = None,
	filters=None,
	page_length: int = 10,
	searchfield: str | None = None,
	reference_doctype: str | None = None,
	ignore_user_permissions: bool = False,
):
	from frappe.desk import search

	return search.search_link(
		doctype,
		txt,
		query=query,
		filters=filters,
		page_length=page_length,
		searchfield=searchfield,
		reference_doctype=reference_doctype,
		ignore_user_permissions=_may_ignore_user_permissions(doctype, ignore_user_permissions),
	)


@frappe.whitelist()
def search_widget(
	doctype: str,
	txt: str,
	query: str | None = None,
	searchfield: str | None = None,
	start: int = 0,
	page_length: int = 10,
	filters=None,
	filter_fields=None,
	as_dict: bool = False,
	reference_doctype: str | None = None,
	ignore_user_permissions: bool = False,
):
	from frappe.desk import search

	return search.search_widget(
		doctype,
		txt,
		query=query,
		searchfield=searchfield,
		start=start,
		page_length=page_length,
		filters=filters,
		filter_fields=filter_fields,
		as_dict=as_dict,
		reference_doctype=reference_doctype,
		ignore_user_permissions=_may_ignore_user_permissions(doctype, ignore_user_permissions),
	)


@frappe.whitelist()
def getdoc(doctype, name):
	from frappe.desk.form import load

	load.getdoc(doctype, name)
	scrub_docinfo(doctype)


@frappe.whitelist()
def get_docinfo(doc=None, doctype=None, name=None):
	from frappe.desk.form import load

	load.get_docinfo(doc=doc, doctype=doctype, name=name)
	scrub_docinfo(doctype or (doc and doc.doctype))


def scrub_docinfo(doctype: str | None) -> None:
	"""A record's history carries old and new values of every field, and its comments, e-mails and
	attachments may carry anything: a reader below the record's perm level 1 gets none of them, and
	the change history keeps only the fields the reader can read."""
	docinfo = frappe.response.get("docinfo")
	if not docinfo or not doctype or not row_ruled(doctype) or permissions._unrestricted():
		return
	meta = frappe.get_meta(doctype)
	readable = readable_fields(doctype)
	if any(df.permlevel > 0 for df in meta.fields) and not (
		readable & {df.fieldname for df in meta.fields if df.permlevel == 1}
	):
		for key in ("comments", "communications", "automated_messages", "attachments"):
			docinfo[key] = []
	docinfo["versions"] = [_readable_version(version, readable) for version in docinfo.get("versions") or []]


def _readable_version(version: dict, readable: set[str]) -> dict:
	try:
		data = json.loads(version.get("data") or "{}")
	except ValueError:
		data = {}
	data["changed"] = [change for change in data.get("changed") or [] if change[0] in readable]
	for key in ("added", "removed", "row_changed"):
		data[key] = [row for row in data.get(key) or [] if row and row[0] in readable]
	return {**version, "data": json.dumps(data)}


# ---------------------------------------------------------------- requests


def before_request() -> None:
	install()
	form = frappe.form_dict
	if not (form.get("expand_links") or form.get("expand")) or permissions._unrestricted():
		return
	doctype = form.get("doctype")
	request = getattr(frappe.local, "request", None)
	if not doctype and request is not None and request.path.startswith("/api/resource/"):
		parts = request.path.split("/")
		doctype = unquote(parts[3]) if len(parts) > 3 else None
	if isinstance(doctype, str) and _links_to_row_ruled(doctype):
		frappe.throw(
			_("Linked records of {0} cannot be expanded: open each linked record itself").format(_(doctype)),
			frappe.PermissionError,
		)


def _links_to_row_ruled(doctype: str) -> bool:
	if not frappe.db.exists("DocType", doctype):
		return False
	metas = [frappe.get_meta(doctype)]
	metas += [frappe.get_meta(df.options) for df in metas[0].get_table_fields()]
	return any(
		df.fieldtype == "Dynamic Link" or row_ruled(df.options)
		for meta in metas
		for df in meta.get_link_fields() + meta.get_dynamic_link_fields()
	)
