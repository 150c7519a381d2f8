"""Queue messages in the outbox. In-app messages are delivered by being stored; SMS and e-mail
wait in the outbox for a gateway (configured by the one-window issue's notify work)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from shanzhi.notify.models import Message, MessageChannel, MessageStatus


def message_queue(
    *,
    channel: str,
    kind: str,
    body: str,
    recipient: Any = None,
    phone: str = "",
    subject: str = "",
    obj: models.Model | None = None,
) -> Message:
    """Record one message. Called inside the caller's transaction, so it exists only if the
    change that caused it commits; the caller's audit entry covers it."""
    if channel == MessageChannel.IN_APP and recipient is None:
        raise ValueError("an in-app message needs a recipient user")
    if channel == MessageChannel.SMS and not phone:
        raise ValueError("an SMS needs a phone number")
    now = timezone.now()
    in_app = channel == MessageChannel.IN_APP
    return Message.objects.create(
        channel=channel,
        kind=kind,
        recipient=recipient,
        phone=phone,
        subject=subject[:128],
        body=body,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        status=MessageStatus.DELIVERED if in_app else MessageStatus.QUEUED,
        delivered_at=now if in_app else None,
    )
