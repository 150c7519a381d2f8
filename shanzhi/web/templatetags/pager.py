"""`{% page_href n %}`: the link to page n of the list being shown, keeping its filters.

The view may give `page_url` (the list's path) and `page_query` (its query without `page`); without
them the current path and query are used. `since` is dropped: it belongs to the live refresh only.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

register = template.Library()

_DROP = ("page", "since")


def _query(context: template.Context) -> str:
    given = context.get("page_query")
    if given is not None:
        return str(given)
    request = context.get("request")
    if request is None:
        return ""
    rest: QueryDict = request.GET.copy()
    for key in _DROP:
        rest.pop(key, None)
    return rest.urlencode()


@register.simple_tag(takes_context=True)
def page_href(context: template.Context, number: Any) -> str:
    request = context.get("request")
    base = context.get("page_url") or (request.path if request is not None else "")
    query = _query(context)
    return f"{base}?{query + '&' if query else ''}page={int(number)}"
