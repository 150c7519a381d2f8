"""The applications' escalation ladder, like the cases': warn the back office at 80 % of the
promised time, 督办 at the deadline (the department's leaders and the supervisors over the place),
the county's supervisors at 200 %. The thresholds are stored on each application, so each step is
an indexed range query over the rows whose step has not fired; a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from shanzhi.onewindow import people
from shanzhi.onewindow.models_applications import CLOCK_STATUSES, Application

BATCH = 200

# level, threshold column, column recording that the step fired, title, note
LADDER = [
    ("warning", "warn_at", "warned_at", "临期预警", "已用去 80% 承诺时限"),
    ("escalation", "deadline", "escalated_at", "超期督办", "已超过承诺办结时间"),
    ("county", "county_at", "county_escalated_at", "县级督办", "超过承诺时限一倍"),
]
LEVEL_LABELS = {level: title for level, _t, _d, title, _n in LADDER}


@dataclass
class SweepResult:
    warning: int = 0
    escalation: int = 0
    county: int = 0

    def total(self) -> int:
        return self.warning + self.escalation + self.county


def _told(app: Application, level: str) -> list[Any]:
    assert app.department is not None
    if level == "warning":
        return people.department_staff(handler=app.department, roles={"approver"})
    told = people.department_staff(handler=app.department, roles={"approver", "leader"})
    told += people.supervisors_over(region=app.region)
    if level == "county":
        told += people.supervisors_over(region=app.region, county_only=True)
    return told


def _fire(pks: list[int], *, level: str, done_field: str, title: str, note: str, now: dt.datetime) -> int:
    from shanzhi.onewindow.applications import audit, event, when

    with transaction.atomic():
        locked = list(
            Application.objects.select_for_update(of=("self",))
            .select_related("item", "department", "region", "bundle")
            .filter(
                pk__in=pks,
                status__in=CLOCK_STATUSES,
                department__isnull=False,
                **{f"{done_field}__isnull": True},
            )
            .order_by("pk")
        )
        for app in locked:
            setattr(app, done_field, now)
            app.save(update_fields=[done_field])
            body = (
                f"【{title}】办件 {app.number} {app.title}({app.department}):{note},承诺 {when(app.deadline)}"
            )
            names = people.tell_users(_told(app, level), app=app, kind=f"application.{level}", body=body)
            event(app, actor=None, action=level, note=f"{title}:{note};已通知 {len(names)} 人", now=now)
            audit(app, actor=None, action=level)
    return len(locked)


def application_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Fire every due step of the ladder once."""
    now = now or timezone.now()
    result = SweepResult()
    for level, threshold, done_field, title, note in LADDER:
        fired = 0
        due = Application.objects.filter(
            status__in=CLOCK_STATUSES,
            department__isnull=False,
            **{f"{threshold}__lte": now, f"{done_field}__isnull": True},
        ).order_by(threshold)
        while True:
            batch = list(due.values_list("pk", flat=True)[:BATCH])
            if not batch:
                break
            got = _fire(batch, level=level, done_field=done_field, title=title, note=note, now=now)
            fired += got
            if len(batch) < BATCH or got == 0:
                break
        setattr(result, level, fired)
    return result
