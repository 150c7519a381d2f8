"""Org tree API: the caller's own profile, regions and handlers in their jurisdiction."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from shanzhi.core import selectors
from shanzhi.core.masking import mask_phone

router = Router(tags=["org"])


class MeOut(Schema):
    username: str
    name: str
    region_code: str | None
    region_name: str | None
    handler: str | None
    roles: list[str]
    phone: str


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None


class HandlerOut(Schema):
    code: str
    name: str
    type: str
    kind: str
    region_code: str


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    staff = selectors.staff_of(user=request.user)
    return MeOut(
        username=request.user.get_username(),
        name=staff.name if staff else request.user.get_username(),
        region_code=staff.region.code if staff else None,
        region_name=staff.region.name if staff else None,
        handler=staff.handler.code if staff and staff.handler else None,
        roles=sorted(selectors.roles_of(user=request.user)),
        phone=mask_phone(staff.phone) if staff else "",
    )


@router.get("/regions", response=list[RegionOut])
def regions(request: HttpRequest) -> list[RegionOut]:
    return [
        RegionOut(code=r.code, name=r.name, level=r.level, parent_code=r.parent.code if r.parent else None)
        for r in selectors.region_list(user=request.user).select_related("parent")
    ]


@router.get("/handlers", response=list[HandlerOut])
def handlers(request: HttpRequest) -> list[HandlerOut]:
    return [
        HandlerOut(code=h.code, name=h.name, type=h.type.code, kind=h.type.kind, region_code=h.region.code)
        for h in selectors.handler_list(user=request.user)
    ]
