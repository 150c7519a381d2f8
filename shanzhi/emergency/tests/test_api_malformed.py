"""Malformed JSON on the emergency API gets the project's {code, message} (the same 400
`http_error` as every other router, from shanzhi/config/api.py), and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from shanzhi.audit.models import AuditEntry
from shanzhi.emergency.incidents import incident_declare
from shanzhi.emergency.models import GridTask, Incident, TaskStatus
from shanzhi.emergency.tests.world_setup import World
from shanzhi.grid.areas import Area
from shanzhi.notify.models import Message

BODIES = ["{not json", '{"title": "台风",', "[1, 2", "\ufeff{}x", "null x"]


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _state() -> tuple[int, ...]:
    return (
        Incident.objects.count(),
        Incident.objects.filter(status="closed").count(),
        GridTask.objects.count(),
        GridTask.objects.exclude(status=TaskStatus.OPEN).count(),
        Message.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("body", BODIES)
def test_malformed_json_is_a_clear_error_and_changes_nothing(world: World, body: str) -> None:
    incident = incident_declare(
        actor=world.users["leader_a"],
        type_code="typhoon",
        title="台风",
        area=Area(grid_codes=(world.a1_01.code,)),
    )
    task = GridTask.objects.get(incident=incident)
    before = _state()
    for user, url in [
        ("county_leader", "/api/v1/emergency/incidents"),
        ("leader_a", f"/api/v1/emergency/incidents/{incident.pk}/close"),
        ("worker_a1", f"/api/v1/emergency/tasks/{task.pk}"),
    ]:
        resp = _client(world.users[user]).post(url, data=body, content_type="application/json")
        assert resp.status_code == 400, (url, resp.content)
        answer = resp.json()
        assert answer["code"] == "malformed_json" and answer["message"], (url, answer)
    assert _state() == before
