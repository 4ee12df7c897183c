"""Static checks of the doctype JSON, hooks, fixtures and workspace: what a broken migrate or a
dangling link would otherwise only show on a site."""

import ast
import json
from pathlib import Path

import pytest

from branch_crm import hooks, roles
from branch_crm.engine import schema

APP = Path(__file__).resolve().parents[1] / "branch_crm"
MODULE = APP / "branch_crm"
DOCTYPE_FILES = sorted(MODULE.glob("doctype/*/*.json"))
DOCTYPES = {json.loads(p.read_text())["name"]: json.loads(p.read_text()) for p in DOCTYPE_FILES}

# Frappe 15's field types (frappe/model/__init__.py data_fieldtypes + layout and table types)
FIELD_TYPES = {
	"Autocomplete",
	"Attach",
	"Attach Image",
	"Barcode",
	"Button",
	"Check",
	"Code",
	"Color",
	"Column Break",
	"Currency",
	"Data",
	"Date",
	"Datetime",
	"Duration",
	"Dynamic Link",
	"Float",
	"Fold",
	"Geolocation",
	"Heading",
	"HTML",
	"HTML Editor",
	"Icon",
	"Image",
	"Int",
	"JSON",
	"Link",
	"Long Text",
	"Markdown Editor",
	"Password",
	"Percent",
	"Phone",
	"Read Only",
	"Rating",
	"Section Break",
	"Select",
	"Signature",
	"Small Text",
	"Tab Break",
	"Table",
	"Table MultiSelect",
	"Text",
	"Text Editor",
	"Time",
}
NO_VALUE = {"Section Break", "Column Break", "Tab Break", "Fold", "Heading", "HTML", "Button", "Image"}
# Doctypes of Frappe and ERPNext v15 that this app links to
EXTERNAL_DOCTYPES = {
	"DocType",
	"Customer",
	"Branch",
	"User",
	"Employee",
	"Lead",
	"Gender",
	"Role",
	"ToDo",
	"Customer Group",
	"Territory",
	"Holiday List",
	"Issue",
	"Campaign",
}
KNOWN_ROLES = set(roles.ALL_ROLES) | {"System Manager"}


def fields(doctype):
	return DOCTYPES[doctype]["fields"]


def test_doctypes_found():
	assert {
		"Bank Customer Profile",
		"Customer Product Holding",
		"Bank Product",
		"Customer Monthly Snapshot",
		"Customer Tier",
		"Bank Customer Group",
		"Relationship Manager",
		"Contact Plan",
		"Contact Log",
		"Tier Change Log",
		"Branch CRM Settings",
	} <= set(DOCTYPES)


@pytest.mark.parametrize("path", DOCTYPE_FILES, ids=lambda p: p.stem)
def test_doctype_folder_is_complete(path):
	doc = json.loads(path.read_text())
	slug = path.stem
	assert doc["doctype"] == "DocType"
	assert doc["module"] == "Branch CRM"
	# frappe.scrub: spaces and hyphens become underscores
	assert doc["name"].lower().replace(" ", "_").replace("-", "_") == slug == path.parent.name
	assert (path.parent / f"{slug}.py").exists(), "controller missing"
	assert (path.parent / "__init__.py").exists()
	if not doc.get("istable") and not doc.get("issingle"):
		assert (path.parent / f"test_{slug}.py").exists(), "FrappeTestCase missing"


@pytest.mark.parametrize("name", sorted(DOCTYPES))
def test_fields_are_valid(name):
	doc = DOCTYPES[name]
	names = [f["fieldname"] for f in doc["fields"]]
	assert len(names) == len(set(names)), "duplicate fieldnames"
	assert doc["field_order"] == names
	by_name = {f["fieldname"]: f for f in doc["fields"]}
	for f in doc["fields"]:
		assert f["fieldtype"] in FIELD_TYPES, f
		assert f["fieldname"].isidentifier() and f["fieldname"].islower(), f
		if f["fieldtype"] not in ("Column Break",):
			assert f.get("label"), f"{f['fieldname']} has no label"
		if f["fieldtype"] in ("Link", "Table", "Table MultiSelect"):
			target = f.get("options")
			assert target in DOCTYPES or target in EXTERNAL_DOCTYPES, (
				f"{name}.{f['fieldname']} links to unknown {target}"
			)
			if f["fieldtype"] == "Table":
				assert DOCTYPES[target].get("istable"), f"{target} is not a child table"
		if f.get("fetch_from"):
			link, _, _ = f["fetch_from"].partition(".")
			assert by_name[link]["fieldtype"] == "Link", f
		if f["fieldtype"] == "Select" and f.get("default"):
			assert f["default"] in f["options"].split("\n"), f
		if f["fieldtype"] in NO_VALUE:
			assert not f.get("reqd")


@pytest.mark.parametrize("name", sorted(DOCTYPES))
def test_permissions(name):
	doc = DOCTYPES[name]
	if doc.get("istable"):
		assert not doc["permissions"]
		return
	assert doc["permissions"], "no permissions"
	assert {p["role"] for p in doc["permissions"]} <= KNOWN_ROLES
	levels = {f.get("permlevel", 0) for f in doc["fields"]}
	for level in levels - {0}:
		readers = [p for p in doc["permissions"] if p["permlevel"] == level and p.get("read")]
		if name == "Bank Customer Profile" and level == CLEAR_IDENTITY_LEVEL:
			# clear ID numbers and mobiles: no role reads them, they are revealed one at a time, logged
			assert not readers, f"permlevel {level} is read by {[p['role'] for p in readers]}"
		else:
			assert readers, f"nobody can read permlevel {level}"


CLEAR_IDENTITY_LEVEL = 2
# the profile's perm levels (docs/security.md): 0 basic, 1 sensitive and editable, 2 clear identity
# (nobody), 3 ownership and computed basics (read by all staff, written by jobs and workflows only),
# 4 computed balances, churn, needs and holdings (read-only)
BASIC_LEVELS = {0, 3}
WRITABLE_BY_STAFF = {0, 1}


def test_tellers_get_basic_fields_only():
	perms = DOCTYPES["Bank Customer Profile"]["permissions"]
	for role in (roles.TELLER, roles.LOBBY_MANAGER):
		assert {p["permlevel"] for p in perms if p["role"] == role} == BASIC_LEVELS, role
	sensitive = {
		"id_number",
		"mobile_no",
		"email_id",
		"date_of_birth",
		"aum",
		"holdings",
		"churn_score",
		"declared_annual_income",
	}
	levels = {f["fieldname"]: f.get("permlevel", 0) for f in fields("Bank Customer Profile")}
	assert not {s: levels[s] for s in sensitive if levels[s] in BASIC_LEVELS}
	assert levels["id_number"] == levels["mobile_no"] == CLEAR_IDENTITY_LEVEL
	assert levels["id_number_masked"] == levels["mobile_masked"] == 0


def test_computed_and_ownership_fields_are_not_writable_by_staff():
	perms = DOCTYPES["Bank Customer Profile"]["permissions"]
	levels = {f["fieldname"]: f.get("permlevel", 0) for f in fields("Bank Customer Profile")}
	written = {p["permlevel"] for p in perms if p.get("write")}
	assert written == WRITABLE_BY_STAFF
	for field in (
		"branch",
		"relationship_manager",
		"tier",
		"bank_customer_group",
		"value_class",
		"aum",
		"churn_score",
		"needs_priority",
		"holdings",
		"lifetime_value",
		"status",
	):
		assert levels[field] not in written, field


def test_indexes_on_filtered_fields():
	profile = {f["fieldname"]: f for f in fields("Bank Customer Profile")}
	assert profile["customer"].get("unique")
	for name in ("relationship_manager", "tier", "bank_customer_group"):
		assert profile[name].get("search_index"), name
	# branch leads both branch report indexes, which serve every look-up by branch: an index on
	# branch alone would only cost every insert
	assert not profile["branch"].get("search_index")
	profile_controller = (MODULE / "doctype/bank_customer_profile/bank_customer_profile.py").read_text()
	compact_profile = "".join(profile_controller.split())
	for index in ("branch_churn_report", "branch_needs_report"):
		assert f'"{index}":["branch",' in compact_profile, index
	controller = (MODULE / "doctype/customer_monthly_snapshot/customer_monthly_snapshot.py").read_text()
	compact = "".join(controller.split())
	assert 'add_unique("CustomerMonthlySnapshot",["customer","month"]' in compact


def _options(doctype, fieldname):
	field = next(f for f in fields(doctype) if f["fieldname"] == fieldname)
	return tuple(o for o in field["options"].split("\n") if o)


@pytest.mark.parametrize(
	"doctype, fieldname, expected",
	[
		("Bank Customer Profile", "occupation_category", schema.OCCUPATION_CATEGORIES),
		("Bank Customer Profile", "family_stage", schema.FAMILY_STAGES),
		("Bank Customer Profile", "income_band", schema.INCOME_BANDS),
		("Bank Customer Profile", "risk_preference", schema.RISK_PREFERENCES),
		("Bank Customer Profile", "channel_preference", schema.CHANNELS),
		("Bank Customer Profile", "intent_level", schema.INTENT_LEVELS),
		("Bank Customer Profile", "acquisition_channel", schema.ACQUISITION_CHANNELS),
		("Bank Customer Profile", "id_type", schema.ID_TYPES),
		("Bank Customer Profile", "status", schema.PROFILE_STATUSES),
		("Bank Customer Profile", "life_stage", schema.LIFE_STAGES),
		("Relationship Manager", "role_type", schema.STAFF_ROLE_TYPES),
		("Bank Product", "category", schema.PRODUCT_CATEGORIES),
		("Bank Product", "subcategory", schema.PRODUCT_SUBCATEGORIES),
		("Bank Product", "risk_level", schema.RISK_LEVELS),
	],
)
def test_select_options_match_engine(doctype, fieldname, expected):
	assert _options(doctype, fieldname) == expected


def test_intake_shapes_are_doctype_fields():
	profile = {f["fieldname"] for f in fields("Bank Customer Profile")}
	assert set(schema.CUSTOMER_COLUMNS) <= profile
	snapshot = {f["fieldname"] for f in fields("Customer Monthly Snapshot")}
	assert set(schema.SNAPSHOT_COLUMNS) <= snapshot
	holding = {f["fieldname"] for f in fields("Customer Product Holding")}
	assert set(schema.HOLDING_COLUMNS) - {"customer"} <= holding


def _functions(dotted: str) -> bool:
	module, _, function = dotted.rpartition(".")
	path = APP.parent / (module.replace(".", "/") + ".py")
	tree = ast.parse(path.read_text())
	return any(isinstance(n, ast.FunctionDef) and n.name == function for n in tree.body)


def _hook_paths():
	paths = [hooks.after_install, hooks.before_uninstall, hooks.before_tests]
	paths += list(hooks.permission_query_conditions.values()) + list(hooks.has_permission.values())
	paths += [m for events in hooks.doc_events.values() for m in events.values()]
	for methods in hooks.scheduler_events.values():
		# "cron" maps each schedule to its methods
		paths += [m for ms in methods.values() for m in ms] if isinstance(methods, dict) else methods
	return paths


@pytest.mark.parametrize("dotted", _hook_paths())
def test_hook_targets_exist(dotted):
	assert _functions(dotted), dotted


def test_hooks_cover_every_customer_doctype_and_declare_erpnext():
	assert hooks.required_apps == ["frappe/erpnext"]
	for doctype, doc in DOCTYPES.items():
		if any(
			f["fieldname"] == "customer" and f.get("options") == "Customer" for f in doc["fields"]
		) and not doc.get("istable"):
			assert doctype in hooks.permission_query_conditions, doctype
			assert doctype in hooks.has_permission, doctype
	for path in hooks.doctype_js.values():
		assert (APP / path).exists()
	# /assets/branch_crm/... is served from the app's public folder
	for url in hooks.app_include_js:
		assert url.startswith("/assets/branch_crm/"), url
		assert (APP / "public" / url.removeprefix("/assets/branch_crm/")).exists(), url


def test_role_fixture_matches_roles():
	fixture = json.loads((APP / "fixtures/role.json").read_text())
	assert {r["name"] for r in fixture} == set(roles.ALL_ROLES)
	(role_filter,) = [f for f in hooks.fixtures if f["dt"] == "Role"]
	assert set(role_filter["filters"][0][2]) == set(roles.ALL_ROLES)


WORKSPACES = sorted(MODULE.glob("workspace/*/*.json"))


def _records(folder: str) -> dict:
	return {
		doc["name"]: doc for doc in (json.loads(p.read_text()) for p in MODULE.glob(f"{folder}/*/*.json"))
	}


@pytest.mark.parametrize("path", WORKSPACES, ids=lambda p: p.parent.name)
def test_workspace_links_exist(path):
	workspace = json.loads(path.read_text())
	reports = {json.loads(p.read_text())["name"] for p in MODULE.glob("report/*/*.json")}
	for link in workspace["links"]:
		if link["type"] == "Link" and link["link_type"] == "DocType":
			assert link["link_to"] in DOCTYPES or link["link_to"] in EXTERNAL_DOCTYPES
		if link["type"] == "Link" and link["link_type"] == "Report":
			assert link["link_to"] in reports
	for shortcut in workspace["shortcuts"]:
		assert shortcut["link_to"] in (reports if shortcut["type"] == "Report" else DOCTYPES)


@pytest.mark.parametrize("path", WORKSPACES, ids=lambda p: p.parent.name)
def test_workspace_cards_and_charts_are_the_modules_own(path):
	"""Standard records of the module, each on the page once it is in the workspace's tables (the
	desk finds a block's widget by its label)."""
	workspace = json.loads(path.read_text())
	cards, charts = _records("number_card"), _records("dashboard_chart")
	for record in [*cards.values(), *charts.values()]:
		assert record["module"] == "Branch CRM" and record["is_standard"] == 1, record["name"]
		assert record["document_type"] in DOCTYPES, record["name"]
	tables = {
		"number_card": {row["number_card_name"] for row in workspace["number_cards"]},
		"chart": {row["chart_name"] for row in workspace["charts"]},
		"shortcut": {row["label"] for row in workspace["shortcuts"]},
		"card": {row["label"] for row in workspace["links"] if row["type"] == "Card Break"},
		"quick_list": {row["label"] for row in workspace["quick_lists"]},
	}
	assert tables["number_card"] <= set(cards)
	assert tables["chart"] <= set(charts)
	for row in [*workspace["number_cards"], *workspace["charts"]]:
		assert row["label"] == row.get("number_card_name", row.get("chart_name"))
	on_page = {kind: set() for kind in tables}
	for block in json.loads(workspace["content"]):
		if block["type"] in tables:
			on_page[block["type"]].add(block["data"][f"{block['type']}_name"])
	assert on_page == tables


@pytest.mark.parametrize("folder", ["engine", "reports"])
def test_pure_layers_never_import_frappe(folder):
	for path in (APP / folder).rglob("*.py"):
		tree = ast.parse(path.read_text())
		for node in ast.walk(tree):
			names = (
				[a.name for a in node.names]
				if isinstance(node, ast.Import)
				else [node.module or ""]
				if isinstance(node, ast.ImportFrom)
				else []
			)
			assert not any(n == "frappe" or n.startswith("frappe.") for n in names), path


def test_access_scope():
	assert roles.access_scope({"System Manager"}, None) == "all"
	assert roles.access_scope({roles.BRANCH_MANAGER, roles.RELATIONSHIP_MANAGER}, "A") == "branch"
	assert roles.access_scope({roles.BRANCH_MANAGER}, None) == "none"
	assert roles.access_scope({roles.RELATIONSHIP_MANAGER}, "A") == "book"
	assert roles.access_scope({roles.TELLER}, "A") == "branch"
	assert roles.access_scope({roles.TELLER}, None) == "none"
	assert roles.access_scope({"Sales User"}, "A") == "none"
	# the integration role writes through the intake and reads nothing
	assert roles.access_scope({roles.INTEGRATION}, None) == "none"
	# a deactivated staff record sees nothing; the unrestricted roles need no record
	assert roles.access_scope({roles.RELATIONSHIP_MANAGER}, "A", active=False) == "none"
	assert roles.access_scope({roles.BRANCH_MANAGER}, "A", active=False) == "none"
	assert roles.access_scope({roles.ADMIN}, None, active=False) == "all"


def test_fact_scope():
	# lobby managers and tellers see the branch's profiles, but work only their own book
	assert roles.fact_scope({roles.LOBBY_MANAGER}, "A") == "book"
	assert roles.fact_scope({roles.TELLER}, "A") == "book"
	assert roles.fact_scope({roles.BRANCH_MANAGER}, "A") == "branch"
	assert roles.fact_scope({roles.RELATIONSHIP_MANAGER}, "A") == "book"
	assert roles.fact_scope({roles.ADMIN}, None) == "all"
	assert roles.fact_scope({roles.LOBBY_MANAGER}, "A", active=False) == "none"


REPORT_FILES = sorted(MODULE.glob("report/*/*.json"))


@pytest.mark.parametrize("path", REPORT_FILES, ids=lambda p: p.stem)
def test_script_reports_are_complete(path):
	report = json.loads(path.read_text())
	folder = path.parent
	assert report["doctype"] == "Report" and report["report_type"] == "Script Report"
	assert report["module"] == "Branch CRM" and report["is_standard"] == "Yes"
	assert report["name"].lower().replace(" ", "_") == folder.name == path.stem
	# ERPNext's Issue: complaints are Issues of bank customers
	assert report["ref_doctype"] in DOCTYPES or report["ref_doctype"] == "Issue"
	assert {r["role"] for r in report["roles"]} <= KNOWN_ROLES
	assert (folder / f"{path.stem}.js").exists()
	tree = ast.parse((folder / f"{path.stem}.py").read_text())
	assert any(isinstance(n, ast.FunctionDef) and n.name == "execute" for n in tree.body)


def _module_constant(path: Path, name: str):
	"""A literal assigned at module level, read without importing the (Frappe) module."""
	for node in ast.parse(path.read_text()).body:
		if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
			return ast.literal_eval(node.value)
	raise AssertionError(f"{name} not found in {path}")


def test_branch_report_indexes_cover_the_report_reads_and_fit_innodb_keys():
	from branch_crm.engine.needs import STORED_FIELDS

	profile = DOCTYPES["Bank Customer Profile"]
	fields = {f["fieldname"]: f for f in profile["fields"]}
	indexes = _module_constant(
		MODULE / "doctype/bank_customer_profile/bank_customer_profile.py", "BRANCH_REPORT_INDEXES"
	)
	# what each report reads from the profile before the listed rows' long texts (name is the key)
	churn_columns = _module_constant(MODULE / "report/churn_warning/churn_warning.py", "COLUMNS")
	churn_later = _module_constant(MODULE / "report/churn_warning/churn_warning.py", "LISTED").values()
	assert set(churn_columns) - set(churn_later) - {"name"} <= set(indexes["branch_churn_report"])
	assert "churn_scored_on" in indexes["branch_churn_report"]
	needs_report = MODULE / "report/needs_screening/needs_screening.py"
	needs_later = _module_constant(needs_report, "LISTED").values()
	needs_columns = [*_module_constant(needs_report, "CONTEXT"), "customer_name", *STORED_FIELDS]
	assert set(needs_columns) - set(needs_later) - {"name"} <= set(indexes["branch_needs_report"])
	assert "needs_screened_on" in indexes["branch_needs_report"]

	def key_bytes(fieldname: str) -> int:
		field = fields[fieldname]
		if field["fieldtype"] in ("Data", "Link", "Select", "Dynamic Link"):
			return 4 * int(field.get("length") or 140) + 2  # utf8mb4 varchar
		if field["fieldtype"] in ("Small Text", "Text", "Long Text", "Text Editor"):
			raise AssertionError(f"{fieldname} is a text column: it cannot be in a covering index")
		return {"Date": 3, "Int": 4, "Check": 1}.get(field["fieldtype"], 10)  # decimals

	for name, columns in indexes.items():
		assert len(columns) == len(set(columns)), name
		assert columns[0] == "branch", name
		assert sum(key_bytes(c) for c in columns) <= 3072, f"{name} is too long for InnoDB"


def test_every_gap_type_together_fits_the_stored_code_list():
	from branch_crm.engine.needs import NEEDS_GAP_TEMPLATES

	fields = {f["fieldname"]: f for f in DOCTYPES["Bank Customer Profile"]["fields"]}
	every_code = ",".join(NEEDS_GAP_TEMPLATES)
	assert len(every_code) <= int(fields["needs_gap_types"]["length"]), every_code
