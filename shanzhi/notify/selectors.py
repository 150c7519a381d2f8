"""Reads of messages: a person's own inbox, and the outbox for administrators."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role
from shanzhi.notify.models import Message, MessageChannel


def inbox(*, user: Any) -> QuerySet[Message]:
    """The user's in-app messages, unread first, newest first within each."""
    if not getattr(user, "is_authenticated", False):
        return Message.objects.none()
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return (
        Message.objects.filter(recipient=user, channel=MessageChannel.IN_APP)
        .annotate(unread=unread)
        .order_by("-unread", "-created_at", "-pk")
    )


def inbox_unread_count(*, user: Any) -> int:
    return inbox(user=user).filter(read_at__isnull=True).count()


def outbox(*, user: Any) -> QuerySet[Message]:
    """Every message, for administrators (the operator watching deliveries); others see none."""
    if not has_role(user=user, roles={Role.ADMIN}):
        return Message.objects.none()
    return Message.objects.order_by("-created_at", "-pk")
