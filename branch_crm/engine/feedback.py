"""Customer feedback and satisfaction (满意度), pure: the signed survey link, when to ask, a
customer's satisfaction trend, and the satisfaction measure churn early warning reads.

* Survey links carry ``<request>.<expiry>.<signature>``: an HMAC-SHA256 of the request's name and
  its expiry (Unix seconds) with the site's secret. Changing either breaks the signature; the
  request itself says whether it was answered (single use), the expiry whether it is late.
* ``should_ask``: a contact that reached the customer, no do-not-contact, nobody asked lately.
* ``satisfaction_summary``: recent scores, average, unanswered requests, last negative comment.
* ``satisfaction_measure``: per customer, how far satisfaction fell, in points: the latest score
  below 3 (3 - score), or the average of the last ``recent_days`` below the average of the
  ``prior_days`` before them, whichever is larger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

import numpy as np
import pandas as pd

SCORES = (1, 2, 3, 4, 5)
NEGATIVE_AT_MOST = 2  # a score of 1 or 2 is negative
VALID_DAYS = 14  # a survey link is valid this long
ASK_AGAIN_AFTER_DAYS = 30  # a customer is asked at most once in this many days (automatically)
# contact outcomes after which a customer is asked how it went
ASK_AFTER_OUTCOMES = ("Reached - Interested", "Reached - Not Now", "Product Opened", "Attended Event")
STATUSES = ("Asked", "Answered", "Expired")
TOKEN_PURPOSE = "branch_crm:customer-feedback"


# ---------------------------------------------------------------- signed links


def signature(secret: str, name: str, expires: int) -> str:
	"""HMAC-SHA256 of the request's name and expiry (Unix seconds) with the site's secret."""
	message = f"{TOKEN_PURPOSE}:{name}:{int(expires)}".encode()
	return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def make_token(secret: str, name: str, expires: int) -> str:
	return f"{name}.{int(expires)}.{signature(secret, name, expires)}"


@dataclass(frozen=True)
class TokenCheck:
	"""What a survey link says: ``state`` is "valid", "expired" or "invalid" (tampered, cut, or not
	ours); ``name`` and ``expires`` only when the signature holds."""

	state: str
	name: str | None = None
	expires: int | None = None


def check_token(secret: str, token: str | None, now: float) -> TokenCheck:
	"""Check a link's signature, then its expiry (``now``: Unix seconds). Whether the request was
	already answered is the stored request's business."""
	parts = (token or "").strip().rsplit(".", 2)
	if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or len(parts[1]) > 12:
		return TokenCheck("invalid")
	name, expires, given = parts[0], int(parts[1]), parts[2]
	if not hmac.compare_digest(given.encode(), signature(secret, name, expires).encode()):
		return TokenCheck("invalid")
	if now >= expires:
		return TokenCheck("expired", name, expires)
	return TokenCheck("valid", name, expires)


def parse_score(value) -> int | None:
	"""A score from a form (1-5 as a number or text); None for anything else."""
	try:
		number = float(str(value).strip())
	except (TypeError, ValueError):
		return None
	return int(number) if number.is_integer() and int(number) in SCORES else None


# ---------------------------------------------------------------- when to ask


def should_ask(
	outcome: str | None,
	do_not_contact: bool,
	last_asked_on: dt.datetime | None,
	now: dt.datetime,
	again_after_days: int = ASK_AGAIN_AFTER_DAYS,
) -> tuple[bool, str]:
	"""Whether a contact is followed by a feedback request, and why not: ("", True) or
	(False, "outcome" | "do_not_contact" | "asked_lately")."""
	if outcome not in ASK_AFTER_OUTCOMES:
		return False, "outcome"
	if do_not_contact:
		return False, "do_not_contact"
	if last_asked_on is not None and now - last_asked_on < dt.timedelta(days=again_after_days):
		return False, "asked_lately"
	return True, ""


# ---------------------------------------------------------------- the profile's trend


def satisfaction_summary(requests: pd.DataFrame, now: dt.datetime, recent: int = 6) -> dict:
	"""A customer's satisfaction at a glance. ``requests``: their feedback requests (status, score,
	comment, asked_on, answered_on, expires_on). Returns the last ``recent`` answers oldest first
	(date, score), their average, the trend (the last score against the average of the earlier
	ones: "up", "down", "steady", or None with fewer than two), the requests not answered (still
	open or expired), and the last negative answer (score at most 2) with its comment."""
	frame = requests.copy()
	for column in ("asked_on", "answered_on", "expires_on"):
		frame[column] = pd.to_datetime(frame[column]) if column in frame else pd.NaT
	answered = frame[(frame["status"] == "Answered") & frame["score"].notna()].sort_values("answered_on")
	last = answered.tail(recent)
	scores = last["score"].astype(float).tolist()
	trend = None
	if len(scores) >= 2:
		change = scores[-1] - float(np.mean(scores[:-1]))
		trend = "up" if change >= 0.5 else "down" if change <= -0.5 else "steady"
	open_ = (frame["status"] == "Asked") & (frame["expires_on"].isna() | (frame["expires_on"] > now))
	unanswered = int(((frame["status"] == "Expired") | (frame["status"] == "Asked")).sum())
	negative = answered[answered["score"].astype(float) <= NEGATIVE_AT_MOST].tail(1)
	return {
		"recent": [
			{"date": str(on.date()), "score": int(score)}
			for on, score in zip(last["answered_on"], last["score"], strict=True)
		],
		"average": round(float(np.mean(scores)), 1) if scores else None,
		"answers": len(answered),
		"trend": trend,
		"unanswered": unanswered,
		"waiting": int(open_.sum()),
		"last_negative": (
			{
				"date": str(negative["answered_on"].iloc[0].date()),
				"score": int(negative["score"].iloc[0]),
				"comment": negative["comment"].iloc[0] or "",
			}
			if len(negative)
			else None
		),
	}


# ---------------------------------------------------------------- churn: satisfaction falling


def satisfaction_measure(
	feedback: pd.DataFrame,
	customers: pd.Index,
	today: dt.date,
	recent_days: int = 90,
	prior_days: int = 365,
) -> pd.DataFrame:
	"""Per customer (in ``customers`` order): ``sat_latest`` (the latest score answered in the last
	``recent_days``), ``sat_recent`` and ``sat_prior`` (the averages over the last ``recent_days``
	and the ``prior_days`` before them) and ``sat_fall``, in points: the larger of 3 - the latest
	score and the prior average - the recent one, never below 0; 0 without answers in the recent
	window (no answer is not a fall). ``feedback``: answered requests (customer, answered_on,
	score); others' rows and rows out of the windows are ignored."""
	customers = pd.Index(customers)
	n = len(customers)
	out = pd.DataFrame(
		{
			"customer": customers.to_numpy(),
			"sat_latest": np.full(n, np.nan),
			"sat_recent": np.full(n, np.nan),
			"sat_prior": np.full(n, np.nan),
			"sat_fall": np.zeros(n),
		}
	)
	if feedback is None or feedback.empty or not n:
		return out
	end = pd.Timestamp(today) + pd.Timedelta(days=1)
	recent_start = end - pd.Timedelta(days=recent_days)
	prior_start = recent_start - pd.Timedelta(days=prior_days)
	frame = pd.DataFrame(
		{
			"row": customers.get_indexer(feedback["customer"]),
			"on": pd.to_datetime(feedback["answered_on"], errors="coerce", format="mixed"),
			"score": pd.to_numeric(feedback["score"], errors="coerce"),
		}
	)
	frame = frame[(frame["row"] >= 0) & frame["score"].between(1, 5) & (frame["on"] >= prior_start)]
	frame = frame[frame["on"] < end]
	recent = frame[frame["on"] >= recent_start]
	prior = frame[frame["on"] < recent_start]
	latest = recent.sort_values("on", kind="stable").groupby("row")["score"].last()
	recent_mean = recent.groupby("row")["score"].mean()
	prior_mean = prior.groupby("row")["score"].mean()
	out.loc[latest.index, "sat_latest"] = latest.to_numpy()
	out.loc[recent_mean.index, "sat_recent"] = recent_mean.round(2).to_numpy()
	out.loc[prior_mean.index, "sat_prior"] = prior_mean.round(2).to_numpy()
	low = 3.0 - out["sat_latest"].to_numpy()
	fall = out["sat_prior"].to_numpy() - out["sat_recent"].to_numpy()
	measure = np.fmax(np.nan_to_num(low, nan=0.0), np.nan_to_num(fall, nan=0.0))
	out["sat_fall"] = np.round(np.clip(measure, 0.0, None), 2)
	return out


def desk_complaint_events(issues: pd.DataFrame, complaint_logs: pd.DataFrame) -> pd.DataFrame:
	"""Complaints registered in the desk as (customer, time) events, one per complaint: a customer's
	ERPNext Issues and their contact logs with outcome "Complaint Raised" of the same month are two
	records of the same complaints, so a month counts the larger of the two, not their sum."""
	frames = []
	for source, events in (("issue", issues), ("log", complaint_logs)):
		if events is not None and len(events):
			frames.append(
				pd.DataFrame(
					{
						"customer": events["customer"].to_numpy(),
						"time": pd.to_datetime(events["time"], errors="coerce", format="mixed").to_numpy(),
						"source": source,
					}
				)
			)
	if not frames:
		return pd.DataFrame({"customer": pd.Series(dtype=object), "time": pd.Series(dtype="datetime64[ns]")})
	frame = pd.concat(frames, ignore_index=True).dropna(subset=["time"])
	frame["month"] = frame["time"].dt.to_period("M")
	frame["nth"] = (
		frame.sort_values("time", kind="stable").groupby(["customer", "month", "source"]).cumcount()
	)
	# the n-th complaint of a month is the n-th issue or the n-th log, whichever exists
	kept = frame.sort_values(["source", "time"], kind="stable").drop_duplicates(["customer", "month", "nth"])
	return kept[["customer", "time"]].sort_values(["customer", "time"], kind="stable").reset_index(drop=True)
