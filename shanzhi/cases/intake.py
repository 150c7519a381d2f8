"""Intake from any channel: check photos, find the place, ask triage, record the case, and
dispatch it at once when triage is confident and the place is known.

Slow work (photo decoding, the model) runs before the transaction so the write stays short.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from shanzhi.audit.canonical import canonical_json
from shanzhi.cases import services as svc
from shanzhi.cases.models import Case, CaseStatus, Category, Channel
from shanzhi.cases.uploads import check_audios, check_photos
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Estate, Handler, Region
from shanzhi.core.selectors import roles_of

logger = logging.getLogger(__name__)

# Who may report through which channel. Residents use the app; hotline intake is the operators'.
CHANNEL_ROLES: dict[str, frozenset[str]] = {
    Channel.HOTLINE: frozenset({"operator", "admin"}),
    Channel.APP: frozenset({"resident", "operator", "admin"}),
    Channel.GRID: frozenset({"gridworker", "admin"}),
    Channel.SENSOR: frozenset({"sensor", "admin"}),
    Channel.SUPERIOR: frozenset({"leader", "supervisor", "dispatcher", "admin"}),
    Channel.OPEN311: frozenset({"admin"}),  # Open311 clients come in through their own api_key
    Channel.IMPORT: frozenset({"admin"}),
}


@dataclass
class IntakeRequest:
    channel: str
    text: str
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    device: str = ""
    urgent: bool = False
    photos: list[tuple[str, bytes]] = field(default_factory=list)
    # Voice notes (a grid worker's phone records one); stored as attachments beside the photos.
    audio: list[tuple[str, bytes]] = field(default_factory=list)
    # A category the reporter chose (an Open311 service_code); it outranks triage's guess.
    category_code: str | None = None
    received_at: dt.datetime | None = None

    def digest(self) -> str:
        """Fingerprint of the request, so a reused Idempotency-Key with another body is caught."""
        body = {k: v for k, v in self.__dict__.items() if k not in ("photos", "audio")}
        body["photos"] = [hashlib.sha256(content).hexdigest() for _name, content in self.photos]
        if self.audio:  # only when present, so digests of requests without audio are unchanged
            body["audio"] = [hashlib.sha256(content).hexdigest() for _name, content in self.audio]
        return hashlib.sha256(canonical_json(body)).hexdigest()


def check_channel(*, actor: Any, channel: str) -> None:
    if channel not in CHANNEL_ROLES:
        raise ServiceError("invalid_channel", f"未知的来源渠道:{channel}")
    if actor is None:
        return
    if not roles_of(user=actor) & CHANNEL_ROLES[channel]:
        raise ServiceError(
            "channel_forbidden", f"您的角色不能通过“{Channel(channel).label}”渠道上报", status=403
        )


def resolve_place(*, lon: float | None, lat: float | None, crs: str, address: str, text: str) -> svc.Place:
    """Coordinates → grid/village/township; else the address or text matched against place names.

    A point outside the county is refused: the county cannot act there.
    """
    from shanzhi.grid.locate import locate_point
    from shanzhi.grid.models import Grid

    if (lon is None) != (lat is None):
        raise ServiceError("invalid_coordinates", "经度和纬度必须同时提供", status=422)
    place = svc.Place()
    if lon is not None and lat is not None:
        location = locate_point(lon=lon, lat=lat, crs=crs)
        if not location.inside:
            raise ServiceError("outside_jurisdiction", location.message or "该位置不在本县管辖范围内")
        from shanzhi.grid.coords import to_wgs84

        place.lon, place.lat = to_wgs84(float(lon), float(lat), crs=crs)
        codes = [p.code for p in (location.village, location.township) if p is not None]
        regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
        place.region = regions.get(location.village.code) if location.village else None
        place.township = regions.get(location.township.code) if location.township else None
        place.grid = Grid.objects.filter(pk=location.grid_id).first() if location.grid_id else None
    matched = _match_address(address=address, text=text)
    if matched is not None:
        place.estate = matched.estate
        if place.region is None:
            place.region, place.township = matched.region, matched.township
    return place


@dataclass
class AddressMatch:
    region: Region | None
    township: Region | None
    estate: Estate | None


def _match_address(*, address: str, text: str) -> AddressMatch | None:
    from shanzhi.triage.place import place_from_address

    match = place_from_address(text=text, address=address)
    if match is None:
        return None
    return AddressMatch(region=match.region, township=match.township, estate=match.estate)


def suggest(
    *, text: str, place: svc.Place, chosen: str | None = None
) -> tuple[svc.Suggestion, list[Handler]]:
    """Triage's category (or the reporter's `chosen` one) and the handlers it routes to for this
    place, primary first."""
    from shanzhi.triage.predict import triage_text
    from shanzhi.triage.route import route

    prediction = triage_text(text=text)
    data: dict[str, Any] = prediction.as_dict()
    confidence = prediction.confidence
    code = prediction.category
    if chosen is not None:
        if not Category.objects.filter(code=chosen, active=True).exists():
            raise ServiceError("unknown_category", f"未知的诉求类别:{chosen}", status=422)
        data["chosen_by_reporter"] = chosen
        code, confidence = chosen, 1.0
    category = Category.objects.filter(code=code).first()
    handlers: list[Handler] = []
    if category is not None:
        routing = route(
            category=category.code, village=place.region, township=place.township, estate=place.estate
        )
        handlers = [h for h in [routing.primary, *routing.co_handlers] if h is not None]
        data["handler"] = routing.primary.code if routing.primary else None
        data["co_handlers"] = [h.code for h in routing.co_handlers]
        data["unresolved"] = list(routing.unresolved)
    return svc.Suggestion(category=category, confidence=confidence, data=data), handlers


def intake_request(
    *, actor: Any, request: IntakeRequest, idempotency_key: str | None = None, owner: str | None = None
) -> Case:
    """Take one request from any channel; returns the new case (or the first one, on a retry)."""
    check_channel(actor=actor, channel=request.channel)
    photos = check_photos(files=request.photos) + check_audios(files=request.audio)
    text = (request.text or "").strip()
    if not text:
        raise ServiceError("text_required", "请填写诉求内容")
    if len(text) > svc.MAX_TEXT:
        raise ServiceError("text_too_long", f"诉求内容不能超过 {svc.MAX_TEXT} 字(当前 {len(text)} 字)")
    idempotency = None
    if idempotency_key is not None:
        key = idempotency_key.strip()
        if not key or len(key) > 128:
            raise ServiceError("invalid_idempotency_key", "Idempotency-Key 应为 1–128 个字符")
        idempotency = (
            owner or (actor.get_username() if actor is not None else "system"),
            key,
            request.digest(),
        )
        replay = svc._idempotent_replay(*idempotency)
        if replay is not None:
            return replay
    place = resolve_place(
        lon=request.lon, lat=request.lat, crs=request.crs, address=request.address, text=text
    )
    suggestion, handlers = suggest(text=text, place=place, chosen=request.category_code)
    case = svc.case_intake(
        actor=actor,
        channel=request.channel,
        text=text,
        place=place,
        suggestion=suggestion,
        address=request.address,
        reporter_name=request.reporter_name,
        reporter_phone=request.reporter_phone,
        device=request.device,
        photos=photos,
        urgent=request.urgent,
        received_at=request.received_at,
        idempotency=idempotency,
    )
    if case.status == CaseStatus.RECEIVED and case.timeline.count() == 1:
        auto_dispatch(case=case, suggestion=suggestion, handlers=handlers)
        case.refresh_from_db()
    return case


def auto_dispatch(*, case: Case, suggestion: svc.Suggestion, handlers: list[Handler]) -> bool:
    """Register and dispatch without a person when triage is sure and the route is complete.

    Anything short of that leaves the case in the dispatcher's queue with the suggestion.
    """
    from shanzhi.triage.selectors import auto_dispatch_threshold

    if suggestion.category is None or suggestion.confidence is None or not handlers:
        return False
    if suggestion.confidence < auto_dispatch_threshold() or suggestion.data.get("unresolved"):
        return False
    try:
        registered = svc.case_register(actor=None, case=case, category=suggestion.category)
        svc.case_dispatch(
            actor=None,
            case=registered,
            primary=handlers[0],
            co_handlers=handlers[1:],
            note="智能分拨自动派遣",
        )
    except ServiceError as exc:
        # e.g. the duty list does not cover it: a dispatcher must decide. The case stays registered.
        logger.info("auto-dispatch of %s left to a dispatcher: %s", case.number, exc.message)
        return False
    return True
