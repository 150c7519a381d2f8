"""Category + place → the bodies that should take the case.

The catalogue names handler *types*; this turns each into one `Handler`:

* a county department type (police, urban_mgmt, …) → the Handler with that code;
* `township` → "township-<township region code>";
* `community` → "community-<village region code>";
* `property` → the property company serving the matched estate.

A type that cannot be resolved (no place, no estate, no such body, body inactive) is listed in
`unresolved` with the reason; a person completes the dispatch then. Nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Estate, Handler, Region
from shanzhi.triage.categories import CategoryInfo, category_table
from shanzhi.triage.place import PlaceMatch

PLACE_TYPES = frozenset({"township", "community", "property"})


@dataclass(frozen=True)
class Routing:
    category: str
    primary_type: str
    co_types: tuple[str, ...]
    primary: Handler | None
    co_handlers: list[Handler]
    unresolved: tuple[str, ...]  # handler type codes with no body found
    reasons: dict[str, str] = field(default_factory=dict)  # type code → why (Chinese)

    @property
    def complete(self) -> bool:
        return not self.unresolved

    def codes(self) -> tuple[str, list[str]]:
        """Handler codes, or the type code where no body was found (the JSON outputs' rule)."""
        resolved = iter(self.co_handlers)
        co = [t if t in self.unresolved else next(resolved).code for t in self.co_types]
        return (self.primary.code if self.primary else self.primary_type), co

    def as_dict(self) -> dict[str, Any]:
        primary, co = self.codes()
        return {
            "handler": primary,
            "handler_name": self.primary.name if self.primary else None,
            "co_handlers": co,
            "unresolved": [{"type": t, "reason": self.reasons.get(t, "")} for t in self.unresolved],
        }


def route(
    *,
    category: str,
    village: Region | None = None,
    township: Region | None = None,
    estate: Estate | None = None,
    categories: dict[str, CategoryInfo] | None = None,
) -> Routing:
    """Primary and co-handlers for `category` at a place (any part of it may be unknown)."""
    info = (categories or category_table()).get(category)
    if info is None:
        raise ServiceError("unknown_category", f"未知的诉求类别代码:{category}", status=422)
    if township is None and village is not None:
        township = village.parent
    types = [info.primary_handler, *[t for t in info.co_handlers if t != info.primary_handler]]
    wanted: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for type_code in types:
        code, reason = _handler_code(type_code, village=village, township=township, estate=estate)
        if code:
            wanted[type_code] = code
        else:
            reasons[type_code] = reason
    bodies = {h.code: h for h in Handler.objects.filter(code__in=set(wanted.values())).select_related("type")}
    resolved: dict[str, Handler] = {}
    for type_code, code in wanted.items():
        handler = bodies.get(code)
        if handler is None:
            reasons[type_code] = f"未找到承办单位 {code}"
        elif not handler.active:
            reasons[type_code] = f"{handler.name}已停用"
        else:
            resolved[type_code] = handler
    primary_type, co_types = types[0], tuple(types[1:])
    return Routing(
        category=category,
        primary_type=primary_type,
        co_types=co_types,
        primary=resolved.get(primary_type),
        co_handlers=[resolved[t] for t in co_types if t in resolved],
        unresolved=tuple(t for t in types if t not in resolved),
        reasons=reasons,
    )


def route_place(*, category: str, place: PlaceMatch | None) -> Routing:
    if place is None:
        return route(category=category)
    return route(category=category, village=place.region, township=place.township, estate=place.estate)


def _handler_code(
    type_code: str, *, village: Region | None, township: Region | None, estate: Estate | None
) -> tuple[str, str]:
    """(the Handler code to look up, "") or ("", why not)."""
    if type_code == "township":
        return (f"township-{township.code}", "") if township else ("", "未识别出所在乡镇(街道)")
    if type_code == "community":
        return (f"community-{village.code}", "") if village else ("", "未识别出所在村(社区)")
    if type_code == "property":
        if estate is None:
            return "", "未识别出小区,无法确定物业服务企业"
        company = estate.property_company
        if company is None:
            return "", f"{estate.name}没有登记物业服务企业"
        return company.code, ""
    return type_code, ""
