"""Accessibility of the pages the other a11y tests did not reach: duty-list versions, the grid map
and the household register, the 好差评 rating, rectification and 办不成事 pages, closing an
emergency incident and its frozen summary, the CAP warnings, and the one-window bundle, application,
print, assisted and kiosk pages. axe-core in normal and elder mode at a desk; resident pages at 360
px too, the kiosk's on its portrait screen. test_a11y_routes lists which test checks each page.

The main action of the new pages by keyboard alone: closing an incident, publishing a duty list,
rating a case, opening a case's panel in the dispatcher's queue (an htmx fragment)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from shanzhi.cases import services as svc
from shanzhi.cases.tests.test_pages import received
from shanzhi.cockpit.tests.test_pages import build
from shanzhi.cockpit.views import DRILL_TITLES, TILES
from shanzhi.conftest import make_user
from shanzhi.duties.services import duty_list_create, duty_list_publish, duty_list_revise
from shanzhi.duties.tests.conftest import THIS_YEAR, TOWN_DUTIES
from shanzhi.emergency.incidents import incident_declare
from shanzhi.emergency.tests.capgen import cap
from shanzhi.emergency.tests.test_incidents import _poly
from shanzhi.emergency.tests.world_setup import World
from shanzhi.emergency.warnings import warning_receive
from shanzhi.onewindow import applications as app_svc
from shanzhi.onewindow.services import bundle_create
from shanzhi.onewindow.tests.window_setup import (
    APPLICANT,
    NO_PROXY,
    accepted,
    bundle_spec,
    in_review,
    pension_draft,
)
from shanzhi.onewindow.tests.window_setup import People as WindowPeople
from shanzhi.ratings.models import Rating
from shanzhi.ratings.services import cannot_get_done_report, rating_submit
from shanzhi.ratings.tests.ratings_setup import World as RatingsWorld
from shanzhi.web.elder import COOKIE
from shanzhi.web.tests.browser import chromium, unseen_focus
from shanzhi.web.tests.test_a11y import AXE, AXE_RUN, UNLABELLED, audit_page, session_cookie

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}
KIOSK = {"width": 1080, "height": 1920}

# The innermost elements that reach past the right edge, to say what makes a page too wide.
TOO_WIDE = """() => {
  const past = e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1;
  return Array.from(document.querySelectorAll("body *"))
    .filter(e => past(e) && !Array.from(e.children).some(past))
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""));
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


def context_for(browser: Any, base: str, user: Any, viewport: dict[str, int], *, elder: bool = False) -> Any:
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    cookies: list[SetCookieParam] = [] if user is None else [session_cookie(user, base)]
    if elder:
        cookies.append({"name": COOKIE, "value": "1", "url": base})
    context.add_cookies(cookies)
    return context


def audit(browser: Any, base: str, user: Any, urls: list[str], viewport: dict[str, int] = DESK) -> list[str]:
    """Every page in both modes, signed in as `user` (None: nobody); what went wrong, per page."""
    problems: list[str] = []
    for elder in (False, True):
        context = context_for(browser, base, user, viewport, elder=elder)
        page = context.new_page()
        for url in urls:
            status, violations, bare = audit_page(page, base + url)
            where = f"{'elder' if elder else 'normal'} {viewport['width']}px {url}"
            if status != 200:
                problems.append(f"{where} answered {status}")
                continue
            if elder and not page.evaluate("document.documentElement.classList.contains('elder')"):
                problems.append(f"{where} is not in elder mode")
            if violations:
                problems.append(f"{where} axe: " + json.dumps(violations, ensure_ascii=False, indent=1))
            if bare:
                problems.append(f"{where} unlabelled: " + json.dumps(bare, ensure_ascii=False))
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"]:
                problems.append(f"{where} is {wide} px wide: {page.evaluate(TOO_WIDE)}")
            stops, unseen = unseen_focus(page)
            if not stops:
                problems.append(f"{where}: Tab reaches nothing (not even the skip link)")
            if unseen:
                problems.append(f"{where} no visible focus on: {unseen}")
        context.close()
    return problems


def axe_here(page: Any, where: str) -> list[str]:
    """axe and the label check on the page as it is now (after a swap or a refused form)."""
    page.add_script_tag(path=str(AXE))
    problems = []
    if violations := page.evaluate(AXE_RUN):
        problems.append(f"{where} axe: " + json.dumps(violations, ensure_ascii=False, indent=1))
    if bare := page.evaluate(UNLABELLED):
        problems.append(f"{where} unlabelled: " + json.dumps(bare, ensure_ascii=False))
    return problems


# What has the keyboard focus, and whether its focus is visible (an outline or a ring).
FOCUSED = """s => {
  const e = document.activeElement, style = getComputedStyle(e);
  const shown = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  const what = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + (e.innerText || "").trim();
  return {reached: e === document.querySelector(s), shown, what: what.slice(0, 40)};
}"""


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (fails after `limit` presses);
    every element on the way must show that it has the focus."""
    unseen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED, selector)
        if not focused["shown"]:
            unseen.append(focused["what"])
        if focused["reached"]:
            assert not unseen, f"no visible focus on {page.url}: {unseen}"
            return
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def test_duty_list_versions(live_server, browser, county) -> None:
    published = duty_list_publish(
        actor=None,
        duty_list=duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=TOWN_DUTIES),
    )
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR)
    leader = make_user(username="d-leader", region=county.county, roles=["leader"])
    urls = [
        f"/duties/{published.pk}/",
        f"/duties/{draft.pk}/",
        f"/duties/compare/?old={published.pk}&new={draft.pk}",
        f"/duties/{draft.pk}/import/",
        f"/duties/{draft.pk}/publish/",
        f"/duties/{published.pk}/revise/",
        f"/duties/{draft.pk}/delete/",
    ]
    problems = audit(browser, live_server.url, leader, urls)
    assert not problems, "\n".join(problems)
    # Publishing by keyboard: Tab to the confirm button, Enter.
    context = context_for(browser, live_server.url, leader, DESK)
    page = context.new_page()
    page.goto(f"{live_server.url}/duties/{draft.pk}/publish/")
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/duties/{draft.pk}/")
    draft.refresh_from_db()
    assert draft.status == "published"
    context.close()


def test_grid_map_and_household_register(live_server, browser, mapped, homes) -> None:
    # (`people` in the web tests are the one-window's, so the village leader is made here.)
    leader = make_user(username="h-leader-a1", region=mapped.county.village_a1, roles=["leader"])
    code = homes.a1_01_care.code
    urls = [
        "/grids/",
        f"/grids/{homes.a1_01.grid.code}/",
        "/grids/households/",
        "/grids/households/?care=elderly_alone",
        "/grids/households/new/",
        "/grids/households/import/",
        f"/grids/households/{code}/",
        f"/grids/households/{code}/edit/",
    ]
    problems = audit(browser, live_server.url, leader, urls)
    assert not problems, "\n".join(problems)


def test_incident_close_and_frozen_summary(live_server, browser, world: World) -> None:
    leader = world.users["county_leader"]
    incident = incident_declare(
        actor=leader, type_code="typhoon", title="台风海葵", area=_poly(119.62, 28.38, 119.78, 28.48)
    )
    problems = audit(browser, live_server.url, leader, [f"/emergency/{incident.pk}/close/"])
    # Closing by keyboard alone: the reason, the confirmation box (Space), the button (Enter).
    context = context_for(browser, live_server.url, leader, DESK)
    page = context.new_page()
    page.goto(f"{live_server.url}/emergency/{incident.pk}/close/")
    tab_to(page, "#f-reason")
    page.keyboard.type("台风已过境,预警解除")
    page.keyboard.press("Enter")  # not yet confirmed: the page says so, and keeps the reason
    page.locator("[role=alert]").wait_for()
    assert "请勾选确认" in page.locator("[role=alert]").inner_text()
    assert page.input_value("#f-reason") == "台风已过境,预警解除"
    problems += axe_here(page, "close page with its error")
    tab_to(page, "input[name=confirm]")
    page.keyboard.press("Space")
    tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/emergency/{incident.pk}/")
    context.close()
    incident.refresh_from_db()
    assert incident.status == "closed"
    # The frozen summary, and the close page of a closed incident.
    problems += audit(
        browser, live_server.url, leader, [f"/emergency/{incident.pk}/", f"/emergency/{incident.pk}/close/"]
    )
    assert not problems, "\n".join(problems)


def test_warnings(live_server, browser, world: World) -> None:
    warning = warning_receive(actor=world.users["dispatcher"], xml=cap(), source="api").warning
    urls = ["/emergency/warnings/", "/emergency/warnings/issue/", f"/emergency/warnings/{warning.pk}/"]
    problems = audit(browser, live_server.url, world.users["county_leader"], urls)
    assert not problems, "\n".join(problems)


def test_ratings(live_server, browser, ratings_world: RatingsWorld) -> None:
    w = ratings_world
    rated = w.closed_case(reporter=w.resident)
    rating = rating_submit(actor=w.resident, obj_type="case", obj_id=rated.number, level="very_unsatisfied")
    to_rate = w.closed_case(reporter=w.resident)
    report = cannot_get_done_report(
        actor=None, what="开证明被推来推去", phone="13812345678", region_code=w.county.town_a.code
    )
    base = live_server.url
    resident_urls = [
        f"/ratings/rate/case/{to_rate.number}/",
        f"/ratings/rate/case/{rated.number}/",
        f"/cases/{rated.number}/",  # closed, rated, being rectified
    ]
    problems = audit(browser, base, w.resident, resident_urls)
    problems += audit(browser, base, w.resident, resident_urls, PHONE)
    problems += audit(browser, base, None, ["/ratings/cannot-get-done/received/"])
    problems += audit(browser, base, None, ["/ratings/cannot-get-done/received/"], PHONE)
    problems += audit(
        browser,
        base,
        w.urban_handler,
        [f"/ratings/rectifications/{rating.rectification.pk}/", f"/cases/{rated.number}/"],
    )
    problems += audit(browser, base, w.supervisor, [f"/ratings/cannot-get-done/{report.pk}/"])
    assert not problems, "\n".join(problems)
    # Rating by keyboard: the comment, then Tab to a level (each level is a submit button), Enter.
    context = context_for(browser, base, w.resident, PHONE)
    page = context.new_page()
    page.goto(f"{base}/ratings/rate/case/{to_rate.number}/")
    tab_to(page, "#comment")
    page.keyboard.type("处理及时")
    tab_to(page, "button[name=level][value=satisfied]")
    page.keyboard.press("Enter")
    page.get_by_text("感谢您的评价").wait_for()
    context.close()
    assert Rating.objects.get(object_id=to_rate.number).level == "satisfied"


def test_one_window(live_server, browser, people: WindowPeople, catalog) -> None:
    item = catalog["resident_pension"]
    item.channels = ["window", "online", "kiosk", "assisted"]
    item.save(update_fields=["channels"])
    bundle = bundle_create(actor=None, spec=bundle_spec(catalog))
    # The resident's own online application, its ID card not yet uploaded.
    online = app_svc.application_create(
        actor=people.resident, channel="online", applicant=APPLICANT, item=item, answers=NO_PROXY
    )
    assert online.status == "draft"
    noticed = app_svc.application_not_accept(actor=people.clerk_a, application=pension_draft(people, catalog))
    taken = accepted(people, catalog)
    base = live_server.url
    resident_urls = [
        "/services/bundles/",
        f"/services/bundles/{bundle.code}/",
        f"/services/items/{item.code}/apply/",
        f"/services/bundles/{bundle.code}/apply/",
        f"/services/applications/{online.number}/",
    ]
    problems = audit(browser, base, people.resident, resident_urls)
    problems += audit(browser, base, people.resident, resident_urls, PHONE)
    clerk_urls = [
        f"/services/applications/{noticed.number}/",
        f"/services/applications/{noticed.number}/notice/",
        f"/services/applications/{taken.number}/",
        f"/services/applications/{taken.number}/receipt/",
    ]
    problems += audit(browser, base, people.clerk_a, clerk_urls)
    # The self-service terminal's pages on its portrait screen.
    kiosk_urls = [f"/services/kiosk/items/{item.code}/", f"/services/kiosk/applications/{noticed.number}/"]
    problems += audit(browser, base, people.clerk_a, kiosk_urls, KIOSK)
    # The approver's side: one in review, one sent back for correction (补正).
    reviewing = in_review(people, catalog)
    correcting = app_svc.application_request_correction(
        actor=people.approver, application=in_review(people, catalog), items=["居民户口簿首页复印件不清晰"]
    )
    approver_urls = [
        f"/services/applications/{reviewing.number}/",
        f"/services/applications/{correcting.number}/",
    ]
    problems += audit(browser, base, people.approver, approver_urls)
    assisted_urls = [
        "/services/assisted/",
        f"/services/assisted/?item={item.code}",
        "/services/assisted/visits/",
    ]
    problems += audit(browser, base, people.gridworker, assisted_urls)
    assert not problems, "\n".join(problems)


def test_cockpit_drill_lists_behind_every_tile(
    live_server, browser, county, people: WindowPeople, catalog
) -> None:
    data = build(county)
    application = accepted(people, catalog)  # a row for the 办件 lists
    base = live_server.url
    context = context_for(browser, base, data.leader, DESK)
    page = context.new_page()
    page.goto(f"{base}/cockpit/", wait_until="load")
    hrefs = page.eval_on_selector_all(".tiles a", "as => as.map(a => a.pathname + a.search)")
    tab_to(page, ".tiles a[href*='/cockpit/drill/overdue/']")  # a tile opens its list by keyboard
    page.keyboard.press("Enter")
    page.wait_for_url("**/cockpit/drill/overdue/**")
    assert "超期诉求" in page.locator("h1").inner_text()
    context.close()
    assert len(hrefs) == len(TILES), hrefs  # every tile opens its list
    paths = {href.split("?")[0] for href in hrefs}
    assert paths <= {f"/cockpit/drill/{tile}/" for tile in DRILL_TITLES}, hrefs
    # Each list as its tile opens it (with the page's filter), and the lists no tile opens.
    urls = list(dict.fromkeys(hrefs)) + [
        f"/cockpit/drill/{tile}/" for tile in DRILL_TITLES if f"/cockpit/drill/{tile}/" not in paths
    ]
    problems = audit(browser, base, data.leader, urls)
    assert not problems, "\n".join(problems)
    client = Client()
    client.force_login(data.leader)
    assert application.number in client.get("/cockpit/drill/applications/").content.decode()


def test_queue_panel_opens_by_keyboard(live_server, browser, loop) -> None:
    """The dispatcher's panel is a fragment swapped into the queue: open it by Tab and Enter, then
    check the queue with the panel open."""
    case = svc.case_register(actor=loop.dispatcher, case=received(loop, reporter_phone="13812345678"))
    base = live_server.url
    for elder in (False, True):
        context = context_for(browser, base, loop.dispatcher, DESK, elder=elder)
        page = context.new_page()
        page.goto(f"{base}/cases/queue/", wait_until="load")
        tab_to(page, f"a[hx-get*='/cases/queue/{case.number}/panel/']")
        page.keyboard.press("Enter")
        page.locator(f"#panel-{case.number}.panel-row").wait_for()
        problems = axe_here(page, f"{'elder' if elder else 'normal'} queue with the panel open")
        context.close()
        assert not problems, "\n".join(problems)
