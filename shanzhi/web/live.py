"""Live lists: a polled partial carries `since` (when the page last drew the list) and answers
with how many items arrived after it, so the page can announce "新增 2 件" in its live region."""

from __future__ import annotations

import datetime as dt

from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime

SINCE = "since"
MAX_AGE = dt.timedelta(days=1)  # an older (or forged) mark announces nothing rather than a flood


def since_of(query: QueryDict, *, now: dt.datetime) -> dt.datetime | None:
    """The `since` mark of a refresh; None when absent, malformed, naive, in the future or stale."""
    raw = (query.get(SINCE) or "")[:40]
    try:
        value = parse_datetime(raw) if raw else None
    except ValueError:
        return None
    if value is None or timezone.is_naive(value) or value > now or now - value > MAX_AGE:
        return None
    return value


def without_since(query: QueryDict) -> QueryDict:
    rest = query.copy()
    rest.pop(SINCE, None)
    return rest


def with_since(url: str, query: QueryDict, *, now: dt.datetime) -> str:
    """The partial's URL for the next refresh: the list's query plus `since=now`."""
    nxt = without_since(query)
    nxt[SINCE] = now.isoformat()
    return f"{url}?{nxt.urlencode()}"
