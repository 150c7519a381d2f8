"""Cockpit reads go to the "read" alias when it exists (a real second connection here, to the
same PostgreSQL test database), writes never do; without the alias everything is the primary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shanzhi.cases.models import Case
from shanzhi.cockpit import drill, panels
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.replica import on_replica, read_db
from shanzhi.cockpit.tests.test_panels import bulk_history
from shanzhi.conftest import make_user


@pytest.fixture(scope="module", autouse=True)
def read_alias(django_db_setup: None) -> Iterator[None]:
    """What DATABASE_URL_READ gives (settings: DATABASES["read"]), pointed at the test database;
    module-wide so the test case can declare it (this module only)."""
    connections.settings["read"] = dict(connections["default"].settings_dict)
    try:
        yield
    finally:
        connections["read"].close()
        del connections["read"]
        del connections.settings["read"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases=["default", "read"])
def test_panels_and_drills_read_the_replica_writes_stay_primary(client, loop):
    bulk_history(loop, n=80)
    leader = make_user(username="replica-leader", region=loop.county.county, roles=["leader"])
    now = timezone.now()
    today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    f = CockpitFilter(start=today - dt.timedelta(days=400), end=today)
    saved = connections.settings.pop("read")  # the same figures from the primary alone
    try:
        primary = {name: panels.panel_call(name, user=leader, f=f, now=now) for name in panels.PANELS}
        primary_kpis = panels.kpis(user=leader, f=f, now=now)
    finally:
        connections.settings["read"] = saved
    assert read_db() == "default"  # only inside a cockpit read
    with (
        CaptureQueriesContext(connections["read"]) as on_read,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        got = {name: panels.panel_call(name, user=leader, f=f, now=now) for name in panels.PANELS}
        got_kpis = panels.kpis(user=leader, f=f, now=now)
    assert got == primary and got_kpis == primary_kpis  # same committed rows, other connection
    assert any("cockpit_" in q["sql"] for q in on_read.captured_queries)
    assert not [q for q in on_default.captured_queries if "cockpit_" in q["sql"] or "cases_" in q["sql"]]
    rows = drill.drill_cases(user=leader, f=f, tile="intake", now=now)
    assert rows.db == "read" and rows.count() == primary_kpis["intake"]
    assert drill.drill_applications(user=leader, f=f, now=now).db == "read"
    # over HTTP: session and user on the primary, the figures from the replica
    client.force_login(leader)
    with CaptureQueriesContext(connections["read"]) as on_read:
        r = client.get("/api/v1/cockpit/kpis", {"start": f.start.isoformat(), "end": f.end.isoformat()})
    assert r.status_code == 200 and r.json()["intake"] == primary_kpis["intake"]
    assert any("cockpit_" in q["sql"] for q in on_read.captured_queries)
    # writes never go to the replica, even inside a cockpit read
    with on_replica():
        assert read_db() == "read"
        assert router.db_for_write(Case) == "default"
        Case.objects.filter(pk=Case.objects.using("default").values("pk")[:1]).update(text="改写")
    assert not router.allow_migrate("read", "cockpit")
