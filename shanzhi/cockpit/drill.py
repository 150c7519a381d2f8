"""The rows behind each tile (drill-down lists and their Excel exports), same scope as the panels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from shanzhi.cases.models import OPEN_STATUSES, Case
from shanzhi.cockpit.filters import CockpitFilter, _bad
from shanzhi.cockpit.replica import read_db, replica_reads
from shanzhi.cockpit.rollups import CLOSED, NOT_RECEIVED, SATISFIED
from shanzhi.cockpit.sums import SH, case_queryset, local_start, open_primary, scope_of
from shanzhi.onewindow.models_applications import Application

TILES = ("today_intake", "intake", "open", "due_today", "overdue", "closed", "rated", "satisfied")


@replica_reads
def drill_cases(*, user: Any, f: CockpitFilter, tile: str, now: dt.datetime) -> QuerySet[Case]:
    """The cases a tile counts (overdue/due_today: the cases of those open primary assignments);
    bound to the replica when there is one (the list is read after this returns)."""
    if tile not in TILES:
        raise _bad(f"未知的指标:{tile[:32]}", "tile")
    s = scope_of(user=user, f=f)
    qs = case_queryset(s).select_related("category", "region", "township", "grid")
    today = now.astimezone(SH).date()
    lo, hi = local_start(f.start), local_start(f.end) + dt.timedelta(days=1)
    received = ~Q(status__in=NOT_RECEIVED)
    if tile == "today_intake":
        qs = qs.filter(
            received,
            received_at__gte=local_start(today),
            received_at__lt=local_start(today) + dt.timedelta(days=1),
        )
    elif tile == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif tile in ("due_today", "overdue"):
        primary = open_primary(s)
        if tile == "overdue":
            primary = primary.filter(deadline__lt=now)
        else:
            primary = primary.filter(
                deadline__gte=max(local_start(today), now),
                deadline__lt=local_start(today) + dt.timedelta(days=1),
            )
        qs = qs.filter(pk__in=primary.values("case_id"))
    else:
        qs = qs.filter(received_at__gte=lo, received_at__lt=hi)
        qs = qs.filter(
            {
                "intake": received,
                "closed": Q(status__in=CLOSED),
                "rated": ~Q(satisfaction=""),
                "satisfied": Q(satisfaction__in=SATISFIED),
            }[tile]
        )
    return qs.order_by("-received_at", "-id").using(read_db())


@replica_reads
def drill_applications(*, user: Any, f: CockpitFilter, now: dt.datetime) -> QuerySet[Application]:
    """The applications the tile counts: not drafts, created in the range, in the place."""
    s = scope_of(user=user, f=f)
    qs = Application.objects.exclude(status="draft").filter(
        created_at__gte=local_start(f.start), created_at__lt=local_start(f.end) + dt.timedelta(days=1)
    )
    if s.region_path:
        qs = qs.filter(region__path__startswith=s.region_path)
    return qs.select_related("region").order_by("-created_at", "-id").using(read_db())
