"""Repeat complaints (the same place and category three or more times in 30 days) from the place
rollups: each day's 30-day count and each month's maximum, kept by the triggers (rollups.py)."""
# ruff: noqa: S608  (SQL from this module's constant column names; values are parameters)

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connections

from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.replica import read_db
from shanzhi.cockpit.rollups import REPEAT_DAYS
from shanzhi.cockpit.sums import Scope, _months

REPEAT_MIN = 3
RepeatRow = tuple[int, int, int, int, int, dt.date, int]  # township, village, grid, category, best, end, n
__all__ = ["REPEAT_DAYS", "REPEAT_MIN", "RepeatRow", "repeat_raw", "repeat_rollup"]


def repeat_rollup(s: Scope, f: CockpitFilter) -> list[RepeatRow]:
    """From the place tables (under a channel filter the place × channel tables, under a handler
    filter the handler × place ones): each day's 30-day count (n30) for the edge days, each
    month's maximum for whole months; best and its first day come out of one MAX over
    best·10⁶ − day."""
    connection = connections[read_db()]
    vendor = connection.vendor
    dayno = _dayno(vendor, "d")
    where: list[str] = ["true"]
    params: list[Any] = []
    family = "place"
    if s.channel:
        family = "placechannel"
        where.append("channel = %s")
        params.append(s.channel)
    elif s.handler_id is not None:
        family = "handlercaseplace"
        where.append("handler_id = %s")
        params.append(s.handler_id)
    for col, val in (("township_id", s.township_id), ("region_id", s.village_id), ("grid_id", s.grid_id)):
        if val is not None:
            where.append(f"{col} = %s")
            params.append(val)
    if s.category_ids is not None:
        where.append("category_id IN (" + ",".join(["%s"] * len(s.category_ids) or ["NULL"]) + ")")
        params.extend(s.category_ids)
    scope = " AND ".join(where)
    keys = "township_id, region_id, grid_id, category_id"
    parts: list[str] = []
    part_params: list[Any] = []
    first, last = _months(f.start, f.end)
    day_ranges = [(f.start, f.end)]
    if first is not None and last is not None:
        parts.append(
            f"SELECT {keys}, max30 AS mx, max30_day AS d, intake AS n FROM cockpit_{family}month "
            f"WHERE month >= %s AND month <= %s AND {scope}"
        )
        part_params += [first, last, *params]
        next_month = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        day_ranges = [(f.start, first - dt.timedelta(days=1)), (next_month, f.end)]
    for lo, hi in day_ranges:
        if lo <= hi:
            parts.append(
                f"SELECT {keys}, n30 AS mx, day AS d, intake AS n FROM cockpit_{family}day "
                f"WHERE day >= %s AND day <= %s AND intake > 0 AND {scope}"
            )
            part_params += [lo, hi, *params]
    sql = (
        f"SELECT {keys}, MAX(CASE WHEN n > 0 THEN mx * 1000000 - {dayno} END) AS best, SUM(n) "
        f"FROM ({' UNION ALL '.join(parts)}) u WHERE category_id <> 0 AND (grid_id <> 0 OR region_id <> 0) "
        f"GROUP BY {keys} HAVING MAX(CASE WHEN n > 0 THEN mx END) >= %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*part_params, REPEAT_MIN])
        return _decoded(cur.fetchall())


def _dayno(vendor: str, d: str) -> str:
    """Days since 2000-01-01 of date column `d`."""
    if vendor == "postgresql":
        return f"({d} - DATE '2000-01-01')"
    return f"CAST(julianday({d}) - 2451544.5 AS INTEGER)"


def _decoded(rows: list[tuple[Any, ...]]) -> list[RepeatRow]:
    base = dt.date(2000, 1, 1)
    found: list[RepeatRow] = []
    for township_id, region_id, grid_id, category_id, best, in_range in rows:
        top = -(-int(best) // 1000000)  # best = top·10⁶ − day number, day number < 10⁶
        end_day = base + dt.timedelta(days=top * 1000000 - int(best))
        found.append((township_id, region_id, grid_id, category_id, top, end_day, int(in_range)))
    return found


def repeat_raw(s: Scope, f: CockpitFilter) -> list[RepeatRow]:
    """From the raw rows (a channel and a handler filter together, which no rollup has): the
    database counts each key's cases per day, runs the 30-day window over those days and keeps
    the keys at or over the threshold, so only the repeats leave it."""
    from django.db.models import Count, Value
    from django.db.models.functions import Coalesce, TruncDate

    from shanzhi.cockpit.rollups import NOT_RECEIVED, Dialect
    from shanzhi.cockpit.sums import SH, case_queryset, local_start

    alias = read_db()
    connection = connections[alias]
    d = Dialect(connection.vendor)
    lead = f.start - dt.timedelta(days=REPEAT_DAYS - 1)
    daily = (
        case_queryset(s)
        .filter(received_at__gte=local_start(lead), received_at__lt=local_start(f.end) + dt.timedelta(days=1))
        .exclude(status__in=NOT_RECEIVED)
        .exclude(category_id__isnull=True)
        .values(
            k_township=Coalesce("township_id", Value(0)),
            k_region=Coalesce("region_id", Value(0)),
            k_grid=Coalesce("grid_id", Value(0)),
            k_category=Coalesce("category_id", Value(0)),
            day=TruncDate("received_at", tzinfo=SH),
        )
        .annotate(intake=Count("id"))
        .order_by()
    )
    inner, params = daily.query.get_compiler(using=alias).as_sql()
    keys = "k_township, k_region, k_grid, k_category"  # (names that shadow no Case field)
    since = "day >= %s"
    sql = (
        f"SELECT {keys}, MAX(CASE WHEN {since} THEN n30 * 1000000 - {_dayno(connection.vendor, 'day')} END), "
        f"SUM(CASE WHEN {since} THEN intake ELSE 0 END) "
        f"FROM (SELECT g.*, {d.window_30(keys)} AS n30 FROM ({inner}) g) w "
        f"WHERE k_grid <> 0 OR k_region <> 0 "
        f"GROUP BY {keys} HAVING MAX(CASE WHEN {since} THEN n30 END) >= %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [f.start, f.start, *params, f.start, REPEAT_MIN])
        return _decoded(cur.fetchall())
