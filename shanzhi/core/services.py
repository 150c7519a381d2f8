"""Writes to the org tree. Each runs in one transaction with one audit entry."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Estate, Handler, HandlerType, Region, RegionLevel, Role, Staff, StaffRole
from shanzhi.core.validators import validate_division_code, validate_mobile

CHILD_LEVEL: dict[str | None, str] = {
    None: RegionLevel.COUNTY,
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
    RegionLevel.TOWNSHIP: RegionLevel.VILLAGE,
}


def _region_state(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "kind": region.kind,
        "parent": region.parent.code if region.parent else None,
    }


def region_create(*, actor: Any, code: str, name: str, parent: Region | None, kind: str = "") -> Region:
    """Add a region under `parent` (None for the county). The level follows from the parent."""
    validate_division_code(code)
    name = name.strip()
    if not name or len(name) > 64:
        raise ServiceError("invalid_name", "区域名称不能为空,且不超过 64 个字")
    level = CHILD_LEVEL.get(parent.level if parent else None)
    if level is None:
        raise ServiceError("invalid_parent", "村/社区之下不能再设下级区域")
    if parent is None and Region.objects.filter(parent__isnull=True).exists():
        raise ServiceError("county_exists", "本系统只管理一个县(区)")
    with transaction.atomic():
        if Region.objects.filter(code=code).exists():
            raise ServiceError("duplicate_code", f"区划代码 {code} 已存在")
        path = f"{parent.path if parent else ''}{code}/"
        region = Region.objects.create(code=code, name=name, level=level, kind=kind, parent=parent, path=path)
        audit_append(actor=actor, action="region.create", obj=region, state=_region_state(region))
    return region


def handler_type_upsert(*, actor: Any, code: str, kind: str, name_zh: str, name_en: str) -> HandlerType:
    with transaction.atomic():
        htype, _ = HandlerType.objects.update_or_create(
            code=code, defaults={"kind": kind, "name_zh": name_zh, "name_en": name_en}
        )
        audit_append(
            actor=actor,
            action="handler_type.upsert",
            obj=htype,
            state={"code": code, "kind": kind, "name_zh": name_zh, "name_en": name_en},
        )
    return htype


def handler_create(
    *, actor: Any, code: str, type_code: str, name: str, region: Region, phone: str = ""
) -> Handler:
    htype = HandlerType.objects.filter(code=type_code).first()
    if htype is None:
        raise ServiceError("unknown_handler_type", f"未知的承办单位类型:{type_code}")
    with transaction.atomic():
        if Handler.objects.filter(code=code).exists():
            raise ServiceError("duplicate_code", f"承办单位代码 {code} 已存在")
        handler = Handler.objects.create(code=code, type=htype, name=name, region=region, phone=phone)
        audit_append(
            actor=actor,
            action="handler.create",
            obj=handler,
            state={"code": code, "type": type_code, "name": name, "region": region.code},
        )
    return handler


def estate_create(*, actor: Any, name: str, region: Region, property_company: Handler | None) -> Estate:
    if region.level != RegionLevel.VILLAGE:
        raise ServiceError("invalid_region", "小区必须属于一个村或社区")
    if property_company is not None and property_company.type.code != "property":
        raise ServiceError("invalid_property_company", "服务小区的单位必须是物业服务企业")
    with transaction.atomic():
        estate = Estate.objects.create(name=name, region=region, property_company=property_company)
        audit_append(
            actor=actor,
            action="estate.create",
            obj=estate,
            state={
                "name": name,
                "region": region.code,
                "property_company": property_company.code if property_company else None,
            },
        )
    return estate


def staff_create(
    *,
    actor: Any,
    username: str,
    password: str | None,
    name: str,
    region: Region,
    roles: list[str],
    handler: Handler | None = None,
    phone: str = "",
) -> Staff:
    """Create a user and their Staff row with roles. `password=None` leaves it unusable."""
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ServiceError("unknown_role", f"未知角色:{'、'.join(sorted(unknown))}")
    if phone:
        validate_mobile(phone)
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(username=username).exists():
            raise ServiceError("duplicate_username", f"用户名 {username} 已存在")
        user = user_model.objects.create_user(
            username=username,
            password=password,
            is_staff=Role.ADMIN in roles,
            is_superuser=Role.ADMIN in roles,
        )
        staff = Staff.objects.create(user=user, name=name, region=region, handler=handler, phone=phone)
        StaffRole.objects.bulk_create([StaffRole(staff=staff, role=r) for r in sorted(set(roles))])
        audit_append(
            actor=actor,
            action="staff.create",
            obj=staff,
            state={
                "username": username,
                "name": name,
                "region": region.code,
                "handler": handler.code if handler else None,
                "roles": sorted(set(roles)),
            },
        )
    return staff
