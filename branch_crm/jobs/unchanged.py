"""Skipping a nightly chunk whose inputs are what they were when it was last decided.

On most nights little changes: a new month arrives once a month, a customer's details now and then.
A stage that reads a chunk's rows only to find that every decision stands spends most of its night
moving rows out of the database. Instead, before reading, it asks the database for a checksum of
exactly what it would read (``store.checksum``: a count and a sum of CRC32s of the rows, computed
where the rows are, through the same indexes), adds what else the decision depends on (the month,
the settings, the code), and compares the result with the fingerprint it remembered the last time
it decided and stored that chunk. Equal: nothing the decision reads has changed, so the stored
result stands and the chunk is skipped. Different, or not remembered: the chunk is read and decided
as usual, and its fingerprint is remembered once its write has committed.

The checksums cost a pass over the rows, so they are only asked for when they can match: a chunk
remembered under another context (a new month, other settings, other code) or not at all cannot be
unchanged, and is read at once; its read gives the same checksums, computed in the worker from the
text it read (``store.read_*(checksum=True)``), so the fingerprint remembered after its write costs
the database nothing more.
On the night a new month arrives, that is every chunk.

The fingerprint of a chunk includes what the stage stores on its rows, checked again after its
write when it wrote anything, so a result changed by anything else is decided again the next night.

Fingerprints live in the site's Redis cache: losing them (a restart, ``bench clear-cache``) only
costs one full night, never a wrong result. Only stages whose decision depends on nothing but the
rows checked (and the month, not the day) may skip: balances and needs screening. The recompute
(ages and contact recency move with the day) and churn scoring (the satisfaction windows end today)
decide every chunk every night.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import frappe

CACHE_KEY = "branch_crm:chunk_fingerprints"


@dataclass(frozen=True)
class Skipped:
	"""What a stage's read gives for a chunk whose inputs are unchanged: nothing to decide or write.
	``rows``: the profiles the chunk covers (checked, not read)."""

	chunk: tuple
	rows: int


@cache
def code_version() -> str:
	"""A digest of the app's deciding and nightly code: a deploy that changes how a stage decides
	(engine) or what it reads (jobs, store) makes every fingerprint differ, so the next night decides
	everything again."""
	root = Path(__file__).resolve().parents[1]
	digest = hashlib.sha1()
	for path in sorted([*root.glob("engine/*.py"), *root.glob("jobs/*.py"), root / "store.py"]):
		digest.update(path.name.encode())
		digest.update(path.read_bytes())
	return digest.hexdigest()


def _digest(*parts) -> str:
	return hashlib.sha1(repr((code_version(), *parts)).encode()).hexdigest()


def fingerprint(checksums: tuple, context: tuple) -> str:
	"""What a chunk was decided with: the checksums of the rows it read and of what it stored,
	under ``context`` (the month, settings: anything else the decision depends on, with a stable
	repr); ``context``'s own digest first, so that ``remembered`` can tell it apart."""
	return f"{_digest(context)}:{_digest(checksums, context)}"


def _field(stage: str, chunk: tuple) -> str:
	return f"{stage}:" + "\x1f".join(map(str, chunk))


def remembered(stage: str, chunk: tuple, context: tuple) -> str | None:
	"""The ``fingerprint`` ``stage`` remembers deciding ``chunk`` with, when that was under this
	``context``; else None: only then can its inputs be unchanged, and are they worth a checksum
	before reading (equal to ``fingerprint`` of the checksums now: unchanged)."""
	found = frappe.cache.hget(CACHE_KEY, _field(stage, chunk))
	return found if found and found.startswith(f"{_digest(context)}:") else None


def remember(stage: str, chunk: tuple, current: str) -> None:
	"""Once the chunk's decision is committed: the inputs it was decided with (``fingerprint``)."""
	frappe.cache.hset(CACHE_KEY, _field(stage, chunk), current)


def forget_all() -> None:
	"""Every stage decides every chunk again on its next run."""
	frappe.cache.delete_value(CACHE_KEY)
