"""A realistic demo branch network on a site, from the engine's sample generator, loaded through the
same intake path core banking uses."""

from __future__ import annotations

import datetime as dt
from functools import partial

import frappe
import pandas as pd

from branch_crm import data_intake
from branch_crm.engine.sample import generate_sample
from branch_crm.install import ensure_erpnext_masters, install_defaults
from branch_crm.staff import ensure_branches, ensure_staff


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
	ensure_branches(sample.branches["branch"])
	ensure_staff(sample.staff)
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
