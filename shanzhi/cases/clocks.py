"""An assignment's clock: the time limit, its pauses, and the escalation ladder's thresholds."""

from __future__ import annotations

import datetime as dt

from shanzhi.cases.models import Assignment, Category, ClockUnit
from shanzhi.core.workcal import Pause, Unit, deadline_for

WARN_SHARE = 0.8  # warn the handler at 80 % of the time
COUNTY_SHARE = 2.0  # the county supervisor hears of it at twice the time


def clock_unit_for(*, category: Category, urgent: bool) -> str:
    return ClockUnit.NATURAL_HOURS if urgent else category.clock_unit


def pauses_of(*, assignment: Assignment) -> list[Pause]:
    """Closed pauses only: while a pause is open the assignment is suspended and not swept."""
    if assignment.pk is None:
        return []
    return [(p.started_at, p.ended_at) for p in assignment.pauses.all() if p.ended_at is not None]


def unit_of(*, assignment: Assignment) -> Unit:
    """The assignment's clock unit as the calendar's type (the column holds ClockUnit values)."""
    unit = assignment.clock_unit
    if unit == ClockUnit.NATURAL_HOURS:
        return "natural_hours"
    if unit == ClockUnit.WORKING_HOURS:
        return "working_hours"
    raise ValueError(f"unknown clock unit {unit!r}")


def set_thresholds(*, assignment: Assignment) -> None:
    """Recompute warn_at / deadline / county_at from start, hours, unit and pauses (no save)."""
    pauses = pauses_of(assignment=assignment)
    unit = unit_of(assignment=assignment)
    hours = assignment.sla_hours

    def at(share: float) -> dt.datetime:
        return deadline_for(start=assignment.started_at, amount=hours * share, unit=unit, pauses=pauses)

    assignment.warn_at = at(WARN_SHARE)
    assignment.deadline = at(1.0)
    assignment.county_at = at(COUNTY_SHARE)
