"""The escalation ladder, run every minute: warn at 80 %, 督办 at the deadline, county at 200 %.

Each step is an indexed range query over open assignments whose step has not fired yet, so the
sweep reads only the rows that change, and running it twice changes nothing the second time.
Steps fire up to STEPS_PER_TRANSACTION to a commit (each still with its own supervision record,
timeline event, messages and audit entry), and who is told is looked up once per sweep
(bench/sweep_bench.py measures it over a million open assignments).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from shanzhi.audit.services import audit_append_many
from shanzhi.cases.models import Assignment, AssignmentStatus, Supervision, SupervisionLevel, TimelineEvent
from shanzhi.cases.people import county_supervisors, dispatchers_for, handler_staff, leaders_for
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.services import message_queue

SWEPT = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)
BATCH = 500
# Steps fired per transaction: one commit for many steps, while the audit log's head stays locked
# (and other writers wait) only for a few tens of milliseconds.
STEPS_PER_TRANSACTION = 50

# level, the threshold column, the column recording that the step fired, timeline note
LADDER = [
    (SupervisionLevel.WARNING, "warn_at", "warned_at", "临期预警:已用去 80% 办理时限"),
    (SupervisionLevel.ESCALATION, "deadline", "escalated_at", "超期督办:已超过办理时限"),
    (SupervisionLevel.COUNTY, "county_at", "county_escalated_at", "县级督办:超过办理时限一倍"),
]


@dataclass
class SweepResult:
    warning: int = 0
    escalation: int = 0
    county: int = 0

    def total(self) -> int:
        return self.warning + self.escalation + self.county


class _People:
    """Who is told at each level. Each list is looked up once per sweep (a minute's steps repeat
    the same bodies and places, and staff lists do not change within it)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int | None], list[Any]] = {}

    def _get(self, key: tuple[str, int | None], lookup: Callable[[], QuerySet[Any]]) -> list[Any]:
        if key not in self._seen:
            self._seen[key] = list(lookup())
        return self._seen[key]

    def told(self, assignment: Assignment, level: str) -> list[Any]:
        handler, case = assignment.handler, assignment.case
        if level == SupervisionLevel.WARNING:
            return self._get(("staff", handler.pk), lambda: handler_staff(handler=handler))
        people = self._get(("leaders", handler.pk), lambda: leaders_for(handler=handler))
        people = people + self._get(("dispatchers", case.region_id), lambda: dispatchers_for(case=case))
        if level == SupervisionLevel.COUNTY:
            people = people + self._get(("county", None), county_supervisors)
        return list({u.pk: u for u in people}.values())


def _fire(
    pks: list[int], *, level: str, done_field: str, note: str, now: dt.datetime, people: _People
) -> int:
    """Fire one step for each of `pks` that is still due, in one transaction; returns how many.

    Each fired step gets its own supervision record, messages, timeline event and audit entry.
    """
    with transaction.atomic():
        locked = list(
            # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the case→region join.
            Assignment.objects.select_for_update(of=("self",))
            .select_related("case__region", "handler__region")
            .filter(pk__in=pks, status__in=SWEPT, **{f"{done_field}__isnull": True})
            .order_by("pk")
        )
        if not locked:  # another sweeper got there first, or the work moved on
            return 0
        Assignment.objects.filter(pk__in=[a.pk for a in locked]).update(**{done_field: now})
        # An approved extension re-arms a step that fired before: its record is brought up to date.
        again = set(
            Supervision.objects.filter(assignment__in=locked, level=level).values_list(
                "assignment_id", flat=True
            )
        )
        fresh, events = [], []
        audits: list[tuple[str, Any, Any]] = []
        for assignment in locked:
            setattr(assignment, done_field, now)
            told = people.told(assignment, level)
            names = [u.get_username() for u in told]
            if assignment.pk in again:
                Supervision.objects.filter(assignment=assignment, level=level).update(
                    created_at=now, notified=names
                )
            else:
                fresh.append(Supervision(assignment=assignment, level=level, created_at=now, notified=names))
            case = assignment.case
            body = f"【{SupervisionLevel(level).label}】{case.number} {assignment.handler.name}:{note}"
            for user in told:
                message_queue(
                    channel=MessageChannel.IN_APP, kind=f"case.{level}", body=body, recipient=user, obj=case
                )
            events.append(
                TimelineEvent(
                    case=case, assignment=assignment, at=now, actor="system", action=level, note=note
                )
            )
            audits.append(
                (
                    f"assignment.{level}",
                    assignment,
                    {
                        "case": case.number,
                        "handler": assignment.handler.code,
                        "level": level,
                        "deadline": assignment.deadline,
                        "notified": names,
                    },
                )
            )
        Supervision.objects.bulk_create(fresh)
        TimelineEvent.objects.bulk_create(events)
        audit_append_many(actor=None, items=audits)
    return len(locked)


def due_assignments(*, threshold: str, done_field: str, now: dt.datetime) -> QuerySet[Assignment]:
    """Open assignments past `threshold` whose step has not fired: a range scan of its index."""
    return Assignment.objects.filter(
        status__in=SWEPT, **{f"{threshold}__lte": now, f"{done_field}__isnull": True}
    ).order_by(threshold)


def sla_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    people = _People()
    for level, threshold, done_field, note in LADDER:
        due = due_assignments(threshold=threshold, done_field=done_field, now=now)
        fired = 0
        while True:
            batch = list(due.values_list("pk", flat=True)[:BATCH])
            for i in range(0, len(batch), STEPS_PER_TRANSACTION):
                fired += _fire(
                    batch[i : i + STEPS_PER_TRANSACTION],
                    level=level,
                    done_field=done_field,
                    note=note,
                    now=now,
                    people=people,
                )
            if len(batch) < BATCH:
                break
        setattr(result, str(level), fired)
    return result
