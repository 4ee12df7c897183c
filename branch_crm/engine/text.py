"""Messages for whole columns at once: the engine's reasons and follow-up messages are templates
filled from frame columns.

What the nightly jobs store is not words but a *coded message*: each item's code and parameters, so
every reader gets it in their own language (``render_coded``). A coded message is JSON items joined
by commas, ``["churn:aum_drop",{"pct":"35"}],["churn:no_salary",{}]``: the same render functions
produce it when handed ``coded_templates`` and ``CODED_SEPARATOR``. A parameter may itself be a coded
message (a retention follow-up quotes the churn reasons) and is rendered in turn."""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd


def template_fields(template: str) -> list[str]:
	"""The named placeholders of a str.format template, in order."""
	return [field for _literal, field, _spec, _conv in string.Formatter().parse(template) if field]


def format_columns(template: str, fields: Mapping, index: pd.Index) -> pd.Series:
	"""str.format over whole columns: the template's literals and the field columns concatenated,
	vectorised, so a million rows take about a second. ``fields`` map placeholder names to string
	columns (Series aligned on ``index``, or arrays of its length)."""
	coded = isinstance(template, CodedTemplate)
	out = pd.Series("", index=index, dtype=object)
	for literal, field, _spec, _conv in string.Formatter().parse(template):
		if literal:
			out = out + literal
		if field:
			values = fields[field]
			values = (
				values
				if isinstance(values, pd.Series)
				else pd.Series(np.asarray(values, dtype=object), index=index)
			)
			out = out + (_json_strings(values) if coded else values)
	return out


# ---------------------------------------------------------------- coded messages

CODED_SEPARATOR = ","


class CodedTemplate(str):
	"""A template whose output is a coded message item (code and parameters as JSON), not words:
	``format_columns`` quotes its values as JSON strings."""


def item_separator(templates: Mapping[str, str], separator: str) -> str:
	"""What joins a message's items: ``separator`` between words, a coded message's own between
	coded items."""
	return CODED_SEPARATOR if any(isinstance(t, CodedTemplate) for t in templates.values()) else separator


def coded_templates(namespace: str, templates: Mapping[str, str]) -> dict[str, CodedTemplate]:
	"""``templates`` (code -> template) as templates of coded items ``["namespace:code",{...}]``
	carrying the same placeholders, for the render functions that take templates. Codes with the
	same words share the first one's key: what was stored as words before stays the same when stored
	as codes (a tier's first recompute and its rerun store one reason, so the rerun writes nothing)."""
	out = {}
	first_code = {}
	for code, template in templates.items():
		names = dict.fromkeys(template_fields(template))
		body = ",".join(f'"{name}":{{{name}}}' for name in names)
		key = json.dumps(f"{namespace}:{first_code.setdefault(template, code)}", ensure_ascii=False)
		out[code] = CodedTemplate(f"[{key},{{{{{body}}}}}]")
	return out


_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def _json_strings(values: pd.Series) -> pd.Series:
	"""Values as JSON string literals, vectorised: only the rare value with a quote, a backslash or a
	control character goes through json.dumps."""
	text = values.fillna("").astype(str)
	out = '"' + text + '"'
	escape = text.str.contains(_NEEDS_ESCAPE, regex=True)
	if escape.any():
		out[escape] = text[escape].map(lambda v: json.dumps(v, ensure_ascii=False))
	return out


def is_coded(text) -> bool:
	return isinstance(text, str) and text.startswith('["')


def decode(text: str) -> list[tuple[str, dict]]:
	"""The items (code, parameters) of a coded message; ValueError when ``text`` is not one."""
	items = json.loads(f"[{text}]")
	if not all(isinstance(i, list) and len(i) == 2 and isinstance(i[1], dict) for i in items):
		raise ValueError(f"not a coded message: {text[:80]!r}")
	return [(str(code), params) for code, params in items]


def render_coded(
	values: Iterable,
	templates: Mapping[str, str],
	translate: Callable[[str], str] = str,
	separator: str = "; ",
) -> list:
	"""Each value in words: a coded message rendered item by item with ``templates`` (namespaced code
	-> template in the reader's language) and its parameters run through ``translate`` (so tier names,
	channels and product categories read in that language too; names and figures have no
	translation and stay as they are); any other value (a note typed by staff, a message from before
	messages were coded) is returned unchanged. A code without a template shows as its code. Each
	distinct value is rendered once."""
	done: dict = {}

	def words(text):
		if not is_coded(text):
			return text
		try:
			items = decode(text)
		except ValueError:
			return text
		parts = []
		for code, params in items:
			shown = {
				name: words(value) if is_coded(value) else translate(str(value))
				for name, value in params.items()
			}
			template = templates.get(code)
			try:
				parts.append(template.format(**shown) if template else code)
			except (KeyError, IndexError, ValueError):
				# a template (a bad translation) naming a placeholder the item does not carry
				parts.append(code)
		return separator.join(parts)

	out = []
	for value in values:
		if value not in done:
			done[value] = words(value)
		out.append(done[value])
	return out
