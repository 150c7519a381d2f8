"""Cockpit pages: the dashboard with its filter bar, tiles and charts, the drill-down lists behind
the tiles, Excel exports of every panel and list, and the monthly PDF report.

Views only read the filter (`filters.filter_parse`), call `panels` / `drill` and render; the
charts fetch their JSON from the cockpit API so the page itself answers fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from shanzhi.cases.models import OPEN_STATUSES, Category, Channel
from shanzhi.cockpit import drill, excel, panels, report
from shanzhi.cockpit.filters import CockpitFilter, filter_parse, filter_query
from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Region, RegionLevel
from shanzhi.core.selectors import handler_list, jurisdiction_root, region_list
from shanzhi.web import pages as web_pages

ROLES = frozenset({"leader", "supervisor", "dispatcher", "admin"})
PER_PAGE = 50
_PROBLEM = "cockpit/problem.html"
page = partial(
    web_pages.page,
    template=_PROBLEM,
    roles=ROLES,
    wrong_role_message="驾驶舱仅对领导、督查、调度和管理员开放。",
)


@dataclass(frozen=True)
class Tile:
    key: str  # the kpis() key
    label: str
    kind: str  # count | rate | hours
    drill: str  # drill-down list name ("applications" for the one-window list)
    hint: str = ""


TILES = [
    Tile("today_intake", "今日受理", "count", "today_intake", "今天受理的诉求"),
    Tile("intake", "期间受理", "count", "intake", "所选时间内受理的诉求"),
    Tile("open", "在办", "count", "open", "尚未办结的诉求"),
    Tile("due_today", "今日到期", "count", "due_today", "今天到期、尚未办结"),
    Tile("overdue", "超期", "count", "overdue", "已过办结时限、尚未办结"),
    Tile("response_rate", "响应率", "rate", "intake", "派遣后签收或说明理由退回的比例"),
    Tile("resolution_rate", "解决率", "rate", "closed", "受理的诉求中已结案的比例"),
    Tile("satisfaction_rate", "满意率", "rate", "rated", "评价中满意、基本满意的比例"),
    Tile("on_time_rate", "按期结案率", "rate", "closed", "主办单位在时限内办结的比例"),
    Tile("avg_disposal_hours", "平均处置时长", "hours", "closed", "受理到结案的平均小时数"),
    Tile("applications", "办件量", "count", "applications", "一窗受理的申请"),
    Tile("application_satisfaction_rate", "办件满意率", "rate", "applications", "办件评价中的满意比例"),
]
DRILL_TITLES = {
    "today_intake": "今日受理的诉求",
    "intake": "期间受理的诉求",
    "open": "在办诉求",
    "due_today": "今日到期的诉求",
    "overdue": "超期诉求",
    "closed": "期间结案的诉求",
    "rated": "期间评价的诉求",
    "satisfied": "期间评价满意的诉求",
    "applications": "期间的办件",
}
PANEL_TITLES = {
    "kpis": "关键指标",
    "intake_daily": "每日受理量(按大类)",
    "intake_monthly": "每月受理量(按大类)",
    "category_shares": "诉求类别占比",
    "hotspots": "网格热点",
    "handler_ranking": "承办单位排名",
    "township_ranking": "乡镇(街道)排名",
    "repeat_complaints": "重复诉求",
    "seasonal": "同期对比(今年与去年)",
    "seed_focus": "月度总量与环境卫生、物业管理、噪音占比",
}
QUICK_RANGES = [("today", "今日"), ("7d", "近7天"), ("30d", "近30天"), ("month", "本月"), ("year", "本年")]


# --- filters ----------------------------------------------------------------------------------------


def _params(query: QueryDict) -> dict[str, str]:
    """The page's form sends township / village / grid selects; the filter knows one `region`."""
    params = {
        k: query.get(k, "") for k in ("start", "end", "region", "grid", "category", "channel", "handler")
    }
    village, township = query.get("village", ""), query.get("township", "")
    if village or township:
        params["region"] = village or township
    return params


def _today() -> dt.date:
    return timezone.localdate()


def quick_range(key: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if key == "today":
        return today, today
    if key == "7d":
        return today - dt.timedelta(days=6), today
    if key == "month":
        return today.replace(day=1), today
    if key == "year":
        return today.replace(month=1, day=1), today
    return today - dt.timedelta(days=29), today


def _query_string(f: CockpitFilter, **extra: str) -> str:
    return urlencode({**filter_query(f), **{k: v for k, v in extra.items() if v}})


def filter_labels(f: CockpitFilter) -> list[tuple[str, str]]:
    """The filter in words, for the top of an export or report."""
    out = [("时间范围", f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d}")]
    if f.region_code:
        region = Region.objects.filter(code=f.region_code).first()
        out.append(("区域", f"{region.name}({f.region_code})" if region else f.region_code))
    if f.grid_code:
        from shanzhi.grid.models import Grid

        grid = Grid.objects.filter(code=f.grid_code).first()
        out.append(("网格", f"{grid.name}({f.grid_code})" if grid else f.grid_code))
    if f.category_code:
        if f.category_code.startswith("g:"):
            out.append(("类别", f"{f.category_code[2:]}(大类)"))
        else:
            category = Category.objects.filter(code=f.category_code).first()
            out.append(("类别", f"{category.name}({f.category_code})" if category else f.category_code))
    if f.channel:
        out.append(("渠道", dict(Channel.choices).get(f.channel, f.channel)))
    if f.handler_code:
        from shanzhi.core.models import Handler

        handler = Handler.objects.filter(code=f.handler_code).first()
        out.append(("承办单位", handler.name if handler else f.handler_code))
    return out


def _choices(request: HttpRequest, f: CockpitFilter | None) -> dict[str, Any]:
    """Options of the filter bar, limited to the reader's jurisdiction; villages and grids of the
    chosen township/village so the cascade shows the current choice without script."""
    user = request.user
    root = jurisdiction_root(user=user)
    townships = list(region_list(user=user).filter(level=RegionLevel.TOWNSHIP).order_by("code"))
    chosen = Region.objects.filter(code=f.region_code).first() if f and f.region_code else None
    township = village = None
    if chosen is not None:
        township = chosen if chosen.level == RegionLevel.TOWNSHIP else chosen.parent
        village = chosen if chosen.level == RegionLevel.VILLAGE else None
    elif root is not None and root.level == RegionLevel.TOWNSHIP:
        township = root
    if root is not None and root.level == RegionLevel.VILLAGE:
        village = root
    groups: dict[str, list[Category]] = {}
    for c in Category.objects.filter(active=True).order_by("code"):
        groups.setdefault(c.group, []).append(c)
    return {
        "townships": townships,
        "township": township,
        "villages": _villages(user, township.code) if township else [],
        "village": village,
        "grids": _grids(user, village.code) if village else [],
        "category_groups": groups,
        "channels": Channel.choices,
        "handlers": list(handler_list(user=user).order_by("name")),
        "quick": QUICK_RANGES,
    }


def _villages(user: Any, township_code: str) -> list[Region]:
    return list(
        region_list(user=user).filter(level=RegionLevel.VILLAGE, parent__code=township_code).order_by("code")
    )


def _grids(user: Any, village_code: str) -> list[Any]:
    from shanzhi.grid.selectors import grid_list

    try:
        return list(grid_list(user=user, village_code=village_code))
    except ServiceError:
        return []


def _filter_or_problem(request: HttpRequest) -> tuple[CockpitFilter | None, str]:
    """The filter, or the reason it was refused (NotFound still becomes the 404 page)."""
    try:
        return filter_parse(user=request.user, params=_params(request.GET), today=_today()), ""
    except NotFound:
        raise
    except ServiceError as exc:
        return None, exc.message


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if kind == "hours":
        return f"{float(value):.1f}"
    return f"{int(value):,}"


def tile_values(*, request: HttpRequest, f: CockpitFilter, now: dt.datetime) -> list[dict[str, Any]]:
    data = panels.kpis(user=request.user, f=f, now=now)
    query = _query_string(f)
    out = []
    for t in TILES:
        if t.key not in data:
            continue
        out.append(
            {
                "key": t.key,
                "label": t.label,
                "value": _fmt(data[t.key], t.kind),
                "unit": "小时" if t.kind == "hours" else ("" if t.kind == "rate" else "件"),
                "hint": t.hint,
                "url": f"{reverse('cockpit:drill', args=[t.drill])}?{query}",
            }
        )
    return out


# --- pages ----------------------------------------------------------------------------------------


@page()
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    f, error = _filter_or_problem(request)
    today = _today()
    context: dict[str, Any] = {
        "error": error,
        "filter": f,
        "choices": _choices(request, f),
        "today": today,
        "form_start": f.start.isoformat() if f else request.GET.get("start", ""),
        "form_end": f.end.isoformat() if f else request.GET.get("end", ""),
    }
    if f is None:
        return render(request, "cockpit/home.html", context, status=422)
    now = timezone.now()
    query = _query_string(f)
    api_root = reverse("api:api-root")
    panel_urls = {name: f"{api_root}cockpit/{name}?{query}" for name in panels.PANELS}
    # The worst repeats on the page; the Excel export lists them all.
    panel_urls["repeat_complaints"] += f"&limit={settings.COCKPIT_REPEAT_PAGE_ROWS}"
    context.update(
        {
            "tiles": tile_values(request=request, f=f, now=now),
            "query": query,
            "filters_text": filter_labels(f),
            "quick_links": [(label, _quick_query(f, key, today)) for key, label in QUICK_RANGES],
            "kpis_export": f"{reverse('cockpit:export', args=['kpis'])}?{query}",
            "panel_list": [
                {"name": name, "title": title, "export": f"{reverse('cockpit:export', args=[name])}?{query}"}
                for name, title in PANEL_TITLES.items()
                if name in panels.PANELS
            ],
            "report_url": reverse("cockpit:report", args=[f"{f.end:%Y-%m}"]) + f"?{_region_query(f)}",
            "config": {
                "panels": panel_urls,
                "grids": _grids_url(f),
                "titles": PANEL_TITLES,
                "labels": excel.LABELS,
                "words": excel.WORDS,
            },
        }
    )
    return render(request, "cockpit/home.html", context)


def _quick_query(f: CockpitFilter, key: str, today: dt.date) -> str:
    start, end = quick_range(key, today)
    return urlencode({**filter_query(f), "start": start.isoformat(), "end": end.isoformat()})


def _region_query(f: CockpitFilter) -> str:
    return urlencode({"region": f.region_code} if f.region_code else {})


def _grids_url(f: CockpitFilter) -> str:
    base = reverse("api:grid_list")
    if not f.region_code:
        return base
    region = Region.objects.filter(code=f.region_code).first()
    if region is None:
        return base
    key = "village" if region.level == RegionLevel.VILLAGE else "township"
    return f"{base}?{key}={region.code}"


@page()
@require_GET
def tiles(request: HttpRequest) -> HttpResponse:
    """The tiles alone, for the page's once-a-minute htmx refresh."""
    f, error = _filter_or_problem(request)
    if f is None:
        return render(request, "cockpit/_tiles.html", {"error": error}, status=422)
    return render(
        request, "cockpit/_tiles.html", {"tiles": tile_values(request=request, f=f, now=timezone.now())}
    )


@page()
@require_GET
def options(request: HttpRequest) -> HttpResponse:
    """The cascade: a township's villages, or a village's grids, as <option>s."""
    if "village" in request.GET:
        code = request.GET.get("village", "")
        items = [(g.code, g.name) for g in _grids(request.user, code)] if code else []
        return render(request, "cockpit/_options.html", {"items": items, "empty": "全部网格"})
    code = request.GET.get("township", "")
    items = [(v.code, v.name) for v in _villages(request.user, code)] if code else []
    return render(request, "cockpit/_options.html", {"items": items, "empty": "全部村/社区"})


CASE_COLUMNS: list[tuple[str, str, str]] = [
    ("number", "案卷编号", "auto"),
    ("received_at", "受理时间", "auto"),
    ("channel", "来源渠道", "auto"),
    ("category__group", "大类", "auto"),
    ("category__name", "类别", "auto"),
    ("township__name", "乡镇/街道", "auto"),
    ("region__name", "村/社区", "auto"),
    ("grid__name", "网格", "auto"),
    ("status", "状态", "auto"),
    ("deadline", "办结时限", "auto"),
    ("closed_at", "结案时间", "auto"),
    ("satisfaction", "满意度", "auto"),
]
APPLICATION_COLUMNS: list[tuple[str, str, str]] = [
    ("number", "办件编号", "auto"),
    ("created_at", "申请时间", "auto"),
    ("channel", "申请渠道", "auto"),
    ("item__name", "事项", "auto"),
    ("region__name", "所属区域", "auto"),
    ("department__name", "办理部门", "auto"),
    ("status", "状态", "auto"),
    ("deadline", "承诺办结时间", "auto"),
    ("finished_at", "办结时间", "auto"),
    ("satisfaction", "满意度", "auto"),
]


def _drill_qs(request: HttpRequest, f: CockpitFilter, tile: str, now: dt.datetime) -> QuerySet[Any]:
    if tile == "applications":
        return drill.drill_applications(user=request.user, f=f, now=now)
    return drill.drill_cases(user=request.user, f=f, tile=tile, now=now)


def _labels() -> dict[str, dict[str, str]]:
    from shanzhi.cases.models import CaseStatus, Satisfaction
    from shanzhi.onewindow.models_applications import ApplicationStatus

    return {
        "channel": dict(Channel.choices),
        "status": {**dict(ApplicationStatus.choices), **dict(CaseStatus.choices)},
        "satisfaction": dict(Satisfaction.choices),
    }


def _export_rows(rows: Any, columns: list[tuple[str, str, str]], case_statuses: bool) -> Any:
    """Codes in the rows as the words people read (渠道, 状态, 满意度)."""
    from shanzhi.cases.models import CaseStatus
    from shanzhi.onewindow.models_applications import ApplicationStatus

    labels = _labels()
    statuses = dict(CaseStatus.choices) if case_statuses else dict(ApplicationStatus.choices)
    index = {name: i for i, (name, _, _) in enumerate(columns)}
    for row in rows:
        for key in ("channel", "satisfaction"):
            i = index[key]
            row[i] = labels[key].get(row[i], row[i]) if row[i] else ""
        i = index["status"]
        row[i] = statuses.get(row[i], row[i])
        yield row


@page()
@require_GET
def drill_list(request: HttpRequest, tile: str) -> HttpResponse | FileResponse:
    if tile not in DRILL_TITLES:
        raise NotFound("没有这个指标的明细")
    f, error = _filter_or_problem(request)
    if f is None:
        return render(
            request, "cockpit/drill.html", {"error": error, "title": DRILL_TITLES[tile]}, status=422
        )
    now = timezone.now()
    qs = _drill_qs(request, f, tile, now)
    is_cases = tile != "applications"
    if request.GET.get("format") == "xlsx":
        columns = CASE_COLUMNS if is_cases else APPLICATION_COLUMNS
        total, rows = excel.limited(
            qs.order_by(*(["-received_at", "-id"] if is_cases else ["-created_at", "-id"])), columns
        )
        export = excel.Export(
            title=DRILL_TITLES[tile],
            filters=filter_labels(f),
            sheets=[
                excel.Sheet(
                    title=DRILL_TITLES[tile],
                    headers=[c[1] for c in columns],
                    kinds=[c[2] for c in columns],
                    rows=_export_rows(rows, columns, is_cases),
                    note=excel.truncation_note(total),
                )
            ],
        )
        return _xlsx(
            export, f"{tile}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.xlsx", truncated=total > excel.LIST_LIMIT
        )
    if is_cases:
        qs = qs.select_related("category", "township", "region", "grid").order_by("-received_at", "-id")
    else:
        qs = qs.select_related("item", "region", "department").order_by("-created_at", "-id")
    paged = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rest = request.GET.copy()
    rest.pop("page", None)
    return render(
        request,
        "cockpit/drill.html",
        {
            "title": DRILL_TITLES[tile],
            "tile": tile,
            "is_cases": is_cases,
            "page": paged,
            "now": now,
            "open_statuses": [str(s) for s in OPEN_STATUSES],
            "page_query": _query_string(f),
            "page_url": reverse("cockpit:drill", args=[tile]),
            "filters_text": filter_labels(f),
            "export_url": f"{reverse('cockpit:drill', args=[tile])}?{_query_string(f, format='xlsx')}",
            "back_url": f"{reverse('cockpit:home')}?{_query_string(f)}",
        },
    )


def _xlsx(export: excel.Export, filename: str, *, truncated: bool = False) -> FileResponse:
    response = FileResponse(
        excel.export_file(export), as_attachment=True, filename=filename, content_type=excel.XLSX
    )
    if truncated:
        response["X-Export-Truncated"] = str(excel.LIST_LIMIT)
    return response


def panel_data(*, request: HttpRequest, name: str, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    if name == "kpis":
        return panels.kpis(user=request.user, f=f, now=now)
    function = panels.PANELS[name]
    if name in panels.NEEDS_NOW:
        return function(user=request.user, f=f, now=now)
    return function(user=request.user, f=f)


@page()
@require_GET
def export_panel(request: HttpRequest, name: str) -> HttpResponse | FileResponse:
    if name not in PANEL_TITLES or (name != "kpis" and name not in panels.PANELS):
        raise NotFound("没有这个图表")
    f, error = _filter_or_problem(request)
    if f is None:
        return render(request, _PROBLEM, {"title": "筛选条件有误", "message": error}, status=422)
    data = panel_data(request=request, name=name, f=f, now=timezone.now())
    title = PANEL_TITLES[name]
    export = excel.Export(title=title, filters=filter_labels(f), sheets=excel.panel_sheets(title, data))
    return _xlsx(export, f"{name}-{f.start:%Y%m%d}-{f.end:%Y%m%d}.xlsx")


@page()
@require_GET
def monthly_report(request: HttpRequest, month: str) -> HttpResponse:
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        return render(
            request,
            _PROBLEM,
            {"title": "月份有误", "message": f"月份应为 YYYY-MM,例如 2025-07:{month[:10]}"},
            status=422,
        )
    today = _today()
    if first > today:
        return render(
            request, _PROBLEM, {"title": "月份有误", "message": "不能生成未来月份的报告"}, status=422
        )
    try:
        pdf = report.monthly_pdf(
            user=request.user, month=first, region_code=request.GET.get("region", ""), today=today
        )
    except NotFound:
        raise
    except ServiceError as exc:
        return render(request, _PROBLEM, {"title": "无法生成报告", "message": exc.message}, status=422)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="cockpit-{month}.pdf"'
    return response
