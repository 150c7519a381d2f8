"""Accessibility of the cockpit, the emergency incident pages and the 网格通 phone pages: axe-core
in normal and elder mode (no serious or critical finding, every control labelled, a visible focus
on every Tab stop, no sideways scroll); the phone pages at 360×740.

One chromium for the module (the data of each app comes from its own tests' builders, which
cannot share one database, hence one test per app)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from shanzhi.cockpit.tests.test_pages import build
from shanzhi.emergency.incidents import incident_declare
from shanzhi.emergency.models import GridTask
from shanzhi.emergency.tests.test_incidents import _poly
from shanzhi.emergency.tests.world_setup import World
from shanzhi.grid.tests.phone_setup import Phone
from shanzhi.grid.tests.test_phone_views import _case_to_verify
from shanzhi.web.tests.browser import chromium
from shanzhi.web.tests.test_a11y_pages import DESK, PHONE, audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


def client_page(user: Any, url: str) -> str:
    client = Client()
    client.force_login(user)
    return client.get(url).content.decode()


def test_cockpit(live_server, browser, county) -> None:
    data = build(county)
    urls = ["/cockpit/", "/cockpit/drill/intake/", "/cockpit/drill/overdue/"]
    problems = audit(browser, live_server.url, data.leader, urls, DESK)
    assert not problems, "\n".join(problems)


def test_emergency(live_server, browser, world: World) -> None:
    leader = world.users["county_leader"]
    incident = incident_declare(
        actor=leader, type_code="typhoon", title="台风海葵", area=_poly(119.62, 28.38, 119.78, 28.48)
    )
    task = GridTask.objects.filter(incident=incident, grid=world.a1_01).get()
    urls = [
        "/emergency/",
        "/emergency/declare/",
        f"/emergency/{incident.pk}/",
        f"/emergency/{incident.pk}/board/",
    ]
    problems = audit(browser, live_server.url, leader, urls, DESK)
    worker_urls = ["/emergency/tasks/", f"/emergency/tasks/{task.pk}/"]
    problems += audit(browser, live_server.url, world.users["worker_a1"], worker_urls, PHONE)
    assert not problems, "\n".join(problems)


def test_grid_phone(live_server, browser, phone: Phone, loop) -> None:
    checking = _case_to_verify(phone, loop)
    urls = [
        "/grid/m/",
        "/grid/m/checkin/",
        "/grid/m/report/",
        "/grid/m/households/",
        "/grid/m/verify/",  # its pass/reject forms; the verify URL itself takes POST only
    ]
    assert checking.number in client_page(phone.worker, "/grid/m/verify/")
    problems = audit(browser, live_server.url, phone.worker, urls, PHONE)
    assert not problems, "\n".join(problems)
