"""One triage answer for a request (text, optional address and coordinates): category, handlers,
grid, village and township. The `shanzhi triage` command and `POST /api/v1/triage` both use it,
so they answer alike."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shanzhi.core.errors import ServiceError
from shanzhi.grid.coords import CRS_CHOICES
from shanzhi.grid.locate import Location, locate_point
from shanzhi.triage.categories import category_table
from shanzhi.triage.place import PlaceIndex, PlaceMatch, estate_dict
from shanzhi.triage.predict import TextPrediction, triage_texts
from shanzhi.triage.route import route
from shanzhi.triage.selectors import auto_dispatch_threshold
from shanzhi.triage.services import clean_text

MAX_ADDRESS = 500


@dataclass(frozen=True)
class TriageRequest:
    text: str
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    id: Any = None  # echoed back, so a batch's answers can be joined to its lines


def _bad(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, status=422)


def parse_request(data: Any) -> TriageRequest:
    """Check one request's fields; every refusal is a 422 with a stable code."""
    if not isinstance(data, dict):
        raise _bad("invalid_input", "请求应为 JSON 对象,至少包含 text 字段")
    text = clean_text(data.get("text"))
    address = data.get("address")
    if address is None:
        address = ""
    if not isinstance(address, str) or len(address) > MAX_ADDRESS or "\x00" in address:
        raise _bad("invalid_address", f"地址应为不超过 {MAX_ADDRESS} 字的文字")
    lon, lat = _coordinates(data.get("lon"), data.get("lat"))
    crs = data.get("crs") or "wgs84"
    if crs not in CRS_CHOICES:
        raise _bad("invalid_crs", "坐标系只能是 wgs84、gcj02 或 bd09")
    ident = data.get("id")
    if ident is not None and not isinstance(ident, str | int | float):
        raise _bad("invalid_input", "id 应为字符串或数字")
    return TriageRequest(text=text, address=address.strip(), lon=lon, lat=lat, crs=crs, id=ident)


def _coordinates(lon: Any, lat: Any) -> tuple[float | None, float | None]:
    if lon is None and lat is None:
        return None, None
    if lon is None or lat is None:
        raise _bad("invalid_coordinates", "经度和纬度必须同时提供")
    for value in (lon, lat):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _bad("invalid_coordinates", "经纬度必须是有限的数字")
    x, y = float(lon), float(lat)
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise _bad("invalid_coordinates", "经纬度超出范围:经度须在 −180~180,纬度须在 −90~90")
    return x, y


@dataclass(frozen=True)
class AnswerContext:
    """What answers read besides the model: place names, the catalogue, the threshold."""

    index: PlaceIndex
    categories: dict[str, Any]
    threshold: float
    loaded_at: float = field(default_factory=time.monotonic)

    @classmethod
    def load(cls) -> AnswerContext:
        return cls(PlaceIndex.load(), category_table(), auto_dispatch_threshold())

    def age(self) -> float:
        return time.monotonic() - self.loaded_at


def triage_answers(
    *, requests: Sequence[TriageRequest], context: AnswerContext | None = None
) -> list[dict[str, Any]]:
    """Answers for many requests: one vectorised prediction, one read of the place names
    (or the caller's `context`, e.g. the command line's, refreshed every minute)."""
    if not requests:
        return []
    predictions = triage_texts(texts=[r.text for r in requests])
    ctx = context or AnswerContext.load()
    return [
        _answer(r, p, index=ctx.index, categories=ctx.categories, threshold=ctx.threshold)
        for r, p in zip(requests, predictions, strict=True)
    ]


def triage_answer(*, request: TriageRequest) -> dict[str, Any]:
    return triage_answers(requests=[request])[0]


def _answer(
    request: TriageRequest,
    prediction: TextPrediction,
    *,
    index: PlaceIndex,
    categories: dict[str, Any],
    threshold: float,
) -> dict[str, Any]:
    location: Location | None = None
    if request.lon is not None and request.lat is not None:
        location = locate_point(lon=request.lon, lat=request.lat, crs=request.crs)
    matched = index.match(text=request.text, address=request.address)
    village, township, estate, source = _place(location, matched, index)
    routing = route(
        category=prediction.category, village=village, township=township, estate=estate, categories=categories
    )
    out: dict[str, Any] = {}
    if request.id is not None:
        out["id"] = request.id
    out.update(prediction.as_dict())
    out.update(routing.as_dict())
    out["auto_dispatch"] = prediction.confidence >= threshold and routing.complete
    out["grid"] = location.grid.as_dict() if location and location.grid else None
    out["village"] = {"code": village.code, "name": village.name} if village else None
    out["township"] = {"code": township.code, "name": township.name} if township else None
    out["estate"] = estate_dict(estate)
    out["place_source"] = source
    if location is not None:
        out["location"] = {"code": location.code, "inside": location.inside, "message": location.message}
    return out


def _place(
    location: Location | None, matched: PlaceMatch | None, index: PlaceIndex
) -> tuple[Any, Any, Any, str | None]:
    """Coordinates decide the village and township when they fall in one; the names in the
    address or text fill in what they do not (and name the estate)."""
    estate = matched.estate if matched else None
    if location is not None and location.inside and (location.village or location.township):
        village = index.by_code.get(location.village.code) if location.village else None
        township = index.by_code.get(location.township.code) if location.township else None
        if estate is not None and village is not None and estate.region_id != village.pk:
            estate = None  # a name from elsewhere in the text, not the estate at this point
        named = matched.region if matched is not None else None
        if village is None and named is not None and (township is None or named.parent_id == township.pk):
            village = named
            township = township or named.parent
        return village, township, estate, "coordinates"
    if matched is None:
        return None, None, None, None
    return matched.region, matched.township, estate, matched.source
