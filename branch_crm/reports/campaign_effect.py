"""Campaign Effect: a launched campaign's group against its hold-out control group, from
``engine.campaigns.measure_outcomes`` rows: product take-up, AUM change and churn after launch, the
difference (uplift), a p-value and what it means, for all the customers in the reader's scope and,
when they span several branches, branch by branch; a chart of take-up and churn (campaign vs
control) and summary cards. Labels are English; the Frappe layer translates them."""

from __future__ import annotations

import pandas as pd

from branch_crm.engine.campaigns import CAMPAIGN_TEMPLATES, MEASURES, campaign_effect
from branch_crm.reports.base import ReportResult, card, chart, column

INDICATOR = {"significant": "Green", "indicative": "Orange"}


def _number(value: float, digits: int) -> float | None:
	return None if value is None or value != value else round(float(value), digits)


def effect_rows(outcomes: pd.DataFrame, scope: str) -> list[dict]:
	"""One row per measure for ``outcomes`` (one scope: all, or one branch)."""
	effect = campaign_effect(outcomes)
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
				"verdict": CAMPAIGN_TEMPLATES[figures["verdict"]],
				"campaign_customers": figures["n_campaign"],
				"control_customers": figures["n_control"],
			}
		)
	return rows


def build_campaign_effect(outcomes: pd.DataFrame) -> ReportResult:
	"""``outcomes``: customer, group (Campaign / Control), branch, took_up, aum_change, end_aum,
	churned."""
	columns = [
		column("branch", "Branch", "Data", 140),
		column("measure", "Measure", "Data", 240),
		column("campaign_value", "Campaign Group", "Float", 130, precision=1),
		column("control_value", "Control Group", "Float", 130, precision=1),
		column("uplift", "Difference (Uplift)", "Float", 140, precision=1),
		column("unit", "Unit", "Data", 130),
		column("p_value", "p-value", "Float", 90, precision=3),
		column("verdict", "Verdict", "Data", 190),
		column("campaign_customers", "Campaign Customers", "Int", 110),
		column("control_customers", "Control Customers", "Int", 110),
	]
	if outcomes.empty:
		return ReportResult(columns, [], None, [])
	branches = sorted(outcomes["branch"].dropna().unique()) if "branch" in outcomes else []
	# a reader who sees one branch reads its name, not "all branches"
	data = effect_rows(outcomes, branches[0] if len(branches) == 1 else CAMPAIGN_TEMPLATES["all_branches"])
	if len(branches) > 1:
		for branch in branches:
			data += effect_rows(outcomes[outcomes["branch"] == branch], branch)
	overall = {row["measure"]: row for row in data[: len(MEASURES)]}
	take_up = overall[CAMPAIGN_TEMPLATES["take_up"]]
	churn = overall[CAMPAIGN_TEMPLATES["churn"]]
	aum = overall[CAMPAIGN_TEMPLATES["aum_change"]]
	graph = chart(
		["Took up the product", "Churned"],
		[
			("Campaign group", [take_up["campaign_value"], churn["campaign_value"]]),
			("Control group", [take_up["control_value"], churn["control_value"]]),
		],
		type="bar",
		colors=["#2E7D32", "#9E9E9E"],
		axisOptions={"shortenYAxisNumbers": 1},
	)
	verdict_code = next(
		(code for code, text in CAMPAIGN_TEMPLATES.items() if text == take_up["verdict"]), "no_data"
	)
	summary = [
		card(take_up["campaign_customers"], "Campaign Group"),
		card(take_up["control_customers"], "Control Group", indicator="Grey"),
		card(
			"" if take_up["uplift"] is None else f"{take_up['uplift']:+.1f}",
			"Take-up Uplift (percentage points)",
			"Data",
			INDICATOR.get(verdict_code, "Blue"),
		),
		card(take_up["verdict"], "Take-up Difference", "Data", INDICATOR.get(verdict_code, "Grey")),
		card(aum["uplift"] if aum["uplift"] is not None else 0, "AUM Change Uplift", "Currency"),
	]
	return ReportResult(columns, data, graph, summary)
