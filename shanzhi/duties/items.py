"""The fields of a list item, their normalisation and validation, shared by services and import.

Validation returns (field, reason) pairs instead of raising, so the Excel import can report every
problem of every row at once, and a single-item service can raise them together.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from typing import Any

from django.apps import apps
from django.conf import settings

from shanzhi.core.catalogue import case_categories
from shanzhi.duties.models import AssistItem, Duty, DutyListKind, DutyType

VILLAGE_MAX_ITEMS = 30  # the county's rule for 村级协助事项: no more than 30


def township_max_items() -> int:
    """Hard cap on a township list; configurable because counties set their own."""
    return int(getattr(settings, "DUTIES_TOWNSHIP_MAX_ITEMS", 150))


def township_warn_items() -> int:
    """Above this a township list is shown with a warning (the norm is about 100)."""
    return int(getattr(settings, "DUTIES_TOWNSHIP_WARN_ITEMS", 120))


def max_items(kind: str) -> int:
    return VILLAGE_MAX_ITEMS if kind == DutyListKind.VILLAGE_ASSIST else township_max_items()


def known_categories() -> dict[str, str]:
    """Case category code → name. The shipped default catalogue, plus the cases app's table when
    it is installed, because the county adds and renames categories there in the back office."""
    names = {c.code: c.name_zh for c in case_categories()}
    if apps.is_installed("shanzhi.cases"):
        category = apps.get_model("cases", "Category")
        names.update(dict(category.objects.values_list("code", "name")))
    return names


CODE_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_CATEGORY_SPLIT = re.compile(r"[\s,,、;;/]+")


@dataclass(frozen=True)
class DutyFields:
    code: str
    name: str
    type: str  # a DutyType value
    legal_basis: str
    lead_handler: str
    category_codes: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class AssistFields:
    code: str
    name: str
    assists: str
    basis: str
    category_codes: tuple[str, ...] = ()
    notes: str = ""


ItemFields = DutyFields | AssistFields

# field name → (label, max length, required)
FIELD_SPECS: dict[str, tuple[str, int, bool]] = {
    "code": ("事项编码", 32, True),
    "name": ("事项名称", 200, True),
    "type": ("职权类型", 16, True),
    "legal_basis": ("设定依据", 2000, True),
    "lead_handler": ("牵头承办单位", 64, True),
    "assists": ("协助部门", 64, True),
    "basis": ("依据", 2000, True),
    "category_codes": ("涉及诉求类别", 0, False),
    "notes": ("备注", 2000, False),
}

DUTY_FIELD_ORDER = ("code", "name", "type", "legal_basis", "lead_handler", "category_codes", "notes")
ASSIST_FIELD_ORDER = ("code", "name", "assists", "basis", "category_codes", "notes")


def field_order(kind: str) -> tuple[str, ...]:
    return ASSIST_FIELD_ORDER if kind == DutyListKind.VILLAGE_ASSIST else DUTY_FIELD_ORDER


def field_label(name: str) -> str:
    return FIELD_SPECS[name][0]


def parse_category_codes(value: Any) -> tuple[str, ...]:
    """ "0101、0301" / "0101,0301" / 101 (Excel dropped the zero) → ("0101", "0301")."""
    if value is None:
        return ()
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value)).zfill(4)
    parts = [p.strip() for p in _CATEGORY_SPLIT.split(str(value)) if p.strip()]
    return tuple(p.zfill(4) if p.isdigit() and len(p) < 4 else p for p in parts)


def normalize(item: ItemFields) -> ItemFields:
    """Trimmed text, upper-case code, category codes de-duplicated and sorted."""
    changes: dict[str, Any] = {}
    for f in fields(item):
        value = getattr(item, f.name)
        if f.name == "category_codes":
            changes[f.name] = tuple(sorted({str(c).strip() for c in value if str(c).strip()}))
        elif isinstance(value, str):
            changes[f.name] = value.strip().upper() if f.name == "code" else value.strip()
    return replace(item, **changes)


def item_errors(item: ItemFields, *, known: Collection[str]) -> list[tuple[str, str]]:
    """Every problem with one (normalised) item as (field name, Chinese reason).

    `known` is the set of case category codes (`known_categories()`), read once per batch.
    """
    errors: list[tuple[str, str]] = []
    for f in fields(item):
        label, max_len, required = FIELD_SPECS[f.name]
        value = getattr(item, f.name)
        if f.name == "category_codes":
            bad = [c for c in value if c not in known]
            if bad:
                errors.append((f.name, f"未知的诉求类别代码:{'、'.join(bad)}(应为诉求分类目录中的 4 位代码)"))
            continue
        if required and not value:
            errors.append((f.name, f"{label}不能为空"))
        elif len(value) > max_len:
            errors.append((f.name, f"{label}不能超过 {max_len} 个字"))
    if item.code and len(item.code) <= 32 and not CODE_RE.match(item.code):
        errors.append(("code", "事项编码只能由字母、数字和连字符组成,如 XZXK-001"))
    if isinstance(item, DutyFields) and item.type and item.type not in DutyType.values:
        errors.append(("type", f"未知的职权类型「{item.type}」,应为:{'、'.join(DutyType.labels)}"))
    return errors


def fields_kind(item: ItemFields) -> str:
    return DutyListKind.VILLAGE_ASSIST if isinstance(item, AssistFields) else DutyListKind.TOWNSHIP


def fields_of(obj: Duty | AssistItem) -> ItemFields:
    if isinstance(obj, Duty):
        return DutyFields(
            code=obj.code,
            name=obj.name,
            type=obj.type,
            legal_basis=obj.legal_basis,
            lead_handler=obj.lead_handler,
            category_codes=tuple(obj.category_codes),
            notes=obj.notes,
        )
    return AssistFields(
        code=obj.code,
        name=obj.name,
        assists=obj.assists,
        basis=obj.basis,
        category_codes=tuple(obj.category_codes),
        notes=obj.notes,
    )


def item_state(item: ItemFields) -> dict[str, Any]:
    """The audit/diff view of one item: plain values, category codes as a list."""
    return {
        f.name: list(getattr(item, f.name)) if f.name == "category_codes" else getattr(item, f.name)
        for f in fields(item)
    }
