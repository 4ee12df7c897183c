"""Browser check of a Branch CRM site: log in as each role in headless Chromium and walk the desk.

For each role of the credentials file (one fresh browser context each): log in, land on the Branch CRM
workspace, open every shortcut and link the workspace shows (read from the page), a customer profile
of the user's (picked from the list), each script report the user may run, the campaigns and a
launched campaign's effect (for the roles that read them), the to-do list and one task of the role.
Per page it records console errors, page errors, failed requests, HTTP responses >= 400, "Not
permitted" and error dialogs, and with ``--lang zh`` the English words left on the page.

Writes ``results.json`` and one screenshot per page to ``--out``, prints a summary table and exits 1
when any check fails (2 on a usage error). See README.md next to this file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent

REPORTS = ["Needs Screening", "Churn Warning", "Book of Business", "Tier Migration", "Plan Effect"]
# who reads campaigns and their effect, as the app grants it: Campaign from campaigns.CAMPAIGN_RIGHTS
# (rows: permissions.campaign_query), the report from report/campaign_effect/campaign_effect.json.
# The walk checks the site agrees, then visits what the role reads.
CAMPAIGN_READERS = {
	"Branch CRM Admin",
	"Branch Manager",
	"Relationship Manager",
	"Private Banker",
	"Lobby Manager",
}
CAMPAIGN_EFFECT_READERS = {"Branch CRM Admin", "Branch Manager", "Relationship Manager", "Private Banker"}
# the app's workspaces (Branch CRM for managers, Branch Front Desk for lobby and tellers): the user must
# land on one of this module, and the walk follows the one they land on
MODULE = "Branch CRM"
# BM before the admin: the admin approves the tier override the branch manager requested
ROLE_ORDER = [
	"Branch Manager",
	"Relationship Manager",
	"Private Banker",
	"Lobby Manager",
	"Bank Teller",
	"Branch CRM Admin",
]
# no socket.io server on a dev bench: its polling requests fail on every page, they are not the app's
NOISE = re.compile(r"socket\.io|:9000/")
DENIED = re.compile(
	r"not permitted|no permission|insufficient permission|permission denied|not allowed to"
	r"|不允许|权限不足|没有权限|无权限|无.{0,12}权限|无权",
	re.I,
)
SERVER_DOWN = re.compile(r"ERR_EMPTY_RESPONSE|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|\b50[234]\b")
WORD = re.compile(r"[A-Za-z]{3,}")
# whole tokens that are data, not words: e-mails, URLs, file names, IDs with digits (C00000040,
# CRM-CL-2026-00003, TO-C00000011-0010)
NOT_WORDS = re.compile(
	r"\S+@\S+|https?://\S+|\b[\w.-]+\.(?:png|jpe?g|pdf|csv|xlsx|js|css)\b|\b[\w-]*\d[\w-]*\b",
	re.I,
)

# Wraps frappe.msgprint / show_alert / Dialog.show so every message the desk shows is recorded
INIT_SCRIPT = r"""
(() => {
  window.__bc_msgs = [];
  const txt = (m) => { try { if (m == null) return ""; if (typeof m === "string") return m;
    if (m.message) return Array.isArray(m.message) ? m.message.join(" | ") : String(m.message);
    return JSON.stringify(m); } catch (e) { return String(m); } };
  const strip = (s) => { const d = document.createElement("div"); d.innerHTML = String(s);
    return (d.innerText || d.textContent || "").replace(/\s+/g, " ").trim(); };
  const t = setInterval(() => {
    const f = window.frappe;
    if (!f) return;
    if (f.msgprint && !f.msgprint.__bc) { const o = f.msgprint; f.msgprint = function (m, title) {
      window.__bc_msgs.push({ kind: "msgprint", text: strip(txt(m)).slice(0, 500),
        title: strip(title || (m && m.title) || ""), indicator: (m && m.indicator) || "" });
      return o.apply(this, arguments); }; f.msgprint.__bc = 1; }
    if (f.show_alert && !f.show_alert.__bc) { const o = f.show_alert; f.show_alert = function (m) {
      window.__bc_msgs.push({ kind: "alert", text: strip(txt(m)).slice(0, 300), title: "",
        indicator: (m && m.indicator) || "" });
      return o.apply(this, arguments); }; f.show_alert.__bc = 1; }
    const D = f.ui && f.ui.Dialog && f.ui.Dialog.prototype;
    if (D && !D.show.__bc) { const o = D.show; D.show = function () { const r = o.apply(this, arguments);
      try { window.__bc_msgs.push({ kind: "dialog", title: strip(this.title || ""),
        text: strip(this.$body ? this.$body.html() : "").slice(0, 500), indicator: this.indicator || "" }); }
      catch (e) {} return r; }; D.show.__bc = 1; }
    if (f.msgprint && f.msgprint.__bc && f.show_alert && f.show_alert.__bc && D && D.show.__bc) clearInterval(t);
  }, 20);
})();
"""


# The text a reader sees: text nodes of rendered elements at least 2 px wide and high (screen-reader-only
# helpers like "Begin typing for results." are clipped to 1 px), without <select> options and scripts;
# one line per element. Scrolled-out parts of the page count: they are a scroll away.
VISIBLE_TEXT = r"""
() => {
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "SELECT", "OPTION", "TEMPLATE", "SVG", "TEXTAREA"]);
  const seen = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const t = n.nodeValue.replace(/\s+/g, " ").trim();
    if (!t || !/[A-Za-z]/.test(t)) continue;
    const el = n.parentElement;
    if (!el || skip.has(el.tagName) || el.closest("select, svg, .sr-only, .visually-hidden, [aria-hidden=true]")) continue;
    if (el.checkVisibility && !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    const line = seen.get(el) || [];
    line.push(t);
    seen.set(el, line);
  }
  return Array.from(seen.values()).map((l) => l.join(" ")).join("\n");
}
"""


@dataclass
class Record:
	role: str
	page: str
	url: str = ""
	final_url: str = ""
	title: str = ""
	console_errors: list = field(default_factory=list)
	page_errors: list = field(default_factory=list)
	failed_requests: list = field(default_factory=list)
	http_errors: list = field(default_factory=list)
	messages: list = field(default_factory=list)
	not_permitted: list = field(default_factory=list)
	error_dialogs: list = field(default_factory=list)
	english: dict = field(default_factory=dict)
	checks: dict = field(default_factory=dict)
	notes: list = field(default_factory=list)
	failure: str = ""
	noise: int = 0
	screenshot: str = ""

	@property
	def failed(self) -> bool:
		return bool(
			self.console_errors
			or self.page_errors
			or self.failed_requests
			or self.http_errors
			or self.not_permitted
			or self.error_dialogs
			or self.english
			or self.failure
		)


class Walk:
	"""One role's browser context and the records of the pages it visits."""

	def __init__(self, browser, args, key: str, cred: dict, allow: set[str], state: dict):
		self.args = args
		self.key = key
		self.user = cred["user"]
		self.password = cred["password"]
		self.role = cred["role"]
		self.allow = allow
		self.state = state
		self.records: list[Record] = []
		self.current: Record | None = None
		self.pending: list = []
		self.ctx = browser.new_context(
			viewport={"width": 1440, "height": 900}, locale="zh-CN" if args.lang == "zh" else "en-US"
		)
		self.page = self.ctx.new_page()
		self.page.set_default_timeout(30000)
		self.page.add_init_script(INIT_SCRIPT)
		self.page.on("console", self._on_console)
		self.page.on("pageerror", self._on_pageerror)
		self.page.on("requestfailed", self._on_requestfailed)
		self.page.on("response", self._on_response)
		self.original_lang = None

	# ---------- events ----------
	def _on_console(self, msg):
		if not self.current or msg.type != "error":
			return
		loc = msg.location or {}
		where = loc.get("url", "")
		if NOISE.search(msg.text + where):
			self.current.noise += 1
			return
		self.current.console_errors.append(
			msg.text[:500] + (f"  @ {where}:{loc.get('lineNumber')}" if where else "")
		)

	def _on_pageerror(self, err):
		if self.current:
			stack = " / ".join(line.strip() for line in (getattr(err, "stack", "") or "").splitlines()[1:5])
			self.current.page_errors.append((str(err) + (f" | {stack}" if stack else ""))[:900])

	def _on_requestfailed(self, req):
		if not self.current:
			return
		if NOISE.search(req.url):
			self.current.noise += 1
			return
		self.current.failed_requests.append(f"{req.method} {self._short(req.url)} -> {req.failure}")

	def _on_response(self, resp):
		if not self.current or resp.status < 400:
			return
		if NOISE.search(resp.url):
			self.current.noise += 1
			return
		entry = {"status": resp.status, "method": resp.request.method, "url": self._short(resp.url)}
		self.current.http_errors.append(entry)
		if "/api/" in resp.url:
			self.pending.append((entry, resp))

	def _short(self, url: str) -> str:
		return url.replace(self.args.base, "")

	# ---------- steps ----------
	def step(self, name: str, fn, *, extra_ms: int = 800) -> Record:
		for attempt in range(3):
			rec = Record(role=self.role, page=name)
			self.current = rec
			try:
				fn(rec)
			except (PlaywrightError, StepFailed, AssertionError) as e:
				rec.failure = " / ".join(str(e).splitlines()[:4])[:600]
			self.current = rec
			if not SERVER_DOWN.search(rec.failure + " ".join(rec.failed_requests)) or attempt == 2:
				break
			# a dev server restarts when a file changes under it: wait for it, then do the step again
			print(f"  .... {name}: the server did not answer, again once it does", flush=True)
			self.wait_for_server()
		if attempt:
			rec.notes.append(f"done again {attempt}x: the server had not answered (restarting)")
		try:
			self.settle(extra_ms)
			self.collect(rec)
			shot = (
				Path(self.args.out) / "screenshots" / f"{self.key}-{len(self.records):02d}-{slug(name)}.png"
			)
			shot.parent.mkdir(parents=True, exist_ok=True)
			self.page.screenshot(path=str(shot), full_page=self.args.full_page)
			rec.screenshot = str(shot)
			if self.args.palette:
				to_palette(shot)
		except PlaywrightError as e:
			rec.notes.append(f"collect/screenshot: {str(e).splitlines()[0][:200]}")
		for entry, resp in self.pending:
			try:
				entry["server"] = server_messages(resp.text())
			except PlaywrightError:
				pass
		self.pending = []
		self.current = None
		self.records.append(rec)
		print(f"  {'FAIL' if rec.failed else 'ok  '} {name} {rec.failure[:160]}", flush=True)
		return rec

	def wait_for_server(self, seconds: int = 120):
		deadline = time.time() + seconds
		while time.time() < deadline:
			try:
				if self.ctx.request.get(self.args.base + "/api/method/ping", timeout=5000).ok:
					return
			except PlaywrightError:
				pass
			time.sleep(2)

	def settle(self, extra_ms: int = 800):
		"""Wait until the desk has no request in flight and no freeze for 0.8 s (30 s at most)."""
		deadline = time.time() + 30
		quiet = 0
		while time.time() < deadline:
			try:
				busy = self.page.evaluate(
					"() => !(window.frappe && frappe.request && frappe.request.ajax_count === 0)"
					" || !!document.querySelector('#freeze.in')"
				)
			except PlaywrightError:
				busy = True
			quiet = 0 if busy else quiet + 200
			if quiet >= 800:
				break
			self.page.wait_for_timeout(200)
		self.page.wait_for_timeout(extra_ms)

	def go(self, rec: Record, path: str):
		rec.url = path
		self.page.goto(self.args.base + path, wait_until="domcontentloaded", timeout=60000)
		self.page.wait_for_function("() => window.frappe && frappe.boot && frappe.request", timeout=60000)
		self.settle(400)

	def collect(self, rec: Record):
		page = self.page
		rec.final_url = self._short(page.url)
		rec.title = page.title()
		msgs = page.evaluate("() => { const m = window.__bc_msgs || []; window.__bc_msgs = []; return m; }")
		rec.messages.extend(msgs)
		shown = page.evaluate(
			"""() => {
			const out = [];
			document.querySelectorAll('.modal.show, .modal.in').forEach((m) => out.push({
				kind: 'visible dialog', title: ((m.querySelector('.modal-title') || {}).innerText || '').trim(),
				text: ((m.querySelector('.modal-body') || {}).innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 500),
				indicator: '' }));
			document.querySelectorAll('.page-card-head, .page-card .page-card-body').forEach((e) => {
				if (e.offsetParent) out.push({ kind: 'page card', title: '', indicator: '',
					text: e.innerText.replace(/\\s+/g, ' ').trim().slice(0, 300) }); });
			return out;
		}"""
		)
		for m in [*rec.messages, *shown]:
			text = f"{m.get('title', '')} {m.get('text', '')}".strip()
			if DENIED.search(text):
				rec.not_permitted.append(f"{m['kind']}: {text[:300]}")
			elif m["kind"] in ("msgprint", "page card") and m.get("indicator") == "red":
				rec.error_dialogs.append(f"{m['kind']}: {text[:300]}")
			elif m["kind"] == "page card" and text:
				rec.error_dialogs.append(f"{m['kind']}: {text[:300]}")
		for h in rec.http_errors:
			if h["status"] == 403 and not rec.not_permitted:
				rec.not_permitted.append(f"HTTP 403 {h['method']} {h['url']}")
		if self.args.lang == "zh":
			rec.english = english_words(page.evaluate(VISIBLE_TEXT), self.allow)

	# ---------- pages ----------
	def login(self):
		def fn(rec):
			rec.url = "/login"
			self.page.goto(self.args.base + "/login", wait_until="domcontentloaded")
			self.page.fill("#login_email", self.user)
			self.page.fill("#login_password", self.password)
			with self.page.expect_navigation(url=re.compile(r"/app"), timeout=60000):
				self.page.click(".btn-login")
			self.page.wait_for_function("() => window.frappe && frappe.boot && frappe.session", timeout=60000)
			self.settle(400)
			rec.checks["landed_on"] = self._short(self.page.url)
			rec.checks["route"] = self.page.evaluate("() => frappe.get_route()")
			if self.args.lang:
				self.set_language(rec, self.args.lang)
			rec.checks["lang"] = self.page.evaluate("() => frappe.boot.lang")

		return self.step("login", fn)

	def set_language(self, rec: Record, lang: str):
		"""The user sets their own language (User.language), then the desk reloads in it."""
		current = self.page.evaluate(
			"(u) => frappe.db.get_value('User', u, 'language').then((r) => r.message.language)", self.user
		)
		if self.original_lang is None:
			self.original_lang = current or ""
		if current != lang:
			self.page.evaluate(
				"([u, l]) => frappe.xcall('frappe.client.set_value',"
				" {doctype: 'User', name: u, fieldname: 'language', value: l})",
				[self.user, lang],
			)
			self.page.reload(wait_until="domcontentloaded")
			self.page.wait_for_function("() => window.frappe && frappe.boot && frappe.session", timeout=60000)
			self.settle(400)
		rec.checks["language_was"] = self.original_lang

	def restore_language(self):
		if self.original_lang is None or self.original_lang == self.args.lang:
			return
		try:
			self.page.evaluate(
				"([u, l]) => frappe.xcall('frappe.client.set_value',"
				" {doctype: 'User', name: u, fieldname: 'language', value: l})",
				[self.user, self.original_lang],
			)
		except PlaywrightError as e:
			print(f"  could not restore the language of {self.user} to {self.original_lang!r}: {e}")

	def workspace(self) -> list[dict]:
		"""The landing page must be the workspace; returns the targets it offers."""
		targets: list[dict] = []

		def fn(rec):
			login = self.records[0].checks if self.records else {}
			route = login.get("route") or []
			name = route[1] if route[:1] == ["Workspaces"] and len(route) > 1 else None
			module = self.page.evaluate(
				"(n) => (frappe.boot.allowed_workspaces || []).filter((w) => w.name === n || w.title === n)"
				".map((w) => w.module)[0] || null",
				name,
			)
			landed = bool(name) and module == MODULE
			rec.checks["landed_on_workspace"] = name
			rec.checks["workspace_module"] = module
			workspace = name if landed else MODULE
			rec.notes.append(f"walks workspace {workspace!r}")
			self.go(rec, "/app/" + slug(workspace))
			self.page.locator(".layout-main-section .widget").first.wait_for(timeout=20000)
			self.settle(1500)
			found = self.page.evaluate(
				"""() => {
				const vis = (e) => !!e.offsetParent;
				const main = document.querySelector('.page-container:not([style*="display: none"]) .layout-main-section')
					|| document;
				const out = { shortcuts: [], links: [], cards: [], charts: [], other: [] };
				main.querySelectorAll('.shortcut-widget-box').forEach((e, i) => { if (vis(e)) out.shortcuts.push(
					{ index: i, label: (e.querySelector('.widget-title') || e).innerText.trim() }); });
				main.querySelectorAll('.links-widget-box a.link-item, .links-widget-box .link-item a').forEach((e) => {
					if (vis(e) && e.getAttribute('href')) out.links.push(
						{ label: e.innerText.replace(/\\s+/g, ' ').trim(), href: e.getAttribute('href') }); });
				main.querySelectorAll('.number-widget-box').forEach((e) => { if (vis(e)) out.cards.push(
					((e.querySelector('.widget-title') || e).innerText || '').trim()); });
				main.querySelectorAll('.dashboard-widget-box').forEach((e) => { if (vis(e)) out.charts.push(
					((e.querySelector('.widget-title') || e).innerText || '').trim()); });
				main.querySelectorAll('.quick-list-widget-box a, .onboarding-widget-box a, .custom-block a').forEach((e) => {
					if (vis(e) && e.getAttribute('href') && e.getAttribute('href').startsWith('/app'))
						out.other.push({ label: e.innerText.replace(/\\s+/g, ' ').trim(), href: e.getAttribute('href') }); });
				return out;
			}"""
			)
			rec.checks.update(found)
			if not (found["shortcuts"] or found["links"]):
				raise StepFailed("the workspace shows no shortcut and no link")
			# a shortcut routes on click (no href): click each to learn where it goes; what these clicks
			# abort or log is not recorded here (each target is visited and checked on its own)
			self.current = Record(role=self.role, page="scratch")
			for sc in found["shortcuts"]:
				if sc["index"] > 0:
					self.go(rec, "/app/" + slug(workspace))
					self.page.locator(".layout-main-section .widget").first.wait_for(timeout=20000)
				before = self.page.url
				self.page.locator(".layout-main-section .shortcut-widget-box").nth(sc["index"]).click()
				try:
					self.page.wait_for_url(lambda u, b=before: u != b, timeout=10000)
					sc["href"] = self._short(self.page.url)
				except PlaywrightError:
					rec.notes.append(f"shortcut {sc['label']!r} did not change the page")
			self.settle(300)
			self.current = rec
			self.go(rec, "/app/" + slug(workspace))
			self.page.locator(".layout-main-section .widget").first.wait_for(timeout=20000)
			seen = set()
			for t in [
				*(dict(kind="shortcut", **s) for s in found["shortcuts"] if s.get("href")),
				*(dict(kind="link", **s) for s in found["links"]),
				*(dict(kind="block", **s) for s in found["other"]),
			]:
				href = t["href"].split("#")[0]
				if href not in seen:
					seen.add(href)
					targets.append(t)
			rec.checks["targets"] = len(targets)
			if not landed:
				raise StepFailed(f"login landed on {login.get('landed_on')}, not a {MODULE} workspace")

		self.step("workspace", fn, extra_ms=1500)
		return targets

	def visit(self, name: str, path: str, ready: str | None = None, extra_ms: int = 800) -> Record:
		def fn(rec):
			self.go(rec, path)
			sel = ready or (
				".page-container:not([style*='display: none']) .layout-main-section .frappe-list .result,"
				" .frappe-control, .report-wrapper .dt-row, .no-result, .msg-box, .page-card-head, .widget"
			)
			try:
				self.page.locator(sel).filter(visible=True).first.wait_for(timeout=30000)
			except PlaywrightError:
				rec.notes.append("no list, form, report or empty state within 30 s")

		return self.step(name, fn, extra_ms=extra_ms)

	def offered_pages(self, targets: list[dict]):
		for t in targets:
			href = t["href"]
			if not href.startswith("/"):
				href = "/" + href
			rec = self.visit(f"ws {t['kind']}: {t['label']}", href, extra_ms=1000)
			rec.checks["from_workspace"] = t

	def profile(self) -> str | None:
		"""Open the list of profiles (the user's own book first) and click the first one."""
		found: dict = {}

		def fn(rec):
			path = "/app/bank-customer-profile"
			if self.role not in ("Branch Manager", "Branch CRM Admin", "Bank Teller"):
				path += "?relationship_manager=" + quote(self.user)
			self.go(rec, path)
			rows = self.page.locator(".frappe-list .list-row-container .list-subject a[data-name]")
			rows.first.wait_for(timeout=30000)
			name = rows.first.get_attribute("data-name")
			rows.first.click()
			self.page.wait_for_url(re.compile(r"/bank-customer-profile/"), timeout=20000)
			self.page.locator(".frappe-control[data-fieldname='customer_name']").filter(
				visible=True
			).first.wait_for(timeout=20000)
			self.settle(800)
			# open every collapsed section so the whole profile is checked
			heads = self.page.locator(".form-section .section-head.collapsed").filter(visible=True)
			for _ in range(20):
				if not heads.count():
					break
				heads.first.click()
				self.page.wait_for_timeout(150)
			self.page.evaluate("() => window.scrollTo(0, 0)")
			found["name"] = name
			rec.checks["profile"] = name
			rec.checks["button_groups"] = self.page.evaluate(
				"() => Array.from(document.querySelectorAll('.inner-group-button')).filter((e) => e.offsetParent)"
				".map((e) => decodeURIComponent(e.dataset.label))"
			)

		self.step("profile", fn, extra_ms=1200)
		return found.get("name")

	def reports(self):
		allowed = set(self.page.evaluate("() => Object.keys(frappe.boot.user.all_reports || {})"))
		for report in REPORTS:
			if report not in allowed:
				continue

			def fn(rec, report=report):
				self.go(rec, "/app/query-report/" + quote(report))
				try:
					self.page.wait_for_function(
						"(n) => (frappe.query_report && frappe.query_report.report_name === n"
						" && Array.isArray(frappe.query_report.data)) || document.querySelector('.page-card-head')",
						arg=report,
						timeout=60000,
					)
				except PlaywrightError:
					rec.notes.append("the report showed no data within 60 s")
				self.settle(1500)
				rec.checks["rows"] = self.page.evaluate(
					"() => frappe.query_report && frappe.query_report.data ? frappe.query_report.data.length : null"
				)

			self.step(f"report: {report}", fn, extra_ms=1500)

	def campaigns(self):
		"""The campaign list, a launched campaign's form and its Campaign Effect, for the roles that
		read them; for the others, that the site gives them neither."""
		may = self.page.evaluate(
			"() => ({campaign: frappe.model.can_read('Campaign'),"
			" effect: !!(frappe.boot.user.all_reports || {})['Campaign Effect']})"
		)
		reads, reads_effect = self.role in CAMPAIGN_READERS, self.role in CAMPAIGN_EFFECT_READERS
		if not reads:

			def none(rec):
				rec.checks["site_grants"] = may
				if may["campaign"] or may["effect"]:
					raise StepFailed(f"a {self.role} may read campaigns or their effect: {may}")

			self.step("campaigns: none for this role", none, extra_ms=0)
			return
		found: dict = {}

		def listing(rec):
			rec.checks["site_grants"] = may
			if not may["campaign"]:
				raise StepFailed(f"a {self.role} should read campaigns, the site does not let them")
			self.go(rec, "/app/campaign")
			self.page.locator(".frappe-list .list-row-container, .frappe-list .no-result").first.wait_for(
				timeout=30000
			)
			rec.checks["rows"] = self.page.locator(".frappe-list .list-row-container").count()
			# the oldest: on a demo site, the finished campaign of demo-data, with its effect measured
			launched = self.page.evaluate(
				"""() => frappe.xcall('frappe.client.get_list', {doctype: 'Campaign',
				filters: {bank_campaign_status: 'Launched'}, fields: ['name'],
				order_by: 'bank_launch_date asc', limit_page_length: 1})"""
			)
			if not launched:
				raise StepFailed("no launched campaign this user may read (demo-data launches one)")
			found["campaign"] = launched[0]["name"]
			rec.checks["campaign"] = found["campaign"]

		self.step("campaign list", listing)
		campaign = found.get("campaign")
		if not campaign:
			return

		def form(rec):
			self.go(rec, "/app/campaign/" + quote(campaign))
			self.page.wait_for_function(
				"(n) => window.cur_frm && cur_frm.doctype === 'Campaign' && cur_frm.doc.name === n",
				arg=campaign,
				timeout=30000,
			)
			self.page.locator(".frappe-control[data-fieldname='bank_campaign_status']").first.wait_for(
				state="attached", timeout=20000
			)
			self.settle(600)
			buttons = self.page.evaluate(
				"() => Array.from(document.querySelectorAll('.page-actions .custom-actions button,"
				" .page-actions .inner-group-button > button')).filter((b) => b.offsetParent)"
				".map((b) => b.innerText.trim())"
			)
			rec.checks["buttons"] = buttons
			shows_effect = _t(self, "Campaign Effect") in buttons
			if shows_effect != reads_effect:
				raise StepFailed(
					f"the launched campaign {'offers' if shows_effect else 'does not offer'} Campaign Effect"
					f" to a {self.role}"
				)

		self.step("campaign form (launched)", form, extra_ms=1000)
		if not reads_effect:
			return

		def effect(rec):
			if not may["effect"]:
				raise StepFailed(f"a {self.role} should run Campaign Effect, the site does not let them")
			self.go(rec, "/app/query-report/" + quote("Campaign Effect") + "?campaign=" + quote(campaign))
			try:
				self.page.wait_for_function(
					"() => (frappe.query_report && frappe.query_report.report_name === 'Campaign Effect'"
					" && Array.isArray(frappe.query_report.data) && frappe.query_report.data.length)"
					" || document.querySelector('.page-card-head')",
					timeout=60000,
				)
			except PlaywrightError:
				rec.notes.append("the report showed no rows within 60 s")
			self.settle(1500)
			shown = self.page.evaluate(
				"""() => ({
				rows: frappe.query_report && frappe.query_report.data ? frappe.query_report.data.length : 0,
				chart: !!document.querySelector('.report-wrapper .chart-wrapper svg, .chart-container svg'),
				cards: Array.from(document.querySelectorAll('.report-summary .summary-item')).map((e) => [
					(e.querySelector('.summary-label') || {}).innerText || '',
					(e.querySelector('.summary-value') || {}).innerText || '']),
			})"""
			)
			rec.checks.update(shown)
			members = self.page.evaluate(
				"(c) => frappe.xcall('frappe.client.get_count', {doctype: 'Bank Campaign Member',"
				" filters: {campaign: c}})",
				campaign,
			)
			rec.checks["members_readable"] = members
			if members and not (shown["rows"] and shown["cards"] and shown["chart"]):
				raise StepFailed(f"{members} members readable, but the report shows {shown}")

		self.step("report: Campaign Effect", effect, extra_ms=1500)

	def todo(self):
		def fn(rec):
			self.go(rec, "/app/todo?allocated_to=" + quote(self.user) + "&status=Open")
			self.page.locator(".frappe-list .list-row-container, .frappe-list .no-result").first.wait_for(
				timeout=30000
			)
			rec.checks["rows"] = self.page.locator(".frappe-list .list-row-container").count()

		self.step("to-do list", fn)

	# ---------- tasks ----------
	def task(self, profile: str | None):
		tasks = {
			"Relationship Manager": self.task_contact_from_todo,
			"Private Banker": self.task_contact_from_profile,
			"Branch Manager": self.task_request_override,
			"Branch CRM Admin": self.task_approve_override,
			"Lobby Manager": self.task_close_follow_up,
			"Bank Teller": self.task_reveal_mobile,
		}
		if self.role in tasks:
			tasks[self.role](profile)

	def _save_contact_log(self, rec: Record):
		self.page.wait_for_url(re.compile(r"/contact-log/new"), timeout=20000)
		self.page.locator("select[data-fieldname='outcome']").first.wait_for(timeout=20000)
		self.settle(600)
		rec.checks["prefilled"] = self.page.evaluate(
			"() => ({customer: cur_frm.doc.customer, reason: cur_frm.doc.reason, channel: cur_frm.doc.channel,"
			" follow_up: cur_frm.doc.follow_up})"
		)
		if not rec.checks["prefilled"]["channel"]:
			self.page.locator("select[data-fieldname='channel']").first.select_option(value="Phone")
		self.page.locator("select[data-fieldname='outcome']").first.select_option(
			value="Reached - Interested"
		)
		notes = self.page.locator(".frappe-control[data-fieldname='notes'] textarea").first
		notes.click()
		notes.press_sequentially(
			self.text("Browser check: customer reached", "浏览器检查：已联系客户"), delay=10
		)
		self.page.wait_for_timeout(500)
		self.page.keyboard.press("Control+s")
		self.page.wait_for_function(
			"() => window.cur_frm && cur_frm.doctype === 'Contact Log' && !cur_frm.doc.__islocal",
			timeout=20000,
		)
		rec.checks["contact_log"] = self.page.evaluate("() => cur_frm.doc.name")

	def _follow_up_closed(self, rec: Record, follow_up: str | None):
		if not follow_up:
			return
		status = self.page.evaluate(
			"(n) => frappe.db.get_value('Customer Follow-up', n, 'status').then((r) => r.message.status)",
			follow_up,
		)
		rec.checks["follow_up_status_after"] = status
		if status != "Closed":
			raise StepFailed(f"follow-up {follow_up} is {status!r} after its contact was logged")

	def task_contact_from_todo(self, _profile):
		"""Open a follow-up's to-do, "Log Contact", save: the follow-up closes."""

		def fn(rec):
			todo = self.page.evaluate(
				"""(u) => frappe.xcall('frappe.client.get_list', {doctype: 'Customer Follow-up',
				filters: {status: 'Open', relationship_manager: u, todo: ['is', 'set']},
				fields: ['name', 'todo'], order_by: 'due_date asc', limit_page_length: 1})""",
				self.user,
			)
			if not todo:
				raise StepFailed("no open follow-up with a to-do for this user")
			self.go(rec, "/app/todo/" + quote(todo[0]["todo"]))
			button = self.page.locator(".page-actions button, .custom-actions button").filter(
				has_text=_t(self, "Log Contact")
			)
			button.first.wait_for(timeout=20000)
			button.first.click()
			self._save_contact_log(rec)
			self._follow_up_closed(rec, todo[0]["name"])

		self.step("task: log a contact from a follow-up's to-do", fn, extra_ms=1200)

	def task_contact_from_profile(self, profile):
		"""Open a customer of the book, Contact > Log Contact, save."""

		def fn(rec):
			if not profile:
				raise StepFailed("no profile found in the list")
			self.go(rec, "/app/bank-customer-profile/" + quote(profile))
			self.click_group_item("Contact", "Log Contact")
			self._save_contact_log(rec)

		self.step("task: log a contact from a profile", fn, extra_ms=1200)

	def task_close_follow_up(self, _profile):
		"""Open one of the user's open follow-ups, "Log Contact", save: the follow-up closes."""

		def fn(rec):
			fu = self.page.evaluate(
				"""(u) => frappe.xcall('frappe.client.get_list', {doctype: 'Customer Follow-up',
				filters: {status: 'Open', relationship_manager: u}, fields: ['name'],
				order_by: 'due_date asc', limit_page_length: 1})""",
				self.user,
			)
			if not fu:
				raise StepFailed("no open follow-up assigned to this user")
			self.go(rec, "/app/customer-follow-up/" + quote(str(fu[0]["name"])))
			button = self.page.locator(".page-actions button, .custom-actions button").filter(
				has_text=_t(self, "Log Contact")
			)
			button.first.wait_for(timeout=20000)
			button.first.click()
			self._save_contact_log(rec)
			self._follow_up_closed(rec, str(fu[0]["name"]))

		self.step("task: close a follow-up by logging the contact", fn, extra_ms=1200)

	def task_request_override(self, _profile):
		"""New Tier Override for a branch customer (one tier up), then "Submit for Approval"."""

		def fn(rec):
			pick = self.page.evaluate(
				"""async () => {
				const tiers = await frappe.xcall('frappe.client.get_list', {doctype: 'Customer Tier',
					fields: ['name', 'rank'], order_by: '`rank` asc', limit_page_length: 20});
				const rows = await frappe.xcall('frappe.client.get_list', {doctype: 'Bank Customer Profile',
					filters: {tier: tiers[0].name}, fields: ['name', 'tier'], limit_page_length: 50});
				const pending = await frappe.xcall('frappe.client.get_list', {doctype: 'Tier Override',
					filters: {docstatus: ['<', 2]}, fields: ['customer'], limit_page_length: 500});
				const busy = new Set(pending.map((r) => r.customer));
				const row = rows.find((r) => !busy.has(r.name));
				return row && { customer: row.name, tier: tiers[1].name };
			}"""
			)
			if not pick:
				raise StepFailed("no customer of the lowest tier without an override")
			rec.checks["pick"] = pick
			self.go(rec, "/app/tier-override/new")
			self.fill_link("customer", pick["customer"])
			self.fill_link("tier", pick["tier"])
			until = date.today() + timedelta(days=90)
			fmt = self.page.evaluate("() => frappe.boot.sysdefaults.date_format || 'dd-mm-yyyy'")
			vu = self.page.locator(".frappe-control[data-fieldname='valid_until'] input").first
			vu.click()
			vu.fill(
				fmt.replace("dd", f"{until.day:02d}")
				.replace("mm", f"{until.month:02d}")
				.replace("yyyy", str(until.year))
			)
			self.page.keyboard.press("Escape")
			self.page.locator("body").click(position={"x": 5, "y": 300})
			reason = self.page.locator(".frappe-control[data-fieldname='reason'] textarea").first
			reason.click()
			reason.press_sequentially(
				self.text(
					"Browser check: relationship value not yet in the balances",
					"浏览器检查：关系价值尚未体现在余额中",
				),
				delay=5,
			)
			self.page.wait_for_timeout(600)
			self.page.keyboard.press("Control+s")
			self.page.wait_for_function(
				"() => window.cur_frm && cur_frm.doctype === 'Tier Override' && !cur_frm.doc.__islocal",
				timeout=20000,
			)
			self.settle(600)
			name = self.page.evaluate("() => cur_frm.doc.name")
			rec.checks["tier_override"] = name
			self.click_actions_item("Submit for Approval")
			self.page.wait_for_function(
				"() => cur_frm.doc.workflow_state && cur_frm.doc.workflow_state !== 'Draft'", timeout=20000
			)
			rec.checks["workflow_state"] = self.page.evaluate("() => cur_frm.doc.workflow_state")
			self.state["tier_override"] = name

		self.step("task: request a tier override", fn, extra_ms=1200)

	def task_approve_override(self, _profile):
		"""Approve the override the branch manager requested (or the oldest one pending)."""

		def fn(rec):
			name = self.state.get("tier_override") or self.page.evaluate(
				"""() => frappe.xcall('frappe.client.get_list', {doctype: 'Tier Override',
				filters: {workflow_state: 'Pending Approval'}, fields: ['name'], order_by: 'creation asc',
				limit_page_length: 1}).then((r) => r.length ? r[0].name : null)"""
			)
			if not name:
				raise StepFailed("no tier override pending approval")
			rec.checks["tier_override"] = name
			self.go(rec, "/app/tier-override/" + quote(name))
			self.page.locator(".frappe-control[data-fieldname='customer']").first.wait_for(timeout=20000)
			self.click_actions_item("Approve")
			self.page.wait_for_timeout(800)
			yes = self.page.locator(".modal.show .btn-primary").filter(
				has_text=re.compile(r"Yes|是|确定|Submit|提交")
			)
			if yes.count():
				yes.first.click()
			self.page.wait_for_function("() => cur_frm.doc.workflow_state === 'Approved'", timeout=20000)
			rec.checks["workflow_state"] = "Approved"

		self.step("task: approve a tier override", fn, extra_ms=1200)

	def task_reveal_mobile(self, profile):
		"""A teller opens a customer of their own book and reveals the mobile (logged)."""

		def fn(rec):
			name = (
				self.page.evaluate(
					"""(u) => frappe.xcall('frappe.client.get_list', {doctype: 'Bank Customer Profile',
				filters: {relationship_manager: u}, fields: ['name'], limit_page_length: 1})
				.then((r) => r.length ? r[0].name : null)""",
					self.user,
				)
				or profile
			)
			if not name:
				raise StepFailed("no customer found")
			rec.checks["profile"] = name
			self.go(rec, "/app/bank-customer-profile/" + quote(name))
			self.click_group_item("Identity", "Reveal Mobile")
			body = self.page.locator(".modal.show .modal-body").first
			body.wait_for(timeout=15000)
			self.settle(500)
			text = body.inner_text()
			rec.checks["revealed"] = bool(re.search(r"\d{11}", text))
			if not rec.checks["revealed"]:
				raise StepFailed(f"the reveal dialog shows no mobile number: {text[:200]!r}")

		self.step("task: open a customer and reveal the mobile", fn, extra_ms=800)

	# ---------- UI helpers ----------
	def text(self, en: str, zh: str) -> str:
		"""What the walk types, in the user's language (so --lang zh does not flag its own records)."""
		return zh if self.args.lang == "zh" else en

	def fill_link(self, fieldname: str, value: str):
		ctl = self.page.locator(f".frappe-control[data-fieldname='{fieldname}']").first
		inp = ctl.locator("input").first
		# a translated doctype's options read, and are searched, in the user's language ("Core" is
		# 财富客户 in zh)
		shown = self.page.evaluate("(value) => __(value)", value)
		inp.click()
		inp.fill("")
		inp.press_sequentially(shown, delay=40)
		item = ctl.locator(".awesomplete [role='option']").filter(has_text=shown).first
		item.wait_for(timeout=15000)
		item.click()
		self.page.wait_for_timeout(400)
		self.page.keyboard.press("Escape")
		self.page.locator("body").click(position={"x": 5, "y": 300})
		self.page.wait_for_timeout(400)

	def click_group_item(self, group: str, item: str):
		g = self.page.locator(f".inner-group-button[data-label='{quote(_t(self, group))}']").first
		g.locator("button").first.click(timeout=20000)
		g.locator(".dropdown-menu .dropdown-item, .dropdown-menu a").filter(
			has_text=_t(self, item)
		).first.click()

	def click_actions_item(self, action: str):
		grp = self.page.locator(".actions-btn-group").filter(visible=True).first
		grp.locator("button").first.click(timeout=20000)
		grp.locator(".dropdown-menu .dropdown-item, .dropdown-menu a").filter(
			has_text=_t(self, action)
		).first.click()

	def close(self):
		self.restore_language()
		self.ctx.close()


class StepFailed(Exception):
	pass


def _t(walk: Walk, text: str) -> str:
	"""The label as the desk shows it in the user's language (Frappe's __())."""
	try:
		return walk.page.evaluate("(t) => __(t)", text)
	except PlaywrightError:
		return text


def slug(text: str) -> str:
	return re.sub(r"[\W_]+", "-", text.lower()).strip("-")


def server_messages(body: str) -> list[str]:
	try:
		j = json.loads(body)
	except ValueError:
		return [body[:200]]
	out = []
	if j.get("exc_type"):
		out.append(f"exc_type={j['exc_type']}")
	for m in json.loads(j.get("_server_messages") or "[]"):
		try:
			m = json.loads(m).get("message", m)
		except (ValueError, AttributeError):
			pass
		out.append(re.sub(r"<[^>]+>", " ", str(m))[:300])
	return out


def english_words(text: str, allow: set[str]) -> dict:
	"""ASCII words of 3+ letters on the page, outside the allow-list: {word: [count, first line]}."""
	found: dict = {}
	for line in text.splitlines():
		clean = NOT_WORDS.sub(" ", line)
		for w in WORD.findall(clean):
			if w.lower() in allow:
				continue
			if w not in found:
				found[w] = [0, line.strip()[:160]]
			found[w][0] += 1
	return found


def load_allow(paths: list[str], extra: list[str]) -> set[str]:
	words = set()
	for p in paths:
		for line in Path(p).read_text(encoding="utf-8").splitlines():
			line = line.split("#", 1)[0].strip()
			if line:
				words.update(w.lower() for w in line.split())
	return words | {w.lower() for w in extra}


def to_palette(path: Path):
	"""Shrink a screenshot to a 256-colour PNG (needs Pillow; skipped without it)."""
	try:
		from PIL import Image
	except ImportError:
		return
	with Image.open(path) as im:
		im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def summary(records: list[Record], lang: str | None) -> str:
	head = ["role", "page", "console", "failed req", "not permitted", "english", "result"]
	rows = []
	for r in records:
		rows.append(
			[
				r.role,
				r.page[:58],
				str(len(r.console_errors) + len(r.page_errors)),
				str(len(r.failed_requests) + len(r.http_errors)),
				str(len(r.not_permitted) + len(r.error_dialogs)),
				str(sum(c for c, _ in r.english.values())) if lang == "zh" else "-",
				("FAIL: " + r.failure[:60]) if r.failure else ("FAIL" if r.failed else "ok"),
			]
		)
	widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
	line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
	return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def details(records: list[Record]) -> str:
	out = []
	for r in records:
		if not r.failed:
			continue
		out.append(f"--- {r.role} / {r.page}  ({r.final_url or r.url})")
		if r.failure:
			out.append(f"  failure: {r.failure}")
		for label, items in (
			("console", r.console_errors),
			("page error", r.page_errors),
			("failed request", r.failed_requests),
			("not permitted", r.not_permitted),
			("error dialog", r.error_dialogs),
		):
			out.extend(f"  {label}: {x}" for x in items[:8])
		for h in r.http_errors[:8]:
			out.append(
				f"  http {h['status']} {h['method']} {h['url']} {' | '.join(h.get('server', []))[:300]}"
			)
		if r.english:
			words = sorted(r.english.items(), key=lambda kv: -kv[1][0])
			out.append("  english: " + ", ".join(f"{w}×{c}" for w, (c, _) in words))
			seen = set()
			for _w, (_c, ctx) in words:
				if ctx not in seen and len(seen) < 12:
					seen.add(ctx)
					out.append(f"      | {ctx}")
	return "\n".join(out)


def parse_args(argv=None):
	p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	p.add_argument(
		"--url", default="http://127.0.0.1:8000", help="where the site answers (bench serve, nginx)"
	)
	p.add_argument(
		"--site",
		help="the site's host name; the browser asks for http://SITE:PORT and resolves SITE to --url's host",
	)
	p.add_argument("--credentials", required=True, help='JSON {"key": {"user", "password", "role"}}')
	p.add_argument("--out", default="browser-check-out", help="results.json and screenshots/ go here")
	p.add_argument(
		"--roles", help="comma-separated keys or role names of the credentials file (default: all)"
	)
	p.add_argument("--lang", choices=["en", "zh"], help="set each user's language to this for the walk")
	p.add_argument("--allow", action="append", default=[], help="an allowed English word (repeatable)")
	p.add_argument(
		"--allow-file",
		action="append",
		default=[str(HERE / "english_allowlist.txt")],
		help="a file of allowed English words (default: english_allowlist.txt)",
	)
	p.add_argument("--no-tasks", action="store_true", help="walk the pages only, change no data")
	p.add_argument("--full-page", action="store_true", help="full-page screenshots (default: the viewport)")
	p.add_argument("--palette", action="store_true", help="256-colour PNG screenshots (needs Pillow)")
	p.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium binary (never downloaded)")
	p.add_argument("--headed", action="store_true")
	return p.parse_args(argv)


def main(argv=None) -> int:
	args = parse_args(argv)
	creds = json.loads(Path(args.credentials).read_text(encoding="utf-8"))
	wanted = set(args.roles.split(",")) if args.roles else None
	entries = [(k, v) for k, v in creds.items() if not wanted or k in wanted or v.get("role") in wanted]
	entries.sort(key=lambda kv: ROLE_ORDER.index(kv[1]["role"]) if kv[1]["role"] in ROLE_ORDER else 99)
	if not entries:
		print("no credentials match --roles", file=sys.stderr)
		return 2
	u = urlsplit(args.url)
	launch_args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
	args.base = args.url.rstrip("/")
	if args.site:
		args.base = f"{u.scheme}://{args.site}" + (f":{u.port}" if u.port else "")
		launch_args.append(f"--host-resolver-rules=MAP {args.site} {u.hostname}")
	out = Path(args.out)
	out.mkdir(parents=True, exist_ok=True)
	allow = load_allow(args.allow_file, args.allow)
	records: list[Record] = []
	state: dict = {}
	with sync_playwright() as pw:
		browser = pw.chromium.launch(
			executable_path=args.chromium, headless=not args.headed, args=launch_args
		)
		for key, cred in entries:
			print(f"== {cred['role']} ({key}: {cred['user']})", flush=True)
			walk = Walk(browser, args, key, cred, allow, state)
			try:
				if walk.login().failure:
					continue
				targets = walk.workspace()
				walk.offered_pages(targets)
				profile = walk.profile()
				walk.reports()
				walk.campaigns()
				walk.todo()
				if not args.no_tasks:
					walk.task(profile)
			finally:
				walk.close()
				records.extend(walk.records)
				write_results(out, args, records)
		browser.close()
	print()
	print(summary(records, args.lang))
	bad = details(records)
	if bad:
		print("\n" + bad)
	failed = sum(r.failed for r in records)
	print(f"\n{len(records)} pages, {failed} with findings; results: {out / 'results.json'}")
	return 1 if failed else 0


def write_results(out: Path, args, records: list[Record]):
	data = {
		"base": args.base,
		"lang": args.lang,
		"pages": len(records),
		"failed": sum(r.failed for r in records),
		"records": [{**asdict(r), "failed": r.failed} for r in records],
	}
	(out / "results.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
	sys.exit(main())
