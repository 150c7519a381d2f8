"""Every HTML route the app serves is either checked by axe-core (in normal and elder mode, by one
of the a11y browser tests) or says why it is not a page. A new route with neither fails here, so a
page cannot ship without an accessibility check.

The guard walks Django's URL resolver (the admin and the JSON API aside) and reads the a11y test
modules' URL strings — f-string holes stand for a path parameter — resolving each to its route."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

HERE = Path(__file__).resolve().parent

# The browser tests that run axe on every page they visit, in both modes.
AXE_MODULES = ("test_a11y.py", "test_a11y_more.py", "test_a11y_pages.py")

# Not under the guard: Django's admin (its own accessibility) and the JSON API (no HTML).
SKIPPED_PREFIXES = ("admin/", "api/")

POST = "POST only: acts, then redirects to a page that is checked"

NOT_PAGES: dict[str, str] = {
    # downloads, files and machine formats
    "duties:export": "Excel download",
    "grid:household_export": "Excel download",
    "cockpit:export": "Excel download",
    "cockpit:report": "PDF (the monthly report)",
    "emergency:report_pdf": "PDF (the incident's summary report)",
    "emergency:report_xlsx": "Excel download",
    "emergency:warning_cap": "CAP XML",
    "onewindow:item_pdf": "PDF (the service guide)",
    "onewindow:item_sms": "plain text (the guide as an SMS)",
    "onewindow:receipt": "PDF (the receipt; its HTML page is onewindow:receipt_page)",
    "onewindow:missing_notice": "PDF (the notice; its HTML page is onewindow:notice_page)",
    "onewindow:correction_notice": "PDF",
    "onewindow:application_file": "an uploaded material (image or PDF)",
    "cases:photo": "an image",
    "gridphone:sw": "the phone pages' service-worker script",
    "open311:root": "Open311 API (XML/JSON)",
    "open311:discovery": "Open311 API (XML/JSON)",
    "open311:services": "Open311 API (XML/JSON)",
    "open311:service": "Open311 API (XML/JSON)",
    "open311:requests": "Open311 API (XML/JSON)",
    "open311:request": "Open311 API (XML/JSON)",
    "open311:token": "Open311 API (XML/JSON)",
    "open311/v2/^(?P<rest>.+)$": "Open311 API: its not-found answer (XML/JSON)",
    # fragments that htmx swaps into a page
    "cases:queue_table": "fragment: the queue's table, included in cases:queue",
    "cases:queue_panel": "fragment: a case's panel in the queue, opened and checked in test_a11y_pages",
    "cases:inbox_list": "fragment: the inbox's list, included in cases:inbox",
    "cases:intake_suggest": "fragment (POST): the category suggestion inside cases:intake",
    "cockpit:tiles": "fragment: the tiles, included in cockpit:home",
    "cockpit:options": "fragment: <option>s for the cockpit's filter selects",
    "onewindow:window_waiting": "fragment: the waiting list, included in onewindow:window",
    # GET redirects
    "grid:household_deactivate": "POST only (GET redirects to the household's page)",
    # actions
    "duties:create": POST,
    "duties:item_add": POST,
    "duties:item_remove": POST,
    "gridphone:visit": POST,
    "gridphone:verify": POST,
    "cases:bulk_dispatch": POST,
    "cases:decide": POST,
    "cases:assignment_act": POST,
    "cases:act": POST,
    "ratings:rectification_act": POST,
    "ratings:appeal_decide": POST,
    "ratings:report_act": POST,
    "notify:read": POST,
    "notify:read_all": POST,
    "onewindow:act": POST,
    "onewindow:upload": POST,
    "onewindow:paper": POST,
    "onewindow:rate": POST,
    "onewindow:ticket_take": POST,
    "onewindow:window_call": POST,
    "onewindow:ticket_act": POST,
    "onewindow:visit_done": POST,
    "onewindow:kiosk_upload": POST,
    "onewindow:kiosk_complete": POST,
    "emergency:warning_declare": POST,
    "web:logout": POST,
    "web:elder": POST,
}


def html_routes() -> dict[str, str]:
    """Route name (or its pattern when unnamed) → its full pattern, outside the admin and API."""

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, ns: str) -> Iterator[tuple[str, str]]:
        for p in patterns:
            full = prefix + str(p.pattern)
            if full.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, full, ns + (f"{p.namespace}:" if p.namespace else ""))
            else:
                yield (ns + p.name if p.name else full), full

    return dict(walk(get_resolver().url_patterns, "", ""))


def _url_text(node: ast.expr) -> str | None:
    """A string or f-string as a path: each {…} hole becomes "1" (a valid id, number or code)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "1" for v in node.values
        )
    return None


def routes_in(source: str) -> set[str]:
    """The routes of the URL strings in Python source (an f-string's literal parts are not URLs)."""
    tree = ast.parse(source)
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    names = set()
    for node in ast.walk(tree):
        text = _url_text(node) if isinstance(node, ast.Constant | ast.JoinedStr) else None
        if id(node) in parts or not text or not text.startswith("/") or " " in text:
            continue
        try:
            names.add(resolve(text.split("?")[0]).view_name)
        except Resolver404:
            continue
    return names


def test_every_html_route_is_checked_by_axe_or_says_why_it_is_not_a_page() -> None:
    routes = html_routes()
    checked = set().union(*(routes_in((HERE / m).read_text(encoding="utf-8")) for m in AXE_MODULES))
    unaccounted = sorted(set(routes) - checked - set(NOT_PAGES))
    assert not unaccounted, (
        "routes with neither an axe check (add the page, with real data, to an a11y test in both modes)"
        f" nor a reason in NOT_PAGES: {unaccounted}"
    )
    both = sorted(checked & set(NOT_PAGES))
    assert not both, f"checked by axe, so not 'not a page': {both}"
    stale = sorted(set(NOT_PAGES) - set(routes))
    assert not stale, f"NOT_PAGES names routes that no longer exist: {stale}"


def test_the_guard_reads_urls_the_way_the_tests_write_them() -> None:
    """f-strings with holes resolve to their route; text that is not a path is ignored."""
    source = 'urls = [f"/cases/{c.number}/", "/services/", f"/duties/{d.pk}/publish/?x=1", "文 /x", "/no/"]'
    assert routes_in(source) == {"cases:detail", "onewindow:catalog", "duties:publish"}
