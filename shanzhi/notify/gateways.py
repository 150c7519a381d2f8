"""SMS gateways. The platform talks to one small interface; the provider is configuration.

Without NOTIFY_SMS_URL, SMS stay in the outbox (queued) for an operator to see: saying "sent"
when nothing left the building would be a lie. With it, each SMS is POSTed as JSON
{phone, text, sign} to the provider's URL with the API key in the `X-Api-Key` header.

Settings (Django settings first, then the environment):
    NOTIFY_SMS_URL      the provider's endpoint (https://…); empty = outbox only
    NOTIFY_SMS_KEY      API key sent in X-Api-Key
    NOTIFY_SMS_SIGN     the registered SMS signature, e.g. 善水县政务服务
    NOTIFY_SMS_TIMEOUT  seconds to wait for the provider (default 5)
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.conf import settings

from shanzhi.core.masking import mask_text


@dataclass(frozen=True)
class GatewayResult:
    accepted: bool
    provider_id: str = ""
    error: str = ""


class SmsGateway(Protocol):
    # False: the gateway hands nothing on, and messages stay queued for an operator.
    delivers: ClassVar[bool]

    def send(self, phone: str, body: str) -> GatewayResult: ...


class OutboxOnlyGateway:
    """No provider configured: keep every SMS queued in the outbox."""

    delivers: ClassVar[bool] = False

    def send(self, phone: str, body: str) -> GatewayResult:
        return GatewayResult(accepted=False, error="未配置短信服务商,短信保留在发件箱")


class HttpSmsGateway:
    """A provider with a JSON-over-HTTP API. Any 2xx is accepted; anything else is a failure."""

    delivers: ClassVar[bool] = True

    def __init__(self, *, url: str, key: str, sign: str, timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("NOTIFY_SMS_URL must be an http(s) URL")
        self.url, self.key, self.sign, self.timeout = url, key, sign, timeout

    def send(self, phone: str, body: str) -> GatewayResult:
        payload = json.dumps({"phone": phone, "text": body, "sign": self.sign}, ensure_ascii=False)
        request = urllib.request.Request(  # noqa: S310 -- the scheme is checked in __init__
            self.url,
            data=payload.encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "X-Api-Key": self.key},
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                raw = response.read(65536)
                return GatewayResult(accepted=True, provider_id=_provider_id(raw))
        except urllib.error.HTTPError as exc:
            return GatewayResult(accepted=False, error=f"短信服务商返回 HTTP {exc.code}")
        except TimeoutError:
            return GatewayResult(accepted=False, error=f"短信服务商 {self.timeout:g} 秒内无响应")
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                return GatewayResult(accepted=False, error=f"短信服务商 {self.timeout:g} 秒内无响应")
            return GatewayResult(accepted=False, error=_short(f"无法连接短信服务商:{exc.reason}"))
        except (OSError, http.client.HTTPException) as exc:  # reset or garbled mid-response
            return GatewayResult(accepted=False, error=_short(f"短信发送出错:{type(exc).__name__} {exc}"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is not a 2xx: urllib would turn the POST into a GET and call the result success."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def _provider_id(raw: bytes) -> str:
    """The provider's message id, if its answer is JSON with one."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    if isinstance(data, dict):
        for key in ("id", "message_id", "msgid", "biz_id"):
            if data.get(key) not in (None, ""):
                return str(data[key])[:64]
    return ""


def _short(text: str) -> str:
    return mask_text(text)[:255]


def _setting(name: str, default: str = "") -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def sms_gateway() -> SmsGateway:
    """The configured gateway, read at each use so a settings change needs no restart of code."""
    url = _setting("NOTIFY_SMS_URL").strip()
    if not url:
        return OutboxOnlyGateway()
    try:
        timeout = float(_setting("NOTIFY_SMS_TIMEOUT", "5"))
    except ValueError:
        timeout = 5.0
    return HttpSmsGateway(
        url=url, key=_setting("NOTIFY_SMS_KEY"), sign=_setting("NOTIFY_SMS_SIGN"), timeout=timeout
    )


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def email_enabled() -> bool:
    """Whether e-mail leaves the outbox: NOTIFY_EMAIL_ENABLED when set; otherwise yes for any
    non-SMTP backend (locmem in tests, console, file), and for SMTP only once EMAIL_HOST is
    configured — Django's default of localhost:25 is not a mail server we were told about."""
    explicit = getattr(settings, "NOTIFY_EMAIL_ENABLED", None)
    if explicit is None and os.environ.get("NOTIFY_EMAIL_ENABLED"):
        explicit = os.environ["NOTIFY_EMAIL_ENABLED"].lower() in {"1", "true", "yes", "on"}
    if explicit is not None:
        return bool(explicit)
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        return True
    host = str(getattr(settings, "EMAIL_HOST", "") or "")
    return bool(host) and (host != "localhost" or "EMAIL_HOST" in os.environ)
