"""Sums of the case and assignment measures for a filter, grouped by any of the rollup keys.

Two paths give the same numbers: the rollup tables (county or township scope) and the raw rows
(a village, a grid or a handler's cases, which select few rows through their indexes). Both count
with the contribution definitions of `rollups.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BigIntegerField, Count, Exists, F, Func, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from shanzhi.cases.models import Assignment, Case, Category, ClockPause
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.models import (
    CaseDay,
    CaseMonth,
    GridDay,
    GridMonth,
    HandlerCaseDay,
    HandlerCaseMonth,
    HandlerCasePlaceDay,
    HandlerCasePlaceMonth,
    HandlerDay,
    HandlerMonth,
    HandlerPlaceDay,
    HandlerPlaceMonth,
    PlaceChannelDay,
    PlaceChannelMonth,
    PlaceDay,
    PlaceMonth,
)
from shanzhi.cockpit.rollups import CASE_MEASURE_NAMES, CLOSED, NOT_RECEIVED, SATISFIED, Dialect
from shanzhi.core.errors import NotFound
from shanzhi.core.models import Handler, Region, RegionLevel
from shanzhi.core.selectors import jurisdiction_root

SH = ZoneInfo("Asia/Shanghai")
CASE_MEASURES = CASE_MEASURE_NAMES
START_MEASURES = (
    "dispatched",
    "responded",
    "returned",
    "rework",
    "disposed",
    "disposal_secs",
    "rated",
    "satisfied",
)
DUE_MEASURES = ("due", "on_time", "suspended")
HANDLER_MEASURES = START_MEASURES + DUE_MEASURES


@dataclass(frozen=True)
class Scope:
    """The filter resolved to ids, with the reader's jurisdiction applied."""

    township_id: int | None = None
    village_id: int | None = None
    grid_id: int | None = None
    category_ids: tuple[int, ...] | None = None
    channel: str = ""
    handler_id: int | None = None
    region_path: str = ""  # the place's Region.path ("" = the whole county)

    @property
    def raw(self) -> bool:
        """Below a township the rollups are too coarse; the raw rows are few."""
        return self.village_id is not None or self.grid_id is not None


def scope_of(*, user: Any, f: CockpitFilter) -> Scope:
    root = jurisdiction_root(user=user)
    if root is None:
        raise NotFound()
    region: Region | None = root if root.level != RegionLevel.COUNTY else None
    if f.region_code:
        chosen = Region.objects.filter(code=f.region_code).first()
        if chosen is None or not chosen.path.startswith(root.path):
            raise NotFound("区域不存在或不在您的管辖范围内")
        if chosen.level != RegionLevel.COUNTY:
            region = chosen
    township_id = village_id = grid_id = None
    if region is not None:
        if region.level == RegionLevel.TOWNSHIP:
            township_id = region.pk
        else:
            village_id, township_id = region.pk, region.parent_id
    if f.grid_code:
        from shanzhi.grid.models import Grid

        grid = Grid.objects.select_related("village").filter(code=f.grid_code).first()
        if grid is None or not grid.village.path.startswith(region.path if region else root.path):
            raise NotFound("网格不存在或不在您的管辖范围内")
        grid_id = grid.pk
    category_ids = None
    if f.category_code:
        cats = Category.objects.all()
        if f.category_code.startswith("g:"):
            cats = cats.filter(group=f.category_code[2:])
        else:
            cats = cats.filter(code=f.category_code)
        category_ids = tuple(cats.values_list("pk", flat=True))
    handler_id = None
    if f.handler_code:
        handler_id = Handler.objects.filter(code=f.handler_code).values_list("pk", flat=True).first() or -1
    return Scope(
        township_id=township_id,
        village_id=village_id,
        grid_id=grid_id,
        category_ids=category_ids,
        channel=f.channel,
        handler_id=handler_id,
        region_path=region.path if region else "",
    )


def local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=SH)


class Secs(Func):
    """Whole seconds from the first expression to the second, rounded as the triggers do."""

    output_field = BigIntegerField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        a_sql, a_params = compiler.compile(self.source_expressions[0])
        b_sql, b_params = compiler.compile(self.source_expressions[1])
        return Dialect(connection.vendor).secs(a_sql, b_sql), [*b_params, *a_params]


# ----- cases -------------------------------------------------------------------------------------


def case_queryset(s: Scope) -> QuerySet[Case]:
    """Live case rows of the scope (place, category, channel, handler); no time filter."""
    qs = Case.objects.all()
    if s.grid_id is not None:
        qs = qs.filter(grid_id=s.grid_id)
    if s.village_id is not None:
        qs = qs.filter(region_id=s.village_id)
    elif s.township_id is not None:
        qs = qs.filter(township_id=s.township_id)
    if s.category_ids is not None:
        qs = qs.filter(category_id__in=s.category_ids)
    if s.channel:
        qs = qs.filter(channel=s.channel)
    if s.handler_id is not None:
        qs = qs.filter(
            Exists(
                Assignment.objects.filter(
                    case=OuterRef("pk"), handler_id=s.handler_id, role="primary"
                ).exclude(status="cancelled")
            )
        )
    return qs


def _case_raw_aggregates() -> dict[str, Any]:
    closed = Q(status__in=CLOSED)
    return {
        "intake": Count("id", filter=~Q(status__in=NOT_RECEIVED)),
        "closed": Count("id", filter=closed),
        "closed_secs": Coalesce(
            Sum(Secs(F("received_at"), F("closed_at")), filter=closed & Q(closed_at__isnull=False)), 0
        ),
        "rated": Count("id", filter=~Q(satisfaction="")),
        "satisfied": Count("id", filter=Q(satisfaction__in=SATISFIED)),
    }


def _rollup_filter(qs: QuerySet[Any], s: Scope) -> QuerySet[Any]:
    if s.township_id is not None:
        qs = qs.filter(township_id=s.township_id)
    if s.category_ids is not None:
        qs = qs.filter(category_id__in=s.category_ids)
    if s.channel:
        qs = qs.filter(channel=s.channel)
    return qs


def _months(start: dt.date, end: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The first and last whole month inside [start, end] (first days), or (None, None)."""
    first = start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    after = end + dt.timedelta(days=1)
    last_exclusive = after.replace(day=1)
    if first >= last_exclusive:
        return None, None
    last = (last_exclusive - dt.timedelta(days=1)).replace(day=1)
    return first, last


def _group(
    values: Iterable[dict[str, Any]], by: tuple[str, ...], measures: tuple[str, ...], into: dict
) -> None:
    for row in values:
        key = tuple(_norm(row[k]) for k in by)
        acc = into.setdefault(key, dict.fromkeys(measures, 0))
        for m in measures:
            acc[m] += row.get(m) or 0


def _sum_rows(qs: QuerySet[Any], by: tuple[str, ...], sums: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """SUM per `by` group; with no grouping one aggregate row (an empty `values()` would select
    and group by every column, returning each rollup row to Python)."""
    if not by:
        return [qs.aggregate(**sums)]
    return qs.values(*by).annotate(**sums).order_by()


def _norm(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(SH).date() if v.tzinfo else v.date()
    return v


CASE_KEYS = frozenset({"day", "month", "township_id", "category_id", "channel"})
PLACE_KEYS = frozenset({"day", "month", "township_id", "region_id", "grid_id", "category_id"})


def _place_filter(qs: QuerySet[Any], s: Scope) -> QuerySet[Any]:
    qs = _rollup_filter(qs, Scope(township_id=s.township_id, category_ids=s.category_ids))
    if s.village_id is not None:
        qs = qs.filter(region_id=s.village_id)
    if s.grid_id is not None:
        qs = qs.filter(grid_id=s.grid_id)
    return qs


def case_source(s: Scope, by: tuple[str, ...]) -> str:
    """Which tables answer: "case" (township × category × channel), "handlercase" (the same for
    one handler's cases), "grid" (intake per grid), "place" (township × village × grid ×
    category), "placechannel" (the same × channel), "handlercaseplace" (place × category for one
    handler's cases) or "raw" (a handler and a channel filter together below a township, or a
    grouping no rollup has)."""
    keys = set(by)
    if s.handler_id is not None:
        if not s.raw and keys <= CASE_KEYS:
            return "handlercase"
        return "handlercaseplace" if not s.channel and keys <= PLACE_KEYS else "raw"
    if not s.raw and keys <= CASE_KEYS:
        return "case"
    if s.channel or "channel" in keys:
        return "placechannel" if keys <= PLACE_KEYS | {"channel"} else "raw"
    if not s.raw and s.category_ids is None and keys <= {"grid_id"}:
        return "grid"
    return "place" if keys <= PLACE_KEYS else "raw"


def _rollup_sums(
    models: tuple[type, type],
    flt: Callable[[QuerySet[Any]], QuerySet[Any]],
    start: dt.date,
    end: dt.date,
    by: tuple[str, ...],
    measures: tuple[str, ...],
) -> dict[tuple, dict[str, int]]:
    """Whole months from the month table, the edge days from the day table."""
    day_model, month_model = models
    out: dict[tuple, dict[str, int]] = {}
    sums = {m: Sum(m) for m in measures}
    first, last = (None, None) if "day" in by else _months(start, end)
    day_ranges = [(start, end)]
    if first is not None and last is not None:
        month_rows = flt(month_model.objects.filter(month__gte=first, month__lte=last))  # type: ignore[attr-defined]
        _group(_sum_rows(month_rows, by, sums), by, measures, out)
        next_month = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        day_ranges = [(start, first - dt.timedelta(days=1)), (next_month, end)]
    for lo, hi in day_ranges:
        if lo > hi:
            continue
        rows = flt(day_model.objects.filter(day__gte=lo, day__lte=hi))  # type: ignore[attr-defined]
        if "month" in by:
            rows = rows.annotate(month=TruncMonth("day"))
        _group(_sum_rows(rows, by, sums), by, measures, out)
    return out


def case_sums(
    s: Scope,
    start: dt.date,
    end: dt.date,
    by: tuple[str, ...] = (),
    measures: tuple[str, ...] = CASE_MEASURES,
) -> dict[tuple, dict[str, int]]:
    """Σ case `measures` over cases received on local days [start, end], grouped by `by`
    (any of day, month, township_id, category_id, channel, grid_id, region_id). Asking for intake
    alone lets the county-wide place reads stay inside their covering indexes."""
    source = case_source(s, by)
    if source == "case":
        return _rollup_sums((CaseDay, CaseMonth), lambda qs: _rollup_filter(qs, s), start, end, by, measures)
    if source == "handlercase":
        return _rollup_sums(
            (HandlerCaseDay, HandlerCaseMonth),
            lambda qs: _rollup_filter(qs, s).filter(handler_id=s.handler_id),
            start,
            end,
            by,
            measures,
        )
    if source == "place":
        return _rollup_sums((PlaceDay, PlaceMonth), lambda qs: _place_filter(qs, s), start, end, by, measures)
    if source == "placechannel":
        return _rollup_sums(
            (PlaceChannelDay, PlaceChannelMonth),
            lambda qs: _place_filter(qs, s).filter(**({"channel": s.channel} if s.channel else {})),
            start,
            end,
            by,
            measures,
        )
    if source == "handlercaseplace":
        return _rollup_sums(
            (HandlerCasePlaceDay, HandlerCasePlaceMonth),
            lambda qs: _place_filter(qs, s).filter(handler_id=s.handler_id),
            start,
            end,
            by,
            measures,
        )
    if source == "grid":
        return _rollup_sums(
            (GridDay, GridMonth), lambda qs: _rollup_filter(qs, s), start, end, by, ("intake",)
        )
    out: dict[tuple, dict[str, int]] = {}
    qs = case_queryset(s).filter(
        received_at__gte=local_start(start), received_at__lt=local_start(end) + dt.timedelta(days=1)
    )
    names = {
        "day": TruncDate("received_at", tzinfo=SH),
        "month": TruncMonth("received_at", tzinfo=SH),
        "township_id": Coalesce("township_id", Value(0)),
        "category_id": Coalesce("category_id", Value(0)),
        "grid_id": Coalesce("grid_id", Value(0)),
        "region_id": Coalesce("region_id", Value(0)),
        "channel": F("channel"),
    }
    aggs = {m: agg for m, agg in _case_raw_aggregates().items() if m in measures}
    _group(_raw_rows(qs, names, by, aggs), by, measures, out)
    return out


# ----- assignments -------------------------------------------------------------------------------


def _assignment_queryset(s: Scope) -> QuerySet[Assignment]:
    qs = Assignment.objects.all()
    if s.grid_id is not None:
        qs = qs.filter(case__grid_id=s.grid_id)
    if s.village_id is not None:
        qs = qs.filter(case__region_id=s.village_id)
    elif s.township_id is not None:
        qs = qs.filter(case__township_id=s.township_id)
    if s.category_ids is not None:
        qs = qs.filter(case__category_id__in=s.category_ids)
    if s.channel:
        qs = qs.filter(case__channel=s.channel)
    if s.handler_id is not None:
        qs = qs.filter(handler_id=s.handler_id)
    return qs


def _handler_raw(
    s: Scope, start: dt.date, end: dt.date, by: tuple[str, ...], part: str
) -> list[dict[str, Any]]:
    at = "started_at" if part == "start" else "deadline"
    lo, hi = local_start(start), local_start(end) + dt.timedelta(days=1)
    qs = _assignment_queryset(s).filter(**{f"{at}__gte": lo, f"{at}__lt": hi})
    names = {
        "day": TruncDate(at, tzinfo=SH),
        "month": TruncMonth(at, tzinfo=SH),
        "handler_id": F("handler_id"),
        "township_id": Coalesce("case__township_id", Value(0)),
        "category_id": Coalesce("case__category_id", Value(0)),
        "channel": F("case__channel"),
    }
    live = ~Q(status="cancelled")
    primary = Q(role="primary")
    if part == "start":
        disposed = live & primary & Q(status__in=["reported", "done"], reported_at__isnull=False)
        done = primary & Q(status="done")
        aggs = {
            "dispatched": Count("id", filter=live),
            "responded": Count("id", filter=live & (Q(accepted_at__isnull=False) | Q(status="returned"))),
            "returned": Count("id", filter=Q(status="returned")),
            "rework": Coalesce(Sum("rework_count", filter=live), 0),
            "disposed": Count("id", filter=disposed),
            "disposal_secs": Coalesce(Sum(Secs(F("started_at"), F("reported_at")), filter=disposed), 0),
            "rated": Count("id", filter=done & ~Q(case__satisfaction="")),
            "satisfied": Count("id", filter=done & Q(case__satisfaction__in=SATISFIED)),
        }
    else:
        due = primary & live
        aggs = {
            "due": Count("id", filter=due),
            "on_time": Count("id", filter=due & Q(on_time=True, status__in=["reported", "done"])),
            "suspended": Count(
                "id", filter=due & Q(Exists(ClockPause.objects.filter(assignment=OuterRef("pk"))))
            ),
        }
    return _raw_rows(qs, names, by, aggs)


def _raw_rows(
    qs: QuerySet[Any], names: dict[str, Any], by: tuple[str, ...], aggs: dict[str, Any]
) -> list[dict]:
    """GROUP BY `by` (or one aggregate row); measures are prefixed so none shadows a model field."""
    prefixed = {f"m_{m}": agg for m, agg in aggs.items()}
    if not by:
        rows = [qs.aggregate(**prefixed)]
    else:
        rows = list(qs.values(**{f"k_{k}": names[k] for k in by}).annotate(**prefixed).order_by())
    return [{**{m: r[f"m_{m}"] for m in aggs}, **{k: r[f"k_{k}"] for k in by}} for r in rows]


def handler_sums(
    s: Scope, start: dt.date, end: dt.date, by: tuple[str, ...] = ()
) -> dict[tuple, dict[str, int]]:
    """Σ assignment measures: the started-day ones over assignments started in [start, end], the
    due ones over primary assignments whose deadline falls in it (as shanzhi.cases.kpis). Below a
    township the handler place tables answer; with a channel too, the raw rows."""
    if s.raw and (s.channel or "channel" in by):
        out: dict[tuple, dict[str, int]] = {}
        for part in ("start", "due"):
            _group(_handler_raw(s, start, end, by, part), by, HANDLER_MEASURES, out)
        return out
    models: tuple[type, type] = (HandlerPlaceDay, HandlerPlaceMonth) if s.raw else (HandlerDay, HandlerMonth)

    def flt(qs: QuerySet[Any]) -> QuerySet[Any]:
        qs = _place_filter(qs, s) if s.raw else _rollup_filter(qs, s)
        return qs.filter(handler_id=s.handler_id) if s.handler_id is not None else qs

    return _rollup_sums(models, flt, start, end, by, HANDLER_MEASURES)


# ----- current state (live rows) -----------------------------------------------------------------


def open_primary(s: Scope) -> QuerySet[Assignment]:
    """Open primary assignments (pending or accepted) of the scope: overdue and due-today read
    these. The current-state queries live in `openwork` (their SQL shape matters on SQLite)."""
    from shanzhi.cockpit.openwork import open_primary as live

    return live(s)
