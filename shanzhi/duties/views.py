"""Duty list pages: the lists in jurisdiction, one list, compare versions, import, export,
publish and yearly revision. Views parse input, call selectors/services and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.selectors import region_get
from shanzhi.duties import selectors, services
from shanzhi.duties.excel import (
    MAX_FILE_BYTES,
    XLSX_CONTENT_TYPE,
    export_filename,
    export_xlsx,
    headers,
    read_upload,
)
from shanzhi.duties.items import (
    AssistFields,
    DutyFields,
    ItemFields,
    fields_of,
    max_items,
    parse_category_codes,
)
from shanzhi.duties.models import AssistItem, DutyList, DutyListKind, DutyListStatus, DutyType


def _get(request: HttpRequest, pk: int) -> DutyList:
    try:
        return selectors.duty_list_get(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _require_editor(request: HttpRequest, duty_list: DutyList) -> None:
    if not selectors.can_edit_region(user=request.user, region=duty_list.region):
        raise DjangoPermissionDenied("只有系统管理员或乡镇、县级领导可以修改权责清单")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _fail(request: HttpRequest, exc: ServiceError) -> None:
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    if isinstance(exc, PermissionDenied):
        raise DjangoPermissionDenied(exc.message)
    messages.error(request, exc.message)


@login_required
def list_view(request: HttpRequest) -> HttpResponse:
    year = _int(request.GET.get("year"))
    status = request.GET.get("status") or None
    kind = request.GET.get("kind") or None
    lists = list(selectors.duty_list_list(user=request.user, year=year, status=status, kind=kind))
    for d in lists:
        d.item_count = d.duty_count + d.assist_count  # type: ignore[attr-defined]
    years = sorted({d.year for d in selectors.duty_list_list(user=request.user)}, reverse=True)
    regions = selectors.editable_regions(user=request.user)
    return render(
        request,
        "duties/list.html",
        {
            "lists": lists,
            "years": years,
            "year": year,
            "status": status,
            "kind": kind,
            "statuses": DutyListStatus.choices,
            "kinds": DutyListKind.choices,
            "editable_regions": regions,
            "this_year": timezone.localdate().year,
        },
    )


@login_required
@require_POST
def create_view(request: HttpRequest) -> HttpResponse:
    year = _int(request.POST.get("year"))
    try:
        region = region_get(user=request.user, code=request.POST.get("region", ""))
        if year is None:
            raise ServiceError("invalid_year", "请填写年度")
        duty_list = services.duty_list_create(actor=request.user, region=region, year=year)
    except ServiceError as exc:
        _fail(request, exc)
        return redirect("duties:list")
    messages.success(request, f"已新建草稿:{duty_list}")
    return redirect("duties:detail", pk=duty_list.pk)


def _item_rows(duty_list: DutyList, items: list[Any]) -> list[dict[str, Any]]:
    names = selectors.handler_type_names()
    rows = []
    for obj in items:
        item = fields_of(obj)
        handler = item.lead_handler if isinstance(item, DutyFields) else item.assists
        rows.append(
            {
                "item": item,
                "type_label": DutyType(item.type).label if isinstance(item, DutyFields) else "",
                "basis": item.legal_basis if isinstance(item, DutyFields) else item.basis,
                "handler": names.get(handler, handler),
            }
        )
    return rows


@login_required
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = _get(request, pk)
    items = selectors.duty_list_items(duty_list=duty_list)
    versions = list(selectors.duty_list_versions(duty_list=duty_list))
    return render(
        request,
        "duties/detail.html",
        {
            "duty_list": duty_list,
            "rows": _item_rows(duty_list, items),
            "count": len(items),
            "limit": max_items(duty_list.kind),
            "over_warning": selectors.duty_list_over_warning(duty_list=duty_list, count=len(items)),
            "can_edit": selectors.can_edit_region(user=request.user, region=duty_list.region),
            "versions": versions,
            "is_village": duty_list.kind == DutyListKind.VILLAGE_ASSIST,
            "duty_types": DutyType.choices,
        },
    )


@login_required
def compare_view(request: HttpRequest) -> HttpResponse:
    old_pk, new_pk = _int(request.GET.get("old")), _int(request.GET.get("new"))
    if old_pk is None or new_pk is None:
        raise Http404("请选择要比较的两个版本")
    old, new = _get(request, old_pk), _get(request, new_pk)
    try:
        diff = selectors.duty_list_diff(old=old, new=new)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("duties:detail", pk=new.pk)
    return render(
        request,
        "duties/compare.html",
        {
            "diff": diff,
            "versions": list(selectors.duty_list_versions(duty_list=new)),
            "is_village": new.kind == DutyListKind.VILLAGE_ASSIST,
        },
    )


@login_required
def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = _get(request, pk)
    content = export_xlsx(duty_list=duty_list, items=selectors.duty_list_items(duty_list=duty_list))
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, export_filename(duty_list)) or ""
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = _get(request, pk)
    _require_editor(request, duty_list)
    context: dict[str, Any] = {
        "duty_list": duty_list,
        "headers": headers(duty_list.kind),
        "limit": max_items(duty_list.kind),
        "max_mb": MAX_FILE_BYTES // 1024 // 1024,
        "errors": [],
    }
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            content = read_upload(upload)
            services.duty_list_import(
                actor=request.user,
                duty_list=duty_list,
                content=content,
                filename=(upload.name or "") if upload else "",
            )
        except ServiceError as exc:
            if isinstance(exc, NotFound | PermissionDenied):
                _fail(request, exc)
            context["error"] = exc.message
            context["errors"] = exc.details if isinstance(exc.details, list) else []
            return render(request, "duties/import.html", context, status=400)
        messages.success(request, "导入成功,草稿中的事项已替换为文件内容")
        return redirect("duties:detail", pk=duty_list.pk)
    return render(request, "duties/import.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = _get(request, pk)
    _require_editor(request, duty_list)
    if request.method == "POST":
        try:
            services.duty_list_publish(actor=request.user, duty_list=duty_list)
        except ServiceError as exc:
            _fail(request, exc)
            return redirect("duties:detail", pk=duty_list.pk)
        messages.success(
            request, f"已发布:{duty_list.region.name}{duty_list.year} 年度清单第 {duty_list.version} 版"
        )
        return redirect("duties:detail", pk=duty_list.pk)
    current = selectors.duty_list_published(region=duty_list.region, year=duty_list.year)
    return render(
        request,
        "duties/publish.html",
        {
            "duty_list": duty_list,
            "count": selectors.duty_list_item_count(duty_list=duty_list),
            "current": current,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def revise_view(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = _get(request, pk)
    _require_editor(request, duty_list)
    default_year = max(duty_list.year, timezone.localdate().year)
    if request.method == "POST":
        year = _int(request.POST.get("year"))
        try:
            if year is None:
                raise ServiceError("invalid_year", "请填写修订年度")
            draft = services.duty_list_revise(actor=request.user, region=duty_list.region, year=year)
        except ServiceError as exc:
            _fail(request, exc)
            return redirect("duties:revise", pk=duty_list.pk)
        messages.success(request, f"已发起 {year} 年度修订,草稿复制自现行清单")
        return redirect("duties:detail", pk=draft.pk)
    return render(request, "duties/revise.html", {"duty_list": duty_list, "default_year": default_year})


@login_required
@require_http_methods(["GET", "POST"])
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = _get(request, pk)
    _require_editor(request, duty_list)
    if request.method == "POST":
        try:
            services.duty_list_delete(actor=request.user, duty_list=duty_list)
        except ServiceError as exc:
            _fail(request, exc)
            return redirect("duties:detail", pk=duty_list.pk)
        messages.success(request, "草稿已删除")
        return redirect("duties:list")
    return render(request, "duties/delete.html", {"duty_list": duty_list})


def _posted_item(duty_list: DutyList, data: Any) -> ItemFields:
    categories = parse_category_codes(data.get("category_codes", ""))
    if duty_list.kind == DutyListKind.VILLAGE_ASSIST:
        return AssistFields(
            code=data.get("code", ""),
            name=data.get("name", ""),
            assists=data.get("assists", ""),
            basis=data.get("basis", ""),
            category_codes=categories,
            notes=data.get("notes", ""),
        )
    return DutyFields(
        code=data.get("code", ""),
        name=data.get("name", ""),
        type=data.get("type", ""),
        legal_basis=data.get("legal_basis", ""),
        lead_handler=data.get("lead_handler", ""),
        category_codes=categories,
        notes=data.get("notes", ""),
    )


@login_required
@require_POST
def item_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    duty_list = _get(request, pk)
    fields = _posted_item(duty_list, request.POST)
    try:
        if isinstance(fields, DutyFields):
            services.duty_add(actor=request.user, duty_list=duty_list, fields=fields)
        else:
            services.assist_item_add(actor=request.user, duty_list=duty_list, fields=fields)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, f"已添加事项 {fields.code.strip().upper()}")
    return redirect(reverse("duties:detail", kwargs={"pk": duty_list.pk}) + "#items")


@login_required
@require_POST
def item_remove_view(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    duty_list = _get(request, pk)
    items = {i.code: i for i in selectors.duty_list_items(duty_list=duty_list)}
    obj = items.get(code)
    if obj is None:
        raise Http404("清单中没有该事项")
    try:
        if isinstance(obj, AssistItem):  # a village list's items (duty_list_items)
            services.assist_item_remove(actor=request.user, item=obj)
        else:
            services.duty_remove(actor=request.user, duty=obj)
    except ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, f"已删除事项 {code}")
    return redirect(reverse("duties:detail", kwargs={"pk": duty_list.pk}) + "#items")
