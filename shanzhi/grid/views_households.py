"""Household pages: the register with filters, one household, the form (new and edit),
deactivation, Excel import (errors table or success) and export.

Who sees what is the selectors' business (own grid's workers and their superiors; anyone else
gets 404); phones on these pages are masked except for the grid's own workers.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Role
from shanzhi.grid import household_excel as hx
from shanzhi.grid import household_selectors as hs
from shanzhi.grid.households import HouseholdInput, household_create, household_deactivate, household_update
from shanzhi.grid.models import Household
from shanzhi.grid.selectors import grid_list, townships_in_view
from shanzhi.web import pages as web_pages

PROBLEM = "grid/households_problem.html"
page = partial(web_pages.page, template=PROBLEM)
ROLES = frozenset({Role.GRIDWORKER, *hs.SUPERIOR_ROLES})
PER_PAGE = 50
MAX_EXPORT = 50_000


def _filters(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "").strip()[:64] for key in ("grid", "village", "care", "q")}


@page(roles=ROLES)
def household_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    error = ""
    try:
        qs = hs.household_list(
            user=request.user,
            grid_code=filters["grid"] or None,
            village_code=filters["village"] or None,
            care=filters["care"] or None,
            search=filters["q"] or None,
        )
    except ServiceError as exc:
        error, qs = exc.message, Household.objects.none()
    paged = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = [hs.household_dict(user=request.user, household=h) for h in paged.object_list]
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "grid/households.html",
        {
            "rows": rows,
            "paged": paged,
            "filters": filters,
            "query": query,
            "error": error,
            "care_labels": hs.CARE_LABELS,
            "grids": _grid_choices(request),
            "townships": townships_in_view(user=request.user),
        },
    )


def _grid_choices(request: HttpRequest) -> list[tuple[str, str]]:
    own = hs.own_grid_ids(user=request.user)
    if hs.superior_path(user=request.user) is not None:
        grids = grid_list(user=request.user)
    else:
        from shanzhi.grid.models import Grid

        grids = Grid.objects.filter(pk__in=sorted(own), active=True).order_by("code")
    return [(g.code, g.name) for g in grids[:2000]]


@page(roles=ROLES)
def household_detail(request: HttpRequest, code: str) -> HttpResponse:
    household = hs.household_get(user=request.user, code=code)
    return render(
        request,
        "grid/households_detail.html",
        {"h": hs.household_dict(user=request.user, household=household), "household": household},
    )


def _parse_number(value: str) -> float | str:
    try:
        number = float(value.strip())
    except ValueError:
        return value  # the service refuses it with its own message
    return number if math.isfinite(number) else value


def _parse_members(value: str) -> int | str:
    text = value.strip()
    return int(text) if text.isdigit() else text


def _form_values(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    return {
        "address": post.get("address", ""),
        "head_name": post.get("head_name", ""),
        "lon": post.get("lon", ""),
        "lat": post.get("lat", ""),
        "crs": post.get("crs", "wgs84"),
        "grid": post.get("grid", "").strip(),
        "members": post.get("members", "1"),
        "phone": post.get("phone", ""),
        "note": post.get("note", ""),
        **{flag: post.get(flag) == "on" for flag in Household.CARE_FLAGS},
    }


@page(roles=ROLES)
def household_new(request: HttpRequest) -> HttpResponse:
    values: dict[str, Any] = {"members": "1", "crs": "wgs84", "grid": request.GET.get("grid", "")}
    error = ""
    if request.method == "POST":
        values = _form_values(request)
        try:
            household = household_create(
                actor=request.user,
                data=HouseholdInput(
                    address=values["address"],
                    head_name=values["head_name"],
                    lon=_parse_number(values["lon"]),
                    lat=_parse_number(values["lat"]),
                    crs=values["crs"],
                    grid_code=values["grid"] or None,
                    members=_parse_members(values["members"]),
                    phone=values["phone"],
                    care={flag: values[flag] for flag in Household.CARE_FLAGS},
                    note=values["note"],
                ),
            )
        except ServiceError as exc:
            if exc.status == 404:
                raise
            error = exc.message
        else:
            return redirect("grid:household_detail", code=household.code)
    return _form(request, values=values, error=error, household=None)


@page(roles=ROLES)
def household_edit(request: HttpRequest, code: str) -> HttpResponse:
    household = hs.household_get(user=request.user, code=code, active=True)
    own_phone = hs.phone_visible(user=request.user, household=household)
    error = ""
    if request.method == "POST":
        values = _form_values(request)
        changes: dict[str, Any] = {}
        if own_phone or values["phone"].strip():
            changes["phone"] = values["phone"]  # others see a mask; blank leaves the number alone
        if values["grid"] != household.grid.code:
            changes["grid_code"] = values["grid"] or None
        try:
            household_update(
                actor=request.user,
                household=household,
                address=values["address"],
                head_name=values["head_name"],
                lon=_parse_number(values["lon"]),
                lat=_parse_number(values["lat"]),
                crs=values["crs"],
                members=_parse_members(values["members"]),
                care={flag: values[flag] for flag in Household.CARE_FLAGS},
                note=values["note"],
                **changes,
            )
        except ServiceError as exc:
            if exc.status == 404:
                raise
            error = exc.message
        else:
            return redirect("grid:household_detail", code=household.code)
    else:
        values = {
            "address": household.address,
            "head_name": household.head_name,
            "lon": repr(household.lon),
            "lat": repr(household.lat),
            "crs": "wgs84",
            "grid": household.grid.code,
            "members": str(household.members),
            "phone": household.phone if own_phone else "",
            "note": household.note,
            **{flag: getattr(household, flag) for flag in Household.CARE_FLAGS},
        }
    return _form(request, values=values, error=error, household=household, own_phone=own_phone)


def _form(
    request: HttpRequest,
    *,
    values: dict[str, Any],
    error: str,
    household: Household | None,
    own_phone: bool = True,
) -> HttpResponse:
    return render(
        request,
        "grid/households_form.html",
        {
            "values": values,
            "error": error,
            "household": household,
            "own_phone": own_phone,
            "masked_phone": hs.household_phone(user=request.user, household=household) if household else "",
            "care_fields": [(flag, label, bool(values.get(flag))) for flag, label in hs.CARE_LABELS.items()],
            "grids": _grid_choices(request),
            "crs_choices": [
                ("wgs84", "WGS-84(GPS)"),
                ("gcj02", "GCJ-02(高德、腾讯)"),
                ("bd09", "BD-09(百度)"),
            ],
        },
        status=422 if error else 200,
    )


@page(roles=ROLES)
def household_deactivate_view(request: HttpRequest, code: str) -> HttpResponse:
    household = hs.household_get(user=request.user, code=code, active=True)
    if request.method != "POST":
        return redirect("grid:household_detail", code=code)
    reason = request.POST.get("reason", "")[:200]
    try:
        household_deactivate(actor=request.user, household=household, reason=reason)
    except ServiceError as exc:  # a refused reason (e.g. a NUL in it) was a 500
        if exc.status == 404:
            raise
        context = {"title": "未能停用住户", "message": exc.message}
        return render(request, PROBLEM, context, status=exc.status)
    return redirect("grid:household_detail", code=code)


@page(roles=ROLES)
def household_import(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"max_rows": hx.MAX_ROWS, "max_mb": hx.MAX_FILE_BYTES // 1024 // 1024}
    status = 200
    if request.method == "POST":
        try:
            content = hx.read_upload(request.FILES.get("file"))
            result = hx.import_xlsx(actor=request.user, content=content)
        except ServiceError as exc:
            context.update(error=exc.message, errors=exc.details or [])
            status = 422
        else:
            context.update(created=result.created, seconds=result.seconds)
    return render(request, "grid/households_import.html", context, status=status)


@page(roles=ROLES)
def household_export(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    qs = hs.household_list(
        user=request.user,
        grid_code=filters["grid"] or None,
        village_code=filters["village"] or None,
        care=filters["care"] or None,
        search=filters["q"] or None,
    )
    content = hx.export_xlsx(user=request.user, households=qs[:MAX_EXPORT].iterator(chunk_size=2000))
    response = HttpResponse(content, content_type=hx.XLSX_CONTENT_TYPE)
    name = f"households-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
