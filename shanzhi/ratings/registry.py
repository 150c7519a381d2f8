"""What can be rated: each app registers a Rateable adapter for its kind of object.

An adapter answers the questions ratings needs and nothing else: how to find the object by its
public reference, where it is (region, for jurisdiction), who answers for it (handler body and
staff member, for rectification and rankings), whether it is finished, who may rate it, and what
the owning app does when it is rated (e.g. a case moves to 已评价). Register in your AppConfig.ready:

    from shanzhi.ratings.registry import register
    register(ApplicationRateable())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.models import Handler, Region, Staff


@dataclass(frozen=True)
class Rater:
    """Who gives the rating: a user account, a phone number, or both."""

    user: Any = None
    phone: str = ""


class Rateable:
    """Base adapter; subclasses set `obj_type` and `label` and implement the methods."""

    obj_type: str = ""
    label: str = ""

    def find(self, *, ref: str, for_update: bool = False) -> Model | None:
        """The object with this public reference (no jurisdiction check), or None."""
        raise NotImplementedError

    def ref(self, obj: Any) -> str:
        """The public reference stored as Rating.object_id (e.g. a case number)."""
        raise NotImplementedError

    def title(self, obj: Any) -> str:
        raise NotImplementedError

    def region(self, obj: Any) -> Region:
        raise NotImplementedError

    def handler(self, obj: Any) -> Handler | None:
        raise NotImplementedError

    def staff(self, obj: Any) -> Staff | None:
        raise NotImplementedError

    def is_finished(self, obj: Any) -> bool:
        raise NotImplementedError

    def check_ratable(self, obj: Any) -> None:
        """Raise a 409 ServiceError when the object cannot be rated now."""
        if not self.is_finished(obj):
            raise ServiceError("not_finished", f"该{self.label}尚未办结,办结后才能评价", status=409)

    def rater(self, *, actor: Any, obj: Any, phone: str = "") -> Rater:
        """Who rates when `actor` submits (None = the system, e.g. an SMS reply with `phone`).
        Raise NotFound for someone who may not see the object, PermissionDenied for a role
        that may see it but not rate it."""
        raise NotImplementedError

    def on_rated(self, *, actor: Any, obj: Any, level: str, comment: str) -> None:
        """The owning app's own bookkeeping, inside the rating's transaction. Default: none."""
        return None

    def url(self, obj: Any) -> str:
        """A page about the object, for links from rating pages; "" for none."""
        return ""


_REGISTRY: dict[str, Rateable] = {}


def register(adapter: Rateable) -> None:
    """Add an adapter. Registration happens once per process at start-up (AppConfig.ready), so
    this dict is configuration, not shared mutable state."""
    if not adapter.obj_type:
        raise ValueError("a Rateable needs an obj_type")
    existing = _REGISTRY.get(adapter.obj_type)
    if existing is not None and type(existing) is not type(adapter):
        raise ValueError(f"obj_type {adapter.obj_type!r} is already registered by {type(existing).__name__}")
    _REGISTRY[adapter.obj_type] = adapter


def adapter_for(obj_type: str) -> Rateable:
    adapter = _REGISTRY.get(obj_type)
    if adapter is None:
        raise NotFound("没有这种评价对象")
    return adapter


def registered_types() -> dict[str, str]:
    return {key: adapter.label for key, adapter in sorted(_REGISTRY.items())}
