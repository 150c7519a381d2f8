"""The rows behind each tile (drill-down lists and their Excel exports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from shanzhi.cases.models import Case
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.onewindow.models_applications import Application

TILES = ("today_intake", "intake", "open", "due_today", "overdue", "closed", "rated", "satisfied")


def drill_cases(*, user: Any, f: CockpitFilter, tile: str, now: dt.datetime) -> QuerySet[Case]:
    return Case.objects.none()


def drill_applications(*, user: Any, f: CockpitFilter, now: dt.datetime) -> QuerySet[Application]:
    return Application.objects.none()
