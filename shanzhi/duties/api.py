"""Duty list API (/api/v1/duties): lists in jurisdiction, items, versions, diff, check, Excel."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import File, Router, Schema, Status, UploadedFile

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Handler, Region
from shanzhi.core.selectors import region_get
from shanzhi.duties import selectors, services
from shanzhi.duties.check import duty_check
from shanzhi.duties.excel import XLSX_CONTENT_TYPE, export_filename, export_xlsx, read_upload
from shanzhi.duties.items import AssistFields, DutyFields, ItemFields, fields_of
from shanzhi.duties.models import AssistItem, Duty, DutyList, DutyListKind, DutyType

router = Router(tags=["duties"])


class DutyListOut(Schema):
    id: int
    region_code: str
    region_name: str
    kind: str
    kind_label: str
    year: int
    version: int
    status: str
    status_label: str
    based_on: int | None
    item_count: int
    created_at: dt.datetime
    published_at: dt.datetime | None


class ItemOut(Schema):
    code: str
    name: str
    type: str | None = None
    type_label: str | None = None
    legal_basis: str | None = None
    lead_handler: str | None = None
    assists: str | None = None
    basis: str | None = None
    category_codes: list[str]
    notes: str


class DutyListDetailOut(DutyListOut):
    can_edit: bool
    over_warning: bool
    items: list[ItemOut]


class ItemIn(Schema):
    code: str
    name: str
    type: str | None = None
    legal_basis: str | None = None
    lead_handler: str | None = None
    assists: str | None = None
    basis: str | None = None
    category_codes: list[str] = []
    notes: str = ""


class CreateIn(Schema):
    region: str
    year: int


class ReviseIn(Schema):
    year: int


class FieldChangeOut(Schema):
    field: str
    label: str
    old: str
    new: str


class ItemChangeOut(Schema):
    code: str
    name: str
    changes: list[FieldChangeOut]


class DiffOut(Schema):
    old: DutyListOut
    new: DutyListOut
    added: list[ItemOut]
    removed: list[ItemOut]
    changed: list[ItemChangeOut]
    unchanged: int


class CheckIn(Schema):
    unit: str
    assigner: str
    work: str
    year: int | None = None


class CheckOut(Schema):
    allowed: bool
    code: str
    reason: str
    duty: str | None


def _list_out(duty_list: DutyList, count: int | None = None) -> DutyListOut:
    if count is None:
        count = selectors.duty_list_item_count(duty_list=duty_list)
    return DutyListOut(
        id=duty_list.pk,
        region_code=duty_list.region.code,
        region_name=duty_list.region.name,
        kind=duty_list.kind,
        kind_label=duty_list.get_kind_display(),
        year=duty_list.year,
        version=duty_list.version,
        status=duty_list.status,
        status_label=duty_list.get_status_display(),
        based_on=duty_list.based_on_id,
        item_count=count,
        created_at=duty_list.created_at,
        published_at=duty_list.published_at,
    )


def _item_out(item: ItemFields) -> ItemOut:
    if isinstance(item, DutyFields):
        label = str(DutyType(item.type).label) if item.type in DutyType.values else item.type
        return ItemOut(
            code=item.code,
            name=item.name,
            type=item.type,
            type_label=label,
            legal_basis=item.legal_basis,
            lead_handler=item.lead_handler,
            category_codes=list(item.category_codes),
            notes=item.notes,
        )
    return ItemOut(
        code=item.code,
        name=item.name,
        assists=item.assists,
        basis=item.basis,
        category_codes=list(item.category_codes),
        notes=item.notes,
    )


def _fields_in(duty_list: DutyList, data: ItemIn) -> ItemFields:
    if duty_list.kind == DutyListKind.VILLAGE_ASSIST:
        return AssistFields(
            code=data.code,
            name=data.name,
            assists=data.assists or "",
            basis=data.basis or "",
            category_codes=tuple(data.category_codes),
            notes=data.notes,
        )
    labels = {str(label): value for value, label in DutyType.choices}
    type_value = labels.get((data.type or "").strip(), (data.type or "").strip())
    return DutyFields(
        code=data.code,
        name=data.name,
        type=type_value,
        legal_basis=data.legal_basis or "",
        lead_handler=data.lead_handler or "",
        category_codes=tuple(data.category_codes),
        notes=data.notes,
    )


def _item_obj(duty_list: DutyList, code: str) -> Duty | AssistItem:
    model = AssistItem if duty_list.kind == DutyListKind.VILLAGE_ASSIST else Duty
    obj = model.objects.filter(duty_list=duty_list, code=code.strip().upper()).first()
    if obj is None:
        raise NotFound("清单中没有该事项")
    return obj


def _detail(request: HttpRequest, duty_list: DutyList) -> DutyListDetailOut:
    items = selectors.duty_list_items(duty_list=duty_list)
    base = _list_out(duty_list, len(items))
    return DutyListDetailOut(
        **base.model_dump(),
        can_edit=selectors.can_edit_region(user=request.user, region=duty_list.region),
        over_warning=selectors.duty_list_over_warning(duty_list=duty_list, count=len(items)),
        items=[_item_out(fields_of(i)) for i in items],
    )


@router.get("/lists", response=list[DutyListOut])
def lists(
    request: HttpRequest,
    year: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    region: str | None = None,
) -> list[DutyListOut]:
    qs = selectors.duty_list_list(user=request.user, year=year, status=status, kind=kind, region_code=region)
    return [_list_out(d, d.duty_count + d.assist_count) for d in qs]  # type: ignore[attr-defined]


@router.post("/lists", response={201: DutyListDetailOut})
def create(request: HttpRequest, data: CreateIn) -> Status[DutyListDetailOut]:
    region = region_get(user=request.user, code=data.region)
    duty_list = services.duty_list_create(actor=request.user, region=region, year=data.year)
    return Status(201, _detail(request, duty_list))


@router.get("/lists/{pk}", response=DutyListDetailOut)
def detail(request: HttpRequest, pk: int) -> DutyListDetailOut:
    return _detail(request, selectors.duty_list_get(user=request.user, pk=pk))


@router.delete("/lists/{pk}", response={204: None})
def delete(request: HttpRequest, pk: int) -> Status[None]:
    services.duty_list_delete(actor=request.user, duty_list=selectors.duty_list_get(user=request.user, pk=pk))
    return Status(204, None)


@router.post("/lists/{pk}/publish", response=DutyListDetailOut)
def publish(request: HttpRequest, pk: int) -> DutyListDetailOut:
    duty_list = selectors.duty_list_get(user=request.user, pk=pk)
    return _detail(request, services.duty_list_publish(actor=request.user, duty_list=duty_list))


@router.post("/lists/{pk}/revise", response={201: DutyListDetailOut})
def revise(request: HttpRequest, pk: int, data: ReviseIn) -> Status[DutyListDetailOut]:
    duty_list = selectors.duty_list_get(user=request.user, pk=pk)
    draft = services.duty_list_revise(actor=request.user, region=duty_list.region, year=data.year)
    return Status(201, _detail(request, draft))


@router.post("/lists/{pk}/items", response={201: ItemOut})
def item_add(request: HttpRequest, pk: int, data: ItemIn) -> Status[ItemOut]:
    duty_list = selectors.duty_list_get(user=request.user, pk=pk)
    fields = _fields_in(duty_list, data)
    obj: Duty | AssistItem
    if isinstance(fields, DutyFields):
        obj = services.duty_add(actor=request.user, duty_list=duty_list, fields=fields)
    else:
        obj = services.assist_item_add(actor=request.user, duty_list=duty_list, fields=fields)
    return Status(201, _item_out(fields_of(obj)))


@router.put("/lists/{pk}/items/{code}", response=ItemOut)
def item_update(request: HttpRequest, pk: int, code: str, data: ItemIn) -> ItemOut:
    duty_list = selectors.duty_list_get(user=request.user, pk=pk)
    obj = _item_obj(duty_list, code)
    fields = _fields_in(duty_list, data)
    if isinstance(obj, Duty) and isinstance(fields, DutyFields):
        return _item_out(fields_of(services.duty_update(actor=request.user, duty=obj, fields=fields)))
    assert isinstance(obj, AssistItem) and isinstance(fields, AssistFields)
    return _item_out(fields_of(services.assist_item_update(actor=request.user, item=obj, fields=fields)))


@router.delete("/lists/{pk}/items/{code}", response={204: None})
def item_remove(request: HttpRequest, pk: int, code: str) -> Status[None]:
    duty_list = selectors.duty_list_get(user=request.user, pk=pk)
    obj = _item_obj(duty_list, code)
    if isinstance(obj, Duty):
        services.duty_remove(actor=request.user, duty=obj)
    else:
        services.assist_item_remove(actor=request.user, item=obj)
    return Status(204, None)


@router.get("/diff", response=DiffOut)
def diff(request: HttpRequest, old: int, new: int) -> DiffOut:
    old_list = selectors.duty_list_get(user=request.user, pk=old)
    new_list = selectors.duty_list_get(user=request.user, pk=new)
    result = selectors.duty_list_diff(old=old_list, new=new_list)
    return DiffOut(
        old=_list_out(old_list),
        new=_list_out(new_list),
        added=[_item_out(i) for i in result.added],
        removed=[_item_out(i) for i in result.removed],
        changed=[
            ItemChangeOut(
                code=c.code,
                name=c.name,
                changes=[
                    FieldChangeOut(field=f.field, label=f.label, old=f.old, new=f.new) for f in c.changes
                ],
            )
            for c in result.changed
        ],
        unchanged=result.unchanged,
    )


def _assigner(code: str) -> Region | Handler:
    """A handler body by its code (urban_mgmt, township-…), else a region by its division code."""
    handler = Handler.objects.select_related("region").filter(code=code.strip()).first()
    if handler is not None:
        return handler
    region = Region.objects.filter(code=code.strip()).first()
    if region is None:
        raise ServiceError("unknown_assigner", f"未知的派遣单位:{code}")
    return region


@router.post("/check", response=CheckOut)
def check(request: HttpRequest, data: CheckIn) -> CheckOut:
    """Would the unit's published list cover this work? Dispatch asks before assigning."""
    unit = region_get(user=request.user, code=data.unit)
    result = duty_check(assigner=_assigner(data.assigner), unit=unit, work=data.work, year=data.year)
    return CheckOut(allowed=result.allowed, code=result.code, reason=result.reason, duty=result.duty)


@router.get("/lists/{pk}/export")
def export(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = selectors.duty_list_get(user=request.user, pk=pk)
    content = export_xlsx(duty_list=duty_list, items=selectors.duty_list_items(duty_list=duty_list))
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, export_filename(duty_list)) or ""
    return response


@router.post("/lists/{pk}/import", response=DutyListDetailOut)
def import_xlsx(request: HttpRequest, pk: int, file: File[UploadedFile]) -> DutyListDetailOut:
    """Replace a draft's items with the file's; any error refuses the whole file (details list each)."""
    duty_list = selectors.duty_list_get(user=request.user, pk=pk)
    content = read_upload(file)
    updated = services.duty_list_import(
        actor=request.user, duty_list=duty_list, content=content, filename=file.name or ""
    )
    return _detail(request, updated)
