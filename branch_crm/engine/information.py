"""Customer information kept current (issue 18 §3, seed 002 "信息更新", seed 004 "信息录入审核"): when
each part of a profile was last confirmed, which profiles are due for a review, and which desk edits
are identity changes to be held for a second person's approval. Pure: frames in, frames out.

A profile has three parts, each with the date it was last confirmed: identity (name, ID type and
number, date of birth), contact (mobile, email, address) and occupation and income. A part is
confirmed when core banking sends it new or changed, when staff change it in the desk, or when
staff confirm it with the customer unchanged.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

IDENTITY_FIELDS = ("customer_name", "id_type", "id_number", "date_of_birth")
CONTACT_FIELDS = ("mobile_no", "email_id", "address")
OCCUPATION_FIELDS = ("occupation_category", "occupation", "employer", "income_band", "declared_annual_income")
PARTS = {"identity": IDENTITY_FIELDS, "contact": CONTACT_FIELDS, "occupation": OCCUPATION_FIELDS}
# the profile field holding each part's last confirmation
CONFIRMED_FIELDS = {part: f"{part}_confirmed_on" for part in PARTS}
# identity changes made in the desk wait for approval (Profile Change Request)
HELD_FIELDS = ("customer_name", "id_type", "id_number", "date_of_birth")
DEFAULT_REVIEW_MONTHS = 12


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
	"""Element-wise equality where blank equals blank (None, NaN, "") and dates equal their text."""

	def norm(values: pd.Series) -> pd.Series:
		values = pd.Series(values, dtype=object).reset_index(drop=True)
		out = values.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
		out = out.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else v)
		return out.map(
			lambda v: (
				float(v) if isinstance(v, int | float | np.number) else str(v) if v is not None else None
			)
		)

	left, right = norm(a), norm(b)
	return ((left == right) | (left.isna() & right.isna())).to_numpy()


def confirmed_on(
	new: pd.DataFrame,
	old: pd.DataFrame | None,
	today: dt.date,
	key: str = "customer",
	numeric: tuple[str, ...] = ("declared_annual_income",),
) -> pd.DataFrame:
	"""The confirmation dates after ``new`` values arrive: ``new`` has ``key`` and the parts' fields
	it carries; ``old`` the stored rows (``key``, the fields, the ``CONFIRMED_FIELDS``), or None;
	``numeric`` fields count blank as 0 (the database stores 0 for an amount never sent).
	A customer not in ``old`` has every part confirmed today; otherwise a part whose fields changed
	is confirmed today and the others keep their dates. Returns ``key`` + the confirmed fields, one
	row per row of ``new``, in its order."""
	new = new.reset_index(drop=True)
	old = pd.DataFrame(columns=[key]) if old is None else old.drop_duplicates(key)
	at = old.set_index(key).reindex(new[key])
	known = new[key].isin(set(old[key])).to_numpy()
	out = pd.DataFrame({key: new[key]})
	for part, fields in PARTS.items():
		changed = np.zeros(len(new), dtype=bool)
		for field in fields:
			if field in new:
				previous = at[field] if field in at else pd.Series([None] * len(new), dtype=object)
				current = new[field]
				if field in numeric:
					current = pd.to_numeric(current, errors="coerce").fillna(0)
					previous = pd.to_numeric(previous, errors="coerce").fillna(0)
				changed |= ~_same(current, previous)
		stored = (
			at[CONFIRMED_FIELDS[part]].reset_index(drop=True)
			if CONFIRMED_FIELDS[part] in at
			else pd.Series([None] * len(new), dtype=object)
		)
		keep = known & ~changed & stored.notna().to_numpy()
		out[CONFIRMED_FIELDS[part]] = np.where(keep, stored.to_numpy(dtype=object), today)
	return out


def review_cutoff(today: dt.date, months: int) -> dt.date:
	"""The day before which a confirmation is stale: ``months`` calendar months before today."""
	if months <= 0:
		raise ValueError(f"the review period must be at least 1 month, got {months!r}")
	return (pd.Timestamp(today) - pd.DateOffset(months=int(months))).date()


def stale_profiles(profiles: pd.DataFrame, today: dt.date, months: int) -> pd.DataFrame:
	"""Profiles with a part last confirmed before ``review_cutoff`` (or never): ``profiles`` has
	customer and the ``CONFIRMED_FIELDS``. Returns customer, stale_parts (the parts' names, comma
	separated, in the order identity, contact, occupation), last_confirmed (the oldest date, empty
	when a part was never confirmed), details (that date as text, for the follow-up's message) and
	due_date (today), oldest first."""
	cutoff = pd.Timestamp(review_cutoff(today, months))
	columns = ["customer", "stale_parts", "last_confirmed", "details", "due_date"]
	if profiles.empty:
		return pd.DataFrame(columns=columns)
	dates = pd.DataFrame({part: pd.to_datetime(profiles[field]) for part, field in CONFIRMED_FIELDS.items()})
	stale = dates.isna() | (dates < cutoff)
	rows = stale.any(axis=1).to_numpy()
	if not rows.any():
		return pd.DataFrame(columns=columns)
	names = np.array(list(PARTS), dtype=object)
	parts = [", ".join(names[flags]) for flags in stale.to_numpy()[rows]]
	oldest = dates[rows].min(axis=1)
	oldest = oldest.where(~dates[rows].isna().any(axis=1))
	out = pd.DataFrame(
		{
			"customer": profiles["customer"].to_numpy()[rows],
			"stale_parts": parts,
			"last_confirmed": oldest.dt.date.to_numpy(),
			"details": oldest.dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
			"due_date": today,
		}
	)
	never = out["last_confirmed"].isna()
	order = np.lexsort(
		(
			out["customer"].to_numpy(),
			pd.to_datetime(out["last_confirmed"]).fillna(pd.Timestamp.min).to_numpy(),
			~never.to_numpy(),
		)
	)
	return out.iloc[order].reset_index(drop=True)


def held_changes(before: dict, after: dict, fields=HELD_FIELDS) -> dict:
	"""The identity fields a desk edit changes: field -> (old, new), blanks equal."""
	changes = {}
	for field in fields:
		if field in after and not _same(pd.Series([after.get(field)]), pd.Series([before.get(field)]))[0]:
			changes[field] = (before.get(field), after.get(field))
	return changes
