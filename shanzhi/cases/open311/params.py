"""Reading the spec's request parameters into typed values; bad input is a 400 in Chinese
with the parameter's English name, so a client's developer can find it."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone

from shanzhi.core.errors import ServiceError
from shanzhi.core.validators import validate_mobile

MAX_DESCRIPTION = 4000  # the case text limit (cases.services.MAX_TEXT)
MAX_WINDOW = dt.timedelta(days=90)
MAX_IDS = 1000
MAX_CODES = 100
OPEN, CLOSED = "open", "closed"


def bad(message: str) -> ServiceError:
    return ServiceError("invalid_parameter", message, status=400)


def _get(data: Any, name: str, *, limit: int) -> str:
    value = str(data.get(name, "") or "").strip()
    if "\x00" in value:  # never meant, and PostgreSQL cannot store it
        raise bad(f"{name} 含有空字符(NUL)({name} contains a NUL character)")
    if len(value) > limit:
        raise bad(f"{name} 不能超过 {limit} 个字符({name} is too long)")
    return value


def _coordinate(data: Any, name: str, *, bound: float) -> float | None:
    raw = _get(data, name, limit=32)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        raise bad(f"{name} 应为 WGS-84 十进制度数,范围 ±{bound:g}({name} must be a decimal degree)")
    return value


@dataclass
class Submission:
    """One POST requests: the fields we keep. `email` is checked and then dropped: the platform
    has no e-mail channel to the reporter, so it is not stored."""

    service_code: str
    description: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    address_id: str = ""
    reporter_name: str = ""
    phone: str = ""
    account_id: str = ""
    device_id: str = ""
    media_url: str = ""


def _reporter_name(first: str, last: str) -> str:
    """Chinese names are written family name first with no space (last_name + first_name)."""
    if first.isascii() and last.isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"


def parse_submission(data: Any) -> Submission:
    service_code = _get(data, "service_code", limit=8)
    if not service_code:
        raise bad("缺少 service_code(service_code is required)")
    description = _get(data, "description", limit=MAX_DESCRIPTION)
    if not description:
        raise bad("请填写诉求内容 description(description is required)")
    lat = _coordinate(data, "lat", bound=90)
    lon = _coordinate(data, "long", bound=180)
    if (lat is None) != (lon is None):
        raise bad("lat 和 long 必须同时提供(lat and long go together)")
    address = _get(data, "address_string", limit=255)
    address_id = _get(data, "address_id", limit=64)
    if lat is None and not address and not address_id:
        raise bad("请提供位置:lat + long、address_string 或 address_id(a location is required)")
    name = _reporter_name(_get(data, "first_name", limit=32), _get(data, "last_name", limit=32))
    phone = _get(data, "phone", limit=32)
    if phone:
        try:
            phone = validate_mobile(phone)
        except ServiceError as exc:
            raise bad(f"{exc.message}(phone is not a mainland mobile number)") from exc
    email = _get(data, "email", limit=254)
    media_url = _get(data, "media_url", limit=255)
    try:
        if email:
            EmailValidator()(email)
    except ValidationError as exc:
        raise bad("email 格式不正确(email is not valid)") from exc
    try:
        if media_url:
            URLValidator(schemes=["http", "https"])(media_url)
    except ValidationError as exc:
        raise bad("media_url 应为 http(s) 网址(media_url must be an http(s) URL)") from exc
    return Submission(
        service_code=service_code,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        address_id=address_id,
        reporter_name=name,
        phone=phone,
        account_id=_get(data, "account_id", limit=64),
        device_id=_get(data, "device_id", limit=64),
        media_url=media_url,
    )


@dataclass
class RequestQuery:
    """GET requests. `numbers` (service_request_id) overrides every other filter, per the spec."""

    numbers: list[str]
    service_codes: list[str]
    statuses: list[str]
    start: dt.datetime
    end: dt.datetime


# A "+08:00" sent unencoded in a query string arrives as " 08:00".
_SPACE_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")


def parse_datetime(value: str, *, name: str) -> dt.datetime:
    """A W3C/ISO 8601 date or date-time; without an offset it is local time (Asia/Shanghai)."""
    text = _SPACE_OFFSET.sub(r"+\1", value.strip())
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise bad(
            f"{name} 不是有效的 W3C 日期时间,例如 2026-05-01T08:00:00+08:00({name} is not a W3C datetime)"
        ) from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _list(data: Any, name: str, *, limit: int, item_limit: int) -> list[str]:
    raw = str(data.get(name, "") or "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if len(items) > limit:
        raise bad(f"{name} 最多 {limit} 项({name} has too many values)")
    if any(len(item) > item_limit for item in items):
        raise bad(f"{name} 的取值过长({name} value too long)")
    return items


def parse_query(data: Any, *, now: dt.datetime) -> RequestQuery:
    numbers = _list(data, "service_request_id", limit=MAX_IDS, item_limit=24)
    codes = _list(data, "service_code", limit=MAX_CODES, item_limit=8)
    statuses = [s.lower() for s in _list(data, "status", limit=2, item_limit=8)]
    if any(s not in (OPEN, CLOSED) for s in statuses):
        raise bad("status 只能是 open 或 closed(status must be open or closed)")
    start_raw, end_raw = _get(data, "start_date", limit=40), _get(data, "end_date", limit=40)
    start = parse_datetime(start_raw, name="start_date") if start_raw else None
    end = parse_datetime(end_raw, name="end_date") if end_raw else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_WINDOW
    if end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise bad("end_date 早于 start_date(end_date is before start_date)")
    if end - start > MAX_WINDOW:
        raise bad("start_date 到 end_date 不能超过 90 天(the range may not span more than 90 days)")
    return RequestQuery(numbers=numbers, service_codes=codes, statuses=statuses, start=start, end=end)
