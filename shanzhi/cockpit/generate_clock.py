"""The working-time calendar of `core.workcal`, vectorised for millions of clocks at once.

Time is int64 seconds since the Unix epoch. Asia/Shanghai has had no DST since 1991, so local
time is UTC + 8 h throughout. For each minute of the span, `cum[m]` is the office minutes before
minute m; advancing a clock by T office minutes from s is the first minute where `cum` reaches
cum(s) + T, exactly as `workcal._advance` walks the office intervals (an amount that fills an
interval lands on its end, 12:00, not on the next opening).
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np

from shanzhi.core.workcal import TZ, is_working_day, office_hours

LOCAL_OFFSET = 8 * 3600
DAY = 86400


def epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def day_start(day: dt.date) -> int:
    """Local midnight of `day`, in epoch seconds."""
    return epoch(dt.datetime.combine(day, dt.time(0), tzinfo=TZ))


class WorkClock:
    """Office minutes from `first` (a local day) for `days` days."""

    def __init__(self, *, first: dt.date, days: int) -> None:
        self.first = first
        self.days = days
        self.origin = day_start(first)
        # Years past chinese_calendar's data count Monday–Friday (workcal logs that once a year);
        # the calendar reaches ~2 years past today for open clocks, so that is expected here.
        log = logging.getLogger("shanzhi.core.workcal")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            days_list = [first + dt.timedelta(days=i) for i in range(days)]
            self.working = np.array([is_working_day(day=d) for d in days_list])
        finally:
            log.setLevel(level)
        minute_of_day = np.zeros(1440, dtype=bool)
        for begin, end in office_hours():
            minute_of_day[begin.hour * 60 + begin.minute : end.hour * 60 + end.minute] = True
        office = (self.working[:, None] & minute_of_day[None, :]).ravel()
        self.office = office
        self.cum = np.concatenate(([0], np.cumsum(office, dtype=np.int64)))
        self.close_minute = office_hours()[-1][1].hour * 60 + office_hours()[-1][1].minute
        # working-day ordinal: how many working days up to and including day i
        self.workday_rank = np.cumsum(self.working, dtype=np.int64)

    def _minute(self, t: np.ndarray) -> np.ndarray:
        m = (t - self.origin) // 60
        if m.size and (m.min() < 0 or m.max() >= len(self.office)):
            raise ValueError("a clock runs outside the generated calendar")
        return m

    def office_at(self, t: np.ndarray) -> np.ndarray:
        """Office minutes (float) from the origin to each moment."""
        m = self._minute(t)
        frac = ((t - self.origin) % 60) / 60.0
        return self.cum[m] + self.office[m] * frac

    def add_office_minutes(self, t: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """The moment `minutes` of office time have run since `t` (whole seconds)."""
        target = self.office_at(t) + minutes
        m = np.searchsorted(self.cum, target, side="left")
        if m.size and m.max() >= len(self.cum):
            raise ValueError("a deadline falls beyond the generated calendar")
        m = np.maximum(m, 1)
        seconds = (m - 1) * 60 + (target - self.cum[m - 1]) * 60.0
        return self.origin + np.rint(seconds).astype(np.int64)

    def advance(self, t: np.ndarray, hours: np.ndarray, natural: np.ndarray) -> np.ndarray:
        """A clock's deadline: natural hours are elapsed time, working hours office time."""
        out = t + np.rint(hours * 3600).astype(np.int64)
        work = ~natural
        if work.any():
            out[work] = self.add_office_minutes(t[work], hours[work] * 60.0)
        return out

    def add_working_days(self, t: np.ndarray, days: np.ndarray) -> np.ndarray:
        """End of office hours on the `days`-th working day after the start day (the start day
        never counts); 0 days (即办) is the end of the start day's office hours, or of the next
        working day's. As onewindow.deadlines.promised_deadline without pauses."""
        day = (t - self.origin) // DAY
        rank = self.workday_rank[day]
        wanted = rank + days
        # 即办 on a day off, or after closing time, runs to the next working day's close
        zero = days == 0
        closed = ((t - self.origin) % DAY) // 60 >= self.close_minute
        bump = zero & (~self.working[day] | closed)
        wanted = wanted + bump
        target_day = np.searchsorted(self.workday_rank, wanted, side="left")
        if target_day.size and target_day.max() >= self.days:
            raise ValueError("a deadline falls beyond the generated calendar")
        return self.origin + target_day * DAY + self.close_minute * 60
