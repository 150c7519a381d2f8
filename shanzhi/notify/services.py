"""Writes to the outbox: queue a message, deliver it, mark it read, requeue, edit templates.

A message is queued inside the caller's transaction, so it exists only if the change that caused
it commits (the caller's audit entry covers it). SMS and e-mail are handed to a worker on commit;
each delivery attempt is recorded, retried with backoff up to MAX_ATTEMPTS, and then `failed`
with the provider's error. Phone numbers never reach a log line unmasked.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.masking import mask_phone, mask_text
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role
from shanzhi.notify.gateways import GatewayResult, email_enabled, sms_gateway
from shanzhi.notify.models import Message, MessageAttempt, MessageChannel, MessageStatus, MessageTemplate
from shanzhi.notify.outbox_insert import Row, insert_messages
from shanzhi.notify.wording import forget_stored_templates, render

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5))  # wait after the 1st and 2nd failure
# While a worker sends, the message's next_attempt_at is pushed this far ahead, so no other
# worker takes it; if the worker dies, the periodic sweep picks the message up after the lease.
LEASE = dt.timedelta(minutes=2)
WORKER_CHANNELS = (MessageChannel.SMS, MessageChannel.EMAIL)
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@")
TEMPLATE_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.([a-z0-9_]+|\*))+$")


# --- queueing -----------------------------------------------------------------------------------


def message_queue(
    *,
    channel: str,
    kind: str,
    body: str,
    recipient: Any = None,
    phone: str = "",
    subject: str = "",
    obj: models.Model | None = None,
    email: str = "",
    context: dict[str, Any] | None = None,
) -> Message:
    """Record one message, worded by the template for (kind, channel) with `body` as {body} and
    `context` for the other placeholders. Called inside the caller's transaction."""
    if channel not in MessageChannel.values:
        raise ValueError(f"unknown channel {channel!r}")
    if channel == MessageChannel.IN_APP and recipient is None:
        raise ValueError("an in-app message needs a recipient user")
    if channel == MessageChannel.SMS and not phone:
        raise ValueError("an SMS needs a phone number")
    if channel == MessageChannel.EMAIL:
        email = email or (getattr(recipient, "email", "") if recipient is not None else "")
        if not email:
            raise ValueError("an e-mail needs an address")
    wording = render(code=kind, channel=channel, context={"body": body, **(context or {})})
    if not wording.body:
        raise ValueError(f"message {kind} renders empty")
    now = timezone.now()
    in_app = channel == MessageChannel.IN_APP
    message = Message.objects.create(
        channel=channel,
        kind=kind[:64],
        recipient=recipient,
        phone=phone if channel == MessageChannel.SMS else "",
        email=email if channel == MessageChannel.EMAIL else "",
        subject=(subject or wording.subject)[:128],
        body=wording.body,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        status=MessageStatus.DELIVERED if in_app else MessageStatus.QUEUED,
        delivered_at=now if in_app else None,
        next_attempt_at=None if in_app else now,
    )
    if not in_app:
        transaction.on_commit(functools.partial(_enqueue, message.pk, channel), robust=True)
    return message


@dataclass(frozen=True)
class Recipient:
    """One addressee of a bulk message: a user (in-app), a phone (SMS) or an address (e-mail)."""

    user: Any = None
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Outgoing:
    """One message of a batch whose messages differ: its addressee, its text, what it is about."""

    recipient: Recipient
    body: str
    obj: models.Model | None = None
    subject: str = ""


BULK_DELIVERY_CHUNK = 200  # messages per delivery task handed to the worker on commit


def message_queue_many(
    *,
    channel: str,
    kind: str,
    body: str,
    recipients: list[Recipient],
    subject: str = "",
    obj: models.Model | None = None,
    context: dict[str, Any] | None = None,
) -> list[int]:
    """The same message to many people on one channel (e.g. a warning to 100,000 households),
    worded once and inserted in bulk, in the order given (that is the order of delivery).
    Returns the new messages' ids in that order. Called inside the caller's transaction; on
    commit the worker gets the ids in chunks."""
    _check_recipients(channel, recipients)
    if not recipients:
        return []
    text, subject = _word(kind, channel, body, subject, context)
    object_type, object_id = _about(obj)
    rows: list[Row] = [
        (
            getattr(r.user, "pk", None),
            _phone_of(r, channel),
            _email_of(r, channel),
            subject,
            text,
            object_type,
            object_id,
        )
        for r in recipients
    ]
    return _queue_rows(channel, kind, rows)


def message_queue_batch(
    *, channel: str, kind: str, messages: list[Outgoing], context: dict[str, Any] | None = None
) -> list[int]:
    """Many messages of one kind on one channel, each with its own addressee and text (e.g. one
    summary per grid worker of the tasks they were given), worded by the template for (kind,
    channel) once per distinct text and inserted in bulk in the order given. Returns the ids in
    that order; nothing is read back. Called inside the caller's transaction (one is opened
    otherwise); SMS and e-mail go to the worker on commit, in chunks."""
    _check_recipients(channel, [m.recipient for m in messages])
    if not messages:
        return []
    worded: dict[tuple[str, str], tuple[str, str]] = {}
    rows: list[Row] = []
    for m in messages:
        key = (m.body, m.subject)
        if key not in worded:
            worded[key] = _word(kind, channel, m.body, m.subject, context)
        text, subject = worded[key]
        r = m.recipient
        rows.append(
            (
                getattr(r.user, "pk", None),
                _phone_of(r, channel),
                _email_of(r, channel),
                subject,
                text,
                *_about(m.obj),
            )
        )
    return _queue_rows(channel, kind, rows)


def _check_recipients(channel: str, recipients: list[Recipient]) -> None:
    if channel not in MessageChannel.values:
        raise ValueError(f"unknown channel {channel!r}")
    for r in recipients:
        if channel == MessageChannel.IN_APP and r.user is None:
            raise ValueError("an in-app message needs a recipient user")
        if channel == MessageChannel.SMS and not r.phone:
            raise ValueError("an SMS needs a phone number")
        if channel == MessageChannel.EMAIL and not (r.email or getattr(r.user, "email", "")):
            raise ValueError("an e-mail needs an address")


def _word(
    kind: str, channel: str, body: str, subject: str, context: dict[str, Any] | None
) -> tuple[str, str]:
    """(body, subject) as the template for (kind, channel) words them."""
    wording = render(code=kind, channel=channel, context={"body": body, **(context or {})})
    if not wording.body:
        raise ValueError(f"message {kind} renders empty")
    return wording.body, (subject or wording.subject)[:128]


def _about(obj: models.Model | None) -> tuple[str, str]:
    return (obj._meta.label_lower, str(obj.pk)) if obj is not None else ("", "")


def _queue_rows(channel: str, kind: str, rows: list[Row]) -> list[int]:
    in_app = channel == MessageChannel.IN_APP
    status = MessageStatus.DELIVERED if in_app else MessageStatus.QUEUED
    with transaction.atomic():
        ids = insert_messages(channel=channel, kind=kind[:64], status=status, now=timezone.now(), rows=rows)
        if not in_app:
            transaction.on_commit(functools.partial(_enqueue_many, ids, channel), robust=True)
    return ids


def _phone_of(r: Recipient, channel: str) -> str:
    return r.phone if channel == MessageChannel.SMS else ""


def _email_of(r: Recipient, channel: str) -> str:
    return (r.email or getattr(r.user, "email", "")) if channel == MessageChannel.EMAIL else ""


def _enqueue_many(message_ids: list[int], channel: str) -> None:
    if channel not in worker_channels():
        return  # stays queued in the outbox; the periodic sweep sends once a provider is set
    from shanzhi.notify.tasks import deliver_messages_task

    for start in range(0, len(message_ids), BULK_DELIVERY_CHUNK):
        deliver_messages_task(message_ids[start : start + BULK_DELIVERY_CHUNK])


def message_send(
    *,
    kind: str,
    channel: str,
    context: dict[str, Any],
    recipient: Any = None,
    phone: str = "",
    email: str = "",
    obj: models.Model | None = None,
) -> Message:
    """A message worded entirely by its template (e.g. rating.rectified) from `context`."""
    return message_queue(
        channel=channel,
        kind=kind,
        body=str(context.get("body", "")),
        recipient=recipient,
        phone=phone,
        email=email,
        obj=obj,
        context=context,
    )


def worker_channels() -> list[str]:
    """The channels a worker can deliver right now (SMS needs a provider, e-mail a server)."""
    channels: list[str] = []
    if sms_gateway().delivers:
        channels.append(MessageChannel.SMS)
    if email_enabled():
        channels.append(MessageChannel.EMAIL)
    return channels


def _enqueue(message_id: int, channel: str) -> None:
    if channel not in worker_channels():
        return  # stays queued in the outbox, visible to the operator
    from shanzhi.notify.tasks import deliver_message_task

    deliver_message_task(message_id)


# --- delivery -----------------------------------------------------------------------------------


def _send(message: Message) -> GatewayResult:
    if message.channel == MessageChannel.SMS:
        return sms_gateway().send(message.phone, message.body)
    try:
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 10
        connection = get_connection(fail_silently=False, timeout=timeout)
        mail = EmailMessage(
            subject=message.subject or "善治平台通知",
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.email],
            connection=connection,
        )
        sent = mail.send(fail_silently=False)
    except Exception as exc:  # SMTP, socket and TLS errors all mean "not delivered, try again"
        text = _EMAIL_IN_TEXT.sub("***@", mask_text(f"邮件发送失败:{type(exc).__name__} {exc}"))
        return GatewayResult(accepted=False, error=text[:255])
    if not sent:
        return GatewayResult(accepted=False, error="邮件服务器未接收")
    return GatewayResult(accepted=True)


def _claim(message_id: int, *, now: dt.datetime) -> bool:
    """Take the message for one attempt: one UPDATE, so only one worker wins, on every database."""
    return bool(
        Message.objects.filter(
            pk=message_id,
            status=MessageStatus.QUEUED,
            channel__in=worker_channels(),
            next_attempt_at__lte=now,
        ).update(next_attempt_at=now + LEASE)
    )


def _to(message: Message) -> str:
    if message.channel == MessageChannel.SMS:
        return mask_phone(message.phone)
    local, _, domain = message.email.partition("@")
    return f"{local[:1]}***@{domain}"


def message_deliver(*, message_id: int, now: dt.datetime | None = None) -> str:
    """One delivery attempt for a queued SMS or e-mail that is due. Returns the status after it,
    or "skipped" when the message is not due, not queued, or its channel cannot deliver.

    The provider is called outside any transaction (a slow provider must not hold database
    locks); the outcome is recorded in one transaction with one audit entry."""
    now = now or timezone.now()
    if not _claim(message_id, now=now):
        return "skipped"
    message = Message.objects.get(pk=message_id)
    started = time.monotonic()
    result = _send(message)
    duration_ms = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message_id)
        # `attempts` counts this round (a requeue starts a new one); attempt numbers never repeat.
        number = locked.attempts + 1
        MessageAttempt.objects.create(
            message=locked,
            number=MessageAttempt.objects.filter(message=locked).count() + 1,
            at=now,
            ok=result.accepted,
            provider_id=result.provider_id[:64],
            error=result.error[:255],
            duration_ms=duration_ms,
        )
        locked.attempts = number
        if result.accepted:
            locked.status = MessageStatus.DELIVERED
            locked.delivered_at = now
            locked.next_attempt_at = None
            locked.provider_id = result.provider_id[:64]
            locked.last_error = ""
        elif number >= MAX_ATTEMPTS:
            locked.status = MessageStatus.FAILED
            locked.next_attempt_at = None
            locked.last_error = result.error[:255]
        else:
            locked.next_attempt_at = now + BACKOFF[min(number, len(BACKOFF)) - 1]
            locked.last_error = result.error[:255]
        locked.save()
        audit_append(
            actor=None,
            action="message.attempt",
            obj=locked,
            state={
                "channel": locked.channel,
                "kind": locked.kind,
                "attempt": number,
                "ok": result.accepted,
                "status": locked.status,
                "error": locked.last_error,
                "provider_id": locked.provider_id,
            },
        )
    log = logger.info if result.accepted else logger.warning
    log(
        "message %s (%s to %s) attempt %s: %s",
        locked.pk,
        locked.channel,
        _to(locked),
        number,
        "delivered" if result.accepted else f"{locked.status}: {locked.last_error}",
    )
    return str(locked.status)


def message_deliver_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Every queued SMS/e-mail whose time has come: retries after backoff, and messages whose
    worker never ran or died mid-send (their lease ran out). Returns how many were attempted."""
    now = now or timezone.now()
    channels = worker_channels()
    if not channels:
        return 0
    due = list(
        Message.objects.filter(status=MessageStatus.QUEUED, channel__in=channels, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(message_deliver(message_id=pk, now=now) != "skipped" for pk in due)


def message_requeue(*, actor: Any, message: Message) -> Message:
    """Send a failed SMS/e-mail again from the start (e.g. after the provider was fixed)."""
    if not has_role(user=actor, roles={Role.ADMIN}):
        raise PermissionDenied("只有系统管理员可以重新发送消息")
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.channel not in WORKER_CHANNELS or locked.status != MessageStatus.FAILED:
            raise ServiceError("not_failed", "只有发送失败的短信或邮件可以重新发送", status=409)
        locked.status = MessageStatus.QUEUED
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit_append(actor=actor, action="message.requeue", obj=locked, state={"status": locked.status})
        transaction.on_commit(functools.partial(_enqueue, locked.pk, locked.channel), robust=True)
    return locked


# --- the inbox ----------------------------------------------------------------------------------


def message_mark_read(*, actor: Any, message_id: int) -> Message:
    """Mark one of the actor's own in-app messages read; someone else's is a 404."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(pk=message_id, recipient_id=getattr(actor, "pk", None), channel=MessageChannel.IN_APP)
            .first()
        )
        if message is None:
            raise NotFound("消息不存在")
        if message.read_at is None:
            message.read_at = timezone.now()
            message.save(update_fields=["read_at"])
            audit_append(actor=actor, action="message.read", obj=message, state={"read_at": message.read_at})
    return message


def message_mark_all_read(*, actor: Any) -> int:
    if not getattr(actor, "is_authenticated", False):
        raise NotFound("消息不存在")
    with transaction.atomic():
        now = timezone.now()
        count = Message.objects.filter(
            recipient_id=actor.pk, channel=MessageChannel.IN_APP, read_at__isnull=True
        ).update(read_at=now)
        if count:
            audit_append(
                actor=actor,
                action="message.read_all",
                object_type="notify.inbox",
                object_id=str(actor.pk),
                state={"count": count, "read_at": now},
            )
    return count


# --- templates ----------------------------------------------------------------------------------


def message_template_save(*, actor: Any, template: MessageTemplate) -> MessageTemplate:
    """Create or change a template (from the back office)."""
    if actor is not None and not has_role(user=actor, roles={Role.ADMIN}):
        raise PermissionDenied("只有系统管理员可以修改消息模板")
    template.code = template.code.strip()
    if not TEMPLATE_CODE.match(template.code):
        raise ServiceError("invalid_code", "消息类型应形如 rating.rectified 或 case.*")
    if template.channel not in MessageChannel.values:
        raise ServiceError("invalid_channel", "渠道应为站内消息、短信或电子邮件")
    if not template.body.strip():
        raise ServiceError("empty_body", "模板内容不能为空")
    with transaction.atomic():
        clash = MessageTemplate.objects.filter(code=template.code, channel=template.channel)
        if template.pk:
            clash = clash.exclude(pk=template.pk)
        if clash.exists():
            raise ServiceError("duplicate_template", "该消息类型在此渠道已有模板", status=409)
        template.save()
        forget_stored_templates()  # now, and again once committed (a reader may re-cache in between)
        transaction.on_commit(forget_stored_templates)
        audit_append(
            actor=actor,
            action="message_template.save",
            obj=template,
            state={
                "code": template.code,
                "channel": template.channel,
                "subject": template.subject,
                "body": template.body,
                "active": template.active,
            },
        )
    return template
