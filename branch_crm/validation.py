"""Desk forms follow the same field rules as the intake API: one rule set, in the engine."""

import frappe
from frappe import _
from pydantic import ValidationError

from branch_crm.engine import intake


def validate_doc_with(kind: str, doc) -> None:
	"""Validate the intake fields of ``doc`` with the engine's model for ``kind``; throw the first
	problem, naming the record and the field."""
	columns = intake.COLUMNS[kind]
	record = {c: doc.get(c) for c in columns if doc.get(c) not in (None, "")}
	if "do_not_contact" in record:
		record["do_not_contact"] = bool(record["do_not_contact"])
	try:
		intake.MODELS[kind].model_validate(record, context={"today": frappe.utils.getdate()})
	except ValidationError as error:
		problem = error.errors(include_url=False)[0]
		fieldname = str(problem["loc"][0]) if problem["loc"] else None
		label = _(doc.meta.get_label(fieldname)) if fieldname else ""
		template, params = intake.describe_problem(problem)
		message = _(template).format(**params)
		frappe.throw(
			_("{0} {1}: {2}: {3}").format(_(doc.doctype), doc.name or _("(new)"), label, message),
			title=_("Invalid value"),
		)
