"""The message API: a person's inbox and read marks; the outbox (masked) for administrators."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.masking import mask_phone
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role
from shanzhi.notify import selectors, services
from shanzhi.notify.models import Message

router = Router(tags=["notify"])


def _page(limit: int, offset: int) -> None:
    if not (1 <= limit <= 200) or offset < 0:
        raise ServiceError("invalid_page", "limit 应在 1–200 之间,offset 不能为负", status=422)


def message_dict(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "subject": message.subject,
        "body": message.body,
        "object_type": message.object_type,
        "object_id": message.object_id,
        "created_at": message.created_at,
        "read_at": message.read_at,
    }


@router.get("/inbox", response=dict, summary="我的站内消息(未读在前)")
def inbox(request: HttpRequest, unread: bool = False, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    _page(limit, offset)
    qs = selectors.inbox(user=request.user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return {
        "total": qs.count(),
        "unread": selectors.inbox_unread_count(user=request.user),
        "items": [message_dict(m) for m in qs[offset : offset + limit]],
    }


@router.post("/messages/{int:pk}/read", response=dict, summary="标记已读")
def read(request: HttpRequest, pk: int) -> dict[str, Any]:
    return message_dict(services.message_mark_read(actor=request.user, message_id=pk))


@router.post("/inbox/read-all", response=dict, summary="全部标记已读")
def read_all(request: HttpRequest) -> dict[str, Any]:
    return {"count": services.message_mark_all_read(actor=request.user)}


@router.get("/outbox", response=dict, summary="发件箱(系统管理员;手机号脱敏)")
def outbox(
    request: HttpRequest,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    if not has_role(user=request.user, roles={Role.ADMIN}):
        raise NotFound()
    _page(limit, offset)
    qs = selectors.outbox(user=request.user)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return {
        "total": qs.count(),
        "items": [
            {
                **message_dict(m),
                "channel": m.channel,
                "status": m.status,
                "phone": mask_phone(m.phone),
                "attempts": m.attempts,
                "last_error": m.last_error,
                "next_attempt_at": m.next_attempt_at,
                "delivered_at": m.delivered_at,
            }
            for m in qs[offset : offset + limit]
        ],
    }
