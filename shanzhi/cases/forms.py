"""Input parsing for the case pages: form fields → typed values, or a ServiceError naming the field.

The services decide what is allowed; this module only turns strings into numbers, codes into
catalogue rows and uploads into bytes, and says which input an error belongs to so a page can
show it next to that input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict

from shanzhi.cases.models import Case, CaseStatus, Category, Channel
from shanzhi.cases.uploads import MAX_PHOTOS
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Handler, HandlerKind, RegionLevel
from shanzhi.core.selectors import region_list
from shanzhi.grid.coords import CRS_CHOICES

CRS_LABELS = {
    "wgs84": "WGS-84(GPS、浏览器定位)",
    "gcj02": "GCJ-02(高德、腾讯地图)",
    "bd09": "BD-09(百度地图)",
}
SEARCH_MAX = 100


class FieldError(ServiceError):
    """Bad input in one field of a page form (422); nothing was written."""

    status = 422

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__("invalid_input", message)
        self.field = field_name


# Which input a service's refusal is about, so the page puts the message next to it.
FIELD_OF_CODE = {
    "text_required": "text",
    "text_too_long": "text",
    "invalid_text": "text",
    "address_too_long": "address",
    "invalid_address": "address",
    "invalid_mobile": "reporter_phone",
    "invalid_coordinates": "lon",
    "outside_jurisdiction": "lon",
    "invalid_crs": "crs",
    "photo_too_large": "photos",
    "photo_empty": "photos",
    "photo_type": "photos",
    "photo_corrupt": "photos",
    "too_many_photos": "photos",
    "reason_required": "reason",
    "invalid_hours": "hours",
    "invalid_request_kind": "kind",
    "category_required": "category",
    "unknown_category": "category",
    "unknown_handler": "primary",
    "handler_inactive": "primary",
    "duty_check_failed": "primary",
    "duplicate_handler": "co",
    "merge_self": "into",
    "merge_target_closed": "into",
    "invalid_satisfaction": "satisfaction",
}


def field_of(exc: ServiceError) -> str:
    """The input an error belongs to; "" means the form as a whole."""
    if isinstance(exc, FieldError):
        return exc.field
    return FIELD_OF_CODE.get(exc.code, "")


# --- plain values ---------------------------------------------------------------------------------


def text(data: QueryDict, name: str, *, max_length: int = 4000) -> str:
    value = data.get(name, "") or ""
    if "\x00" in value:
        raise FieldError(name, "内容含有不可见的控制字符")
    return value.strip()[: max_length + 1]  # one over the limit, so the service can say "too long"


def flag(data: QueryDict, name: str) -> bool:
    return data.get(name, "") in ("1", "on", "true", "yes")


def number(data: QueryDict, name: str, *, label: str) -> float | None:
    raw = (data.get(name, "") or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise FieldError(name, f"{label}应为数字") from None
    if not math.isfinite(value):
        raise FieldError(name, f"{label}应为数字")
    return value


def point(data: QueryDict) -> tuple[float | None, float | None, str]:
    """Longitude, latitude and coordinate system from a form; both or neither."""
    lon = number(data, "lon", label="经度")
    lat = number(data, "lat", label="纬度")
    if (lon is None) != (lat is None):
        raise FieldError("lon", "经度和纬度必须同时填写,或都不填")
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise FieldError("lon", "经纬度超出范围:经度须在 −180~180,纬度须在 −90~90")
    crs = data.get("crs") or "wgs84"
    if crs not in CRS_CHOICES:
        raise FieldError("crs", "坐标系只能是 WGS-84、GCJ-02 或 BD-09")
    return lon, lat, crs


def hours(data: QueryDict) -> float:
    value = number(data, "hours", label="延期时长")
    if value is None:
        raise FieldError("hours", "请填写需要延长的小时数")
    return value


def photos(files: Any, name: str = "photos") -> list[tuple[str, bytes]]:
    """The uploaded files as (name, bytes); their content is checked by cases.uploads."""
    uploads = [f for f in files.getlist(name) if f.size or f.name]
    if len(uploads) > MAX_PHOTOS:
        raise FieldError(name, f"最多上传 {MAX_PHOTOS} 张照片")
    return [(f.name or "photo", f.read()) for f in uploads]


# --- catalogue rows ----------------------------------------------------------------------------------


def active_categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("code")


def category(data: QueryDict, name: str = "category") -> Category | None:
    code = (data.get(name) or "").strip()
    if not code:
        return None
    found = active_categories().filter(code=code).first()
    if found is None:
        raise FieldError(name, f"未知的诉求类别:{code[:20]}")
    return found


def handlers_by_code(codes: list[str], *, field_name: str) -> list[Handler]:
    """Handlers in the order given; an unknown code is refused."""
    wanted = [c.strip() for c in codes if c and c.strip()]
    found = {h.code: h for h in Handler.objects.select_related("type", "region").filter(code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise FieldError(field_name, f"未知的承办单位:{missing[0][:64]}")
    return [found[c] for c in dict.fromkeys(wanted)]


def handler_names(codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(Handler.objects.filter(code__in=set(codes)).values_list("code", "name"))


@dataclass
class DispatchInput:
    primary: Handler
    co_handlers: list[Handler]
    category: Category | None
    note: str


def dispatch_input(data: QueryDict) -> DispatchInput:
    primary_code = (data.get("primary") or "").strip()
    if not primary_code:
        raise FieldError("primary", "请选择主办单位")
    (primary,) = handlers_by_code([primary_code], field_name="primary")
    co_codes = [c for c in [*data.getlist("co"), data.get("co_extra", "")] if c and c != primary_code]
    co = handlers_by_code(co_codes, field_name="co")
    if len(co) > 10:
        raise FieldError("co", "协办单位最多 10 个")
    return DispatchInput(
        primary=primary, co_handlers=co, category=category(data), note=text(data, "note")[:500]
    )


@dataclass(frozen=True)
class HandlerGroup:
    label: str
    options: list[tuple[str, str]]  # (code, name)


def handler_groups(*, local: list[Handler]) -> list[HandlerGroup]:
    """Every active body, for "any handler selectable": the case's own bodies first, then by kind."""
    bodies = list(
        Handler.objects.filter(active=True).select_related("type", "region").order_by("region__path", "code")
    )
    local_codes = {h.code for h in local}
    groups: dict[str, list[tuple[str, str]]] = {"属地": [(h.code, h.name) for h in local if h.active]}
    labels = {
        HandlerKind.DEPARTMENT: "县直部门",
        "township": "乡镇(街道)",
        "community": "村(社区)",
        HandlerKind.ENTERPRISE: "企业",
    }
    for body in bodies:
        if body.code in local_codes:
            continue
        key = body.type.code if body.type.code in ("township", "community") else body.type.kind
        groups.setdefault(labels.get(key, "其他"), []).append((body.code, body.name))
    order = ["属地", "县直部门", "乡镇(街道)", "村(社区)", "企业", "其他"]
    return [HandlerGroup(label, groups[label]) for label in order if groups.get(label)]


def common_co_handlers(*, local: list[Handler], suggested: list[Handler]) -> list[Handler]:
    """The co-handlers offered as tick boxes: triage's, the case's own bodies and county departments."""
    departments = Handler.objects.filter(active=True, type__kind=HandlerKind.DEPARTMENT).order_by("code")
    seen: dict[str, Handler] = {}
    for body in [*suggested, *local, *departments]:
        seen.setdefault(body.code, body)
    return list(seen.values())


def local_bodies(case: Case) -> list[Handler]:
    """The township government, village committee and property company where the case is."""
    codes = []
    if case.township_id and case.township:
        codes.append(f"township-{case.township.code}")
    if case.region_id and case.region and case.region.level == RegionLevel.VILLAGE:
        codes.append(f"community-{case.region.code}")
    if case.estate_id and case.estate and case.estate.property_company_id:
        company = case.estate.property_company
        if company is not None:
            codes.append(company.code)
    found = {h.code: h for h in Handler.objects.filter(code__in=codes).select_related("type", "region")}
    return [found[c] for c in codes if c in found]


# --- list filters ------------------------------------------------------------------------------------


@dataclass
class CaseFilter:
    """Filters of the queue and the case list, read from the query string."""

    status: str = ""
    category: str = ""
    township: str = ""
    channel: str = ""
    q: str = ""
    allowed_statuses: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_query(cls, query: QueryDict, *, statuses: tuple[str, ...]) -> CaseFilter:
        status = query.get("status", "")
        channel = query.get("channel", "")
        return cls(
            status=status if status in statuses else "",
            category=(query.get("category") or "")[:8],
            township=(query.get("township") or "")[:12],
            channel=channel if channel in Channel.values else "",
            q=(query.get("q") or "").strip()[:SEARCH_MAX],
            allowed_statuses=statuses,
        )

    def apply(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        if self.status:
            qs = qs.filter(status=self.status)
        if self.category:
            qs = qs.filter(
                Q(category__code=self.category)
                | Q(category__isnull=True, suggested_category__code=self.category)
            )
        if self.township:
            qs = qs.filter(township__code=self.township)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.q:
            qs = qs.filter(
                Q(number=self.q.upper()) | Q(text__icontains=self.q) | Q(address__icontains=self.q)
            )
        return qs

    def query(self) -> str:
        """The filters as a query string (no page), for links and the live refresh."""
        params = QueryDict(mutable=True)
        for name in ("status", "category", "township", "channel", "q"):
            value = getattr(self, name)
            if value:
                params[name] = value
        return params.urlencode()

    @property
    def active(self) -> bool:
        return bool(self.status or self.category or self.township or self.channel or self.q)


def filter_choices(*, user: Any, statuses: tuple[str, ...]) -> dict[str, Any]:
    return {
        "statuses": [(s, CaseStatus(s).label) for s in statuses],
        "categories": list(active_categories().values_list("code", "name")),
        "townships": list(
            region_list(user=user).filter(level=RegionLevel.TOWNSHIP).values_list("code", "name")
        ),
        "channels": Channel.choices,
    }
