"""Writes to duty lists. Each runs in one transaction, checks the actor, and writes one audit entry
whose state is the whole list (header and every item), so any version can be verified later."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region, RegionLevel
from shanzhi.core.selectors import in_jurisdiction
from shanzhi.duties.items import (
    VILLAGE_MAX_ITEMS,
    AssistFields,
    DutyFields,
    ItemFields,
    field_label,
    fields_kind,
    fields_of,
    item_errors,
    item_state,
    known_categories,
    max_items,
    normalize,
)
from shanzhi.duties.models import AssistItem, Duty, DutyList, DutyListKind, DutyListStatus
from shanzhi.duties.selectors import can_edit_region

MIN_YEAR, MAX_YEAR = 2000, 2100


# ---- helpers ---------------------------------------------------------------------------------


def kind_for_region(region: Region) -> str:
    if region.level == RegionLevel.TOWNSHIP:
        return DutyListKind.TOWNSHIP
    if region.level == RegionLevel.VILLAGE:
        return DutyListKind.VILLAGE_ASSIST
    raise ServiceError("invalid_region", "权责清单只能属于乡镇(街道)或村(社区)")


def _require_edit(*, actor: Any, region: Region) -> None:
    """Outside the actor's subtree is a 404; inside but without the right role is a 403."""
    if actor is None:
        return
    if not in_jurisdiction(Region.objects.filter(pk=region.pk), user=actor, region_field="").exists():
        raise NotFound()
    if not can_edit_region(user=actor, region=region):
        raise PermissionDenied("只有系统管理员或乡镇、县级领导可以修改权责清单")


def _user_or_none(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


@contextmanager
def _conflicts_as_errors() -> Iterator[None]:
    """A unique constraint hit by a concurrent request becomes a clear refusal, not a 500."""
    try:
        yield
    except IntegrityError as exc:
        raise ServiceError("conflict", "清单刚被他人修改,请刷新后重试", status=409) from exc


def _cap_error(kind: str, limit: int) -> ServiceError:
    if kind == DutyListKind.VILLAGE_ASSIST:
        return ServiceError(
            "assist_list_full",
            f"村级协助事项清单最多 {VILLAGE_MAX_ITEMS} 项,已达上限,不能再增加。"
            "清单外事项不得随意下派给村(社区)。",
            details={"limit": limit},
        )
    return ServiceError(
        "duty_list_full",
        f"乡镇履职事项清单最多 {limit} 项,已达上限,请先精简合并事项。",
        details={"limit": limit},
    )


def _model_for(kind: str) -> type[Duty] | type[AssistItem]:
    return AssistItem if kind == DutyListKind.VILLAGE_ASSIST else Duty


def _items_qs(duty_list: DutyList) -> Any:
    return _model_for(duty_list.kind).objects.filter(duty_list=duty_list).order_by("position", "id")


def list_state(duty_list: DutyList) -> dict[str, Any]:
    """The whole list as the audit sees it; its digest pins every item of the version."""
    return {
        "region": duty_list.region.code,
        "kind": duty_list.kind,
        "year": duty_list.year,
        "version": duty_list.version,
        "status": duty_list.status,
        "based_on": duty_list.based_on_id,
        "published_at": duty_list.published_at,
        "items": [item_state(fields_of(i)) for i in _items_qs(duty_list)],
    }


def _lock_draft(duty_list: DutyList) -> DutyList:
    """Re-read the list under a row lock so concurrent edits see each other's counts."""
    locked = DutyList.objects.select_for_update().select_related("region").filter(pk=duty_list.pk).first()
    if locked is None:
        raise NotFound()
    if locked.status != DutyListStatus.DRAFT:
        raise ServiceError("not_draft", "只有草稿状态的清单可以修改;已发布的清单请发起年度修订")
    return locked


def _invalid_item(errors: list[tuple[str, str]]) -> ServiceError:
    return ServiceError(
        "invalid_item",
        ";".join(reason for _f, reason in errors),
        details=[{"field": f, "label": field_label(f), "reason": reason} for f, reason in errors],
    )


def _check_one(kind: str, item: ItemFields) -> ItemFields:
    if fields_kind(item) != kind:
        raise ServiceError(
            "wrong_list_kind",
            "村级协助事项只能加入村级协助事项清单"
            if isinstance(item, AssistFields)
            else "履职事项只能加入乡镇履职事项清单",
        )
    item = normalize(item)
    errors = item_errors(item, known=known_categories())
    if errors:
        raise _invalid_item(errors)
    return item


def validate_items(kind: str, items: Sequence[ItemFields]) -> list[ItemFields]:
    """Normalise a whole list; refuse it with every problem listed (index is 0-based)."""
    normalized: list[ItemFields] = []
    details: list[dict[str, Any]] = []
    known = known_categories()
    for index, raw in enumerate(items):
        if fields_kind(raw) != kind:
            details.append({"index": index, "field": "", "reason": "事项类别与清单类别不符"})
            continue
        item = normalize(raw)
        normalized.append(item)
        details.extend(
            {"index": index, "code": item.code, "field": f, "reason": reason}
            for f, reason in item_errors(item, known=known)
        )
    counts = Counter(i.code for i in normalized if i.code)
    details.extend(
        {"index": index, "code": i.code, "field": "code", "reason": f"事项编码 {i.code} 重复"}
        for index, i in enumerate(normalized)
        if counts[i.code] > 1
    )
    if details:
        raise ServiceError("invalid_items", f"清单有 {len(details)} 处错误,未作任何修改", details=details)
    if len(normalized) > max_items(kind):
        raise _cap_error(kind, max_items(kind))
    return normalized


def _build(duty_list: DutyList, item: ItemFields, position: int) -> Duty | AssistItem:
    if isinstance(item, DutyFields):
        return Duty(
            duty_list=duty_list,
            position=position,
            code=item.code,
            name=item.name,
            type=item.type,
            legal_basis=item.legal_basis,
            lead_handler=item.lead_handler,
            category_codes=list(item.category_codes),
            notes=item.notes,
        )
    return AssistItem(
        duty_list=duty_list,
        position=position,
        code=item.code,
        name=item.name,
        assists=item.assists,
        basis=item.basis,
        category_codes=list(item.category_codes),
        notes=item.notes,
    )


def _bulk_insert(duty_list: DutyList, items: Sequence[ItemFields]) -> None:
    rows = [_build(duty_list, item, position) for position, item in enumerate(items, start=1)]
    if duty_list.kind == DutyListKind.VILLAGE_ASSIST:
        AssistItem.objects.bulk_create([r for r in rows if isinstance(r, AssistItem)])
    else:
        Duty.objects.bulk_create([r for r in rows if isinstance(r, Duty)])


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ServiceError("invalid_year", f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间")


def _next_version(region: Region, year: int) -> int:
    current = DutyList.objects.filter(region=region, year=year).aggregate(v=Max("version"))["v"]
    return (current or 0) + 1


def _refuse_second_draft(region: Region, year: int) -> None:
    draft = DutyList.objects.filter(region=region, year=year, status=DutyListStatus.DRAFT).first()
    if draft is not None:
        raise ServiceError(
            "draft_exists",
            f"{region.name}{year} 年度已有一份草稿(第 {draft.version} 版),请在该草稿上修改",
            details={"draft_id": draft.pk},
        )


# ---- lists -----------------------------------------------------------------------------------


def duty_list_create(*, actor: Any, region: Region, year: int, items: Sequence[ItemFields] = ()) -> DutyList:
    """A new draft for a township (履职事项) or village (协助事项), optionally with all its items."""
    kind = kind_for_region(region)
    _check_year(year)
    _require_edit(actor=actor, region=region)
    normalized = validate_items(kind, items)
    with _conflicts_as_errors(), transaction.atomic():
        _refuse_second_draft(region, year)
        duty_list = DutyList.objects.create(
            region=region,
            kind=kind,
            year=year,
            version=_next_version(region, year),
            created_by=_user_or_none(actor),
        )
        _bulk_insert(duty_list, normalized)
        audit_append(actor=actor, action="duty_list.create", obj=duty_list, state=list_state(duty_list))
    return duty_list


def duty_list_revise(*, actor: Any, region: Region, year: int) -> DutyList:
    """Start the yearly revision: a draft for `year` copied from the region's last published list."""
    _check_year(year)
    _require_edit(actor=actor, region=region)
    with _conflicts_as_errors(), transaction.atomic():
        source = (
            DutyList.objects.select_for_update()
            .filter(region=region, status=DutyListStatus.PUBLISHED)
            .order_by("-year", "-version")
            .first()
        )
        if source is None:
            raise ServiceError("no_published_list", f"{region.name}还没有已发布的清单,请新建清单")
        if year < source.year:
            raise ServiceError("invalid_year", f"修订年度不能早于现行清单的年度({source.year} 年)")
        _refuse_second_draft(region, year)
        duty_list = DutyList.objects.create(
            region=region,
            kind=source.kind,
            year=year,
            version=_next_version(region, year),
            based_on=source,
            created_by=_user_or_none(actor),
        )
        _bulk_insert(duty_list, [fields_of(i) for i in _items_qs(source)])
        audit_append(actor=actor, action="duty_list.revise", obj=duty_list, state=list_state(duty_list))
    return duty_list


def duty_list_publish(*, actor: Any, duty_list: DutyList) -> DutyList:
    """Publish a draft. The region's published lists of this and earlier years are superseded."""
    _require_edit(actor=actor, region=duty_list.region)
    with _conflicts_as_errors(), transaction.atomic():
        locked = _lock_draft(duty_list)
        if not _items_qs(locked).exists():
            raise ServiceError("empty_list", "清单没有任何事项,不能发布")
        published = list(
            DutyList.objects.select_for_update().filter(region=locked.region, status=DutyListStatus.PUBLISHED)
        )
        newer = [p for p in published if p.year > locked.year]
        if newer:
            raise ServiceError(
                "newer_list_published",
                f"已发布 {newer[0].year} 年度清单,不能再发布更早年度({locked.year} 年)的清单",
            )
        superseded = [p.pk for p in published]
        DutyList.objects.filter(pk__in=superseded).update(status=DutyListStatus.SUPERSEDED)
        locked.status = DutyListStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.published_by = _user_or_none(actor)
        locked.save(update_fields=["status", "published_at", "published_by"])
        audit_append(
            actor=actor,
            action="duty_list.publish",
            obj=locked,
            state={**list_state(locked), "superseded": sorted(superseded)},
        )
    return locked


def duty_list_delete(*, actor: Any, duty_list: DutyList) -> None:
    """Discard a draft. Published and superseded versions are the record and stay."""
    _require_edit(actor=actor, region=duty_list.region)
    with transaction.atomic():
        locked = _lock_draft(duty_list)
        audit_append(actor=actor, action="duty_list.delete", obj=locked, state=list_state(locked))
        locked.delete()


def duty_list_replace_items(*, actor: Any, duty_list: DutyList, items: Sequence[ItemFields]) -> DutyList:
    """Replace every item of a draft at once (whole-list edits, the Excel import)."""
    return _replace(actor=actor, duty_list=duty_list, items=items, action="duty_list.replace_items", extra={})


def duty_list_import(*, actor: Any, duty_list: DutyList, content: bytes, filename: str = "") -> DutyList:
    """Import an .xlsx into a draft, replacing its items. A file with any error changes nothing."""
    from shanzhi.duties.excel import parse_xlsx

    _require_edit(actor=actor, region=duty_list.region)
    if duty_list.status != DutyListStatus.DRAFT:
        raise ServiceError("not_draft", "只能导入到草稿状态的清单")
    items = parse_xlsx(content=content, kind=duty_list.kind)
    extra = {"file_sha256": hashlib.sha256(content).hexdigest(), "filename": filename[:200]}
    return _replace(actor=actor, duty_list=duty_list, items=items, action="duty_list.import", extra=extra)


def _replace(
    *, actor: Any, duty_list: DutyList, items: Sequence[ItemFields], action: str, extra: dict[str, Any]
) -> DutyList:
    _require_edit(actor=actor, region=duty_list.region)
    normalized = validate_items(duty_list.kind, items)
    with transaction.atomic():
        locked = _lock_draft(duty_list)
        _items_qs(locked).delete()
        _bulk_insert(locked, normalized)
        audit_append(actor=actor, action=action, obj=locked, state={**list_state(locked), **extra})
    return locked


# ---- items -----------------------------------------------------------------------------------


def _item_add(*, actor: Any, duty_list: DutyList, item: ItemFields, action: str) -> Duty | AssistItem:
    _require_edit(actor=actor, region=duty_list.region)
    with transaction.atomic():
        locked = _lock_draft(duty_list)
        item = _check_one(locked.kind, item)
        existing = _items_qs(locked)
        limit = max_items(locked.kind)
        if existing.count() >= limit:
            raise _cap_error(locked.kind, limit)
        if existing.filter(code=item.code).exists():
            raise ServiceError("duplicate_code", f"事项编码 {item.code} 已在清单中")
        position = (existing.aggregate(p=Max("position"))["p"] or 0) + 1
        obj = _build(locked, item, position)
        obj.save()
        audit_append(actor=actor, action=action, obj=locked, state={**list_state(locked), "item": item.code})
    return obj


def _item_update(*, actor: Any, obj: Duty | AssistItem, item: ItemFields, action: str) -> Duty | AssistItem:
    _require_edit(actor=actor, region=obj.duty_list.region)
    with transaction.atomic():
        locked = _lock_draft(obj.duty_list)
        item = _check_one(locked.kind, item)
        if _items_qs(locked).filter(code=item.code).exclude(pk=obj.pk).exists():
            raise ServiceError("duplicate_code", f"事项编码 {item.code} 已在清单中")
        current = type(obj).objects.select_for_update().filter(pk=obj.pk, duty_list=locked).first()
        if current is None:
            raise NotFound()
        for name, value in item_state(item).items():
            setattr(current, name, value)
        current.save()
        audit_append(actor=actor, action=action, obj=locked, state={**list_state(locked), "item": item.code})
    return current


def _item_remove(*, actor: Any, obj: Duty | AssistItem, action: str) -> None:
    _require_edit(actor=actor, region=obj.duty_list.region)
    with transaction.atomic():
        locked = _lock_draft(obj.duty_list)
        deleted, _ = type(obj).objects.filter(pk=obj.pk, duty_list=locked).delete()
        if not deleted:
            raise NotFound()
        audit_append(
            actor=actor, action=action, obj=locked, state={**list_state(locked), "removed": obj.code}
        )


def duty_add(*, actor: Any, duty_list: DutyList, fields: DutyFields) -> Duty:
    obj = _item_add(actor=actor, duty_list=duty_list, item=fields, action="duty.add")
    assert isinstance(obj, Duty)
    return obj


def duty_update(*, actor: Any, duty: Duty, fields: DutyFields) -> Duty:
    obj = _item_update(actor=actor, obj=duty, item=fields, action="duty.update")
    assert isinstance(obj, Duty)
    return obj


def duty_remove(*, actor: Any, duty: Duty) -> None:
    _item_remove(actor=actor, obj=duty, action="duty.remove")


def assist_item_add(*, actor: Any, duty_list: DutyList, fields: AssistFields) -> AssistItem:
    obj = _item_add(actor=actor, duty_list=duty_list, item=fields, action="assist_item.add")
    assert isinstance(obj, AssistItem)
    return obj


def assist_item_update(*, actor: Any, item: AssistItem, fields: AssistFields) -> AssistItem:
    obj = _item_update(actor=actor, obj=item, item=fields, action="assist_item.update")
    assert isinstance(obj, AssistItem)
    return obj


def assist_item_remove(*, actor: Any, item: AssistItem) -> None:
    _item_remove(actor=actor, obj=item, action="assist_item.remove")
