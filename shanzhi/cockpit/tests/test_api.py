"""The cockpit API: roles, filters, bad input (422), other townships (404), values = panels."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shanzhi.cockpit import panels
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.tests.test_panels import bulk_history
from shanzhi.conftest import make_user


def test_kpis_and_panels_over_http(client, loop):
    bulk_history(loop, n=80)
    leader = make_user(username="api-leader", region=loop.county.town_a, roles=["leader"])
    client.force_login(leader)
    today = timezone.localdate()
    start = (today - dt.timedelta(days=200)).isoformat()
    r = client.get("/api/v1/cockpit/kpis", {"start": start, "end": today.isoformat()})
    assert r.status_code == 200
    f = CockpitFilter(start=today - dt.timedelta(days=200), end=today)
    assert r.json()["intake"] == panels.kpis(user=leader, f=f, now=timezone.now())["intake"]
    for name in panels.PANELS:
        assert client.get(f"/api/v1/cockpit/{name}", {"start": start}).status_code == 200, name
    assert client.get("/api/v1/cockpit/hotspots", {"metric": "overdue"}).status_code == 200


def test_bad_filters_are_422_other_township_404(client, loop):
    leader = make_user(username="api-leader2", region=loop.county.town_a, roles=["leader"])
    client.force_login(leader)
    for params in (
        {"start": "2024-13-01"},
        {"start": "2024-02-01", "end": "2024-01-01"},
        {"start": "2000-01-01", "end": "2024-01-01"},
        {"region": "abc"},
        {"category": "9999"},
        {"channel": "fax"},
        {"handler": "nobody"},
    ):
        r = client.get("/api/v1/cockpit/kpis", params)
        assert r.status_code == 422 and r.json()["code"] == "bad_filter", params
    assert client.get("/api/v1/cockpit/kpis", {"region": loop.county.town_b.code}).status_code == 404
    assert client.get("/api/v1/cockpit/no_such_panel").status_code == 404
    assert client.get("/api/v1/cockpit/hotspots", {"metric": "x"}).status_code == 422


def test_roles(client, loop):
    assert client.get("/api/v1/cockpit/kpis").status_code == 401
    client.force_login(loop.resident)
    assert client.get("/api/v1/cockpit/kpis").status_code == 403
    client.force_login(loop.dispatcher)
    assert client.get("/api/v1/cockpit/kpis").status_code == 200


def test_without_a_replica_cockpit_reads_use_the_primary(db):
    from django.db import router

    from shanzhi.cockpit.models import CaseDay
    from shanzhi.cockpit.replica import on_replica, read_db

    with on_replica():
        assert read_db() == "default"
        assert router.db_for_read(CaseDay) == "default"


def test_repeat_complaints_limit(client, loop):
    from shanzhi.cockpit.tests.test_panels import add_grids

    bulk_history(loop, n=40)
    add_grids(loop)
    client.force_login(loop.dispatcher)
    start = (timezone.localdate() - dt.timedelta(days=59)).isoformat()
    full = client.get("/api/v1/cockpit/repeat_complaints", {"start": start}).json()
    assert full["total"] == len(full["rows"]) >= 2
    top = client.get("/api/v1/cockpit/repeat_complaints", {"start": start, "limit": "1"}).json()
    assert top["total"] == full["total"] and top["rows"] == full["rows"][:1]
    for bad in ("0", "-1", "x", "1.5", "5001", ""):
        r = client.get("/api/v1/cockpit/repeat_complaints", {"start": start, "limit": bad})
        assert r.status_code == 422 and r.json()["details"]["field"] == "limit", bad
