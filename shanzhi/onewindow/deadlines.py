"""An application's clock: the promised deadline in working days from acceptance (or from the
release of a bundle part), paused while the applicant makes a correction (补正期间不计入承诺时限),
and the escalation ladder's thresholds at 80 %, 100 % and 200 % of the promised time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from shanzhi.core.workcal import (
    TZ,
    Pause,
    add_working_days,
    add_working_hours,
    next_working_moment,
    office_hours,
    working_time_between,
)
from shanzhi.onewindow.models_applications import Application

WARN_SHARE = 0.8
COUNTY_SHARE = 2.0


def closed_pauses(app: Application) -> list[Pause]:
    out: list[Pause] = []
    for begin, end in app.pauses or []:
        if begin and end:
            out.append((dt.datetime.fromisoformat(begin), dt.datetime.fromisoformat(end)))
    return out


def promised_deadline(*, start: dt.datetime, days: int, pauses: list[Pause] | None = None) -> dt.datetime:
    """`days` working days after the start day (the start day never counts); 0 days (即办) is the
    end of the office day on which the clock starts, or of the next working day."""
    pauses = pauses or []
    if days >= 1:
        return add_working_days(start=start, days=days, pauses=pauses)
    first = next_working_moment(at=start)
    end_of_day = dt.datetime.combine(first.astimezone(TZ).date(), office_hours()[-1][1], tzinfo=TZ)
    if not pauses:
        return end_of_day
    return add_working_hours(
        start=start, hours=working_time_between(start=start, end=end_of_day), pauses=pauses
    )


def set_thresholds(app: Application) -> None:
    """Recompute warn_at / deadline / county_at from the clock's start, days and pauses (no save)."""
    assert app.clock_started_at is not None
    pauses = closed_pauses(app)
    start = app.clock_started_at
    deadline = promised_deadline(start=start, days=app.promised_days, pauses=pauses)
    total = working_time_between(start=start, end=deadline, pauses=pauses)
    app.deadline = deadline
    app.warn_at = add_working_hours(start=start, hours=total * WARN_SHARE, pauses=pauses)
    app.county_at = add_working_hours(start=start, hours=total * COUNTY_SHARE, pauses=pauses)


def start_clock(app: Application, *, now: dt.datetime) -> None:
    app.clock_started_at = now
    app.pauses = []
    app.warned_at = app.escalated_at = app.county_escalated_at = None
    set_thresholds(app)


def pause_clock(app: Application, *, now: dt.datetime) -> None:
    app.pauses = [*(app.pauses or []), [now.isoformat(), None]]


def resume_clock(app: Application, *, now: dt.datetime) -> None:
    """Close the open pause and move the thresholds on by the office time it took; a step of the
    ladder whose threshold moved past now may fire again."""
    pauses: list[Any] = [list(p) for p in app.pauses or []]
    if pauses and pauses[-1][1] is None:
        pauses[-1][1] = now.isoformat()
    app.pauses = pauses
    set_thresholds(app)
    if app.warn_at and app.warn_at > now:
        app.warned_at = None
    if app.deadline and app.deadline > now:
        app.escalated_at = None
    if app.county_at and app.county_at > now:
        app.county_escalated_at = None


def is_overdue(app: Application, *, now: dt.datetime | None = None) -> bool:
    return app.deadline is not None and (now or timezone.now()) > app.deadline
