"""The words that jobs store for staff to read (tier and assignment reasons, churn reasons, needs gaps
and next actions, follow-up messages) are stored as coded messages, codes and parameters
(``branch_crm.engine.text``), and put into words in the language of whoever reads them: the form
(``render_doc``, from the controllers' onload), the reports (``report_utils.translated``), a to-do
and a notification (written in their one reader's language, ``user_language``)."""

from __future__ import annotations

from collections.abc import Iterable

import frappe
from frappe import _
from frappe.translate import get_user_lang

from branch_crm.engine.assignment import ASSIGNMENT_TEMPLATES
from branch_crm.engine.churn import CHURN_REASON_TEMPLATES
from branch_crm.engine.followups import FOLLOWUP_TEMPLATES
from branch_crm.engine.needs import NEEDS_ACTION_TEMPLATES, NEEDS_GAP_TEMPLATES
from branch_crm.engine.text import (
	CODED_SEPARATOR,
	coded_templates,
	is_coded,
	render_coded,
)
from branch_crm.engine.tiering import REASON_TEMPLATES

# namespace -> the English templates of its codes; a coded item is named "namespace:code"
MESSAGES = {
	"tier": REASON_TEMPLATES,
	"assignment": ASSIGNMENT_TEMPLATES,
	"churn": CHURN_REASON_TEMPLATES,
	"gap": NEEDS_GAP_TEMPLATES,
	"action": NEEDS_ACTION_TEMPLATES,
	"followup": FOLLOWUP_TEMPLATES,
}
# separators between the items of one message, by language
SEPARATORS = {"zh": "；"}
# ... and between the names of a list inside one item
LIST_SEPARATORS = {"zh": "、"}

__all__ = [
	"CODED_SEPARATOR",
	"coded",
	"render",
	"render_doc",
	"site_language",
	"user_language",
	"user_languages",
]


def coded(namespace: str) -> dict:
	"""The templates a job hands the engine so that it stores the namespace's messages coded."""
	return coded_templates(namespace, MESSAGES[namespace])


def site_language() -> str:
	"""The site's language (System Settings): a background worker or a bench command starts in
	site_config's "lang" or English whoever set up the site."""
	return frappe.db.get_default("lang") or frappe.local.conf.lang or "en"


def user_language(user: str | None = None) -> str:
	"""The language ``user`` reads the desk in (their own setting, else the site's)."""
	return get_user_lang(user or frappe.session.user) or site_language()


def render(values: Iterable, lang: str | None = None) -> list:
	"""Stored texts in words in ``lang`` (default: the reader's, ``frappe.local.lang``); texts that
	are not coded (typed by staff) come back unchanged."""
	lang = lang or frappe.local.lang or "en"
	templates = {
		f"{namespace}:{code}": _(template, lang=lang)
		for namespace, texts in MESSAGES.items()
		for code, template in texts.items()
	}
	words: dict[str, str] = {}
	separator = SEPARATORS.get(lang.split("-")[0], "; ")
	list_separator = LIST_SEPARATORS.get(lang.split("-")[0], ", ")

	def translate(value: str) -> str:
		if value not in words:
			word = _(value, lang=lang)
			if word == value and ", " in value:
				# a list of names (the products similar customers hold): each name on its own
				word = list_separator.join(_(part, lang=lang) for part in value.split(", "))
			words[value] = word
		return words[value]

	return render_coded(values, templates, translate, separator)


def render_text(value, lang: str | None = None):
	return render([value], lang)[0] if is_coded(value) else value


def render_doc(doc, fieldnames: Iterable[str], table: str | None = None) -> None:
	"""Put the document's coded fields (or those of its ``table`` rows) into words for the reader,
	as a form's onload does; the stored codes stay as they are (``keep_coded`` on save)."""
	rows = doc.get(table) or [] if table else [doc]
	coded_cells = [(row, f) for row in rows for f in fieldnames if is_coded(row.get(f))]
	# one rendering for the whole document: the templates are looked up once
	for (row, fieldname), words in zip(
		coded_cells, render(row.get(f) for row, f in coded_cells), strict=True
	):
		row.set(fieldname, words)


def keep_coded(doc, fieldnames: Iterable[str], table: str | None = None) -> None:
	"""On save, a field that comes back from the form as the words it showed keeps its stored codes
	(and so stays readable in every language); words someone typed over it are kept as typed.
	``table``: the fields are those of that child table's rows, matched by row name."""
	before = doc.get_doc_before_save()
	if not before:
		return
	pairs = [(doc, before)]
	if table:
		old_rows = {row.name: row for row in before.get(table) or []}
		pairs = [(row, old_rows[row.name]) for row in doc.get(table) or [] if row.name in old_rows]
	changed = [
		(row, fieldname, old.get(fieldname))
		for row, old in pairs
		for fieldname in fieldnames
		if is_coded(old.get(fieldname)) and row.get(fieldname) != old.get(fieldname)
	]
	shown_words = render(stored for _row, _fieldname, stored in changed)
	for (row, fieldname, stored), words in zip(changed, shown_words, strict=True):
		if row.get(fieldname) == words:
			row.set(fieldname, stored)


def user_languages(users: list[str]) -> dict[str, str]:
	"""Each user's desk language (their own setting, else the site's), read at once."""
	default = site_language()
	if not users:
		return {}
	found = dict(
		frappe.get_all("User", filters={"name": ("in", users)}, fields=["name", "language"], as_list=True)
	)
	return {user: found.get(user) or default for user in users}


def in_site_language(texts: dict[str, str]) -> dict[str, str]:
	"""``texts`` (code -> English text or template) in the site's language, for texts that become
	staff's own (a Contact Log's notes)."""
	lang = site_language()
	return {code: _(text, lang=lang) for code, text in texts.items()}
