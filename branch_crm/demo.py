"""A realistic demo branch network on a site, from the engine's sample generator, loaded through the
same intake path core banking uses."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from functools import partial

import frappe
import pandas as pd

from branch_crm import data_intake
from branch_crm.engine.sample import generate_sample
from branch_crm.install import ensure_erpnext_masters, install_defaults
from branch_crm.roles import ROLE_TYPE_TO_ROLE


def last_complete_month(today: dt.date) -> dt.date:
	return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def load_demo_data(
	customers: int, months: int = 24, branches: int | None = None, seed: int = 7, progress=None
) -> dict:
	"""Create branches, staff users, relationship managers and products, then customers, holdings
	and snapshots through the intake. Safe to run twice: everything is keyed on natural keys."""
	ensure_erpnext_masters()
	install_defaults()
	branches = branches or max(1, min(12, customers // 3000 + 1))
	sample = generate_sample(
		customers=customers,
		months=months,
		branches=branches,
		as_of=last_complete_month(frappe.utils.getdate()),
		seed=seed,
	)
	for branch in sample.branches["branch"]:
		if not frappe.db.exists("Branch", branch):
			frappe.get_doc({"doctype": "Branch", "branch": branch}).insert(ignore_permissions=True)
	_create_staff(sample.staff)
	frappe.db.commit()

	results = {}
	for kind, frame in (
		("customers", sample.customers),
		("holdings", sample.holdings),
		("snapshots", sample.snapshots),
	):
		records = _records(frame)
		results[kind] = data_intake.run_in_chunks(
			kind,
			records,
			progress=partial(progress, kind, total=len(records)) if progress else None,
		).as_dict()
	from branch_crm.tasks import run_profile_balance_refresh

	results["balances"] = run_profile_balance_refresh()
	return results


def _records(frame: pd.DataFrame) -> list[dict]:
	frame = frame.astype(object).where(frame.notna(), None)
	return frame.to_dict("records")


@contextmanager
def bulk_user_creation():
	"""A bulk load of staff: Frappe throttles interactive user creation past 60 a minute."""
	in_import, frappe.flags.in_import = frappe.flags.in_import, True
	try:
		yield
	finally:
		frappe.flags.in_import = in_import


def _create_staff(staff: pd.DataFrame) -> None:
	with bulk_user_creation():
		_insert_staff(staff)


def _insert_staff(staff: pd.DataFrame) -> None:
	for row in staff.itertuples(index=False):
		if not frappe.db.exists("User", row.user):
			frappe.get_doc(
				{
					"doctype": "User",
					"email": row.user,
					"first_name": row.full_name,
					"send_welcome_email": 0,
					# set explicitly: defaults are not applied to documents inserted during an import
					"enabled": 1,
					"user_type": "System User",
					"roles": [{"role": ROLE_TYPE_TO_ROLE[row.role_type]}],
				}
			).insert(ignore_permissions=True)
		if not frappe.db.exists("Relationship Manager", row.user):
			frappe.get_doc(
				{
					"doctype": "Relationship Manager",
					"user": row.user,
					"branch": row.branch,
					"role_type": row.role_type,
					"max_customers": int(row.max_customers or 0),
					"max_aum": float(row.max_aum or 0),
					"is_active": 1,
				}
			).insert(ignore_permissions=True)
