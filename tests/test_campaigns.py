"""Campaigns (engine.campaigns, reports.campaign_effect): the selection, the hold-out control draw
and the effect measured against it."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest

from branch_crm.engine import campaigns as c
from branch_crm.reports.campaign_effect import build_campaign_effect


def profiles(n: int = 12) -> pd.DataFrame:
	rows = []
	for i in range(n):
		rows.append(
			{
				"customer": f"C{i:04d}",
				"branch": "North" if i % 2 else "South",
				"relationship_manager": f"rm{i % 3}",
				"tier": ("Mass", "Core", "VIP")[i % 3],
				"bank_customer_group": "Retirees" if i < 6 else "Young Families",
				"value_class": ("MVC", "MGC", "Standard", "BZC")[i % 4],
				"churn_band": ("Low", "Medium", "High")[i % 3],
				"needs_gap_types": "idle_deposits_no_wealth,peer_gap" if i % 4 == 0 else "salary_no_card",
				"do_not_contact": 0,
				"channel_preference": "Phone",
				"status": "Active",
			}
		)
	return pd.DataFrame(rows)


# ---------------------------------------------------------------- selection


def test_empty_selection_matches_everyone():
	chosen = c.select_customers(profiles(), c.Selection())
	assert len(chosen) == 12 and set(chosen["excluded"]) == {""}


def test_criteria_combine_with_and_values_with_or():
	selection = c.Selection(branches=["South"], tiers=["Mass", "VIP"])
	chosen = c.select_customers(profiles(), selection)
	assert set(chosen["branch"]) == {"South"}
	assert set(chosen["tier"]) == {"Mass", "VIP"}
	assert list(chosen["customer"]) == ["C0000", "C0002", "C0006", "C0008"]


def test_gap_type_by_code_or_label_and_segment_value_class_churn_band():
	by_code = c.select_customers(profiles(), c.Selection(gap_types=["idle_deposits_no_wealth"]))
	by_label = c.select_customers(profiles(), c.Selection(gap_types=["Idle deposits, no wealth product"]))
	assert list(by_code["customer"]) == list(by_label["customer"]) == ["C0000", "C0004", "C0008"]
	# "peer_gap" is the second code of the list: matched whole, never as a part of another code
	assert list(c.select_customers(profiles(), c.Selection(gap_types=["peer_gap"]))["customer"]) == [
		"C0000",
		"C0004",
		"C0008",
	]
	chosen = c.select_customers(
		profiles(), c.Selection(segments=["Retirees"], value_classes=["MVC"], churn_bands=["Low"])
	)
	assert list(chosen["customer"]) == ["C0000"]


def test_unknown_values_are_refused():
	with pytest.raises(ValueError, match="gap type"):
		c.Selection(gap_types=["no_such_gap"])
	with pytest.raises(ValueError, match="value classes"):
		c.Selection(value_classes=["Gold"])
	with pytest.raises(ValueError, match="channels"):
		c.Selection(channels=["Fax"])


def test_exclusions_closed_do_not_contact_and_channel():
	frame = profiles(6)
	frame.loc[1, "do_not_contact"] = 1
	frame.loc[2, "channel_preference"] = "Visit"
	frame.loc[3, "channel_preference"] = None  # no preference: reachable
	frame.loc[4, "status"] = "Closed"
	frame.loc[5, "do_not_contact"] = 1
	frame.loc[5, "channel_preference"] = "Visit"  # the first reason that holds is said
	chosen = c.select_customers(frame, c.Selection(channels=["Phone", "SMS"]))
	assert list(chosen["excluded"]) == ["", "do_not_contact", "channel", "", "closed", "do_not_contact"]
	counts = c.preview(chosen)
	assert counts["matched"] == 6 and counts["eligible"] == 2
	assert counts["excluded"] == {"closed": 1, "do_not_contact": 2, "channel": 1}
	assert counts["by_branch"] == [{"value": "North", "customers": 1}, {"value": "South", "customers": 1}]
	# without campaign channels, a preference never excludes
	assert (c.select_customers(frame, c.Selection())["excluded"] == "channel").sum() == 0


# ---------------------------------------------------------------- the control draw


def many(n: int = 4000) -> pd.DataFrame:
	rng = np.random.default_rng(3)
	return pd.DataFrame(
		{
			"customer": [f"K{i:06d}" for i in range(n)],
			"branch": rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1]),
			"tier": rng.choice(["Mass", "Core", "VIP"], n, p=[0.7, 0.2, 0.1]),
		}
	)


def test_control_share_overall_and_in_every_stratum():
	frame = many()
	group = c.draw_control(frame, 0.10, seed=42)
	assert set(group) == {"Campaign", "Control"}
	assert abs((group == "Control").mean() - 0.10) < 0.005
	shares = (group == "Control").groupby([frame["branch"], frame["tier"]]).mean()
	sizes = frame.groupby(["branch", "tier"]).size()
	# each stratum holds back floor(n × share) or one more
	control = (group == "Control").groupby([frame["branch"], frame["tier"]]).sum()
	assert ((control - np.floor(sizes * 0.10)).isin([0, 1])).all(), shares


def test_control_draw_is_deterministic_whatever_the_order_and_changes_with_the_seed():
	frame = many(500)
	first = c.draw_control(frame, 0.2, seed="CAMP-7")
	shuffled = frame.sample(frac=1, random_state=1)
	again = c.draw_control(shuffled, 0.2, seed="CAMP-7")
	assert (first == again.reindex(first.index)).all()
	other = c.draw_control(frame, 0.2, seed="CAMP-8")
	assert (first != other).any()


def test_control_draw_is_rederivable_from_sha256():
	import hashlib

	frame = pd.DataFrame({"customer": ["X1", "X2", "X3", "X4"], "branch": "A", "tier": "T"})
	group = c.draw_control(frame, 0.5, seed=9)
	draws = {
		k: int(hashlib.sha256(f"9|{k}".encode()).hexdigest()[:13], 16) / 16**13 for k in frame["customer"]
	}
	lowest = sorted(draws, key=draws.get)
	quota = (group == "Control").sum()
	assert quota == 2  # 4 × 0.5 + r, r < 1
	assert set(frame.loc[group == "Control", "customer"]) == set(lowest[:quota])


def test_control_draw_edge_cases():
	assert c.draw_control(pd.DataFrame(columns=["customer", "branch", "tier"]), 0.1, 1).empty
	frame = many(50)
	assert (c.draw_control(frame, 0.0, 1) == "Campaign").all()
	with pytest.raises(ValueError):
		c.draw_control(frame, 1.0, 1)


# ---------------------------------------------------------------- outcomes and effect


LAUNCH = dt.date(2026, 9, 10)


def members() -> pd.DataFrame:
	# 100 campaign, 100 control; baseline AUM 100,000 each
	return pd.DataFrame(
		{
			"customer": [f"M{i:03d}" for i in range(200)],
			"group": ["Campaign"] * 100 + ["Control"] * 100,
			"branch": ["A", "B"] * 100,
			"baseline_aum": 100_000.0,
		}
	)


def outcomes_frame(take_campaign: int = 30, take_control: int = 10) -> pd.DataFrame:
	m = members()
	takers = [f"M{i:03d}" for i in range(take_campaign)] + [
		f"M{i:03d}" for i in range(100, 100 + take_control)
	]
	holdings = pd.DataFrame(
		{
			"customer": [*takers, "M050", "M060"],
			"product": "WM-1",
			"category": ["Wealth Management"] * len(takers) + ["Wealth Management", "Deposit"],
			"opened_on": [dt.date(2026, 10, 1)] * len(takers) + [dt.date(2026, 8, 1), dt.date(2026, 10, 1)],
		}
	)
	snapshots = pd.DataFrame(
		{
			"customer": list(m["customer"]) * 2,
			"month": [dt.date(2026, 9, 1)] * 200 + [dt.date(2026, 10, 1)] * 200,
			"aum": [100_000.0] * 200 + [150_000.0 if c in takers else 100_000.0 for c in m["customer"]],
		}
	)
	statuses = pd.DataFrame({"customer": ["M199"], "status": ["Closed"]})
	return c.measure_outcomes(
		m,
		holdings,
		snapshots,
		LAUNCH,
		dt.date(2026, 11, 5),
		target_categories=["Wealth Management"],
		statuses=statuses,
	)


def test_outcomes_take_up_after_launch_only_and_aum_change():
	out = outcomes_frame().set_index("customer")
	assert out.loc["M000", "took_up"] and not out.loc["M050", "took_up"]  # M050 opened before launch
	assert not out.loc["M060", "took_up"]  # another category
	assert out.loc["M000", "aum_change"] == 50_000 and out.loc["M099", "aum_change"] == 0
	assert out.loc["M199", "churned"] and out["churned"].sum() == 1


def test_a_target_product_wins_over_the_category():
	m = members().head(2)
	holdings = pd.DataFrame(
		{
			"customer": ["M000", "M001"],
			"product": ["WM-1", "WM-2"],
			"category": "Wealth Management",
			"opened_on": dt.date(2026, 9, 20),
		}
	)
	out = c.measure_outcomes(
		m,
		holdings,
		pd.DataFrame(columns=["customer", "month", "aum"]),
		LAUNCH,
		dt.date(2026, 11, 1),
		target_products=["WM-2"],
		target_categories=["Wealth Management"],
	)
	assert list(out["took_up"]) == [False, True]
	assert out["end_aum"].isna().all() and not out["churned"].any()


def test_churn_is_a_closed_profile_or_most_of_the_money_gone():
	m = members().head(3)
	snapshots = pd.DataFrame(
		{
			"customer": ["M000", "M001", "M002"],
			"month": dt.date(2026, 10, 1),
			"aum": [70_000.0, 71_000.0, 0.0],
		}
	)
	out = c.measure_outcomes(m, pd.DataFrame(), snapshots, LAUNCH, dt.date(2026, 11, 1))
	assert list(out["churned"]) == [True, False, True]


def test_effect_known_uplift_and_significance():
	effect = c.campaign_effect(outcomes_frame(30, 10))
	take = effect["take_up"]
	assert (take["campaign"], take["control"]) == (0.30, 0.10)
	assert take["uplift"] == pytest.approx(0.20)
	# pooled p = 0.2, se = sqrt(0.2 × 0.8 × 2/100) = 0.0566, z = 3.54
	assert take["p_value"] == pytest.approx(math.erfc(0.2 / math.sqrt(0.2 * 0.8 * 0.02) / math.sqrt(2)))
	assert take["verdict"] == "significant"
	aum = effect["aum_change"]
	assert (aum["campaign"], aum["control"], aum["uplift"]) == (15_000, 5_000, 10_000)
	assert aum["p_value"] < 0.05
	churn = effect["churn"]
	assert (churn["campaign"], churn["control"], churn["x_control"]) == (0.0, 0.01, 1)
	assert churn["verdict"] == "not_significant"


def test_swapping_campaign_and_control_turns_the_uplift_around():
	out = outcomes_frame(30, 10)
	swapped = out.assign(group=out["group"].map({"Campaign": "Control", "Control": "Campaign"}))
	assert c.campaign_effect(out)["take_up"]["uplift"] == pytest.approx(0.20)
	assert c.campaign_effect(swapped)["take_up"]["uplift"] == pytest.approx(-0.20)
	assert c.campaign_effect(swapped)["aum_change"]["uplift"] == -10_000


def test_no_difference_and_small_groups():
	effect = c.campaign_effect(outcomes_frame(10, 10))
	assert effect["take_up"]["uplift"] == 0 and effect["take_up"]["verdict"] == "not_significant"
	small = outcomes_frame(10, 1)
	small = small[small["customer"].isin([f"M{i:03d}" for i in [*range(20), *range(100, 110)]])]
	assert c.campaign_effect(small)["take_up"]["verdict"] == "too_few"


def test_statistics_match_textbook_values():
	# z = 1.96 -> p = 0.05
	assert math.erfc(1.959964 / math.sqrt(2)) == pytest.approx(0.05, abs=1e-6)
	assert c.two_proportion_test(0, 0, 1, 10) != c.two_proportion_test(0, 0, 1, 10)  # NaN
	assert c.two_proportion_test(0, 50, 0, 50) == 1.0
	assert c.welch_test([1.0], [2.0, 3.0]) != c.welch_test([1.0], [2.0, 3.0])
	assert c.welch_test([1.0, 1.0], [1.0, 1.0]) == 1.0
	# Welch's statistic on known samples: diff 2, variances 2 and 2, se = sqrt(2/2 + 2/2) -> z = sqrt(2)
	assert c.welch_test([1.0, 3.0], [-1.0, 1.0]) == pytest.approx(math.erfc(1.0))


def test_measurement_window():
	assert c.baseline_month(dt.date(2026, 9, 10)) == dt.date(2026, 8, 1)
	assert c.window_end(dt.date(2026, 9, 10), 8, dt.date(2026, 12, 4)) == dt.date(2026, 11, 5)
	assert c.window_end(dt.date(2026, 9, 10), 52, dt.date(2026, 12, 4)) == dt.date(2026, 12, 4)


# ---------------------------------------------------------------- report


def test_report_shape_rows_chart_and_cards():
	result = build_campaign_effect(outcomes_frame(30, 10))
	columns, data, message, graph, summary = result.as_frappe()
	names = [col["fieldname"] for col in columns]
	assert names[:5] == ["branch", "measure", "campaign_value", "control_value", "uplift"]
	assert message is None
	# all branches, then each branch (two here): three measures each
	assert len(data) == 9
	first = data[0]
	assert (first["branch"], first["measure"]) == ("All branches", "Took up the target product")
	assert (first["campaign_value"], first["control_value"], first["uplift"]) == (30.0, 10.0, 20.0)
	assert first["verdict"] == "Better (significant, 95%)"
	assert (first["campaign_customers"], first["control_customers"]) == (100, 100)
	assert {row["branch"] for row in data[3:]} == {"A", "B"}
	assert graph["data"]["labels"] == ["Took up the product (% of customers)", "Churned (% of customers)"]
	# the desk formats the chart's values (its tooltips) as percentages
	assert graph["fieldtype"] == "Percent"
	assert [d["name"] for d in graph["data"]["datasets"]] == ["Campaign group", "Control group"]
	assert graph["data"]["datasets"][0]["values"] == [30.0, 0.0]
	assert graph["data"]["datasets"][1]["values"] == [10.0, 1.0]
	labels = [card["label"] for card in summary]
	assert labels[0] == "Customers, campaign / control group" and summary[0]["value"] == "100 / 100"
	assert labels[1:] == [c.CAMPAIGN_TEMPLATES[f"label_{m}"] for m in c.MEASURES]
	assert summary[1]["value"] == "+20.0 pts (better)" and summary[1]["indicator"] == "Green"


def test_report_of_one_branch_has_no_branch_rows_and_empty_is_empty():
	out = outcomes_frame(30, 10)
	one = build_campaign_effect(out[out["branch"] == "A"]).data
	assert len(one) == 3 and {row["branch"] for row in one} == {"A"}
	empty = build_campaign_effect(out.iloc[0:0])
	assert empty.data == [] and empty.chart is None and empty.columns


# ---------------------------------------------------------------- what a difference means

# the rule, said independently of the code: more take-up and more AUM are improvements, more churn
# is a worsening
IMPROVEMENT = {"take_up": "higher", "aum_change": "higher", "churn": "lower"}


def effect_outcomes(measure: str, campaign: float, control: float, n: int = 200) -> pd.DataFrame:
	"""``n`` customers per group where only ``measure`` differs: the share of the group that took up
	or churned (take_up, churn), or the mean AUM change (aum_change, spread ±1,000 in each group);
	the other measures are the same in both groups."""
	rows = []
	for group, level in (("Campaign", campaign), ("Control", control)):
		for i in range(n):
			rows.append(
				{
					"customer": f"{group[:2]}{i:04d}",
					"group": group,
					"branch": "A",
					"took_up": i < round(level * n) if measure == "take_up" else i % 5 == 0,
					"churned": i < round(level * n) if measure == "churn" else i % 20 == 0,
					"aum_change": (level if measure == "aum_change" else 0.0)
					+ (1_000.0 if i % 2 else -1_000.0),
					"end_aum": 100_000.0,
				}
			)
	return pd.DataFrame(rows)


# (campaign, control) for each measure: the campaign group clearly higher, clearly lower, about the same
LEVELS = {
	"take_up": {"higher": (0.40, 0.10), "lower": (0.10, 0.40), "same": (0.11, 0.10)},
	"churn": {"higher": (0.40, 0.10), "lower": (0.10, 0.40), "same": (0.11, 0.10)},
	"aum_change": {"higher": (5_000.0, 0.0), "lower": (0.0, 5_000.0), "same": (50.0, 0.0)},
}


@pytest.mark.parametrize("measure", c.MEASURES)
@pytest.mark.parametrize("direction", ["higher", "lower", "same"])
def test_effect_card_says_better_worse_or_not_significant(measure, direction):
	campaign, control = LEVELS[measure][direction]
	result = build_campaign_effect(effect_outcomes(measure, campaign, control))
	effect = c.campaign_effect(effect_outcomes(measure, campaign, control))[measure]
	cards = {card["label"]: card for card in result.summary}
	shown = cards[c.CAMPAIGN_TEMPLATES[f"label_{measure}"]]
	row = next(r for r in result.data if r["measure"] == c.CAMPAIGN_TEMPLATES[measure])
	# the card and the row show the difference campaign - control with its sign
	assert shown["value"].startswith("+" if direction != "lower" else "-")
	if direction == "same":
		assert effect["verdict"] == "not_significant"
		assert shown["indicator"] in ("Grey", "Blue")
		assert "not significant" in shown["value"] and row["verdict"] == "Not significant"
		assert not re.search(r"\b(better|worse)\b", shown["value"].lower())
		return
	assert effect["verdict"] == "significant"
	improved = direction == IMPROVEMENT[measure]
	assert shown["indicator"] == ("Green" if improved else "Red")
	assert ("(better)" if improved else "(worse)") in shown["value"]
	assert "not significant" not in shown["value"]
	assert row["verdict"].startswith("Better" if improved else "Worse")


def test_churn_card_says_which_way_is_good():
	"""A campaign group that churned more is worse news, whatever the word "uplift" suggests."""
	churn = c.CAMPAIGN_TEMPLATES["label_churn"]
	assert "churn" in churn.lower() and "lower is better" in churn
	more = build_campaign_effect(effect_outcomes("churn", 0.40, 0.10)).summary
	card = next(card for card in more if card["label"] == churn)
	assert card["value"].startswith("+") and card["indicator"] == "Red" and "worse" in card["value"]


@pytest.mark.parametrize("measure", c.MEASURES)
def test_indicative_and_too_few_say_so(measure):
	improves = 1 if IMPROVEMENT[measure] == "higher" else -1
	for uplift in (0.05, -0.05):
		better = uplift * improves > 0
		assert c.reading(measure, uplift, "significant") == ("better" if better else "worse")
		assert c.reading(measure, uplift, "indicative") == ("probably_better" if better else "probably_worse")
		assert c.reading(measure, uplift, "not_significant") == "not_significant"
		assert c.reading(measure, uplift, "too_few") == "too_few"
	assert c.reading(measure, math.nan, "no_data") == "no_data"
	# a handful of customers: no colour, no direction
	few = effect_outcomes(measure, *LEVELS[measure]["higher"], n=10)
	card = next(
		k
		for k in build_campaign_effect(few).summary
		if k["label"] == c.CAMPAIGN_TEMPLATES[f"label_{measure}"]
	)
	assert card["indicator"] == "Grey" and "too few customers" in card["value"]


def test_effect_card_words_go_through_gettext():
	"""The Frappe layer passes _: every word of an effect card's value is looked up, the number is not."""
	asked = []

	def gettext(text):
		asked.append(text)
		return text.upper()

	summary = build_campaign_effect(effect_outcomes("churn", 0.40, 0.10), gettext=gettext).summary
	card = next(k for k in summary if k["label"] == c.CAMPAIGN_TEMPLATES["label_churn"])
	assert card["value"] == "+30.0 PTS (WORSE)"
	assert set(asked) <= set(c.CAMPAIGN_TEMPLATES.values())
