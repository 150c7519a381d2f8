"""The working-time calendar against the real 2025 and 2026 statutory holidays."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import ImproperlyConfigured

from shanzhi.core import workcal
from shanzhi.core.workcal import (
    TZ,
    Clock,
    add_natural_hours,
    add_working_days,
    add_working_hours,
    deadline_for,
    is_working_day,
    natural_time_between,
    next_working_moment,
    remaining,
    working_time_between,
)

H = dt.timedelta(hours=1)
DAY_OF_OFFICE = dt.timedelta(hours=7.5)  # 08:30–12:00 and 13:30–17:30


def at(text: str) -> dt.datetime:
    """'2026-02-13 16:00' in Asia/Shanghai."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def days(first: str, last: str) -> list[dt.date]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


# --- the statutory calendar ---------------------------------------------------------------------

MAKE_UP_WORKDAYS = [
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
    "2025-01-26",
    "2025-02-08",
    "2025-04-27",
    "2025-09-28",
    "2025-10-11",
]
HOLIDAYS = [
    *days("2026-02-15", "2026-02-23"),  # Spring Festival 2026
    *days("2025-10-01", "2025-10-08"),  # National Day + Mid-Autumn 2025
    *days("2026-01-01", "2026-01-03"),  # New Year 2026
    *days("2025-05-01", "2025-05-05"),  # Labour Day 2025
    *days("2026-05-01", "2026-05-05"),  # Labour Day 2026
]


@pytest.mark.parametrize("day", MAKE_UP_WORKDAYS)
def test_make_up_weekend_days_are_working_days(day):
    date = dt.date.fromisoformat(day)
    assert date.weekday() >= 5
    assert is_working_day(day=date)


@pytest.mark.parametrize("day", HOLIDAYS, ids=str)
def test_statutory_holidays_are_not_working_days(day):
    assert not is_working_day(day=day)


def test_ordinary_weeks():
    assert is_working_day(day=dt.date(2026, 3, 9))  # Monday
    assert not is_working_day(day=dt.date(2026, 3, 7))  # Saturday
    assert not is_working_day(day=dt.date(2026, 3, 8))  # Sunday
    with pytest.raises(TypeError):
        is_working_day(day=at("2026-03-09 10:00"))  # a datetime's date depends on its zone: refuse


def test_a_whole_year_of_office_time():
    # 2025: 248 working days after the holiday reform added New Year's Eve and 2 May.
    year = working_time_between(start=at("2025-01-01 00:00"), end=at("2026-01-01 00:00"))
    assert year == 248 * DAY_OF_OFFICE
    week = working_time_between(start=at("2026-03-09 00:00"), end=at("2026-03-16 00:00"))
    assert week == 5 * DAY_OF_OFFICE


# --- working hours --------------------------------------------------------------------------------


def test_spring_festival_2026_working_hours():
    # Friday 16:00 + 3h: 1.5h on Friday, the rest on the make-up Saturday 02-14.
    assert add_working_hours(start=at("2026-02-13 16:00"), hours=3) == at("2026-02-14 10:00")
    # From the make-up Saturday across the whole holiday to Tuesday 02-24.
    assert add_working_hours(start=at("2026-02-14 16:00"), hours=3) == at("2026-02-24 10:00")
    # Started during the holiday: counting begins at the first opening after it.
    assert add_working_hours(start=at("2026-02-17 09:00"), hours=1) == at("2026-02-24 09:30")
    # The second make-up Saturday, 02-28.
    assert add_working_hours(start=at("2026-02-27 17:00"), hours=1) == at("2026-02-28 09:00")


def test_national_day_2025_working_hours():
    # 09-28 is a make-up Sunday, 10-11 a make-up Saturday.
    assert add_working_hours(start=at("2025-09-26 17:00"), hours=1) == at("2025-09-28 09:00")
    assert add_working_hours(start=at("2025-09-30 17:00"), hours=1) == at("2025-10-09 09:00")
    assert add_working_hours(start=at("2025-10-10 17:00"), hours=1) == at("2025-10-11 09:00")
    assert working_time_between(start=at("2025-09-30 12:00"), end=at("2025-10-09 12:00")) == 4 * H + 3.5 * H


def test_new_year_2026_working_hours():
    # 01-04 is a make-up Sunday.
    assert add_working_hours(start=at("2025-12-31 17:00"), hours=1) == at("2026-01-04 09:00")
    assert working_time_between(start=at("2026-01-01 00:00"), end=at("2026-01-04 00:00")) == dt.timedelta(0)


def test_labour_day_2025_and_2026_working_hours():
    assert add_working_hours(start=at("2025-04-25 17:00"), hours=1) == at("2025-04-27 09:00")
    assert add_working_hours(start=at("2025-04-30 17:00"), hours=1) == at("2025-05-06 09:00")
    assert add_working_hours(start=at("2026-04-30 17:00"), hours=1) == at("2026-05-06 09:00")
    assert add_working_hours(start=at("2026-05-08 17:00"), hours=1) == at("2026-05-09 09:00")  # make-up Sat.


def test_lunch_break():
    assert add_working_hours(start=at("2026-03-09 11:00"), hours=2) == at("2026-03-09 14:30")
    assert add_working_hours(start=at("2026-03-09 12:30"), hours=1) == at("2026-03-09 14:30")
    # Filling the morning exactly lands on 12:00, not on the 13:30 reopening.
    assert add_working_hours(start=at("2026-03-09 08:30"), hours=Decimal("3.5")) == at("2026-03-09 12:00")
    assert working_time_between(start=at("2026-03-09 11:00"), end=at("2026-03-09 14:00")) == 1.5 * H
    assert working_time_between(start=at("2026-03-09 12:05"), end=at("2026-03-09 13:25")) == dt.timedelta(0)


def test_starts_at_night_and_before_opening():
    assert add_working_hours(start=at("2026-03-10 22:00"), hours=1) == at("2026-03-11 09:30")
    assert add_working_hours(start=at("2026-03-10 06:00"), hours=1) == at("2026-03-10 09:30")
    # Friday night + 8h: all of Monday (7.5h) and half an hour of Tuesday.
    assert add_working_hours(start=at("2026-03-13 20:00"), hours=8) == at("2026-03-17 09:00")


def test_hours_as_int_float_decimal_timedelta_agree():
    start = at("2026-03-09 10:17:31")
    expected = add_working_hours(start=start, hours=dt.timedelta(minutes=90))
    assert add_working_hours(start=start, hours=1.5) == expected
    assert add_working_hours(start=start, hours=Decimal("1.5")) == expected
    assert add_working_hours(start=start, hours=0) == start
    assert add_working_hours(start=start, hours=24) == at("2026-03-12 11:47:31")  # 3 office days + 1.5h


def test_zero_hours_from_a_closed_moment_is_the_next_opening():
    assert add_working_hours(start=at("2026-03-09 12:00"), hours=0) == at("2026-03-09 13:30")
    assert next_working_moment(at=at("2026-03-09 12:00")) == at("2026-03-09 13:30")
    assert next_working_moment(at=at("2026-03-09 10:00")) == at("2026-03-09 10:00")
    assert next_working_moment(at=at("2026-02-21 10:00")) == at("2026-02-24 08:30")


def test_inverse_property_random_starts():
    rng = random.Random(20260214)
    base = at("2025-01-01 00:00")
    span = int((at("2026-11-30 00:00") - base).total_seconds())
    for _ in range(300):
        start = base + dt.timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000))
        hours = dt.timedelta(minutes=rng.randrange(0, 200 * 60), seconds=rng.randrange(60))
        deadline = add_working_hours(start=start, hours=hours)
        assert deadline >= start
        assert working_time_between(start=start, end=deadline) == hours, (start, hours)
        # The deadline is the earliest such moment: a second earlier, less time has run.
        if hours:
            earlier = deadline - dt.timedelta(seconds=1)
            assert working_time_between(start=start, end=earlier) < hours


def test_inverse_property_with_pauses():
    rng = random.Random(7)
    base = at("2025-03-01 00:00")
    for _ in range(100):
        start = base + dt.timedelta(minutes=rng.randrange(600 * 24 * 60))
        pause_from = start + dt.timedelta(minutes=rng.randrange(-600, 5000))
        pauses = [(pause_from, pause_from + dt.timedelta(minutes=rng.randrange(1, 4000)))]
        hours = dt.timedelta(minutes=rng.randrange(1, 60 * 60))
        deadline = add_working_hours(start=start, hours=hours, pauses=pauses)
        assert working_time_between(start=start, end=deadline, pauses=pauses) == hours
        assert deadline >= add_working_hours(start=start, hours=hours)


def test_walks_day_by_day_not_minute_by_minute(monkeypatch):
    calls = []
    real = chinese_calendar.is_workday

    def counting(day):
        calls.append(day)
        return real(day)

    monkeypatch.setattr(chinese_calendar, "is_workday", counting)
    start = at("2026-02-10 09:00")
    deadline = add_working_hours(start=start, hours=120)
    assert deadline == at("2026-03-10 09:00")  # 16 office days across the Spring Festival
    assert len(calls) <= (deadline.date() - start.date()).days + 1


def test_results_are_in_shanghai_whatever_the_input_zone():
    start = dt.datetime(2026, 3, 9, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai
    deadline = add_working_hours(start=start, hours=1)
    assert deadline.utcoffset() == 8 * H
    assert deadline == at("2026-03-09 09:30")


def test_working_time_between_is_zero_when_end_not_after_start():
    assert working_time_between(start=at("2026-03-09 10:00"), end=at("2026-03-09 10:00")) == dt.timedelta(0)
    assert working_time_between(start=at("2026-03-09 11:00"), end=at("2026-03-09 10:00")) == dt.timedelta(0)


# --- working days ---------------------------------------------------------------------------------


def test_working_days_start_day_does_not_count():
    # Accepted Friday (any hour), 3 working days → end of Wednesday.
    for accepted in ("2026-03-13 08:00", "2026-03-13 10:00", "2026-03-13 23:59"):
        assert add_working_days(start=at(accepted), days=3) == at("2026-03-18 17:30")
    # Accepted on a weekend: Monday is the first working day counted.
    assert add_working_days(start=at("2026-03-14 10:00"), days=3) == at("2026-03-18 17:30")
    assert add_working_days(start=at("2026-03-09 10:00"), days=1) == at("2026-03-10 17:30")


def test_working_days_across_holidays():
    assert add_working_days(start=at("2026-02-13 10:00"), days=2) == at("2026-02-24 17:30")
    assert add_working_days(start=at("2026-02-16 10:00"), days=1) == at("2026-02-24 17:30")  # on a holiday
    assert add_working_days(start=at("2025-09-26 10:00"), days=1) == at("2025-09-28 17:30")
    assert add_working_days(start=at("2025-09-30 10:00"), days=2) == at("2025-10-10 17:30")
    assert add_working_days(start=at("2025-09-30 10:00"), days=3) == at("2025-10-11 17:30")
    assert add_working_days(start=at("2025-12-31 10:00"), days=1) == at("2026-01-04 17:30")
    assert add_working_days(start=at("2026-05-06 10:00"), days=3) == at("2026-05-09 17:30")
    assert add_working_days(start=at("2025-04-30 10:00"), days=1) == at("2025-05-06 17:30")
    # 15 working days (a common reply limit) from New Year's Eve 2025.
    assert add_working_days(start=at("2025-12-31 10:00"), days=15) == at("2026-01-22 17:30")


def test_working_days_with_pauses():
    start = at("2026-03-13 10:00")
    # Two paused office hours on Monday push Wednesday 17:30 into Thursday.
    pause = (at("2026-03-16 14:00"), at("2026-03-16 16:00"))
    assert add_working_days(start=start, days=3, pauses=[pause]) == at("2026-03-19 10:30")
    # A pause on the start day (which does not count) or outside office hours changes nothing.
    assert add_working_days(
        start=start, days=3, pauses=[(at("2026-03-13 10:00"), at("2026-03-13 17:00"))]
    ) == at("2026-03-18 17:30")
    assert add_working_days(
        start=start, days=3, pauses=[(at("2026-03-16 18:00"), at("2026-03-17 08:00"))]
    ) == at("2026-03-18 17:30")


def test_working_days_refuses_bad_counts():
    with pytest.raises(ValueError):
        add_working_days(start=at("2026-03-13 10:00"), days=0)
    with pytest.raises(TypeError):
        add_working_days(start=at("2026-03-13 10:00"), days=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_working_days(start=at("2026-03-13 10:00"), days=True)


# --- natural hours --------------------------------------------------------------------------------


def test_natural_hours_ignore_nights_and_holidays():
    # 电梯困人: 2 hours, even on New Year's Eve at night.
    assert add_natural_hours(start=at("2025-12-31 23:00"), hours=2) == at("2026-01-01 01:00")
    assert add_natural_hours(start=at("2026-02-17 10:00"), hours=Decimal("0.5")) == at("2026-02-17 10:30")


def test_natural_hours_add_real_hours_when_start_is_in_a_dst_zone():
    # 01:30 in Berlin on the night clocks jump to 03:00 (00:30 UTC, 08:30 in Shanghai).
    start = dt.datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    deadline = add_natural_hours(start=start, hours=2)
    assert deadline - start == 2 * H  # aware subtraction across zones: real elapsed time
    assert deadline == at("2026-03-29 10:30")
    assert deadline.utcoffset() == 8 * H


def test_natural_hours_with_pause():
    pauses = [(at("2026-03-09 10:30"), at("2026-03-09 11:00"))]
    assert add_natural_hours(start=at("2026-03-09 10:00"), hours=2, pauses=pauses) == at("2026-03-09 12:30")
    elapsed = natural_time_between(start=at("2026-03-09 10:00"), end=at("2026-03-09 12:30"), pauses=pauses)
    assert elapsed == 2 * H


# --- pauses on working hours ----------------------------------------------------------------------


def test_working_hours_pauses():
    start = at("2026-03-09 09:00")  # Monday; 8h without pauses → Tuesday 09:30
    assert add_working_hours(start=start, hours=8) == at("2026-03-10 09:30")
    one_hour = [(at("2026-03-09 10:00"), at("2026-03-09 11:00"))]
    assert add_working_hours(start=start, hours=8, pauses=one_hour) == at("2026-03-10 10:30")
    overnight = [(at("2026-03-09 18:00"), at("2026-03-10 08:00"))]
    assert add_working_hours(start=start, hours=8, pauses=overnight) == at("2026-03-10 09:30")
    over_lunch = [(at("2026-03-09 11:30"), at("2026-03-09 14:00"))]  # 0.5h + 0.5h of office time
    assert add_working_hours(start=start, hours=8, pauses=over_lunch) == at("2026-03-10 10:30")
    overlapping = [
        (at("2026-03-09 10:30"), at("2026-03-09 11:30")),
        (at("2026-03-09 10:00"), at("2026-03-09 11:00")),
    ]
    assert add_working_hours(start=start, hours=8, pauses=overlapping) == at("2026-03-10 11:00")
    before_start = [(at("2026-03-06 10:00"), at("2026-03-09 09:00"))]
    assert add_working_hours(start=start, hours=8, pauses=before_start) == at("2026-03-10 09:30")


def test_bad_pauses_are_refused():
    start = at("2026-03-09 09:00")
    with pytest.raises(ValueError, match="ends before"):
        add_working_hours(start=start, hours=1, pauses=[(at("2026-03-09 11:00"), at("2026-03-09 10:00"))])
    with pytest.raises(ValueError, match="aware"):
        naive = dt.datetime(2026, 3, 9, 10)
        add_working_hours(start=start, hours=1, pauses=[(naive, at("2026-03-09 11:00"))])


# --- clocks ---------------------------------------------------------------------------------------


def test_deadline_for_each_unit():
    start = at("2026-03-13 10:00")
    assert deadline_for(start=start, amount=3, unit="working_days") == at("2026-03-18 17:30")
    assert deadline_for(start=start, amount=Decimal(3), unit="working_days") == at("2026-03-18 17:30")
    assert deadline_for(start=start, amount=8, unit="working_hours") == at("2026-03-16 10:30")
    assert deadline_for(start=start, amount=2, unit="natural_hours") == at("2026-03-13 12:00")
    with pytest.raises(ValueError):
        deadline_for(start=start, amount=3, unit="weeks")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        deadline_for(start=start, amount=Decimal("2.5"), unit="working_days")


def test_remaining_counts_office_time_and_goes_negative_when_overdue():
    clock = Clock(start=at("2026-03-09 09:00"), unit="working_hours", amount=8)
    assert clock.deadline == at("2026-03-10 09:30")
    assert clock.remaining(now=at("2026-03-09 17:00")) == 1.5 * H
    assert clock.remaining(now=at("2026-03-09 20:00")) == 1 * H  # the night costs nothing
    assert clock.remaining(now=at("2026-03-10 10:00")) == -0.5 * H
    assert clock.is_overdue(now=at("2026-03-10 10:00"))
    assert not clock.is_overdue(now=at("2026-03-10 09:30"))
    noon = at("2026-03-09 12:00")
    assert remaining(deadline=noon, now=at("2026-03-09 10:00"), unit="natural_hours") == 2 * H
    assert remaining(deadline=noon, now=at("2026-03-09 14:00"), unit="natural_hours") == -2 * H


def test_an_ongoing_pause_freezes_the_remaining_time():
    clock = Clock(start=at("2026-03-09 09:00"), unit="working_hours", amount=8)
    assert clock.remaining(now=at("2026-03-09 16:00")) == 2.5 * H
    waiting = clock.paused(begin=at("2026-03-09 16:00"), end=at("2026-03-09 17:00"))
    assert waiting.deadline == at("2026-03-10 10:30")
    assert waiting.remaining(now=at("2026-03-09 17:00")) == 2.5 * H


def test_clock_state_round_trips_through_json():
    clock = Clock(
        start=at("2026-02-13 16:00"),
        unit="working_hours",
        amount=dt.timedelta(minutes=100),
        pauses=((at("2026-02-14 08:00"), at("2026-02-14 18:00")),),
    )
    state = json.loads(json.dumps(clock.as_state()))
    again = Clock.from_state(state)
    assert again.deadline == clock.deadline == at("2026-02-24 08:40")  # the make-up Saturday was paused
    days_clock = Clock(start=at("2026-03-13 10:00"), unit="working_days", amount=3)
    days_clock = Clock.from_state(days_clock.as_state())
    assert days_clock.deadline == at("2026-03-18 17:30")


# --- inputs refused -------------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    naive = dt.datetime(2026, 3, 9, 10, 0)
    aware = at("2026-03-09 10:00")
    for call in (
        lambda: add_working_hours(start=naive, hours=1),
        lambda: add_working_days(start=naive, days=1),
        lambda: add_natural_hours(start=naive, hours=1),
        lambda: working_time_between(start=naive, end=aware),
        lambda: working_time_between(start=aware, end=naive),
        lambda: next_working_moment(at=naive),
        lambda: remaining(deadline=aware, now=naive, unit="working_hours"),
        lambda: Clock(start=naive, unit="natural_hours", amount=2),
    ):
        with pytest.raises(ValueError, match="aware"):
            call()


def test_bad_amounts_are_refused():
    start = at("2026-03-09 10:00")
    for bad in (-1, Decimal("-0.5"), dt.timedelta(minutes=-1), float("nan"), Decimal("Infinity"), 1e300):
        with pytest.raises(ValueError):
            add_working_hours(start=start, hours=bad)
    with pytest.raises(TypeError):
        add_natural_hours(start=start, hours="2")  # type: ignore[arg-type]


# --- configuration and fallback -------------------------------------------------------------------


def test_office_hours_come_from_settings(settings):
    settings.WORKING_HOURS = ["09:00-17:00"]
    assert add_working_hours(start=at("2026-03-09 09:00"), hours=8) == at("2026-03-09 17:00")
    assert add_working_days(start=at("2026-03-13 10:00"), days=1) == at("2026-03-16 17:00")
    assert next_working_moment(at=at("2026-03-09 12:30")) == at("2026-03-09 12:30")  # no lunch break now


@pytest.mark.parametrize("bad", [["8:30-12:00"], ["12:00-08:30"], ["08:30-12:00", "11:00-17:00"], []])
def test_bad_office_hours_fail_loudly(settings, bad):
    settings.WORKING_HOURS = bad
    with pytest.raises(ImproperlyConfigured):
        add_working_hours(start=at("2026-03-09 09:00"), hours=1)


def test_years_beyond_the_calendar_fall_back_to_weekends_with_a_warning(caplog):
    workcal._warn_no_calendar.cache_clear()
    with caplog.at_level(logging.WARNING, logger="shanzhi.core.workcal"):
        assert is_working_day(day=dt.date(2030, 1, 1))  # a Tuesday; its holiday is unknown here
        assert not is_working_day(day=dt.date(2030, 1, 5))  # Saturday
        # The 2026 data ends on 12-31: 2027-01-01 is a Friday, counted as a working day.
        assert add_working_hours(start=at("2026-12-31 17:00"), hours=1) == at("2027-01-01 09:00")
    warned = [r for r in caplog.records if r.name == "shanzhi.core.workcal" and r.levelno == logging.WARNING]
    assert {r.args[0] for r in warned if r.args} == {2030, 2027}
    assert len(warned) == 2  # once per year, not once per day walked
