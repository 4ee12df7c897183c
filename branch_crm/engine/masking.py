"""Masked forms of identity numbers and mobiles, as staff see them by default (pure, vectorised).

Only the last four characters of an ID number stay; a mobile keeps its first three and last four
digits (138****8000), as Chinese banks print them. Values too short to mask are masked whole."""

from __future__ import annotations

import pandas as pd

MASK = "*"


def mask_text(value, keep_start: int, keep_end: int) -> str | None:
	if value is None or (not isinstance(value, str) and pd.isna(value)):
		return None
	text = str(value).strip()
	if not text:
		return None
	if len(text) <= keep_start + keep_end:
		return MASK * len(text)
	return text[:keep_start] + MASK * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]


def _mask(values: pd.Series, keep_start: int, keep_end: int) -> pd.Series:
	return pd.Series([mask_text(v, keep_start, keep_end) for v in values], index=values.index, dtype=object)


def mask_id_numbers(values: pd.Series) -> pd.Series:
	"""110105198005170001 -> **************0001."""
	return _mask(values, 0, 4)


def mask_mobiles(values: pd.Series) -> pd.Series:
	"""13800138000 -> 138****8000."""
	return _mask(values, 3, 4)


def mask_one(value: str | None, kind: str) -> str | None:
	masker = {"id_number": mask_id_numbers, "mobile_no": mask_mobiles}[kind]
	return masker(pd.Series([value], dtype=object)).iloc[0]
