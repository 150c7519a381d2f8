"""Shared fixtures: a small county with two townships, so jurisdiction can be tested everywhere."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import pytest

from shanzhi.core.models import Handler, Region
from shanzhi.core.services import handler_create, handler_type_upsert, region_create, staff_create

# Fixture modules shared across apps' tests: a test requests `loop`, `mapped`, `world`, `people`,
# `homes`, `phone`, `departments`, `catalog`, `window_people` or `ratings_world` by name, wherever
# it lives, instead of importing the fixture.
pytest_plugins = [
    "shanzhi.cases.tests.loop_setup",
    "shanzhi.grid.tests.mapped_setup",
    "shanzhi.grid.tests.households_setup",
    "shanzhi.grid.tests.phone_setup",
    "shanzhi.emergency.tests.world_setup",
    "shanzhi.onewindow.tests.window_setup",
    "shanzhi.ratings.tests.ratings_setup",
]

PASSWORD = "test-password-123"


@dataclass
class County:
    county: Region
    town_a: Region
    town_b: Region
    village_a1: Region
    village_a2: Region
    village_b1: Region
    dept: Handler
    town_a_gov: Handler
    town_b_gov: Handler


@pytest.fixture
def county(db: Any) -> County:
    county = region_create(actor=None, code="331199000000", name="善水县", parent=None)
    town_a = region_create(actor=None, code="331199101000", name="青石镇", parent=county, kind="镇")
    town_b = region_create(actor=None, code="331199102000", name="白沙镇", parent=county, kind="镇")
    village_a1 = region_create(actor=None, code="331199101201", name="上溪村", parent=town_a, kind="村")
    village_a2 = region_create(actor=None, code="331199101001", name="青石社区", parent=town_a, kind="社区")
    village_b1 = region_create(actor=None, code="331199102201", name="沙湾村", parent=town_b, kind="村")
    for code, kind, zh, en in [
        ("urban_mgmt", "department", "县城市管理和综合行政执法局", "Urban Management"),
        ("township", "org_level", "乡镇人民政府/街道办事处", "Township government"),
        ("community", "org_level", "村民委员会/社区居民委员会", "Village committee"),
        ("property", "enterprise", "物业服务企业", "Property company"),
    ]:
        handler_type_upsert(actor=None, code=code, kind=kind, name_zh=zh, name_en=en)
    dept = handler_create(
        actor=None, code="urban_mgmt", type_code="urban_mgmt", name="县城管局", region=county
    )
    town_a_gov = handler_create(
        actor=None, code="township-331199101000", type_code="township", name="青石镇人民政府", region=town_a
    )
    town_b_gov = handler_create(
        actor=None, code="township-331199102000", type_code="township", name="白沙镇人民政府", region=town_b
    )
    return County(county, town_a, town_b, village_a1, village_a2, village_b1, dept, town_a_gov, town_b_gov)


def make_user(*, username: str, region: Region, roles: list[str], handler: Handler | None = None) -> Any:
    staff = staff_create(
        actor=None,
        username=username,
        password=PASSWORD,
        name=username,
        region=region,
        roles=roles,
        handler=handler,
    )
    return staff.user


@pytest.fixture
def admin_user(county: County) -> Any:
    return make_user(username="t-admin", region=county.county, roles=["admin"])


@pytest.fixture
def user_a(county: County) -> Any:
    """A township-A handler: sees township A's subtree only."""
    return make_user(
        username="t-town-a", region=county.town_a, roles=["handler", "leader"], handler=county.town_a_gov
    )


@pytest.fixture
def user_b(county: County) -> Any:
    return make_user(
        username="t-town-b", region=county.town_b, roles=["handler", "leader"], handler=county.town_b_gov
    )


@pytest.fixture
def client_a(client: Any, user_a: Any) -> Any:
    client.force_login(user_a)
    return client


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked `postgres` are deselected (not skipped) when the suite runs on another database;
    `make test` runs them in its PostgreSQL pass."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    keep = [item for item in items if not item.get_closest_marker("postgres")]
    dropped = [item for item in items if item.get_closest_marker("postgres")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(autouse=True)
def _browser_async_ok(request: Any) -> None:
    # Playwright's sync API runs an event loop in this thread; Django must still allow ORM calls.
    if request.node.get_closest_marker("browser"):
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        if "live_server" in request.fixturenames:
            _serialise(request.getfixturevalue("live_server").thread.httpd)


def _serialise(server: Any) -> None:
    """The live server answers in threads that share the test's one SQLite connection; a page
    that fetches in parallel (the cockpit's charts, htmx polls) could then hang two threads
    inside SQLite. The threads take turns: each request runs, and its body is read, under one
    lock. The server lives for the session, so it is wrapped once."""
    if getattr(server, "serialised", False):
        return
    app = server.get_app()
    lock = threading.Lock()

    def serial(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()

    server.set_app(serial)
    server.serialised = True
