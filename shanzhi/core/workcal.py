"""Working-time calendar: deadlines in 工作时, 工作日 and natural hours (conventions: docs/working-time.md).

Every function is pure: a deadline is recomputable from (start, unit, amount, pauses) alone.
Statutory holidays and make-up workdays (调休上班) come from `chinese_calendar`; office hours
from settings.WORKING_HOURS. Datetimes must be aware; results are in Asia/Shanghai.
Walks are day by day over office intervals, never minute by minute.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")  # no DST since 1991, so wall-clock and elapsed time agree
Unit = Literal["working_hours", "working_days", "natural_hours"]
UNITS: tuple[str, ...] = get_args(Unit)
Hours = int | float | Decimal | dt.timedelta
Pause = tuple[dt.datetime, dt.datetime]
OfficeHours = tuple[tuple[dt.time, dt.time], ...]

_ZERO = dt.timedelta(0)
_HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$")
_END_OF_TIME = dt.datetime(9999, 12, 30, tzinfo=TZ)


# --- inputs -------------------------------------------------------------------------------------


def office_hours() -> OfficeHours:
    """Today's office intervals from settings.WORKING_HOURS, e.g. ("08:30-12:00", "13:30-17:30")."""
    return _parse_office_hours(tuple(settings.WORKING_HOURS))


@functools.lru_cache(maxsize=16)
def _parse_office_hours(spec: tuple[str, ...]) -> OfficeHours:
    intervals: list[tuple[dt.time, dt.time]] = []
    for item in spec:
        match = _HOURS_RE.match(item.strip())
        if match is None:
            raise ImproperlyConfigured(f"WORKING_HOURS items must look like 08:30-12:00, got {item!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        begin, end = dt.time(h1, m1), dt.time(h2, m2)
        if end <= begin or (intervals and begin < intervals[-1][1]):
            raise ImproperlyConfigured(f"WORKING_HOURS must be increasing and non-overlapping: {spec!r}")
        intervals.append((begin, end))
    if not intervals:
        raise ImproperlyConfigured("WORKING_HOURS must hold at least one interval")
    return tuple(intervals)


def _local(value: Any, *, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(TZ)


def _duration(amount: Hours, *, name: str) -> dt.timedelta:
    """Hours (int, float, Decimal) or a timedelta, as a non-negative timedelta."""
    if isinstance(amount, bool):
        raise TypeError(f"{name} must be a number of hours or a timedelta")
    try:
        if isinstance(amount, dt.timedelta):
            value = amount
        elif isinstance(amount, Decimal):
            if not amount.is_finite():
                raise ValueError(f"{name} must be finite")
            value = dt.timedelta(microseconds=int((amount * 3_600_000_000).to_integral_value()))
        elif isinstance(amount, int | float):
            if not math.isfinite(amount):
                raise ValueError(f"{name} must be finite")
            value = dt.timedelta(hours=amount)
        else:
            raise TypeError(f"{name} must be a number of hours or a timedelta")
    except OverflowError as exc:
        raise ValueError(f"{name} is too large") from exc
    if value < _ZERO:
        raise ValueError(f"{name} must not be negative")
    return value


def _pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """Pauses in local time, sorted and merged; an empty pause is dropped, an inverted one refused."""
    items = []
    for begin, end in pauses:
        b, e = _local(begin, name="pause start"), _local(end, name="pause end")
        if e < b:
            raise ValueError(f"pause ends before it starts: {b.isoformat()} > {e.isoformat()}")
        if e > b:
            items.append((b, e))
    items.sort()
    merged: list[Pause] = []
    for b, e in items:
        if merged and b <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((b, e))
    return merged


# --- the calendar -------------------------------------------------------------------------------


def is_working_day(*, day: dt.date) -> bool:
    """True on weekdays that are not statutory holidays, and on make-up workdays (调休上班).

    Beyond the years chinese_calendar knows, falls back to Monday–Friday and logs a warning:
    a deadline a few days late beats a crashed intake. Upgrade chinese_calendar each December.
    """
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError("day must be a date (not a datetime)")
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_no_calendar(day.year)
        return day.weekday() < 5


@functools.cache
def _warn_no_calendar(year: int) -> None:
    # The cache only keeps the log from repeating once per day walked; it holds no shared data.
    logger.warning(
        "chinese_calendar has no holiday data for %s; counting Monday-Friday as working days", year
    )


def _office_intervals(day: dt.date, hours: OfficeHours) -> list[Pause]:
    if not is_working_day(day=day):
        return []
    return [(_at(day, begin), _at(day, end)) for begin, end in hours]


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=TZ)


def _minus_pauses(begin: dt.datetime, end: dt.datetime, pauses: Sequence[Pause]) -> Iterator[Pause]:
    """[begin, end) without the (sorted, merged) pauses."""
    cur = begin
    for p0, p1 in pauses:
        if p1 <= cur:
            continue
        if p0 >= end:
            break
        if p0 > cur:
            yield cur, p0
        cur = p1
        if cur >= end:
            return
    if cur < end:
        yield cur, end


def _working_pieces(start: dt.datetime, hours: OfficeHours, pauses: Sequence[Pause]) -> Iterator[Pause]:
    """The counting time of a working clock from `start` on: office intervals minus pauses, forever."""
    day = start.date()
    while True:
        for begin, end in _office_intervals(day, hours):
            if end <= start:
                continue
            yield from _minus_pauses(max(begin, start), end, pauses)
        day += dt.timedelta(days=1)


def _natural_pieces(start: dt.datetime, pauses: Sequence[Pause]) -> Iterator[Pause]:
    yield from _minus_pauses(start, _END_OF_TIME, pauses)


def _advance(pieces: Iterator[Pause], amount: dt.timedelta) -> dt.datetime:
    """The moment `amount` of counting time has run. A deadline that fills an interval exactly
    lands on its end (12:00, not 13:30); zero lands on the first counting moment."""
    remaining = amount
    for begin, end in pieces:
        span = end - begin
        if remaining <= span:
            return begin + remaining
        remaining -= span
    raise ValueError("deadline beyond the supported calendar")  # only _END_OF_TIME gets here


def _measure(pieces: Iterator[Pause], end: dt.datetime) -> dt.timedelta:
    total = _ZERO
    for begin, piece_end in pieces:
        if begin >= end:
            break
        total += min(piece_end, end) - begin
    return total


# --- public functions ---------------------------------------------------------------------------


def next_working_moment(*, at: dt.datetime) -> dt.datetime:
    """`at` itself when the office is open then, else the next opening. Intervals are half-open:
    at 12:00 sharp the office is closed for lunch."""
    local = _local(at, name="at")
    return next(_working_pieces(local, office_hours(), ()))[0]


def add_working_hours(*, start: dt.datetime, hours: Hours, pauses: Iterable[Pause] = ()) -> dt.datetime:
    """The moment `hours` of office time (minus pauses) have passed since `start`.

    A start outside office hours begins counting at the next opening.
    """
    local = _local(start, name="start")
    return _advance(_working_pieces(local, office_hours(), _pauses(pauses)), _duration(hours, name="hours"))


def add_working_days(*, start: dt.datetime, days: int, pauses: Iterable[Pause] = ()) -> dt.datetime:
    """End of office hours on the `days`-th working day after the start day.

    The start day never counts, whatever the hour (期间开始之日不计算在内): accepted Friday,
    3 working days → Wednesday 17:30; accepted on a holiday → counted from the next working day.
    Pauses inside the counted days push the deadline on by the office time they took.
    """
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError("days must be an int")
    if days < 1:
        raise ValueError("days must be at least 1")
    local = _local(start, name="start")
    hours = office_hours()
    day, first, counted = local.date(), None, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day=day):
            counted += 1
            first = first or day
    assert first is not None  # days >= 1
    deadline = _at(day, hours[-1][1])
    merged = _pauses(pauses)
    if not merged:
        return deadline
    counting_start = _at(first, hours[0][0])
    full = _measure(_working_pieces(counting_start, hours, ()), deadline)
    counted_time = _measure(_working_pieces(counting_start, hours, merged), deadline)
    if counted_time == full:
        return deadline
    return _advance(_working_pieces(deadline, hours, merged), full - counted_time)


def working_time_between(
    *, start: dt.datetime, end: dt.datetime, pauses: Iterable[Pause] = ()
) -> dt.timedelta:
    """Office time (minus pauses) in [start, end); zero when end <= start."""
    local_start, local_end = _local(start, name="start"), _local(end, name="end")
    if local_end <= local_start:
        return _ZERO
    return _measure(_working_pieces(local_start, office_hours(), _pauses(pauses)), local_end)


def add_natural_hours(*, start: dt.datetime, hours: Hours, pauses: Iterable[Pause] = ()) -> dt.datetime:
    """Elapsed-time deadline for urgent matters (e.g. 电梯困人 within 2 hours), nights and holidays
    included; computed in Asia/Shanghai so a start given in a DST zone still adds real hours."""
    local = _local(start, name="start")
    return _advance(_natural_pieces(local, _pauses(pauses)), _duration(hours, name="hours"))


def natural_time_between(
    *, start: dt.datetime, end: dt.datetime, pauses: Iterable[Pause] = ()
) -> dt.timedelta:
    local_start, local_end = _local(start, name="start"), _local(end, name="end")
    if local_end <= local_start:
        return _ZERO
    return _measure(_natural_pieces(local_start, _pauses(pauses)), local_end)


# --- clocks -------------------------------------------------------------------------------------


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")


def deadline_for(
    *, start: dt.datetime, amount: Hours, unit: Unit, pauses: Iterable[Pause] = ()
) -> dt.datetime:
    """The deadline of a clock started at `start`; `amount` is hours, or an int for working days."""
    _check_unit(unit)
    if unit == "working_days":
        if isinstance(amount, Decimal) and amount == amount.to_integral_value():
            amount = int(amount)
        if not isinstance(amount, int):
            raise TypeError("a working_days amount must be a whole number of days")
        return add_working_days(start=start, days=amount, pauses=pauses)
    if unit == "working_hours":
        return add_working_hours(start=start, hours=amount, pauses=pauses)
    return add_natural_hours(start=start, hours=amount, pauses=pauses)


def remaining(
    *, deadline: dt.datetime, now: dt.datetime, unit: Unit, pauses: Iterable[Pause] = ()
) -> dt.timedelta:
    """Counting time left until `deadline`, negative once overdue (by the counting time since).

    Working units count office time (an overnight wait costs nothing); natural hours count
    elapsed time. An ongoing pause is passed closed at `now`; it then freezes the value.
    """
    _check_unit(unit)
    between = natural_time_between if unit == "natural_hours" else working_time_between
    merged = _pauses(pauses)
    if _local(now, name="now") <= _local(deadline, name="deadline"):
        return between(start=now, end=deadline, pauses=merged)
    return -between(start=deadline, end=now, pauses=merged)


@dataclass(frozen=True)
class Clock:
    """A running time limit: everything needed to recompute its deadline, e.g. from the audit trail."""

    start: dt.datetime
    unit: Unit
    amount: Hours
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        _check_unit(self.unit)
        self.deadline  # noqa: B018 -- refuse a clock whose deadline cannot be computed

    @property
    def deadline(self) -> dt.datetime:
        return deadline_for(start=self.start, amount=self.amount, unit=self.unit, pauses=self.pauses)

    def remaining(self, *, now: dt.datetime) -> dt.timedelta:
        return remaining(deadline=self.deadline, now=now, unit=self.unit, pauses=self.pauses)

    def is_overdue(self, *, now: dt.datetime) -> bool:
        return _local(now, name="now") > self.deadline

    def paused(self, *, begin: dt.datetime, end: dt.datetime) -> Clock:
        """The same clock with one more pause (e.g. while waiting for the resident)."""
        pauses = (*self.pauses, (begin, end))
        return Clock(start=self.start, unit=self.unit, amount=self.amount, pauses=pauses)

    def as_state(self) -> dict[str, Any]:
        """JSON-ready, for audit state; `from_state` gives the clock back."""
        amount = self.amount
        if isinstance(amount, dt.timedelta):
            amount_text = str(Decimal(amount // dt.timedelta(microseconds=1)) / 3_600_000_000)
        else:
            amount_text = str(amount)
        return {
            "start": _local(self.start, name="start").isoformat(),
            "unit": self.unit,
            "amount": amount_text,
            "pauses": [
                [_local(b, name="pause").isoformat(), _local(e, name="pause").isoformat()]
                for b, e in self.pauses
            ],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Clock:
        unit = state["unit"]
        _check_unit(unit)
        hours = Decimal(state["amount"])
        amount: Hours = int(hours) if unit == "working_days" else hours
        parse = dt.datetime.fromisoformat
        return cls(
            start=parse(state["start"]),
            unit=unit,
            amount=amount,
            pauses=tuple((parse(b), parse(e)) for b, e in state["pauses"]),
        )
