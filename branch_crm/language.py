"""The language of the words that jobs store for staff to read: churn reasons, needs gaps and next
actions, tier-change reasons, follow-up texts."""

from __future__ import annotations

import frappe
from frappe import _


def site_language() -> str:
	"""The site's language (System Settings). A background worker or a bench command starts in
	site_config's "lang" or English whoever set up the site, so stored words follow the site, not
	whoever happens to run the job."""
	return frappe.db.get_default("lang") or frappe.local.conf.lang or "en"


def in_site_language(texts: dict[str, str]) -> dict[str, str]:
	"""``texts`` (code -> English text or template) translated into the site's language."""
	lang = site_language()
	return {code: _(text, lang=lang) for code, text in texts.items()}
