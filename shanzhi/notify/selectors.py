from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from shanzhi.notify.models import Message, MessageChannel


def inbox(*, user: Any) -> QuerySet[Message]:
    return Message.objects.filter(recipient=user, channel=MessageChannel.IN_APP)
