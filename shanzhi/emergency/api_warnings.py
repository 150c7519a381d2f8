"""The warnings API: CAP 1.2 intake for machines and the command centre, reads, CAP export.

`POST /api/v1/warnings/cap` takes the raw CAP XML as the body (Content-Type application/xml,
text/xml or application/cap+xml; at most 1 MB). Machine senders (the provincial platform, a
sensor gateway) use the bearer token of an account with the `sensor` role; people post as
administrators or dispatchers. The same message twice answers 200 with the first warning.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from shanzhi.core.errors import ServiceError
from shanzhi.emergency.cap import MAX_BYTES
from shanzhi.emergency.models_warnings import Warning, WarningSource
from shanzhi.emergency.warning_selectors import grid_scope, warning_cap, warning_get, warning_list
from shanzhi.emergency.warnings import warning_receive

router = Router(tags=["warnings"])

CAP_TYPES = ("application/xml", "text/xml", "application/cap+xml")


def warning_dict(w: Warning, *, detail: bool = False, grid_ids: list[int] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": w.pk,
        "identifier": w.identifier,
        "sender": w.sender,
        "sent": w.sent.isoformat(),
        "msg_type": w.msg_type,
        "status": w.status,
        "scope": w.scope,
        "source": w.source,
        "event": w.event,
        "headline": w.headline,
        "severity": w.severity,
        "urgency": w.urgency,
        "certainty": w.certainty,
        "level": w.level,
        "state": w.state,
        "expires": w.expires.isoformat() if w.expires else None,
        "affected": {
            "grids": w.grid_count,
            "households": w.household_count,
            "care_households": w.care_household_count,
            "sms": w.sms_count,
            "visits": w.visit_count,
            "tasks": w.task_count,
        },
    }
    if detail:
        data |= {
            "description": w.description,
            "instruction": w.instruction,
            "sender_name": w.sender_name,
            "area_desc": w.area_desc,
            "area": w.area,
            "region": w.region.code if w.region else None,
            "references": [{"id": r.pk, "identifier": r.identifier} for r in w.references.all()],
            "grids": [
                {
                    "code": g.grid.code,
                    "name": g.grid.name,
                    "households": g.households,
                    "care": g.care_households,
                }
                for g in w.grids.select_related("grid")
                if grid_ids is None or g.grid_id in grid_ids  # a grid worker: their own grids
            ],
            "incident": w.incident.number if w.incident else None,
        }
    return data


@router.post(
    "/cap",
    response={200: dict, 201: dict},
    summary="接收一条 CAP 1.2 预警(请求体为 XML)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string"}} for t in CAP_TYPES},
        }
    },
)
def receive_cap(request: HttpRequest) -> Status:
    content_type = (request.content_type or "").lower()
    if content_type not in CAP_TYPES:
        raise ServiceError(
            "unsupported_media_type",
            "请以 application/xml 或 application/cap+xml 提交 CAP 消息",
            status=415,
        )
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > MAX_BYTES:
        raise ServiceError("cap_too_large", f"预警消息过大,上限为 {MAX_BYTES} 字节", status=413)
    received = warning_receive(actor=request.user, xml=request.body, source=WarningSource.API)
    w = received.warning
    body = {
        "id": w.pk,
        "identifier": w.identifier,
        "msg_type": w.msg_type,
        "severity": w.severity,
        "state": w.state,
        "created": received.created,
        "affected": {"grids": w.grid_count, "households": w.household_count},
    }
    return Status(201 if received.created else 200, body)


@router.get("", response=dict, summary="预警列表(涉及本人管辖范围的)")
def list_warnings(
    request: HttpRequest, state: str = "", q: str = "", limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    if not (1 <= limit <= 500) or offset < 0:
        raise ServiceError("invalid_page", "limit 应在 1–500 之间,offset 不能为负", status=422)
    qs = warning_list(user=request.user, state=state, q=q[:100])
    return {"total": qs.count(), "items": [warning_dict(w) for w in qs[offset : offset + limit]]}


@router.get("/{warning_id}", response=dict, summary="一条预警")
def get_warning(request: HttpRequest, warning_id: int) -> dict[str, Any]:
    w = warning_get(user=request.user, pk=warning_id)
    return warning_dict(w, detail=True, grid_ids=grid_scope(user=request.user))


@router.get("/{warning_id}/cap", summary="以 CAP 1.2 XML 导出预警")
def get_warning_cap(request: HttpRequest, warning_id: int) -> HttpResponse:
    w = warning_get(user=request.user, pk=warning_id)
    return HttpResponse(warning_cap(warning=w), content_type="application/cap+xml; charset=utf-8")
