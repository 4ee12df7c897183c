"""Desk notifications (the bell) for many users at once, as the nightly jobs send them.

Inserting a Notification Log document per user costs ten milliseconds or more each (its hooks, its
version, its realtime message); a night that tells two thousand relationship managers about their
books would spend half a minute on it. Here the logs are written in one statement per thousand, then
what Notification Log's ``after_insert`` does that matters is done for all of them: each user's
notifications marked unseen, and the bell rung once the transaction commits. No email is sent: the
nightly digests are read in the desk (an Alert sends none either).
"""

from __future__ import annotations

import frappe
import pandas as pd

from branch_crm import store

LOG = "Notification Log"


def notify(logs: pd.DataFrame, *, notification_type: str, document_type: str) -> int:
	"""One Notification Log per row of ``logs`` (for_user, subject, and optionally document_name),
	from Administrator, of ``notification_type`` about ``document_type``, in the caller's transaction. Returns
	the number written."""
	logs = logs[logs["for_user"].fillna("") != ""]
	if logs.empty:
		return 0
	rows = logs.assign(
		name=[frappe.generate_hash(length=10) for _row in range(len(logs))],
		type=notification_type,
		document_type=document_type,
		from_user="Administrator",
		read=0,
	)
	store.insert_rows(LOG, rows, list(rows.columns))
	users = rows["for_user"].unique().tolist()
	for chunk in store.chunked(users, store.WRITE_CHUNK):
		frappe.db.sql(
			"update `tabNotification Settings` set `seen` = 0 where `name` in %(users)s",
			{"users": tuple(chunk)},
		)
	for user in users:
		frappe.publish_realtime("notification", after_commit=True, user=user)
	return len(rows)
