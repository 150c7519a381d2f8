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
__all__ = ["REPEAT_DAYS", "REPEAT_MIN", "RepeatRow", "repeat_rollup"]


def repeat_rollup(s: Scope, f: CockpitFilter) -> list[RepeatRow]:
    """From the place tables: each day's 30-day count (n30) for the edge days, each month's
    maximum for whole months; best and its first day come out of one MAX over best·10⁶ − day."""
    connection = connections[read_db()]
    vendor = connection.vendor
    dayno = (
        "(d - DATE '2000-01-01')" if vendor == "postgresql" else "CAST(julianday(d) - 2451544.5 AS INTEGER)"
    )
    where: list[str] = ["true"]
    params: list[Any] = []
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
            f"SELECT {keys}, max30 AS mx, max30_day AS d, intake AS n FROM cockpit_placemonth "
            f"WHERE month >= %s AND month <= %s AND {scope}"
        )
        part_params += [first, last, *params]
        next_month = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        day_ranges = [(f.start, first - dt.timedelta(days=1)), (next_month, f.end)]
    for lo, hi in day_ranges:
        if lo <= hi:
            parts.append(
                f"SELECT {keys}, n30 AS mx, day AS d, intake AS n FROM cockpit_placeday "
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
        rows = cur.fetchall()
    base = dt.date(2000, 1, 1)
    found: list[RepeatRow] = []
    for township_id, region_id, grid_id, category_id, best, in_range in rows:
        top = -(-int(best) // 1000000)  # best = top·10⁶ − day number, day number < 10⁶
        end_day = base + dt.timedelta(days=top * 1000000 - int(best))
        found.append((township_id, region_id, grid_id, category_id, top, end_day, int(in_range)))
    return found
