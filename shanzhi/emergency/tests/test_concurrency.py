"""Row locks across connections (PostgreSQL): two closes at once, a report racing the close."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import ServiceError
from shanzhi.emergency.incidents import incident_close, incident_declare
from shanzhi.emergency.models import GridTask, Incident, IncidentStatus, TaskStatus
from shanzhi.emergency.tasks_services import grid_task_report
from shanzhi.emergency.tests.world_setup import World
from shanzhi.grid.areas import Area

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at once; each result or exception, in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[i] = call()
        except BaseException as exc:  # returned to the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _incident(world: World) -> Incident:
    return incident_declare(
        actor=world.users["leader_a"],
        type_code="flood",
        title="洪涝",
        area=Area(region_codes=(world.county.village_a1.code,)),
    )


def test_two_closes_at_once_close_once(world: World) -> None:
    incident = _incident(world)
    results = _together(
        lambda: incident_close(actor=world.users["leader_a"], incident=incident, reason="甲"),
        lambda: incident_close(actor=world.users["county_leader"], incident=incident, reason="乙"),
    )
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(refused) == 1 and refused[0].status == 409
    assert sum(isinstance(r, Incident) for r in results) == 1
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert AuditEntry.objects.filter(action="emergency.task.close").count() == 2
    assert AuditEntry.objects.filter(action="emergency.incident.close").count() == 1


def test_report_racing_the_close_is_either_counted_or_refused(world: World) -> None:
    incident = _incident(world)
    task = GridTask.objects.get(incident=incident, grid=world.a1_01)
    results = _together(
        lambda: grid_task_report(
            actor=world.users["worker_a1"],
            task=task,
            checked=[True] * len(task.checklist),
            households_reached=2,
            mark="done",
        ),
        lambda: incident_close(actor=world.users["leader_a"], incident=incident, reason="解除"),
    )
    assert isinstance(results[1], Incident)
    task.refresh_from_db()
    incident.refresh_from_db()
    row = next(g for g in incident.summary["grids"] if g["grid_code"] == world.a1_01.code)
    if isinstance(results[0], GridTask):  # the report went first: done, and the summary says so
        assert task.status == TaskStatus.DONE and row["status"] == "done" and row["households_reached"] == 2
    else:  # the close went first: the report was refused, nothing of it stored
        assert isinstance(results[0], ServiceError) and results[0].status == 409
        assert task.status == TaskStatus.CLOSED and task.households_reached == 0 and row["status"] == "closed"
