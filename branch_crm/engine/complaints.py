"""Complaints (issue 18, seed 002 §四): how long the bank has to answer one, by the customer's tier,
and which unanswered complaints go to the branch manager. Pure: frames in, frames out.

A complaint is an ERPNext Issue linked to a Bank Customer Profile. Its response deadline is its
registration time plus the hours its tier allows (Customer Tier.complaint_response_hours; a tier
without hours takes Branch CRM Settings' default), fixed when it is registered. It is answered once
ERPNext records a first response (a reply sent from the Issue, or its status leaving Open).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

DEFAULT_RESPONSE_HOURS = 48
# statuses of an Issue that need no further answer
DONE_STATUSES = ("Resolved", "Closed")


def response_hours(
	tiers: pd.Series, hours_by_tier: Mapping[str, float | None], default_hours: float
) -> pd.Series:
	"""Hours allowed to answer, per complaint: its tier's, or ``default_hours`` where the tier has
	none (no tier, an unknown tier, or hours not above 0)."""
	if not default_hours or default_hours <= 0:
		raise ValueError(f"default response hours must be above 0, got {default_hours!r}")
	hours = pd.to_numeric(pd.Series(tiers, dtype=object).map(dict(hours_by_tier)), errors="coerce")
	return hours.where(hours > 0, float(default_hours)).astype(float)


def response_deadlines(
	opened: pd.Series, tiers: pd.Series, hours_by_tier: Mapping[str, float | None], default_hours: float
) -> pd.Series:
	"""Registration time + the hours the tier allows."""
	hours = response_hours(tiers, hours_by_tier, default_hours)
	return pd.to_datetime(pd.Series(opened).reset_index(drop=True)) + pd.to_timedelta(
		hours.reset_index(drop=True), unit="h"
	)


def unanswered_past_deadline(complaints: pd.DataFrame, now: dt.datetime) -> pd.Series:
	"""Whether each complaint is overdue now: not done, no first response, deadline passed."""
	deadline = pd.to_datetime(complaints["response_by"])
	return (
		~complaints["status"].isin(DONE_STATUSES)
		& complaints["first_responded_on"].isna()
		& deadline.notna()
		& (deadline < pd.Timestamp(now))
	)


def due_escalations(
	complaints: pd.DataFrame, branch_managers: Mapping[str, str], now: dt.datetime
) -> pd.DataFrame:
	"""The complaints to escalate now, each once: overdue (``unanswered_past_deadline``), not yet
	escalated, with a branch manager to take it. ``complaints``: name, branch, status, response_by,
	first_responded_on, escalated_on. Returns those rows with ``escalate_to`` and ``hours_overdue``;
	a complaint whose branch has no active branch manager waits (the next run tries again)."""
	if complaints.empty:
		return complaints.assign(escalate_to=pd.Series(dtype=object), hours_overdue=pd.Series(dtype=int))
	due = complaints[unanswered_past_deadline(complaints, now) & complaints["escalated_on"].isna()].copy()
	due["escalate_to"] = due["branch"].map(dict(branch_managers))
	due = due[due["escalate_to"].notna()]
	late = (pd.Timestamp(now) - pd.to_datetime(due["response_by"])).dt.total_seconds() / 3600
	due["hours_overdue"] = np.ceil(late.to_numpy()).astype(int) if len(due) else np.array([], dtype=int)
	return due.reset_index(drop=True)


def first_response_hours(complaints: pd.DataFrame) -> pd.Series:
	"""Hours from registration to the first response; NaN while unanswered."""
	opened = pd.to_datetime(complaints["opened"])
	answered = pd.to_datetime(complaints["first_responded_on"])
	return (answered - opened).dt.total_seconds() / 3600
