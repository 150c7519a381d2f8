"""Writes: issuing and revoking api_keys, and turning a client's POST into a case.

The key is random, shown once, and stored as SHA-256 only (a 256-bit random key needs no slow
hash: there is nothing to guess). The case itself is made by cases.intake like every channel's.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.cases.intake import IntakeRequest, intake_request
from shanzhi.cases.models import Category, Channel
from shanzhi.cases.open311.models import Open311Client, Open311Request
from shanzhi.cases.open311.params import Submission
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role

KEY_PREFIX = "o311_"
PREFIX_LENGTH = 12  # "o311_" and 7 random characters: enough to tell keys apart in a list
MANAGE_ROLES = frozenset({Role.ADMIN})
TOUCH_EVERY_SECONDS = 60


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def _check_manager(actor: Any) -> None:
    # actor=None is the command line, run by whoever operates the machine.
    if actor is not None and not has_role(user=actor, roles=MANAGE_ROLES):
        raise PermissionDenied("只有系统管理员可以管理 Open311 客户端")


def open311_client_create(*, actor: Any, name: str) -> tuple[Open311Client, str]:
    """Issue a key to a client; returns the row and the plain key, which is never stored."""
    _check_manager(actor)
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", "请填写客户端名称")
    if len(name) > 64:
        raise ServiceError("name_too_long", "客户端名称不能超过 64 个字符")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        client = Open311Client.objects.create(name=name, prefix=plain[:PREFIX_LENGTH], digest=_digest(plain))
        audit_append(
            actor=actor,
            action="open311_client.create",
            obj=client,
            state={"name": client.name, "prefix": client.prefix},
        )
    return client, plain


def open311_client_revoke(*, actor: Any, client: Open311Client) -> Open311Client:
    """Revoke a key for good: its client can no longer create requests."""
    _check_manager(actor)
    with transaction.atomic():
        client = Open311Client.objects.select_for_update().get(pk=client.pk)
        if client.revoked_at is not None:
            raise ServiceError("already_revoked", f"密钥 {client.prefix} 已经吊销", status=409)
        client.active = False
        client.revoked_at = timezone.now()
        client.save(update_fields=["active", "revoked_at"])
        audit_append(
            actor=actor,
            action="open311_client.revoke",
            obj=client,
            state={"name": client.name, "prefix": client.prefix, "revoked_at": client.revoked_at},
        )
    return client


def open311_client_authenticate(*, api_key: str) -> Open311Client | None:
    """The active client holding this key, or None. Marks it used at most once a minute, so a
    busy client does not write on every request."""
    if not api_key or not api_key.startswith(KEY_PREFIX) or len(api_key) > 128:
        return None
    client = Open311Client.objects.filter(
        digest=_digest(api_key), active=True, revoked_at__isnull=True
    ).first()
    if client is None:
        return None
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


def open311_request_create(
    *, client: Open311Client, submission: Submission, idempotency_key: str | None = None
) -> Open311Request:
    """Create the case for one POST requests and link it to the client with a fresh token.

    A retry with the same Idempotency-Key returns the first case and its first token. Intake
    runs its own transactions (triage is slow and stays outside them); the link is a second,
    short one, so a crash between the two leaves a case that a retry with the key links.
    """
    if not client.active or client.revoked_at is not None:
        raise ServiceError("forbidden", "api_key 无效或已吊销(invalid or revoked api_key)", status=403)
    service = Category.objects.filter(code=submission.service_code, active=True).first()
    if service is None:
        raise ServiceError(
            "unknown_service",
            f"没有代码为 {submission.service_code} 的服务类别(unknown service_code)",
            status=404,
        )
    case = intake_request(
        actor=None,
        request=IntakeRequest(
            channel=Channel.OPEN311,
            text=submission.description,
            lat=submission.lat,
            lon=submission.lon,
            address=submission.address,
            reporter_name=submission.reporter_name,
            reporter_phone=submission.phone,
            category_code=service.code,  # the client's choice outranks triage's guess
        ),
        idempotency_key=idempotency_key,
        owner=f"open311:{client.name}",
    )
    existing = Open311Request.objects.filter(case=case).select_related("case").first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            link = Open311Request.objects.create(
                case=case,
                client=client,
                service=service,
                token=secrets.token_urlsafe(16),
                account_id=submission.account_id,
                device_id=submission.device_id,
                address_id=submission.address_id,
                media_url=submission.media_url,
            )
            audit_append(
                actor=None,
                action="open311_request.create",
                obj=link,
                state={
                    "client": client.name,
                    "key_prefix": client.prefix,
                    "case": case.number,
                    "service_code": service.code,
                    "token": link.token,
                },
            )
    except IntegrityError:
        # Two retries with one key raced past the check above: the first link stands.
        return Open311Request.objects.select_related("case").get(case=case)
    return link
