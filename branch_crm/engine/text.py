"""Plain-words messages for whole columns at once: the engine's reasons and follow-up messages are
templates (English here; the Frappe layer passes translated ones) filled from frame columns."""

from __future__ import annotations

import string
from collections.abc import Mapping

import numpy as np
import pandas as pd


def template_fields(template: str) -> list[str]:
	"""The named placeholders of a str.format template, in order."""
	return [field for _literal, field, _spec, _conv in string.Formatter().parse(template) if field]


def format_columns(template: str, fields: Mapping, index: pd.Index) -> pd.Series:
	"""str.format over whole columns: the template's literals and the field columns concatenated,
	vectorised, so a million rows take about a second. ``fields`` map placeholder names to string
	columns (Series aligned on ``index``, or arrays of its length)."""
	out = pd.Series("", index=index, dtype=object)
	for literal, field, _spec, _conv in string.Formatter().parse(template):
		if literal:
			out = out + literal
		if field:
			values = fields[field]
			out = out + (
				values
				if isinstance(values, pd.Series)
				else pd.Series(np.asarray(values, dtype=object), index=index)
			)
	return out
