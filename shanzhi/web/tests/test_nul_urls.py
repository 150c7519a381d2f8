"""A NUL (%00) in a URL's path or query string is a 404 before any view (config/middleware.py).

PostgreSQL refuses NUL in a text parameter, so a NUL in a case number, a household code or a list's
?q= was a 500 there (SQLite found nothing, or filtered on it). Now every app answers it alike:
pages with the site's 404 page, /api/ with {code: not_found, message}, /open311/ with its error
list; and a write sent to such a URL writes nothing, even when its body is valid."""

from __future__ import annotations

import json
import re
from typing import Any

from django.apps import apps
from django.db.models import Count
from django.test import Client

from shanzhi.audit.models import AuditEntry
from shanzhi.cases.models import Case, CaseStatus
from shanzhi.cases.tests.test_loop import intake
from shanzhi.core.selectors import region_county
from shanzhi.emergency.incidents import incident_declare
from shanzhi.emergency.models import Incident
from shanzhi.grid.areas import Area
from shanzhi.grid.models import Household
from shanzhi.onewindow.models_applications import Application, ApplicationStatus
from shanzhi.onewindow.tests.window_setup import PHONE_A, accepted, in_review

CHINESE = re.compile(r"[\u4e00-\u9fff]")
NOT_FOUND = "记录不存在或不在您的管辖范围内"


def _written() -> dict[str, Any]:
    """Every table's row count (and status mix where there is one) and the audit log length."""
    state: dict[str, Any] = {"audit": AuditEntry.objects.count()}
    for model in apps.get_models():
        if not model.__module__.startswith("shanzhi."):
            continue
        fields = {f.name for f in model._meta.concrete_fields}
        manager = model._default_manager
        if "status" in fields:
            rows = manager.values("status").annotate(n=Count("pk")).order_by()
            state[model._meta.label] = sorted((str(r["status"]), r["n"]) for r in rows)
        else:
            state[model._meta.label] = manager.count()
    return state


def _as(user: Any) -> Client:
    client = Client(raise_request_exception=False)  # a 500 is a status to assert, not a raise
    client.force_login(user)
    return client


def _page_404(resp: Any, url: str) -> None:
    assert resp.status_code == 404, (url, resp.status_code)
    assert resp["Content-Type"].startswith("text/html"), url
    body = resp.content.decode()
    assert "未找到" in body and NOT_FOUND in body, (url, body[:300])


def _api_404(resp: Any, url: str) -> None:
    assert resp.status_code == 404, (url, resp.status_code, resp.content[:200])
    assert resp["Content-Type"].startswith("application/json"), url
    answer = resp.json()
    assert answer["code"] == "not_found" and CHINESE.search(answer["message"]), (url, answer)


def _check_gets(client: Client, urls: list[str]) -> None:
    for url in urls:
        resp = client.get(url)
        (_api_404 if url.startswith("/api/") else _page_404)(resp, url)


def _post_json(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


# --- cases -------------------------------------------------------------------------------------------


def test_cases_pages_and_api(loop: Any) -> None:
    case = intake(loop)
    n = case.number
    client = _as(loop.dispatcher)
    assert client.get(f"/cases/{n}/").status_code == 200  # the same URL without the NUL
    _check_gets(
        client,
        [
            f"/cases/{n}%00/",  # was a 500 on PostgreSQL
            f"/cases/queue/{n}%00/panel/",
            "/cases/?q=%00",  # a filter: 500 on PostgreSQL, 200 on SQLite
            "/cases/?q%00=1",  # NUL in a name
            "/cases/queue/?q=%00",
            "/cases/?status=registered&status=%00",  # a later value of a repeated name
            f"/api/v1/cases/{n}%00",
            "/api/v1/cases?q=%00",
            "/api/v1/cases?status=%00",
        ],
    )
    # Not signed in: the same 404 (no login round trip for a URL that names nothing).
    _page_404(Client().get(f"/cases/{n}%00/"), "anonymous")


def test_a_write_to_a_url_with_nul_writes_nothing(loop: Any) -> None:
    case = intake(loop)
    n = case.number
    client = _as(loop.dispatcher)
    before = _written()
    for url in (f"/api/v1/cases/{n}%00/register", f"/api/v1/cases/{n}/register?source=%00"):
        _api_404(_post_json(client, url, {"category": "0102"}), url)
    for url in (f"/cases/{n}%00/do/register/", f"/cases/{n}/do/register/?next=%00"):
        _page_404(client.post(url, {"category": "0102"}), url)
    assert _written() == before
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED
    # The same request without the NUL does register the case: the body was a valid one.
    resp = _post_json(client, f"/api/v1/cases/{n}/register", {"category": "0102"})
    assert resp.status_code == 200 and resp.json()["status"] == "registered"


def test_open311_answers_in_its_own_error_format(loop: Any) -> None:
    case = intake(loop)
    client = Client(raise_request_exception=False)
    resp = client.get(f"/open311/v2/requests/{case.number}%00.json")  # was a 500 on PostgreSQL
    assert resp.status_code == 404 and resp["Content-Type"].startswith("application/json")
    assert resp.json()[0]["code"] == 404 and CHINESE.search(resp.json()[0]["description"])
    resp = client.get("/open311/v2/services/0102%00.xml")
    assert resp.status_code == 404 and resp["Content-Type"].startswith("text/xml")
    assert b"<errors><error><code>404</code>" in resp.content
    assert client.get(f"/open311/v2/requests/{case.number}.json").status_code == 200


# --- grid --------------------------------------------------------------------------------------------


def test_grid_pages_phone_and_api(phone: Any, loop: Any) -> None:
    home = phone.home
    case = intake(loop)
    worker = _as(phone.worker)
    _check_gets(
        worker,
        [
            f"/grids/{home.grid.code}%00/",  # was a 500 on PostgreSQL
            f"/grids/households/{home.code}%00/",
            f"/grids/households/{home.code}%00/edit/",
            "/grids/households/?q=%00",
            f"/grid/m/verify/{case.number}%00/",
            "/grid/m/households/?q=%00",
            f"/api/v1/grid/households/{home.code}%00",
            "/api/v1/grid/households?q=%00",
        ],
    )
    before = _written()
    for url in (
        f"/api/v1/grid/households/{home.code}%00/deactivate",
        f"/api/v1/grid/households/{home.code}/deactivate?x=%00",
    ):
        _api_404(_post_json(worker, url, {"reason": "搬走了"}), url)
    url = f"/grids/households/{home.code}/deactivate/?next=%00"
    _page_404(worker.post(url, {"reason": "搬走了"}), url)
    assert _written() == before
    assert Household.objects.get(pk=home.pk).active


# --- emergency ---------------------------------------------------------------------------------------


def test_emergency_pages_and_api(world: Any) -> None:
    leader = world.users["county_leader"]
    incident = incident_declare(
        actor=leader, type_code="flood", title="内涝", area=Area(grid_codes=(world.a1_01.code,))
    )
    client = _as(leader)
    _check_gets(
        client,
        [
            "/emergency/warnings/?q=%00",  # was a 500 on PostgreSQL
            "/emergency/?status=%00",
            f"/emergency/{incident.pk}/?tab=%00",
            "/api/v1/emergency/incidents?status=%00",
            "/api/v1/warnings?q=%00",
        ],
    )
    _check_gets(_as(world.users["worker_a1"]), ["/emergency/warnings/?state=%00", "/emergency/tasks/?x=%00"])
    before = _written()
    url = f"/emergency/{incident.pk}/close/?x=%00"
    _page_404(client.post(url, {"reason": "水退了", "confirm": "yes"}), url)
    url = f"/api/v1/emergency/incidents/{incident.pk}/close?x=%00"
    _api_404(_post_json(client, url, {"reason": "水退了"}), url)
    assert _written() == before
    assert Incident.objects.get(pk=incident.pk).closed_at is None


# --- 一窗通办 ----------------------------------------------------------------------------------------


def test_onewindow_pages_and_api(people: Any, catalog: Any) -> None:
    app = accepted(people, catalog)
    item = catalog["resident_pension"]
    clerk = _as(people.clerk_a)
    _check_gets(
        clerk,
        [
            f"/services/applications/{app.number}%00/",
            f"/services/items/{item.code}%00/",
            f"/services/window/intake/?item={item.code}%00",  # was a redirect with the error shown
            "/services/window/intake/?bundle=test-bundle%00",
            "/services/?q=%00",
            f"/api/v1/applications/{app.number}%00",
            f"/api/v1/applications/lookup?number={app.number}%00&phone={PHONE_A}",
        ],
    )
    # The public status form, as a GET link: the site's 404 page, like any other URL with a NUL.
    _page_404(Client().get(f"/services/status/?n={app.number}%00&phone={PHONE_A}"), "status")
    review = in_review(people, catalog)
    approver = _as(people.approver)
    before = _written()
    url = f"/services/applications/{review.number}/act/approve/?x=%00"
    _page_404(approver.post(url, {"form_token": "nul-url", "text": "同意"}), url)
    assert _written() == before
    url = f"/services/applications/{review.number}/act/approve/"
    assert approver.post(url, {"form_token": "nul-url", "text": "同意"}).status_code == 302
    assert Application.objects.get(pk=review.pk).status == ApplicationStatus.APPROVED


def test_admin_and_unknown_paths(county: Any) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("nul-admin", password="x-123456789")
    client = _as(admin)
    _page_404(client.get("/admin/core/region/%00/change/"), "admin change")
    _page_404(client.get("/admin/core/region/?code%00=1"), "admin filter")
    assert region_county() is not None
    assert client.get("/admin/core/region/").status_code == 200
