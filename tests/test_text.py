"""Coded messages: what the jobs store is codes and parameters, put into words per reader."""

import pandas as pd
import pytest

from branch_crm.engine.churn import CHURN_REASON_TEMPLATES, render_churn_reasons
from branch_crm.engine.needs import NEEDS_GAP_TEMPLATES
from branch_crm.engine.text import (
	CodedTemplate,
	coded_templates,
	decode,
	format_columns,
	is_coded,
	render_coded,
	template_fields,
)
from branch_crm.engine.tiering import REASON_TEMPLATES

ZH = {
	"tier:upgrade": "近{window}个月日均资产 {avg_aum}，达到 {tier} 门槛 {threshold}",
	"churn:aum_drop": "资产{months}个月下降{pct}%",
	"followup:retention": "{customer_name} 有流失风险：{details}",
}


def test_coded_template_keeps_code_and_parameters_and_quotes_values():
	templates = coded_templates("followup", {"retention": "Churn risk for {customer_name}: {details}"})
	template = templates["retention"]
	assert isinstance(template, CodedTemplate)
	index = pd.RangeIndex(2)
	out = format_columns(
		template,
		{"customer_name": pd.Series(['Wang "Xiao" Ming', "李娜"]), "details": pd.Series(["a\\b", ""])},
		index,
	)
	assert decode(out[0]) == [
		("followup:retention", {"customer_name": 'Wang "Xiao" Ming', "details": "a\\b"})
	]
	assert decode(out[1]) == [("followup:retention", {"customer_name": "李娜", "details": ""})]


def test_a_template_without_placeholders_is_its_code_once_formatted():
	template = coded_templates("followup", {"birthday_occasion": "Birthday"})["birthday_occasion"]
	assert decode(template.format()) == [("followup:birthday_occasion", {})]


def test_churn_reasons_stored_coded_render_in_either_language():
	frame = pd.DataFrame(
		{
			"reason_codes": ["aum_drop,not_enough_history", ""],
			"aum_change_pct": [-90.0, 0.0],
			"aum_latest": [20000.0, 1.0],
			"aum_baseline": [200000.0, 1.0],
			"history_months": [3, 12],
		}
	)
	english = render_churn_reasons(frame)
	stored = render_churn_reasons(frame, coded_templates("churn", CHURN_REASON_TEMPLATES))
	assert is_coded(stored[0]) and stored[1] == ""
	assert [code for code, _params in decode(stored[0])] == ["churn:aum_drop", "churn:not_enough_history"]
	templates = {f"churn:{code}": t for code, t in CHURN_REASON_TEMPLATES.items()}
	# rendered with the English templates, the stored codes read exactly as the English words did
	assert render_coded(stored, templates) == list(english)
	chinese = render_coded(stored, {**templates, **ZH}, separator="；")[0]
	assert chinese.startswith("资产") and "；" in chinese


def test_parameters_are_translated_and_nested_messages_rendered():
	tier = coded_templates("tier", REASON_TEMPLATES)["upgrade"]
	names = {"window", "avg_aum", "tier", "threshold"}
	fields = {name: pd.Series(["VIP" if name == "tier" else "3"]) for name in names}
	reason = format_columns(tier, fields, pd.RangeIndex(1))[0]
	retention = coded_templates("followup", {"retention": "Churn risk for {customer_name}: {details}"})
	message = format_columns(
		retention["retention"],
		{"customer_name": pd.Series(["李娜"]), "details": pd.Series([reason])},
		pd.RangeIndex(1),
	)[0]
	words = {"VIP": "贵宾"}
	out = render_coded([message], ZH, translate=lambda v: words.get(v, v))[0]
	assert out == "李娜 有流失风险：近3个月日均资产 3，达到 贵宾 门槛 3"


def test_texts_that_are_not_coded_are_left_as_typed():
	assert render_coded(["Called, will visit Friday", None, ""], ZH) == [
		"Called, will visit Friday",
		None,
		"",
	]


def test_an_unknown_code_shows_as_its_code_and_a_broken_translation_does_not_raise():
	stored = '["gap:new_gap",{}],["churn:aum_drop",{"pct":"35"}]'
	assert render_coded([stored], {"churn:aum_drop": "down {pct}% over {months}"}) == [
		"gap:new_gap; churn:aum_drop"
	]


@pytest.mark.parametrize(
	"namespace,templates", [("churn", CHURN_REASON_TEMPLATES), ("gap", NEEDS_GAP_TEMPLATES)]
)
def test_every_coded_template_carries_exactly_its_placeholders(namespace, templates):
	for code, template in coded_templates(namespace, templates).items():
		names = template_fields(templates[code])
		[(key, params)] = decode(template.format(**{name: '"x"' for name in names}))
		assert key == f"{namespace}:{code}"
		assert set(params) == set(names)
