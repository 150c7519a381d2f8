"""The cockpit's one filter: a date range and optional place, category, channel and handler.

Every panel, tile, drill-down list and export takes a `CockpitFilter`; pages and the API build
it from query parameters with `filter_parse`, which also enforces the reader's jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shanzhi.cases.models import Category, Channel
from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Handler, Region, RegionLevel
from shanzhi.core.selectors import jurisdiction_root

DEFAULT_DAYS = 30
MAX_DAYS = 3653  # ten years
PARAMS = ("start", "end", "region", "grid", "category", "channel", "handler")


@dataclass(frozen=True)
class CockpitFilter:
    start: dt.date  # inclusive, local (Asia/Shanghai) days
    end: dt.date  # inclusive
    region_code: str = ""  # township or village (12 digits), within the user's jurisdiction
    grid_code: str = ""
    category_code: str = ""  # a Category.code, or "g:<group>" for a category group
    channel: str = ""  # cases.models.Channel value
    handler_code: str = ""  # core Handler.code

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _bad(message: str, field: str) -> ServiceError:
    return ServiceError("bad_filter", message, details={"field": field}, status=422)


def _date(raw: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise _bad(f"日期格式应为 YYYY-MM-DD:{raw[:20]}", field) from exc


def filter_parse(*, user: Any, params: Mapping[str, str], today: dt.date) -> CockpitFilter:
    """Build and check a filter; a region outside the reader's jurisdiction is NotFound (404)."""
    get = {k: (params.get(k) or "").strip() for k in PARAMS}
    end = _date(get["end"], "end") if get["end"] else today
    start = _date(get["start"], "start") if get["start"] else end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise _bad("开始日期不能晚于结束日期", "start")
    if (end - start).days + 1 > MAX_DAYS:
        raise _bad("时间范围不能超过十年", "start")
    root = jurisdiction_root(user=user)
    if root is None:
        raise NotFound()
    region_code = get["region"]
    if region_code:
        if not (len(region_code) == 12 and region_code.isdigit()):
            raise _bad("区域代码应为 12 位数字", "region")
        region = Region.objects.filter(code=region_code).first()
        if region is None or not region.path.startswith(root.path):
            raise NotFound("区域不存在或不在您的管辖范围内")
        if region.level == RegionLevel.COUNTY:
            region_code = ""  # the whole county is no filter
    grid_code = get["grid"]
    if grid_code:
        from shanzhi.grid.models import Grid

        grid = Grid.objects.select_related("village").filter(code=grid_code[:20]).first()
        if grid is None or not grid.village.path.startswith(root.path):
            raise NotFound("网格不存在或不在您的管辖范围内")
    category = get["category"]
    if category:
        if category.startswith("g:"):
            if not Category.objects.filter(group=category[2:]).exists():
                raise _bad(f"未知的类别大类:{category[2:40]}", "category")
        elif not Category.objects.filter(code=category[:8]).exists() or len(category) > 8:
            raise _bad(f"未知的类别代码:{category[:20]}", "category")
    channel = get["channel"]
    if channel and channel not in Channel.values:
        raise _bad(f"未知的来源渠道:{channel[:20]}", "channel")
    handler = get["handler"]
    if handler and (len(handler) > 64 or not Handler.objects.filter(code=handler).exists()):
        raise _bad(f"未知的承办单位:{handler[:64]}", "handler")
    return CockpitFilter(
        start=start,
        end=end,
        region_code=region_code,
        grid_code=grid_code,
        category_code=category,
        channel=channel,
        handler_code=handler,
    )


def filter_query(f: CockpitFilter) -> dict[str, str]:
    """The filter as query parameters (for links and exports); empty values are left out."""
    query = {
        "start": f.start.isoformat(),
        "end": f.end.isoformat(),
        "region": f.region_code,
        "grid": f.grid_code,
        "category": f.category_code,
        "channel": f.channel,
        "handler": f.handler_code,
    }
    return {k: v for k, v in query.items() if v}
