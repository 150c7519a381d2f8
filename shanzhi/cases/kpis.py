"""KPIs of the closed loop, per handler body and per township (definitions: docs/cases.md).

Each figure is one aggregate query over the period's rows, filtered by the reader's
jurisdiction, so the cockpit can show them and a test can recompute them from raw rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from shanzhi.cases.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    CaseStatus,
    ClockPause,
    Satisfaction,
)
from shanzhi.cases.selectors import case_list

SATISFIED = (Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED, Satisfaction.BASIC)
CLOSED = (CaseStatus.CLOSED, CaseStatus.EVALUATED)


@dataclass
class Kpi:
    key: str  # handler code or township code
    name: str
    received: int = 0  # cases received (township) / assignments dispatched to the body (handler)
    dispatched: int = 0
    responded: int = 0  # accepted or returned with a reason
    on_time: int = 0  # primary assignments reported before their deadline and not reworked late
    due: int = 0  # primary assignments whose deadline fell in the period
    overdue: int = 0  # open primary assignments past their deadline now
    returned: int = 0
    rework: int = 0
    suspended: int = 0
    closed: int = 0
    rated: int = 0
    satisfied: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole > 0 else None

    @property
    def response_rate(self) -> float | None:
        return self._rate(self.responded, self.dispatched)

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.closed, self.received)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def on_time_rate(self) -> float | None:
        """按期结案率 = on-time closed ÷ (due to close − suspended)."""
        return self._rate(self.on_time, self.due - self.suspended)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            response_rate=self.response_rate,
            resolution_rate=self.resolution_rate,
            satisfaction_rate=self.satisfaction_rate,
            on_time_rate=self.on_time_rate,
        )
        return data


def kpis_by_handler(*, user: Any, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[Kpi]:
    """Per handler body, over assignments started in [start, end)."""
    assignments = Assignment.objects.filter(case__in=case_list(user=user).values("pk"))
    rows = (
        assignments.values(key=F("handler__code"), name=F("handler__name"))
        .annotate(**_assignment_aggregates(start=start, end=end, now=now))
        .order_by("key")
    )
    return [_kpi(row) for row in rows if row["dispatched"] or row["overdue"]]


def kpis_by_township(*, user: Any, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[Kpi]:
    """Per township, over cases received in [start, end) and their assignments."""
    cases = case_list(user=user).exclude(township__isnull=True)
    received = (
        cases.filter(received_at__gte=start, received_at__lt=end)
        .values(key=F("township__code"), name=F("township__name"))
        .annotate(
            received=Count("id", filter=~Q(status__in=[CaseStatus.REFUSED, CaseStatus.MERGED])),
            closed=Count("id", filter=Q(status__in=CLOSED)),
            rated=Count("id", filter=~Q(satisfaction="")),
            satisfied=Count("id", filter=Q(satisfaction__in=SATISFIED)),
        )
    )
    by_key = {row["key"]: _kpi(row) for row in received}
    assignments = (
        Assignment.objects.filter(case__in=cases.values("pk"))
        .values(key=F("case__township__code"), name=F("case__township__name"))
        .annotate(**_assignment_aggregates(start=start, end=end, now=now))
    )
    for row in assignments:
        kpi = by_key.setdefault(row["key"], Kpi(key=row["key"], name=row["name"]))
        for field in (
            "dispatched",
            "responded",
            "on_time",
            "due",
            "overdue",
            "returned",
            "rework",
            "suspended",
        ):
            setattr(kpi, field, row[field])
    return sorted(by_key.values(), key=lambda k: k.key)


def _assignment_aggregates(*, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    period = Q(started_at__gte=start, started_at__lt=end) & ~Q(status=AssignmentStatus.CANCELLED)
    primary = Q(role=AssignmentRole.PRIMARY)
    due = primary & Q(deadline__gte=start, deadline__lt=end) & ~Q(status=AssignmentStatus.CANCELLED)
    open_ = Q(status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED])
    return {
        "dispatched": Count("id", filter=period),
        "responded": Count(
            "id", filter=period & (Q(accepted_at__isnull=False) | Q(status=AssignmentStatus.RETURNED))
        ),
        "returned": Count("id", filter=period & Q(status=AssignmentStatus.RETURNED)),
        "rework": Coalesce(Sum("rework_count", filter=period), 0),
        "due": Count("id", filter=due),
        "on_time": Count(
            "id", filter=due & Q(on_time=True, status__in=[AssignmentStatus.REPORTED, AssignmentStatus.DONE])
        ),
        "suspended": Count(
            "id", filter=due & Q(Exists(ClockPause.objects.filter(assignment=OuterRef("pk"))))
        ),
        "overdue": Count("id", filter=primary & open_ & Q(deadline__lt=now)),
    }


def _kpi(row: dict[str, Any]) -> Kpi:
    fields = {k: v for k, v in row.items() if k in Kpi.__dataclass_fields__}
    return Kpi(**fields)


def case_counts(*, user: Any) -> dict[str, int]:
    """Counts by status in the reader's jurisdiction (for home pages)."""
    rows = case_list(user=user).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}
