"""The escalation ladder, run every minute: warn at 80 %, 督办 at the deadline, county at 200 %.

Each step is an indexed range query over open assignments whose step has not fired yet, so the
sweep reads only the rows that change, and running it twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.cases.models import Assignment, AssignmentStatus, Supervision, SupervisionLevel, TimelineEvent
from shanzhi.cases.people import county_supervisors, dispatchers_for, handler_staff, leaders_for
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.services import message_queue

SWEPT = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)
BATCH = 500

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


def _recipients(assignment: Assignment, level: str) -> list[Any]:
    if level == SupervisionLevel.WARNING:
        return list(handler_staff(handler=assignment.handler))
    people = list(leaders_for(handler=assignment.handler)) + list(dispatchers_for(case=assignment.case))
    if level == SupervisionLevel.COUNTY:
        people += list(county_supervisors())
    unique = {u.pk: u for u in people}
    return list(unique.values())


def _fire(assignment: Assignment, *, level: str, done_field: str, note: str, now: dt.datetime) -> bool:
    with transaction.atomic():
        locked = (
            # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the case→region join.
            Assignment.objects.select_for_update(of=("self",))
            .select_related("case", "handler", "case__region")
            .filter(pk=assignment.pk, status__in=SWEPT, **{f"{done_field}__isnull": True})
            .first()
        )
        if locked is None:  # another sweeper got there first, or the work moved on
            return False
        setattr(locked, done_field, now)
        locked.save(update_fields=[done_field])
        people = _recipients(locked, level)
        Supervision.objects.create(
            assignment=locked, level=level, created_at=now, notified=[u.get_username() for u in people]
        )
        case = locked.case
        body = f"【{SupervisionLevel(level).label}】{case.number} {locked.handler.name}:{note}"
        for user in people:
            message_queue(
                channel=MessageChannel.IN_APP, kind=f"case.{level}", body=body, recipient=user, obj=case
            )
        TimelineEvent.objects.create(
            case=case, assignment=locked, at=now, actor="system", action=level, note=note
        )
        audit_append(
            actor=None,
            action=f"assignment.{level}",
            obj=locked,
            state={
                "case": case.number,
                "handler": locked.handler.code,
                "level": level,
                "deadline": locked.deadline,
                "notified": [u.get_username() for u in people],
            },
        )
    return True


def sla_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    for level, threshold, done_field, note in LADDER:
        due = Assignment.objects.filter(
            status__in=SWEPT, **{f"{threshold}__lte": now, f"{done_field}__isnull": True}
        ).order_by(threshold)
        fired = 0
        while True:
            batch = list(due.only("pk")[:BATCH])
            if not batch:
                break
            for assignment in batch:
                fired += _fire(assignment, level=level, done_field=done_field, note=note, now=now)
            if len(batch) < BATCH:
                break
        setattr(result, str(level), fired)
    return result
