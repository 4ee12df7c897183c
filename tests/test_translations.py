"""Every user-facing English string of the app has a Simplified Chinese translation in zh.csv.

Pure Python (no Frappe): the strings are collected from the files Frappe translates them from:
doctype / report / workspace JSON, fixtures, ``_()`` in Python, ``__()`` in JS, the English labels the
report builders emit, the engine's reason templates and the default tiers, segments and products.

When a test fails it prints the missing strings with where they come from, as CSV rows to complete
and add to ``branch_crm/translations/zh.csv``.
"""

from __future__ import annotations

import ast
import codecs
import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "branch_crm"
MODULE = APP / "branch_crm"
ENGINE = APP / "engine"
ZH_CSV = APP / "translations" / "zh.csv"

# Python modules that never reach a user through Frappe (engine text is collected separately below)
PY_EXCLUDED = (ENGINE, APP / "cli.py")
# defaults.py: assignment name -> keys whose values users see (the app passes them through _())
DEFAULT_FIELDS = {
	"DEFAULT_TIERS": ("tier_name", "service_strategy"),
	"DEFAULT_GROUPS": ("group_name", "description"),
	"DEFAULT_PRODUCTS": ("product_name",),
}
# fixtures: doctype -> fields naming the record a user sees
FIXTURE_FIELDS = {
	"Role": ("name", "role_name"),
	"Workflow State": ("name", "workflow_state_name"),
	"Workflow Action Master": ("name", "workflow_action_name"),
}
# report builder calls -> index of the positional (and name of the keyword) argument holding a label
BUILDER_LABEL_ARGS = {"column": (1, "label"), "card": (1, "label")}

# {0}, {avg_aum}, {0:,.2f}; %s, %(name)s, %d
PLACEHOLDER = re.compile(r"\{[^{}\s]*\}|%\([^)]+\)[sdfr]|%[sdfr]")
HTML_TAG = re.compile(r"<[^>]+>")  # frappe.utils.data.HTML_TAG_PATTERN
JS_CALL = re.compile(
	r"(?<![\w$.])__\(\s*"
	r"""(?:"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>(?:[^'\\\n]|\\.)*)'|`(?P<bt>(?:[^`\\$]|\\.)*)`)"""
	r"\s*[,)]"
)
JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}

Strings = dict[str, set[str]]  # English source string -> where it was found


# --------------------------------------------------------------------------- helpers


def rel(path: Path) -> str:
	return str(path.relative_to(ROOT))


def is_translatable(text: str) -> bool:
	"""frappe.gettext.extractors.utils.is_translatable, plus: not blank."""
	return bool(
		text.strip()
		and re.search("[a-zA-Z]", text)
		and not text.startswith(("fa fa-", "eval:"))
		and not text.endswith("px")
	)


def python_key(text: str) -> str:
	"""The key frappe._() looks up: HTML tags stripped, surrounding whitespace stripped."""
	if HTML_TAG.search(text):
		text = HTML_TAG.sub("", text)
	return text.strip()


def add(found: Strings, text, origin: str) -> None:
	if isinstance(text, str) and is_translatable(text):
		found[text].add(origin)


def merge(*parts: Strings) -> Strings:
	out: Strings = defaultdict(set)
	for part in parts:
		for text, origins in part.items():
			out[text] |= origins
	return out


def load_json(path: Path):
	return json.loads(path.read_text(encoding="utf-8"))


def parse(path: Path) -> ast.Module:
	return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def string_constant(node: ast.AST | None, constants: dict[str, str] | None = None) -> str | None:
	"""The value of a string literal, or of a module-level string constant it names; else None."""
	if isinstance(node, ast.Constant) and isinstance(node.value, str):
		return node.value
	if isinstance(node, ast.Name) and constants:
		return constants.get(node.id)
	return None


def module_string_constants(tree: ast.Module) -> dict[str, str]:
	out = {}
	for node in tree.body:
		if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
			value = string_constant(node.value)
			if value is not None:
				out[node.targets[0].id] = value
	return out


def call_name(node: ast.Call) -> str | None:
	"""``f(...)`` -> "f"; ``module.f(...)`` -> "f"."""
	if isinstance(node.func, ast.Name):
		return node.func.id
	if isinstance(node.func, ast.Attribute):
		return node.func.attr
	return None


def argument(node: ast.Call, position: int, keyword: str) -> ast.AST | None:
	if len(node.args) > position and not any(isinstance(a, ast.Starred) for a in node.args[: position + 1]):
		return node.args[position]
	return next((kw.value for kw in node.keywords if kw.arg == keyword), None)


# --------------------------------------------------------------------------- collectors


def doctype_strings() -> Strings:
	"""DocType name, module, description; field labels (sections and tabs too), descriptions and
	Select options; action labels and link groups."""
	found: Strings = defaultdict(set)
	for path in sorted(MODULE.glob("doctype/*/*.json")):
		doc = load_json(path)
		if not isinstance(doc, dict) or doc.get("doctype") != "DocType":
			continue
		where = rel(path)
		for key in ("name", "module", "description"):
			add(found, doc.get(key), where)
		for df in doc.get("fields", []):
			name = df.get("fieldname") or df.get("label")
			add(found, df.get("label"), f"{where} ({name} label)")
			add(found, df.get("description"), f"{where} ({name} description)")
			options = df.get("options")
			if df.get("fieldtype") == "Select" and options and df.get("fieldname") != "naming_series":
				lines = options.split("\n")
				if "icon" not in lines[0]:
					for option in lines:
						add(found, option, f"{where} ({name} option)")
		for action in doc.get("actions", []):
			add(found, action.get("label"), f"{where} (action)")
			add(found, action.get("group"), f"{where} (action group)")
		for link in doc.get("links", []):
			add(found, link.get("group"), f"{where} (link group)")
	return found


def report_strings() -> Strings:
	found: Strings = defaultdict(set)
	for path in sorted(MODULE.glob("report/*/*.json")):
		doc = load_json(path)
		if not isinstance(doc, dict) or doc.get("doctype") != "Report":
			continue
		where = rel(path)
		add(found, doc.get("name"), where)
		add(found, doc.get("report_name"), where)
		for row in [*doc.get("columns", []), *doc.get("filters", [])]:
			add(found, row.get("label"), f"{where} (column/filter)")
	return found


def workspace_strings() -> Strings:
	"""Label and title, link and card labels, shortcut labels, card names and header text in content."""
	found: Strings = defaultdict(set)
	for path in sorted(MODULE.glob("workspace/*/*.json")):
		doc = load_json(path)
		if not isinstance(doc, dict) or doc.get("doctype") != "Workspace":
			continue
		where = rel(path)
		add(found, doc.get("label"), where)
		add(found, doc.get("title"), where)
		for key in ("links", "shortcuts", "charts", "number_cards", "quick_lists", "custom_blocks"):
			for item in doc.get(key, []):
				add(found, item.get("label"), f"{where} ({key})")
		for block in json.loads(doc.get("content") or "[]"):
			data = block.get("data", {})
			kind = block.get("type")
			if kind == "card":
				add(found, data.get("card_name"), f"{where} (content card)")
			elif kind == "shortcut":
				add(found, data.get("shortcut_name"), f"{where} (content shortcut)")
			elif kind == "header" and data.get("text"):
				# the desk translates the header's text without its markup
				add(found, html.unescape(HTML_TAG.sub("", data["text"])).strip(), f"{where} (content header)")
	return found


def fixture_strings() -> Strings:
	"""Role, Workflow State and Workflow Action Master names; states and actions of workflows."""
	found: Strings = defaultdict(set)
	for path in sorted((APP / "fixtures").glob("*.json")):
		records = load_json(path)
		for record in records if isinstance(records, list) else []:
			doctype = record.get("doctype")
			where = f"{rel(path)} ({doctype})"
			for key in FIXTURE_FIELDS.get(doctype, ()):
				add(found, record.get(key), where)
			if doctype == "Workflow":
				for state in record.get("states", []):
					add(found, state.get("state"), where)
					add(found, state.get("message"), where)
				for transition in record.get("transitions", []):
					add(found, transition.get("action"), where)
	return found


def python_files() -> list[Path]:
	files = []
	for path in sorted(APP.rglob("*.py")):
		parts = path.relative_to(APP).parts
		if "__pycache__" in parts or "tests" in parts or path.name.startswith("test_"):
			continue
		if any(path == excluded or excluded in path.parents for excluded in PY_EXCLUDED):
			continue
		files.append(path)
	return files


def python_strings() -> Strings:
	"""First arguments of _(), _lt() and frappe._() that are string literals."""
	found: Strings = defaultdict(set)
	for path in python_files():
		for node in ast.walk(parse(path)):
			if not isinstance(node, ast.Call) or not node.args:
				continue
			func = node.func
			is_translate = (isinstance(func, ast.Name) and func.id in ("_", "_lt")) or (
				isinstance(func, ast.Attribute)
				and func.attr == "_"
				and isinstance(func.value, ast.Name)
				and func.value.id == "frappe"
			)
			text = string_constant(node.args[0]) if is_translate else None
			if text is not None:
				add(found, python_key(text), f"{rel(path)}:{node.lineno}")
	return found


def report_builder_strings() -> Strings:
	"""English labels the report builders emit (translated by report_utils.translated): column and
	card labels, chart dataset names and literal chart labels. Dynamic labels are skipped."""
	found: Strings = defaultdict(set)
	for path in sorted((APP / "reports").glob("*.py")):
		tree = parse(path)
		constants = module_string_constants(tree)
		for node in ast.walk(tree):
			if not isinstance(node, ast.Call):
				continue
			name, where = call_name(node), f"{rel(path)}:{node.lineno}"
			if name in BUILDER_LABEL_ARGS:
				add(found, string_constant(argument(node, *BUILDER_LABEL_ARGS[name]), constants), where)
			elif name == "chart":
				labels = argument(node, 0, "labels")
				if isinstance(labels, ast.List | ast.Tuple):
					for label in labels.elts:
						add(found, string_constant(label, constants), where)
				datasets = argument(node, 1, "datasets")
				if isinstance(datasets, ast.List | ast.Tuple):
					for dataset in datasets.elts:
						if isinstance(dataset, ast.Tuple) and dataset.elts:
							add(found, string_constant(dataset.elts[0], constants), where)
	return found


def js_strings() -> Strings:
	found: Strings = defaultdict(set)
	for path in sorted(APP.rglob("*.js")):
		parts = path.relative_to(APP).parts
		if "node_modules" in parts or "dist" in parts:
			continue
		code = path.read_text(encoding="utf-8")
		for match in JS_CALL.finditer(code):
			raw = next(g for g in match.group("dq", "sq", "bt") if g is not None)
			text = re.sub(r"\\(.)", lambda m: JS_ESCAPES.get(m.group(1), m.group(1)), raw, flags=re.S)
			add(found, text, f"{rel(path)}:{code.count(chr(10), 0, match.start()) + 1}")
	return found


def rejection_template_position(tree: ast.Module) -> int:
	"""Position of ``template`` among the fields of the Rejection dataclass (3 if not found here)."""
	for node in tree.body:
		if isinstance(node, ast.ClassDef) and node.name == "Rejection":
			fields = [
				n.target.id
				for n in node.body
				if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
			]
			if "template" in fields:
				return fields.index("template")
	return 3


def engine_template_strings() -> Strings:
	"""Values of module-level ``*_TEMPLATES`` dicts and ``template``s of ``Rejection(...)`` calls in
	the engine: the Frappe layer passes them through _()."""
	found: Strings = defaultdict(set)
	trees = {path: parse(path) for path in sorted(ENGINE.glob("*.py"))}
	position = next(
		(rejection_template_position(t) for t in trees.values() if rejection_template_position(t) != 3), 3
	)
	for path, tree in trees.items():
		for node in tree.body:
			if isinstance(node, ast.Assign):
				targets, value = node.targets, node.value
			elif isinstance(node, ast.AnnAssign) and node.value is not None:
				targets, value = [node.target], node.value
			else:
				continue
			names = [t.id for t in targets if isinstance(t, ast.Name) and t.id.endswith("_TEMPLATES")]
			if names and isinstance(value, ast.Dict):
				for item in value.values:
					add(found, string_constant(item), f"{rel(path)}:{item.lineno} ({names[0]})")
		for node in ast.walk(tree):
			if isinstance(node, ast.Call) and call_name(node) == "Rejection":
				template = string_constant(argument(node, position, "template"))
				add(found, template, f"{rel(path)}:{node.lineno} (Rejection)")
	return found


@cache
def default_records() -> dict[str, object]:
	"""The plain-literal module-level assignments of engine/defaults.py (others are skipped)."""
	out = {}
	for node in parse(ENGINE / "defaults.py").body:
		if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
			try:
				out[node.targets[0].id] = ast.literal_eval(node.value)
			except (ValueError, TypeError, SyntaxError):
				continue
	return out


def default_data_strings() -> Strings:
	found: Strings = defaultdict(set)
	records = default_records()
	for name, keys in DEFAULT_FIELDS.items():
		for record in records.get(name, ()):
			for key in keys:
				add(found, record.get(key), f"{rel(ENGINE / 'defaults.py')} ({name}.{key})")
	return found


def custom_field_strings() -> Strings:
	"""Labels and descriptions of the custom fields the app adds to ERPNext's doctypes (module-level
	``CUSTOM_FIELDS`` dicts, created at install)."""
	found: Strings = defaultdict(set)
	for path in python_files():
		for node in parse(path).body:
			if not (
				isinstance(node, ast.Assign)
				and any(getattr(t, "id", None) == "CUSTOM_FIELDS" for t in node.targets)
			):
				continue
			for item in ast.walk(node.value):
				if isinstance(item, ast.Dict):
					for key, value in zip(item.keys, item.values, strict=True):
						if string_constant(key) in ("label", "description"):
							add(found, string_constant(value), f"{rel(path)}:{value.lineno} (custom field)")
	return found


COLLECTORS = {
	"doctype JSON": doctype_strings,
	"report JSON": report_strings,
	"workspace JSON": workspace_strings,
	"fixtures": fixture_strings,
	"Python _()": python_strings,
	"report builders": report_builder_strings,
	"JS __()": js_strings,
	"engine templates": engine_template_strings,
	"default data": default_data_strings,
	"custom fields": custom_field_strings,
}


@cache
def collected() -> Strings:
	return merge(*(collect() for collect in COLLECTORS.values()))


# --------------------------------------------------------------------------- zh.csv


@cache
def csv_rows() -> list[tuple[int, list[str]]]:
	"""(line, row) as frappe.translate.read_csv_file reads them; blank rows dropped."""
	if not ZH_CSV.exists():
		return []
	with open(ZH_CSV, encoding="utf-8", newline="") as f:
		return [(reader.line_num, row) for reader in [csv.reader(f)] for row in reader if row]


@cache
def translations() -> dict[str, str]:
	"""Source -> translation for rows without a context (what _() falls back to)."""
	return {row[0]: row[1].strip() for _line, row in csv_rows() if len(row) == 2 or not row[2]}


def placeholders(text: str) -> list[str]:
	return sorted(PLACEHOLDER.findall(text))


def as_csv_row(*values: str) -> str:
	buffer = io.StringIO()
	csv.writer(buffer, lineterminator="").writerow(values)
	return buffer.getvalue()


# --------------------------------------------------------------------------- tests


def test_collectors_find_strings():
	"""Guard against a collector silently finding nothing after a file moves or a pattern changes."""
	empty = [name for name, collect in COLLECTORS.items() if not collect()]
	assert not empty, f"translation collectors found no strings: {empty}; update tests/test_translations.py"
	records = default_records()
	lost = [name for name in DEFAULT_FIELDS if not records.get(name)]
	assert not lost, (
		f"engine/defaults.py: {lost} are no longer plain literals (or were renamed); "
		"update DEFAULT_FIELDS in tests/test_translations.py"
	)


def test_zh_csv_is_well_formed():
	assert ZH_CSV.exists(), f"{ZH_CSV.relative_to(ROOT)} is missing"
	problems = []
	if ZH_CSV.read_bytes().startswith(codecs.BOM_UTF8):
		problems.append("line 1: starts with a byte order mark; save as UTF-8 without BOM")
	seen: dict[tuple[str, str], int] = {}
	for line, row in csv_rows():
		if len(row) not in (2, 3):
			problems.append(f"line {line}: {len(row)} columns (expected source,translation[,context]): {row}")
			continue
		if not row[0].strip():
			problems.append(f"line {line}: empty source string: {row}")
		key = (row[0], row[2] if len(row) == 3 else "")
		if key in seen:
			problems.append(f"line {line}: duplicate of line {seen[key]}: {row[0]!r}")
		seen.setdefault(key, line)
	assert not problems, f"{ZH_CSV.relative_to(ROOT)}:\n" + "\n".join(problems)


def where(text: str, limit: int = 3) -> str:
	origins = sorted(collected()[text])
	more = f" (+{len(origins) - limit} more)" if len(origins) > limit else ""
	return ", ".join(origins[:limit]) + more


def test_every_string_has_a_chinese_translation():
	done = translations()
	missing = sorted(text for text in collected() if not done.get(text))
	if missing:
		found_in = "\n".join(f"  {text!r}  <- {where(text)}" for text in missing)
		rows = "\n".join(as_csv_row(text, "") for text in missing)
		raise AssertionError(
			f"{len(missing)} string(s) have no translation in {ZH_CSV.relative_to(ROOT)}:\n{found_in}\n\n"
			"Rows to add to zh.csv, with the Chinese after the comma "
			"(keep placeholders such as {0} or {tier} exactly):\n"
			f"{rows}\n\nSorted list of missing strings: {missing}"
		)


def test_placeholders_survive_translation():
	wrong = []
	for line, row in csv_rows():
		if len(row) < 2 or not row[1].strip():
			continue
		source, target = placeholders(row[0]), placeholders(row[1])
		if source != target:
			wrong.append(f"line {line}: {row[0]!r} has {source} but its translation {row[1]!r} has {target}")
	assert not wrong, "placeholders must be kept exactly in translations:\n" + "\n".join(wrong)


def test_no_empty_translations():
	empty = [f"line {line}: {row[0]!r}" for line, row in csv_rows() if len(row) >= 2 and not row[1].strip()]
	assert not empty, "rows without a translation (fill in or remove them):\n" + "\n".join(empty)


def test_placeholder_pattern():
	"""The placeholder check sees positional, named and formatted fields and %-style ones."""
	assert placeholders("{0} of {1} customers") == ["{0}", "{1}"]
	assert placeholders("meets {tier} ({threshold}) at {avg_aum:,.0f}") == [
		"{avg_aum:,.0f}",
		"{threshold}",
		"{tier}",
	]
	assert placeholders("%s and %(name)s") == ["%(name)s", "%s"]
	assert Counter(placeholders("{0} {0}")) == Counter({"{0}": 2})
