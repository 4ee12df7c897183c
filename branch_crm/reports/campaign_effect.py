"""Campaign Effect: a launched campaign's group against its hold-out control group, from
``engine.campaigns.measure_outcomes`` rows: product take-up, AUM change and churn after launch, the
difference (uplift), a p-value and what it means, for all the customers in the reader's scope and,
when they span several branches, branch by branch; a chart of take-up and churn (campaign vs
control) and summary cards. Labels are English; the Frappe layer translates them."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from branch_crm.engine.campaigns import CAMPAIGN_TEMPLATES, MEASURES, campaign_effect
from branch_crm.reports.base import ReportResult, card, chart, column

# a card's colour says what the difference means: green better, red worse (significant), orange only
# indicative, grey when it cannot be told (not significant, too few customers, no data)
INDICATOR = {
	"better": "Green",
	"worse": "Red",
	"probably_better": "Orange",
	"probably_worse": "Orange",
}
TAKE_UP_LABEL = "Took up the product (% of customers)"
CHURN_LABEL = "Churned (% of customers)"
GROUPS_LABEL = "Customers, campaign / control group"


def _number(value: float, digits: int) -> float | None:
	return None if value is None or value != value else round(float(value), digits)


def effect_rows(outcomes: pd.DataFrame, scope: str, effect: dict | None = None) -> list[dict]:
	"""One row per measure for ``outcomes`` (one scope: all, or one branch); ``effect``: its
	``campaign_effect`` when already computed."""
	effect = effect or campaign_effect(outcomes)
	rows = []
	for measure in MEASURES:
		figures = effect[measure]
		share = measure != "aum_change"
		scale, digits = (100.0, 1) if share else (1.0, 0)
		rows.append(
			{
				"branch": scope,
				"measure": CAMPAIGN_TEMPLATES[measure],
				"campaign_value": _number(figures["campaign"] * scale, digits),
				"control_value": _number(figures["control"] * scale, digits),
				"uplift": _number(figures["uplift"] * scale, digits),
				"unit": CAMPAIGN_TEMPLATES["share_unit" if share else "amount_unit"],
				"p_value": _number(figures["p_value"], 3),
				"verdict": CAMPAIGN_TEMPLATES[figures["reading"]],
				"campaign_customers": figures["n_campaign"],
				"control_customers": figures["n_control"],
			}
		)
	return rows


def effect_card(measure: str, row: dict, reading: str, gettext: Callable[[str], str] = str) -> dict:
	"""A summary card of one measure's difference (campaign - control) with what it means: "+10.2
	pts (better)" in green, "+1.8 pts (worse)" in red for churn, "+4,095 (not significant)" in grey.
	``gettext`` translates the value's words (the Frappe layer passes ``_``; the label is translated
	with the others)."""
	indicator = INDICATOR.get(reading, "Grey")
	said = gettext(CAMPAIGN_TEMPLATES[f"card_{reading}"])
	uplift = row["uplift"]
	if uplift is None:
		value = said
	elif measure == "aum_change":
		value = f"{uplift:+,.0f} ({said})"
	else:
		value = gettext(CAMPAIGN_TEMPLATES["points_value"]).format(f"{uplift:+.1f}", said)
	return card(value, CAMPAIGN_TEMPLATES[f"label_{measure}"], "Data", indicator)


def build_campaign_effect(outcomes: pd.DataFrame, gettext: Callable[[str], str] = str) -> ReportResult:
	"""``outcomes``: customer, group (Campaign / Control), branch, took_up, aum_change, end_aum,
	churned. ``gettext``: translates the words inside the effect cards' values."""
	columns = [
		column("branch", "Branch", "Data", 140),
		column("measure", "Measure", "Data", 240),
		column("campaign_value", "Campaign Group", "Float", 130, precision=1),
		column("control_value", "Control Group", "Float", 130, precision=1),
		column("uplift", "Difference (Campaign − Control)", "Float", 140, precision=1),
		column("unit", "Unit", "Data", 130),
		column("p_value", "p-value", "Float", 90, precision=3),
		column("verdict", "Verdict", "Data", 210),
		column("campaign_customers", "Campaign Customers", "Int", 110),
		column("control_customers", "Control Customers", "Int", 110),
	]
	if outcomes.empty:
		return ReportResult(columns, [], None, [])
	branches = sorted(outcomes["branch"].dropna().unique()) if "branch" in outcomes else []
	effect = campaign_effect(outcomes)
	# a reader who sees one branch reads its name, not "all branches"
	scope = branches[0] if len(branches) == 1 else CAMPAIGN_TEMPLATES["all_branches"]
	data = effect_rows(outcomes, scope, effect)
	if len(branches) > 1:
		for branch in branches:
			data += effect_rows(outcomes[outcomes["branch"] == branch], branch)
	overall = dict(zip(MEASURES, data[: len(MEASURES)], strict=True))
	take_up, churn = overall["take_up"], overall["churn"]
	graph = chart(
		[TAKE_UP_LABEL, CHURN_LABEL],
		[
			("Campaign group", [take_up["campaign_value"], churn["campaign_value"]]),
			("Control group", [take_up["control_value"], churn["control_value"]]),
		],
		type="bar",
		colors=["#2E7D32", "#9E9E9E"],
		# the desk's tooltips show the values as percentages
		fieldtype="Percent",
	)
	# one row of four cards: the groups' sizes in one
	summary = [
		card(f"{take_up['campaign_customers']:,} / {take_up['control_customers']:,}", GROUPS_LABEL, "Data"),
		*(
			effect_card(measure, overall[measure], effect[measure]["reading"], gettext)
			for measure in MEASURES
		),
	]
	return ReportResult(columns, data, graph, summary)
