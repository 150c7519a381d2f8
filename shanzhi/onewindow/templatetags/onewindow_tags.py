"""Small template helpers for the application pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key], or "" when the mapping has no such key."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
