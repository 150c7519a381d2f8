"""API tokens: random, shown once, stored as SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import ApiToken, Role
from shanzhi.core.selectors import roles_of

TOKEN_PREFIX = "sz_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(*, actor: Any, user: Any, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the plain token (never stored)."""
    if Role.KIOSK in roles_of(user=user):  # a terminal works through its pages only
        raise ServiceError("kiosk_no_token", "自助终端账号不能签发接口令牌", status=422)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name[:64], prefix=plain[:8], digest=_digest(plain))
        audit_append(
            actor=actor,
            action="token.create",
            obj=token,
            state={"user": user.get_username(), "name": token.name, "prefix": token.prefix},
        )
    return token, plain


def token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_append(actor=actor, action="token.revoke", obj=token, state={"prefix": token.prefix})
    return token


def token_authenticate(*, plain: str) -> Any | None:
    """The active user owning this token, or None."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 128:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(plain), revoked_at__isnull=True, user__is_active=True)
        .exclude(user__staff__roles__role=Role.KIOSK)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a token used by a busy client must not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_by_username(*, username: str) -> Any:
    return get_user_model().objects.get(username=username)
