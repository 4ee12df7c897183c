"""What every report builder returns: the Frappe script-report shape, built without Frappe.

A Frappe report's ``execute`` returns ``result.as_frappe()``; the offline CLI renders the same
object as text, CSV and HTML. Labels are English source strings: the Frappe layer translates them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

FIELDTYPES = ("Data", "Link", "Int", "Float", "Currency", "Percent", "Date", "Check")
CHART_TYPES = ("bar", "line", "pie", "donut", "percentage")
INDICATORS = ("Blue", "Green", "Orange", "Red", "Grey")


@dataclass
class ReportResult:
	"""``columns``: ``{fieldname, label, fieldtype, width[, options, precision]}`` dicts; ``data``: one dict per
	row keyed by fieldname, plain Python values; ``chart``: a Frappe Charts dict or None;
	``summary``: report-summary cards ``{value, label, datatype, indicator}``."""

	columns: list[dict]
	data: list[dict]
	chart: dict | None = None
	summary: list[dict] = field(default_factory=list)

	def as_frappe(self) -> tuple[list[dict], list[dict], None, dict | None, list[dict]]:
		"""``(columns, data, message, chart, report_summary)`` as a script report's execute returns."""
		return self.columns, self.data, None, self.chart, self.summary

	def frame(self) -> pd.DataFrame:
		"""The rows as a frame, columns in report order (fieldnames as headers)."""
		fieldnames = [c["fieldname"] for c in self.columns]
		return pd.DataFrame(self.data, columns=fieldnames)


def column(
	fieldname: str,
	label: str,
	fieldtype: str = "Data",
	width: int = 120,
	options: str | None = None,
	precision: int | None = None,
) -> dict:
	"""A report column; ``precision``: decimals shown for a Float (else the site's float precision)."""
	if fieldtype not in FIELDTYPES:
		raise ValueError(f"unknown fieldtype {fieldtype!r}")
	col = {"fieldname": fieldname, "label": label, "fieldtype": fieldtype, "width": width}
	if options:
		col["options"] = options
	if precision is not None:
		col["precision"] = precision
	return col


def card(value: Any, label: str, datatype: str = "Int", indicator: str = "Blue") -> dict:
	if indicator not in INDICATORS:
		raise ValueError(f"unknown indicator {indicator!r}")
	if datatype == "Percent":
		# the desk formats a summary card with the site's float precision ("100.000%"): a share
		# reads better with one decimal, so the card carries its text
		return {"value": f"{float(value):.1f}%", "label": label, "datatype": "Data", "indicator": indicator}
	return {"value": plain(value), "label": label, "datatype": datatype, "indicator": indicator}


def chart(labels: list, datasets: list[tuple[str, list]], type: str = "bar", **options) -> dict:
	"""A Frappe Charts dict: ``datasets`` as ``(name, values)`` pairs."""
	if type not in CHART_TYPES:
		raise ValueError(f"unknown chart type {type!r}")
	return {
		"data": {
			"labels": [plain(label) for label in labels],
			"datasets": [{"name": name, "values": [plain(v) for v in values]} for name, values in datasets],
		},
		"type": type,
		**options,
	}


def plain(value: Any) -> Any:
	"""numpy/pandas scalars as JSON-friendly Python values (NaN and NaT as None)."""
	if value is None or value is pd.NaT:
		return None
	if isinstance(value, np.generic):
		value = value.item()
	if isinstance(value, float) and math.isnan(value):
		return None
	if isinstance(value, pd.Timestamp):
		return value.date()
	if isinstance(value, dt.datetime):
		return value.date() if value.time() == dt.time() else value
	return value


def records(frame: pd.DataFrame) -> list[dict]:
	"""Frame rows as report data: a list of dicts of plain Python values."""
	columns = list(frame.columns)
	return [
		{c: plain(v) for c, v in zip(columns, row, strict=True)}
		for row in frame.itertuples(index=False, name=None)
	]


def customer_columns() -> list[dict]:
	"""The columns that name a customer and who serves them, first in every per-customer report.

	Links only to doctypes branch staff can read: the desk checks every link column of a report's
	rows against the user's read permission and refuses the whole report otherwise. So the customer
	links to their Bank Customer Profile (named by the customer number, like the ERPNext Customer),
	and the branch is plain text (ERPNext's Branch is not readable by branch roles)."""
	return [
		column("customer", "Customer", "Link", 120, options="Bank Customer Profile"),
		column("customer_name", "Customer Name", "Data", 120),
		column("branch", "Branch", "Data", 130),
		column("relationship_manager", "Relationship Manager", "Link", 180, options="Relationship Manager"),
		column("tier", "Tier", "Link", 100, options="Customer Tier"),
	]


def limited(rows: pd.DataFrame, filters: dict) -> pd.DataFrame:
	"""The rows a report lists: all, or the first ``filters["limit"]``."""
	limit = filters.get("limit")
	return rows.head(int(limit)) if limit else rows


def listed_in_order(
	rows: pd.DataFrame, keys: dict, ascending: list[bool], filters: dict, extra: dict | None = None
) -> pd.DataFrame:
	"""``limited(rows.sort_values(keys))``, stable, missing keys last, sorting only the keys and copying
	only the rows listed: a million rows sorted with every column would double a report's memory.
	``keys`` and ``extra`` (columns added to the listed rows): name -> values in the order of ``rows``."""
	keys = pd.DataFrame({name: np.asarray(values) for name, values in keys.items()})
	order = keys.sort_values(list(keys), ascending=ascending, kind="stable", na_position="last").index
	limit = filters.get("limit")
	take = order.to_numpy()[: int(limit)] if limit else order.to_numpy()
	return rows.iloc[take].assign(
		**{name: np.asarray(values)[take] for name, values in (extra or {}).items()}
	)


def every_row_or(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
	"""``frame[mask]``, or ``frame`` itself when the mask keeps every row (no copy of a million rows)."""
	return frame if mask.all() else frame[mask]
