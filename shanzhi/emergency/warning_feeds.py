"""Polling warning feeds: a conditional GET of each enabled feed that is due, then every alert in
it (Atom entries linking to CAP or embedding it, or one plain CAP message) goes through
`warning_receive` like one posted to the API. The outcome is kept on the feed row.

Alerts outside the county or already received are normal for a provincial feed and counted, not
errors; a feed that cannot be fetched or parsed records the error and is tried again next time.
Only http(s) URLs are fetched, with timeouts and a size cap, through urllib.
"""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from lxml import etree

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role
from shanzhi.emergency.cap.model import NS_11, NS_12
from shanzhi.emergency.models_warnings import FeedFormat, WarningFeed, WarningSource
from shanzhi.emergency.warnings import warning_receive

ATOM = "http://www.w3.org/2005/Atom"
TIMEOUT = 10  # seconds, per request
MAX_FEED_BYTES = 5_000_000
MAX_CAP_BYTES = 1_000_000
MAX_ENTRIES = 200
USER_AGENT = "Shanzhi-warnings/1 (+CAP 1.2)"


class FeedError(Exception):
    """The feed itself failed (network, HTTP status, not XML): recorded on the row."""


@dataclass
class PollResult:
    status: str = ""
    received: int = 0
    repeated: int = 0
    refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"新接收 {self.received} 条,已接收过 {self.repeated} 条"
        if self.refused:
            text += f",未接收 {len(self.refused)} 条:" + ";".join(self.refused[:5])
        return text


def _check_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise FeedError(f"只支持 http/https 地址:{url[:100]}")


def _get(url: str, *, limit: int, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    _check_url(url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (scheme checked)
            body = response.read(limit + 1)
            if len(body) > limit:
                raise FeedError(f"内容超过 {limit} 字节:{url[:100]}")
            return response.status, body, response.headers
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, b"", exc.headers
        raise FeedError(f"HTTP {exc.code}:{url[:100]}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedError(f"无法连接:{reason}"[:200]) from exc


def _tree(body: bytes) -> etree._Element:
    """Parse a feed document: no DTD, entities or external references (defusedxml first)."""
    try:
        SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError("订阅内容含有 DTD 或实体声明,已拒收") from exc
    except ParseError as exc:
        raise FeedError(f"订阅内容不是有效的 XML:{exc}") from exc
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(body, parser)


def _alerts_in_atom(root: etree._Element, base: str) -> list[tuple[str, bytes | None]]:
    """(label, embedded CAP bytes) or (link URL, None) for each entry."""
    if root.tag != f"{{{ATOM}}}feed":
        raise FeedError("不是 Atom 订阅(根元素应为 atom:feed)")
    out: list[tuple[str, bytes | None]] = []
    for entry in root.findall(f"{{{ATOM}}}entry")[:MAX_ENTRIES]:
        embedded = next(
            (el for el in entry.iter() if el.tag in (f"{{{NS_12}}}alert", f"{{{NS_11}}}alert")), None
        )
        if embedded is not None:
            out.append((entry.findtext(f"{{{ATOM}}}id") or "entry", etree.tostring(embedded)))
            continue
        links = entry.findall(f"{{{ATOM}}}link")
        cap_links = [
            link
            for link in links
            if (link.get("type") or "").lower() in ("application/cap+xml", "application/xml", "text/xml")
        ]
        link = (cap_links or links or [None])[0]
        if link is not None and link.get("href"):
            out.append((urljoin(base, link.get("href", "")), None))
    return out


def _receive_one(feed: WarningFeed, label: str, xml: bytes, result: PollResult) -> None:
    try:
        received = warning_receive(actor=None, xml=xml, source=WarningSource.FEED, feed=feed)
    except ServiceError as exc:
        result.refused.append(f"{label[:80]}:{exc.message[:120]}")
        return
    if received.created:
        result.received += 1
    else:
        result.repeated += 1


def feed_poll(*, feed: WarningFeed) -> PollResult:
    """Poll one feed now (conditional GET) and receive what it holds."""
    result = PollResult()
    headers: dict[str, str] = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    now = timezone.now()
    try:
        status, body, response_headers = _get(feed.url, limit=MAX_FEED_BYTES, headers=headers)
        if status == 304:
            result.status = "not_modified"
        elif feed.format == FeedFormat.CAP:
            result.status = "ok"
            _receive_one(feed, feed.url, body, result)
        else:
            result.status = "ok"
            for label, embedded in _alerts_in_atom(_tree(body), feed.url):
                if embedded is None:
                    try:
                        _, embedded, _ = _get(label, limit=MAX_CAP_BYTES)
                    except FeedError as exc:
                        result.refused.append(f"{label[:80]}:{exc}")
                        continue
                _receive_one(feed, label, embedded, result)
    except FeedError as exc:
        _record(feed, now=now, status="error", error=str(exc), result=result)
        return PollResult(status="error", refused=[str(exc)])
    etag = response_headers.get("ETag", "") if response_headers is not None and status != 304 else feed.etag
    modified = (
        response_headers.get("Last-Modified", "")
        if response_headers is not None and status != 304
        else feed.last_modified
    )
    _record(feed, now=now, status=result.status, error="", result=result, etag=etag, modified=modified)
    return result


def _record(
    feed: WarningFeed,
    *,
    now: dt.datetime,
    status: str,
    error: str,
    result: PollResult,
    etag: str | None = None,
    modified: str | None = None,
) -> None:
    """The poll's outcome on the feed row (operational state, not audited per poll)."""
    values: dict[str, Any] = {
        "last_polled_at": now,
        "last_status": status,
        "last_error": error or ("\n".join(result.refused[:20]) if result.refused else ""),
        "received_count": F("received_count") + result.received,
    }
    if status != "error":
        values["last_ok_at"] = now
    if etag is not None:
        values["etag"] = (etag or "")[:255]
    if modified is not None:
        values["last_modified"] = (modified or "")[:64]
    WarningFeed.objects.filter(pk=feed.pk).update(**values)
    feed.refresh_from_db()


def feeds_poll_due(*, now: dt.datetime | None = None) -> int:
    """Every enabled feed whose interval has passed. Returns how many were polled."""
    now = now or timezone.now()
    polled = 0
    for feed in WarningFeed.objects.filter(enabled=True).order_by("pk"):
        if (
            feed.last_polled_at is not None
            and feed.last_polled_at + dt.timedelta(minutes=max(feed.interval_minutes, 1)) > now
        ):
            continue
        feed_poll(feed=feed)
        polled += 1
    return polled


FEED_ADMIN_ROLES = frozenset({Role.ADMIN})


def feed_state(feed: WarningFeed) -> dict[str, Any]:
    return {
        "name": feed.name,
        "url": feed.url,
        "format": feed.format,
        "enabled": feed.enabled,
        "interval": feed.interval_minutes,
    }


@transaction.atomic
def warning_feed_save(*, actor: Any, feed: WarningFeed) -> WarningFeed:
    """Create or change a feed (back office; administrators)."""
    if actor is not None and not has_role(user=actor, roles=FEED_ADMIN_ROLES):
        raise PermissionDenied("只有系统管理员可以维护预警订阅源")
    try:
        _check_url(feed.url)
    except FeedError as exc:
        raise ServiceError("feed_invalid", str(exc), status=422) from exc
    if feed.format not in FeedFormat.values:
        raise ServiceError("feed_invalid", "格式只能是 Atom 或 CAP", status=422)
    if WarningFeed.objects.filter(Q(url=feed.url) & ~Q(pk=feed.pk or 0)).exists():
        raise ServiceError("feed_invalid", "该地址已有订阅源", status=409)
    action = "emergency.feed.update" if feed.pk else "emergency.feed.create"
    feed.save()
    audit_append(actor=actor, action=action, obj=feed, state=feed_state(feed))
    return feed
