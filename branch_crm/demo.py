"""A realistic demo branch network on a site, from the engine's sample generator, loaded through the
same intake path core banking uses."""

from __future__ import annotations

import datetime as dt
import secrets
from functools import partial

import frappe
import pandas as pd

from branch_crm import data_intake
from branch_crm.engine.sample import generate_sample
from branch_crm.install import ensure_erpnext_masters, install_defaults
from branch_crm.roles import ADMIN
from branch_crm.staff import bulk_user_creation, ensure_branches, ensure_staff, insert_desk_user

DEMO_COMPANY = "Demo Bank"
DEMO_ADMIN = "crm.admin@bank.example"


def set_up_site(
	company: str = DEMO_COMPANY,
	country: str = "China",
	currency: str = "CNY",
	time_zone: str = "Asia/Shanghai",
) -> bool:
	"""What ERPNext's setup wizard does, without the wizard: system settings, presets, a company with
	its fiscal year and defaults, and setup marked complete, so staff logins reach the desk. The
	wizard itself is not run: Frappe 15.92's pre-fills its user from the first non-admin user and
	renames every user to it. Does nothing on a site that has a company. Returns whether it set up."""
	from erpnext.setup.setup_wizard.setup_wizard import setup_company, setup_defaults, stage_fixtures
	from frappe.desk.page.setup_wizard.setup_wizard import (
		disable_future_access,
		enable_setup_wizard_complete,
		update_system_settings,
	)

	if frappe.db.a_row_exists("Company"):
		return False
	year = frappe.utils.getdate().year
	args = frappe._dict(
		country=country,
		currency=currency,
		timezone=time_zone,
		language="English",
		company_name=company,
		company_abbr="DB",
		chart_of_accounts="Standard",
		domain="Services",
		fy_start_date=f"{year}-01-01",  # China's fiscal year is the calendar year
		fy_end_date=f"{year}-12-31",
	)
	update_system_settings(args)
	if not frappe.db.a_row_exists("Customer"):
		# the app's install made these roots so the intake works on a bare site; ERPNext's presets
		# make them again, and fail noisily on the copies
		frappe.db.delete("Customer Group", {"name": ("in", ("Individual", "All Customer Groups"))})
		frappe.db.delete("Territory", {"name": "All Territories"})
	stage_fixtures(args)
	setup_company(args)
	setup_defaults(args)
	for app in ("frappe", "erpnext"):
		enable_setup_wizard_complete(app)
	disable_future_access()
	frappe.db.commit()
	return True


def _new_passwords(users: list[str]) -> dict[str, str]:
	"""A random password for each user just created, to print once."""
	from frappe.utils.password import update_password

	passwords = {user: secrets.token_urlsafe(9) for user in users}
	for user, password in passwords.items():
		update_password(user, password)
	return passwords


def last_complete_month(today: dt.date) -> dt.date:
	return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def load_demo_data(
	customers: int, months: int = 24, branches: int | None = None, seed: int = 7, progress=None
) -> dict:
	"""Set the site up (company, currency, time zone) if it is not, create branches, staff users (and
	a Branch CRM Admin), relationship managers and products, then customers, holdings and snapshots
	through the intake, and run one night of every job. Safe to run twice: everything is keyed on
	natural keys; passwords are set, and returned, only for users created by this run."""
	results = {"site": {"set_up": set_up_site()}}
	ensure_erpnext_masters()
	install_defaults()
	# several branches even for a small demo, so branch scopes show
	branches = branches or max(min(3, customers // 500 or 1), min(12, customers // 3000 + 1))
	sample = generate_sample(
		customers=customers,
		months=months,
		branches=branches,
		as_of=last_complete_month(frappe.utils.getdate()),
		seed=seed,
	)
	ensure_branches(sample.branches["branch"])
	existing = set(frappe.get_all("User", pluck="name"))
	ensure_staff(sample.staff)
	if DEMO_ADMIN not in existing:
		with bulk_user_creation():
			insert_desk_user(DEMO_ADMIN, "CRM Admin", [ADMIN])
	new_users = [u for u in [DEMO_ADMIN, *sample.staff["user"]] if u not in existing]
	results["passwords"] = _new_passwords(new_users)
	frappe.db.commit()

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
	from branch_crm import churn, followups, needs, recompute
	from branch_crm.tasks import run_profile_balance_refresh

	results["balances"] = run_profile_balance_refresh()
	# one night, so that tiers, churn, needs and the day's follow-ups are there from the first login
	results["recompute"] = recompute.run()
	results["churn"] = churn.run()
	results["needs"] = needs.run()
	results["follow-ups"] = followups.run()
	frappe.db.commit()
	return results


def _records(frame: pd.DataFrame) -> list[dict]:
	frame = frame.astype(object).where(frame.notna(), None)
	return frame.to_dict("records")
