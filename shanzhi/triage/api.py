"""POST /api/v1/triage: one request → category, handlers and place, as `shanzhi triage` answers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from shanzhi.triage.answer import parse_request, triage_answer

router = Router(tags=["triage"])


class TriageIn(Schema):
    text: str
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str | None = None
    id: str | int | None = None


class Candidate(Schema):
    category: str
    name: str
    confidence: float


class PlaceOut(Schema):
    code: str
    name: str


class EstateOut(Schema):
    name: str
    village: str
    property_company: str | None


class Unresolved(Schema):
    type: str
    reason: str


class LocationOut(Schema):
    code: str
    inside: bool
    message: str


class TriageOut(Schema):
    id: str | int | None = None
    category: str
    category_name: str
    confidence: float
    top3: list[Candidate]
    model_version: int
    handler: str
    handler_name: str | None
    co_handlers: list[str]
    unresolved: list[Unresolved]
    auto_dispatch: bool
    grid: PlaceOut | None
    village: PlaceOut | None
    township: PlaceOut | None
    estate: EstateOut | None
    place_source: str | None
    location: LocationOut | None = None


@router.post("", response=TriageOut, summary="智能分拨:诉求文本 → 类别、承办单位、网格")
def triage(request: HttpRequest, payload: TriageIn) -> dict[str, Any]:
    # The same checks as the command line (text ≤ 4000 字, both coordinates or neither, crs).
    return triage_answer(request=parse_request(payload.dict(exclude_none=True)))
