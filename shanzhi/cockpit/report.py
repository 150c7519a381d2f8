"""The printable monthly report: the month's tiles, charts drawn with reportlab graphics from the
same panel data the page shows, and a commentary computed from it (`commentary.py`).

The Chinese font and paragraph styles are the one-window PDFs' (reportlab's built-in CID font
STSong-Light), imported rather than registered again.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.utils import timezone
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from shanzhi.cockpit import commentary, panels
from shanzhi.cockpit.filters import CockpitFilter, filter_parse
from shanzhi.core.selectors import jurisdiction_root
from shanzhi.onewindow.pdf import ACCENT, BODY, CELL, CELL_HEAD, FONT, HEADING, SUBTITLE, TITLE

PALETTE = [
    colors.HexColor(c) for c in ("#1d4f91", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999999")
]
GRID_LINE = colors.HexColor("#8a949e")
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- reading the panels ---------------------------------------------------------------------------


def rows(panel: Mapping[str, Any], *keys: str) -> list[Mapping[str, Any]]:
    """The panel's list of row dicts (under the first of `keys` present, else "rows")."""
    for key in (*keys, "rows"):
        value = panel.get(key)
        if isinstance(value, list):
            return [r for r in value if isinstance(r, Mapping)]
    return []


def num(row: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        value = row.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return 0


def rate(row: Mapping[str, Any], key: str) -> float | None:
    value = row.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def text(row: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = row.get(key)
        if isinstance(value, Mapping):
            value = value.get("name")
        if value:
            return str(value)
    return ""


def groups_of(shares: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows(shares):
        group = text(r, "group") or "未分类"
        out[group] = out.get(group, 0) + num(r, "count")
    return out


def townships_of(ranking: Mapping[str, Any]) -> dict[str, int]:
    return {text(r, "name", "code"): num(r, "intake", "received", "count") for r in rows(ranking)}


def month_figures(
    *,
    label: str,
    current: Mapping[str, Mapping[str, Any]],
    previous: Mapping[str, Mapping[str, Any]],
) -> commentary.MonthFigures:
    """The commentary's input from the month's panels and the previous month's."""
    kpis = current.get("kpis", {})
    shares, before = current.get("category_shares", {}), previous.get("category_shares", {})
    groups, previous_groups = groups_of(shares), groups_of(before)
    total = num(shares, "total") if "total" in shares else sum(groups.values())
    previous_total = num(before, "total") if "total" in before else sum(previous_groups.values())
    grids = [
        commentary.Grid(
            name=text(g, "name", "code"),
            place=" ".join(p for p in (text(g, "township"), text(g, "village")) if p),
            intake=num(g, "intake", "count"),
            overdue=num(g, "overdue"),
        )
        for g in rows(current.get("hotspots", {}), "grids")
    ]
    handlers = [
        commentary.HandlerLine(
            name=text(h, "name", "code"),
            dispatched=num(h, "dispatched"),
            overdue=num(h, "overdue"),
            on_time_rate=rate(h, "on_time_rate"),
        )
        for h in rows(current.get("handler_ranking", {}))
    ]
    repeats = [
        commentary.Repeat(
            place=text(r, "place_name", "place", "grid_name", "grid", "village_name", "village"),
            category=text(r, "category_name", "category"),
            count=num(r, "max_in_30_days", "count"),
        )
        for r in rows(current.get("repeat_complaints", {}))
    ]
    return commentary.MonthFigures(
        label=label,
        total=total,
        previous_total=previous_total,
        groups=groups,
        previous_groups=previous_groups,
        townships=townships_of(current.get("township_ranking", {})),
        previous_townships=townships_of(previous.get("township_ranking", {})),
        grids=grids,
        handlers=handlers,
        repeats=repeats,
        overdue=num(kpis, "overdue"),
        on_time_rate=rate(kpis, "on_time_rate"),
        satisfaction_rate=rate(kpis, "satisfaction_rate"),
    )


def month_bounds(first: dt.date) -> tuple[dt.date, dt.date]:
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def _previous_month(first: dt.date) -> dt.date:
    return months_back(first, 1)


def months_back(first: dt.date, n: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_filter(*, user: Any, first: dt.date, region_code: str, today: dt.date) -> CockpitFilter:
    """The month (up to today if it is the current one) as a checked filter."""
    start, end = month_bounds(first)
    params = {"start": start.isoformat(), "end": min(end, today).isoformat(), "region": region_code}
    return filter_parse(user=user, params=params, today=today)


def _moment(day: dt.date) -> dt.datetime:
    """The end of `day`, or now if that is still to come: overdue counts "as at" that moment."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI) - dt.timedelta(
        seconds=1
    )
    return min(end, timezone.now())


def month_panels(*, user: Any, f: CockpitFilter) -> dict[str, dict[str, Any]]:
    now = _moment(f.end)
    out: dict[str, dict[str, Any]] = {"kpis": panels.kpis(user=user, f=f, now=now)}
    for name in ("category_shares", "township_ranking", "repeat_complaints", "intake_daily"):
        out[name] = _call(name, user=user, f=f, now=now)
    out["hotspots"] = _with_places(panels.hotspots(user=user, f=f, now=now))
    out["handler_ranking"] = panels.handler_ranking(user=user, f=f, now=now)
    return out


def _with_places(hot: dict[str, Any]) -> dict[str, Any]:
    """Grid rows with their village and township names, for a reader who does not know grids."""
    from shanzhi.grid.models import Grid

    codes = [g.get("code") for g in rows(hot, "grids")]
    places = {
        g.code: (g.village.parent.name if g.village.parent else "", g.village.name)
        for g in Grid.objects.filter(code__in=codes).select_related("village__parent")
    }
    for g in hot.get("grids") or []:
        if isinstance(g, dict):
            township, village = places.get(str(g.get("code")), ("", ""))
            g.setdefault("township", township)
            g.setdefault("village", village)
    return hot


def _call(name: str, *, user: Any, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    function = panels.PANELS[name]
    if name in panels.NEEDS_NOW:
        return function(user=user, f=f, now=now)
    return function(user=user, f=f)


# --- drawing --------------------------------------------------------------------------------------


def _p(value: str, style: Any = BODY) -> Paragraph:
    return Paragraph(escape(value), style)


def _table(data: list[list[str]], widths: list[float]) -> Table:
    cells = [[_p(c, CELL_HEAD if i == 0 else CELL) for c in row] for i, row in enumerate(data)]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("GRID", (0, 0), (-1, -1), 0.5, GRID_LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f5f7f9")]),
            ]
        )
    )
    return table


def _fmt_rate(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


TILE_ROWS = [
    ("intake", "期间受理", "count"),
    ("open", "在办", "count"),
    ("overdue", "超期", "count"),
    ("response_rate", "响应率", "rate"),
    ("resolution_rate", "解决率", "rate"),
    ("satisfaction_rate", "满意率", "rate"),
    ("on_time_rate", "按期结案率", "rate"),
    ("avg_disposal_hours", "平均处置时长(小时)", "hours"),
    ("applications", "办件量", "count"),
    ("application_satisfaction_rate", "办件满意率", "rate"),
]


def tiles_table(kpis: Mapping[str, Any], width: float) -> Table:
    present = [(k, lbl, kind) for k, lbl, kind in TILE_ROWS if k in kpis]
    values = []
    for key, _, kind in present:
        value = kpis[key]
        if kind == "rate":
            values.append(_fmt_rate(value))
        elif value is None:
            values.append("—")
        elif kind == "hours":
            values.append(f"{float(value):.1f}")
        else:
            values.append(f"{int(value):,}")
    half = (len(present) + 1) // 2
    data = []
    for chunk in (slice(0, half), slice(half, None)):
        labels = [lbl for _, lbl, _ in present[chunk]]
        data += [labels + [""] * (half - len(labels)), values[chunk] + [""] * (half - len(labels))]
    if not data or not present:
        return _table([["指标"], ["本月暂无数据"]], [width])
    cells = [[_p(c, CELL_HEAD if i % 2 == 0 else BODY) for c in row] for i, row in enumerate(data)]
    table = Table(cells, colWidths=[width / half] * half)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("BACKGROUND", (0, 2), (-1, 2), ACCENT),
                ("GRID", (0, 0), (-1, -1), 0.5, GRID_LINE),
            ]
        )
    )
    return table


def _caption(drawing: Drawing, value: str, width: float, height: float) -> None:
    drawing.add(String(width / 2, height - 12, value, fontName=FONT, fontSize=10, textAnchor="middle"))


def daily_chart(daily: Mapping[str, Any], width: float) -> Drawing:
    """Daily intake (all groups together) as bars."""
    days = list(daily.get("days") or [])
    totals = [0] * len(days)
    for s in daily.get("series") or []:
        for i, v in enumerate((s.get("values") or [])[: len(days)]):
            totals[i] += int(v or 0)
    height = 60 * mm
    drawing = Drawing(width, height)
    _caption(drawing, "每日受理量(件)", width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 20, width - 45, height - 45
    chart.data = [totals or [0]]
    chart.categoryAxis.categoryNames = [str(d)[-2:] for d in days] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def groups_pie(groups: Mapping[str, int], width: float) -> Drawing:
    height = 62 * mm
    drawing = Drawing(width, height)
    _caption(drawing, "诉求大类占比", width, height)
    items = sorted(((n, c) for n, c in groups.items() if c > 0), key=lambda x: -x[1])
    if len(items) > len(PALETTE):
        rest = sum(c for _, c in items[len(PALETTE) - 1 :])
        items = [*items[: len(PALETTE) - 1], ("其他", rest)]
    if not items:
        drawing.add(
            String(width / 2, height / 2, "本月暂无数据", fontName=FONT, fontSize=10, textAnchor="middle")
        )
        return drawing
    pie = Pie()
    size = height - 30
    pie.x, pie.y, pie.width, pie.height = 10, 8, size, size
    pie.data = [c for _, c in items]
    pie.labels = None
    pie.slices.strokeColor = colors.white
    for i in range(len(items)):
        pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
    drawing.add(pie)
    total = sum(pie.data)
    legend = Legend()
    legend.x, legend.y = size + 30, height - 25
    legend.fontName = FONT
    legend.fontSize = 8
    legend.alignment = "right"
    legend.colorNamePairs = [
        (PALETTE[i % len(PALETTE)], f"{n}  {c} 件 {c / total * 100:.1f}%") for i, (n, c) in enumerate(items)
    ]
    drawing.add(legend)
    return drawing


def township_bars(townships: Mapping[str, int], width: float) -> Drawing:
    items = sorted(townships.items(), key=lambda x: (x[1], x[0]))[-12:]
    height = max(40 * mm, (len(items) * 14 + 40))
    drawing = Drawing(width, height)
    _caption(drawing, "各乡镇(街道)受理量(件)", width, height)
    if not items:
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 90, 10, width - 110, height - 35
    chart.data = [[c for _, c in items]]
    chart.categoryAxis.categoryNames = [n for n, _ in items]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = PALETTE[1]
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def trend_chart(focus: Mapping[str, Any], width: float) -> Drawing:
    """The seed's panel over the last twelve months: monthly totals as a line."""
    months = [str(m) for m in focus.get("months") or []]
    totals = [int(t or 0) for t in focus.get("totals") or []]
    height = 55 * mm
    drawing = Drawing(width, height)
    _caption(drawing, "近十二个月受理总量(件)", width, height)
    if not months or not totals:
        return drawing
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 30, 20, width - 45, height - 45
    chart.data = [totals]
    chart.categoryAxis.categoryNames = [m[-5:] for m in months]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.lines[0].strokeColor = ACCENT
    chart.lines[0].strokeWidth = 1.5
    drawing.add(chart)
    return drawing


def focus_table(focus: Mapping[str, Any], width: float) -> Table | None:
    months = [str(m) for m in focus.get("months") or []]
    series = [s for s in focus.get("series") or [] if isinstance(s, Mapping)]
    totals = list(focus.get("totals") or [])
    if not months:
        return None
    head = ["月份", "总量", *[text(s, "group", "name", "label") + "占比" for s in series]]
    data = [head]
    for i, month in enumerate(months):
        row = [month, str(totals[i] if i < len(totals) else "")]
        for s in series:
            shares = s.get("shares") or s.get("values") or []
            row.append(
                _fmt_rate(shares[i])
                if i < len(shares) and isinstance(shares[i], float)
                else str(shares[i] if i < len(shares) else "")
            )
        data.append(row)
    return _table(data, [width / len(head)] * len(head))


def _top_grids_table(figures: commentary.MonthFigures, width: float) -> Table | None:
    busy = sorted((g for g in figures.grids if g.intake), key=lambda g: (-g.intake, g.name))[:10]
    if not busy:
        return None
    data = [["网格", "所在地", "受理", "超期"]] + [
        [g.name, g.place, str(g.intake), str(g.overdue)] for g in busy
    ]
    return _table(data, [width * 0.3, width * 0.4, width * 0.15, width * 0.15])


def _handlers_table(figures: commentary.MonthFigures, width: float) -> Table | None:
    lines = sorted(
        figures.handlers,
        key=lambda h: (-h.overdue, h.on_time_rate if h.on_time_rate is not None else 2, h.name),
    )[:10]
    if not lines:
        return None
    data = [["承办单位", "派遣", "超期", "按期办结率"]] + [
        [h.name, str(h.dispatched), str(h.overdue), _fmt_rate(h.on_time_rate)] for h in lines
    ]
    return _table(data, [width * 0.46, width * 0.18, width * 0.18, width * 0.18])


def render_pdf(
    *,
    title: str,
    scope: str,
    figures: commentary.MonthFigures,
    current: Mapping[str, Mapping[str, Any]],
    focus: Mapping[str, Any],
) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="善治基层治理平台",
        subject="数据驾驶舱月报",
    )
    width = doc.width
    story: list[Flowable] = [
        _p(title, TITLE),
        _p(scope, SUBTITLE),
        _p("一、关键指标", HEADING),
        tiles_table(current.get("kpis", {}), width),
        _p("二、分析与提示", HEADING),
    ]
    for section in commentary.commentary(figures):
        story.append(_p(f"【{section.title}】" + "".join(section.sentences), BODY))
        story.append(Spacer(1, 1.5 * mm))
    story += [
        _p("三、受理趋势与构成", HEADING),
        daily_chart(current.get("intake_daily", {}), width),
        groups_pie(figures.groups, width),
        KeepTogether([township_bars(figures.townships, width)]),
        KeepTogether([trend_chart(focus, width)]),
    ]
    table = focus_table(focus, width)
    if table is not None:
        story += [_p("环境卫生、物业管理、噪音诉求占比(近十二个月)", BODY), table]
    story.append(_p("四、热点网格", HEADING))
    story.append(_top_grids_table(figures, width) or _p("本月没有落到网格的诉求。"))
    story.append(_p("五、承办单位办理情况", HEADING))
    story.append(_handlers_table(figures, width) or _p("本月没有派遣记录。"))

    def footer(c: Any, _doc: Any) -> None:
        c.saveState()
        c.setFont(FONT, 8.5)
        c.setFillColor(colors.HexColor("#555555"))
        c.drawCentredString(A4[0] / 2, 9 * mm, f"{title} · 第 {c.getPageNumber()} 页")
        c.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def monthly_pdf(*, user: Any, month: dt.date, region_code: str, today: dt.date) -> bytes:
    """The month's report for `user` (their jurisdiction, or one region in it)."""
    first = month.replace(day=1)
    f = month_filter(user=user, first=first, region_code=region_code, today=today)
    previous_first = _previous_month(first)
    previous_f = month_filter(user=user, first=previous_first, region_code=region_code, today=today)
    current = month_panels(user=user, f=f)
    previous = {
        "category_shares": panels.category_shares(user=user, f=previous_f),
        "township_ranking": panels.township_ranking(user=user, f=previous_f, now=_moment(previous_f.end)),
    }
    focus = panels.seed_focus(user=user, f=dataclasses.replace(f, start=months_back(first, 11)))
    label = f"{first.year}年{first.month}月"
    figures = month_figures(label=label, current=current, previous=previous)
    scope = _scope(user=user, region_code=f.region_code)
    return render_pdf(
        title=f"数据驾驶舱月报 · {label}", scope=scope, figures=figures, current=current, focus=focus
    )


def _scope(*, user: Any, region_code: str) -> str:
    from shanzhi.core.models import Region

    region = Region.objects.filter(code=region_code).first() if region_code else jurisdiction_root(user=user)
    return f"范围:{region.name}" if region is not None else ""


def section_texts(sections: Sequence[commentary.Section]) -> str:
    return "\n".join(f"{s.title}:" + "".join(s.sentences) for s in sections)
