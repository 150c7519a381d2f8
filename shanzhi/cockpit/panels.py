"""Every cockpit tile and panel as a selector returning plain JSON-able dicts.

Figures come from `sums` (rollups, or raw rows below a township) and, for the current state
(open, due today, overdue), from indexed queries on the live tables. Rates use the definitions
and the rounding of shanzhi.cases.kpis (docs/cases.md); a rate with a zero denominator is None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q

from shanzhi.cases.kpis import Kpi
from shanzhi.cases.models import Category
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.openwork import open_cases_count, open_primary_count, overdue_by
from shanzhi.cockpit.repeats import REPEAT_DAYS, REPEAT_MIN, repeat_raw, repeat_rollup
from shanzhi.cockpit.replica import replica_reads
from shanzhi.cockpit.sums import (
    SH,
    Scope,
    case_sums,
    handler_sums,
    local_start,
    scope_of,
)
from shanzhi.core.models import Handler, Region
from shanzhi.onewindow.models_applications import Application

rate = Kpi._rate
SEED_GROUPS = ("市容环卫", "物业住房", "噪声扰民")  # the seed's 环境卫生 / 物业管理 / 噪音
UNCATEGORISED = "未分类"
INTAKE = ("intake",)  # the panels that chart intake only


def _hours(secs: int, n: int) -> float | None:
    return round(secs / n / 3600, 2) if n else None


def _categories() -> dict[int, Category]:
    return {c.pk: c for c in Category.objects.all()}


def _group_of(cats: dict[int, Category], category_id: int) -> str:
    cat = cats.get(category_id)
    return cat.group if cat else UNCATEGORISED


def _days(f: CockpitFilter) -> list[dt.date]:
    return [f.start + dt.timedelta(days=i) for i in range(f.days)]


def _month_list(start: dt.date, end: dt.date) -> list[dt.date]:
    out, m = [], start.replace(day=1)
    while m <= end:
        out.append(m)
        m = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def _local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(SH).date()


def _applications(user: Any, s: Scope, f: CockpitFilter) -> dict[str, Any]:
    qs = Application.objects.exclude(status="draft").filter(
        created_at__gte=local_start(f.start), created_at__lt=local_start(f.end) + dt.timedelta(days=1)
    )
    if s.region_path:
        qs = qs.filter(region__path__startswith=s.region_path)
    agg = qs.aggregate(
        n=Count("id"),
        rated=Count("id", filter=~Q(satisfaction="")),
        satisfied=Count("id", filter=Q(satisfaction__in=["very_satisfied", "satisfied", "basic"])),
    )
    return agg


@replica_reads
def kpis(*, user: Any, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    s = scope_of(user=user, f=f)
    c = case_sums(s, f.start, f.end).get((), {})
    h = handler_sums(s, f.start, f.end).get((), {})
    today = _local_today(now)
    today_intake = case_sums(s, today, today, measures=INTAKE).get((), {}).get("intake", 0)
    open_ = open_cases_count(s)
    due_today = open_primary_count(
        s, deadline__gte=max(local_start(today), now), deadline__lt=local_start(today) + dt.timedelta(days=1)
    )
    overdue = open_primary_count(s, deadline__lt=now)
    apps = _applications(user, s, f)
    g = {**dict.fromkeys(("intake", "closed", "closed_secs", "rated", "satisfied"), 0), **c}
    hh = {**dict.fromkeys(("dispatched", "responded", "due", "on_time", "suspended"), 0), **h}
    return {
        "today_intake": today_intake,
        "open": open_,
        "due_today": due_today,
        "overdue": overdue,
        "intake": g["intake"],
        "closed": g["closed"],
        "rated": g["rated"],
        "satisfied": g["satisfied"],
        "dispatched": hh["dispatched"],
        "responded": hh["responded"],
        "due": hh["due"],
        "on_time": hh["on_time"],
        "suspended": hh["suspended"],
        "response_rate": rate(hh["responded"], hh["dispatched"]),
        "resolution_rate": rate(g["closed"], g["intake"]),
        "satisfaction_rate": rate(g["satisfied"], g["rated"]),
        "on_time_rate": rate(hh["on_time"], hh["due"] - hh["suspended"]),
        "avg_disposal_hours": _hours(g["closed_secs"], g["closed"]),
        "applications": apps["n"],
        "applications_rated": apps["rated"],
        "applications_satisfied": apps["satisfied"],
        "application_satisfaction_rate": rate(apps["satisfied"], apps["rated"]),
    }


def _series_by_group(
    rows: dict[tuple, dict[str, int]], points: list[dt.date], cats: dict[int, Category]
) -> list[dict[str, Any]]:
    index = {p: i for i, p in enumerate(points)}
    series: dict[str, list[int]] = {}
    for (point, category_id), m in rows.items():
        if m["intake"] == 0 or point not in index:
            continue
        values = series.setdefault(_group_of(cats, category_id), [0] * len(points))
        values[index[point]] += m["intake"]
    return [{"group": g, "values": v} for g, v in sorted(series.items(), key=lambda kv: -sum(kv[1]))]


@replica_reads
def intake_daily(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    s = scope_of(user=user, f=f)
    days = _days(f)
    rows = case_sums(s, f.start, f.end, ("day", "category_id"), INTAKE)
    series = _series_by_group(rows, days, _categories())
    totals = [sum(se["values"][i] for se in series) for i in range(len(days))]
    return {"days": [d.isoformat() for d in days], "series": series, "totals": totals}


@replica_reads
def intake_monthly(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    s = scope_of(user=user, f=f)
    months = _month_list(f.start, f.end)
    rows = case_sums(s, f.start, f.end, ("month", "category_id"), INTAKE)
    series = _series_by_group(rows, months, _categories())
    totals = [sum(se["values"][i] for se in series) for i in range(len(months))]
    return {"months": [m.strftime("%Y-%m") for m in months], "series": series, "totals": totals}


@replica_reads
def category_shares(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    s = scope_of(user=user, f=f)
    cats = _categories()
    rows = case_sums(s, f.start, f.end, ("category_id",), INTAKE)
    total = sum(m["intake"] for m in rows.values())
    out: list[dict[str, Any]] = []
    for (category_id,), m in rows.items():
        if m["intake"] == 0:
            continue
        cat = cats.get(category_id)
        out.append(
            {
                "code": cat.code if cat else "",
                "name": cat.name if cat else UNCATEGORISED,
                "group": cat.group if cat else UNCATEGORISED,
                "count": m["intake"],
                "share": rate(m["intake"], total),
            }
        )
    out.sort(key=lambda r: (-r["count"], r["code"]))
    return {"total": total, "rows": out}


@replica_reads
def hotspots(*, user: Any, f: CockpitFilter, now: dt.datetime, metric: str = "intake") -> dict[str, Any]:
    from shanzhi.grid.models import Grid

    if metric not in ("intake", "overdue"):
        from shanzhi.cockpit.filters import _bad

        raise _bad("热力图指标应为 intake 或 overdue", "metric")
    s = scope_of(user=user, f=f)
    intake = {k[0]: m["intake"] for k, m in case_sums(s, f.start, f.end, ("grid_id",), INTAKE).items()}
    overdue = overdue_by(s, "grid_id", now=now)
    ids = {g for g, n in intake.items() if n and g} | {g for g, n in overdue.items() if n}
    grids: list[dict[str, Any]] = []
    for grid in Grid.objects.filter(pk__in=ids).only("code", "name", "centroid_lon", "centroid_lat"):
        grids.append(
            {
                "code": grid.code,
                "name": grid.name,
                "lon": grid.centroid_lon,
                "lat": grid.centroid_lat,
                "intake": intake.get(grid.pk, 0),
                "overdue": overdue.get(grid.pk, 0),
            }
        )
    grids.sort(key=lambda g: (-g[metric], g["code"]))
    return {"metric": metric, "unlocated": intake.get(0, 0), "grids": grids}


def _handler_row(m: dict[str, int], overdue: int) -> dict[str, Any]:
    return {
        "dispatched": m["dispatched"],
        "responded": m["responded"],
        "response_rate": rate(m["responded"], m["dispatched"]),
        "due": m["due"],
        "on_time": m["on_time"],
        "suspended": m["suspended"],
        "on_time_rate": rate(m["on_time"], m["due"] - m["suspended"]),
        "overdue": overdue,
        "avg_disposal_hours": _hours(m["disposal_secs"], m["disposed"]),
        "rated": m["rated"],
        "satisfied": m["satisfied"],
        "satisfaction_rate": rate(m["satisfied"], m["rated"]),
    }


def _rank_key(row: dict[str, Any]) -> tuple:
    r = row.get("on_time_rate")
    return (r is None, -(r or 0), -row.get("dispatched", 0), row["code"])


@replica_reads
def handler_ranking(*, user: Any, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    s = scope_of(user=user, f=f)
    sums = {k[0]: m for k, m in handler_sums(s, f.start, f.end, ("handler_id",)).items()}
    overdue = overdue_by(s, "handler_id", now=now)
    zero = dict.fromkeys(
        (
            "dispatched",
            "responded",
            "due",
            "on_time",
            "suspended",
            "disposal_secs",
            "disposed",
            "rated",
            "satisfied",
        ),
        0,
    )
    ids = {h for h, m in sums.items() if m["dispatched"] or m["due"]} | {h for h, n in overdue.items() if n}
    rows = []
    for handler in Handler.objects.filter(pk__in=ids).only("code", "name"):
        row = {"code": handler.code, "name": handler.name}
        row.update(_handler_row({**zero, **sums.get(handler.pk, {})}, overdue.get(handler.pk, 0)))
        rows.append(row)
    rows.sort(key=_rank_key)
    return {"rows": rows}


@replica_reads
def township_ranking(*, user: Any, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    s = scope_of(user=user, f=f)
    cases = {k[0]: m for k, m in case_sums(s, f.start, f.end, ("township_id",)).items()}
    work = {k[0]: m for k, m in handler_sums(s, f.start, f.end, ("township_id",)).items()}
    overdue = overdue_by(s, "township_id", now=now)
    hz = dict.fromkeys(
        (
            "dispatched",
            "responded",
            "due",
            "on_time",
            "suspended",
            "disposal_secs",
            "disposed",
            "rated",
            "satisfied",
        ),
        0,
    )
    cz = dict.fromkeys(("intake", "closed", "closed_secs", "rated", "satisfied"), 0)
    ids = {t for t in set(cases) | set(work) | set(overdue) if t}
    rows = []
    for town in Region.objects.filter(pk__in=ids).only("code", "name"):
        c = {**cz, **cases.get(town.pk, {})}
        row: dict[str, Any] = {"code": town.code, "name": town.name}
        row.update(_handler_row({**hz, **work.get(town.pk, {})}, overdue.get(town.pk, 0)))
        row.update(
            intake=c["intake"],
            closed=c["closed"],
            resolution_rate=rate(c["closed"], c["intake"]),
            avg_disposal_hours=_hours(c["closed_secs"], c["closed"]),
            rated=c["rated"],
            satisfied=c["satisfied"],
            satisfaction_rate=rate(c["satisfied"], c["rated"]),
        )
        if not (row["intake"] or row["dispatched"] or row["due"] or row["overdue"]):
            continue
        rows.append(row)
    rows.sort(key=_rank_key)
    return {"rows": rows}


REPEAT_LIST_MAX = 5000  # the most rows one request may ask for (the Excel export takes them all)


@replica_reads
def repeat_complaints(*, user: Any, f: CockpitFilter, limit: int | None = None) -> dict[str, Any]:
    """Place (grid, else village) × category with >= 3 cases in a 30-day window ending in the range,
    worst first; `total` of them, the first `limit` as rows (all without a limit).

    A place is counted per township × village × grid as the cases carry them (the same thing
    for cases whose grid lies in their village). At a megacity's volume nearly every place ×
    category repeats (≈ 13 000 rows for a county year at 10 M cases): the page asks for the top."""
    from shanzhi.grid.models import Grid

    s = scope_of(user=user, f=f)
    found = repeat_raw(s, f) if s.channel and s.handler_id is not None else repeat_rollup(s, f)
    found = [r for r in found if r[3] and (r[2] or r[1])]
    # Every place of the county fits in memory (≤ a few hundred grids and villages): one read each,
    # for the sort (by code) and the rows shown.
    grids = {g.pk: g for g in Grid.objects.filter(pk__in={r[2] for r in found if r[2]}).only("code", "name")}
    villages = {
        v.pk: v for v in Region.objects.filter(pk__in={r[1] for r in found if not r[2]}).only("code", "name")
    }
    cats = _categories()

    def sort_key(r: tuple) -> tuple:
        place = grids.get(r[2]) if r[2] else villages.get(r[1])
        cat = cats.get(r[3])
        return (-r[4], getattr(place, "code", ""), cat.code if cat else "", r[5])

    found.sort(key=sort_key)
    shown = found if limit is None else found[:limit]
    out: list[dict[str, Any]] = []
    for _township_id, region_id, grid_id, category_id, best, best_end, in_range in shown:
        kind = "grid" if grid_id else "village"
        place = grids.get(grid_id) if grid_id else villages.get(region_id)
        cat = cats.get(category_id)
        out.append(
            {
                "place_kind": kind,
                "place_code": getattr(place, "code", ""),
                "place_name": getattr(place, "name", ""),
                "category_code": cat.code if cat else "",
                "category_name": cat.name if cat else "",
                "max_in_30_days": best,
                "window_end": best_end.isoformat(),
                "in_range": in_range,
            }
        )
    return {"window_days": REPEAT_DAYS, "threshold": REPEAT_MIN, "total": len(found), "rows": out}


@replica_reads
def seasonal(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    """Monthly intake of the range's last year against the same months a year earlier. Months after
    the range's end have no figure yet (None, a gap in the line, not a fall to zero)."""
    s = scope_of(user=user, f=f)
    year = f.end.year
    rows = case_sums(s, dt.date(year - 1, 1, 1), dt.date(year, 12, 31), ("month",), INTAKE)
    by_month = {k[0]: m["intake"] for k, m in rows.items()}
    this: list[int | None] = [
        by_month.get(dt.date(year, m, 1), 0) if m <= f.end.month else None for m in range(1, 13)
    ]
    last = [by_month.get(dt.date(year - 1, m, 1), 0) for m in range(1, 13)]
    change = [None if a is None else rate(a - b, b) for a, b in zip(this, last, strict=True)]
    return {
        "year": year,
        "months": list(range(1, 13)),
        "this_year": this,
        "last_year": last,
        "change": change,
    }


@replica_reads
def seed_focus(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    """The seed's example: monthly totals and the shares of 市容环卫 / 物业住房 / 噪声扰民."""
    s = scope_of(user=user, f=f)
    cats = _categories()
    months = _month_list(f.start, f.end)
    rows = case_sums(s, f.start, f.end, ("month", "category_id"), INTAKE)
    totals = dict.fromkeys(months, 0)
    groups = {g: dict.fromkeys(months, 0) for g in SEED_GROUPS}
    for (month, category_id), m in rows.items():
        if month not in totals:
            continue
        totals[month] += m["intake"]
        group = _group_of(cats, category_id)
        if group in groups:
            groups[group][month] += m["intake"]
    return {
        "months": [m.strftime("%Y-%m") for m in months],
        "totals": [totals[m] for m in months],
        "series": [
            {
                "group": g,
                "counts": [groups[g][m] for m in months],
                "shares": [rate(groups[g][m], totals[m]) for m in months],
                "share": rate(sum(groups[g].values()), sum(totals.values())),
            }
            for g in SEED_GROUPS
        ],
    }


PANELS: dict[str, Callable[..., dict[str, Any]]] = {
    "intake_daily": intake_daily,
    "intake_monthly": intake_monthly,
    "category_shares": category_shares,
    "hotspots": hotspots,
    "handler_ranking": handler_ranking,
    "township_ranking": township_ranking,
    "repeat_complaints": repeat_complaints,
    "seasonal": seasonal,
    "seed_focus": seed_focus,
}
# Panels that also take `now` (current-state figures such as overdue).
NEEDS_NOW = frozenset({"hotspots", "handler_ranking", "township_ranking"})


def panel_call(name: str, *, user: Any, f: CockpitFilter, now: dt.datetime, **extra: Any) -> dict[str, Any]:
    """Call a panel by name with the arguments it takes (the API, pages and bench use this)."""
    fn = PANELS[name]
    if name in NEEDS_NOW:
        return fn(user=user, f=f, now=now, **extra)
    return fn(user=user, f=f, **extra)
