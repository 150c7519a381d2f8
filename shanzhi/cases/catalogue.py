"""Load the county's adopted case catalogue into Category rows (idempotent, audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from shanzhi.audit.services import audit_append
from shanzhi.cases.models import Category, ClockUnit
from shanzhi.core.catalogue import case_categories
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import HandlerType

# Limits of four hours or less are urgent matters (电梯困人, 消防通道, 燃气, 治安, 传染病): they run on
# natural hours, day and night, as the hotline rules count them.
URGENT_LIMIT_HOURS = 4


def category_sync(*, actor: Any) -> int:
    """Create the catalogue's categories that are missing; returns how many were created.

    Existing rows are left alone: once loaded, the back office owns them.
    """
    types = {t.code: t for t in HandlerType.objects.all()}
    existing = set(Category.objects.values_list("code", flat=True))
    created = 0
    with transaction.atomic():
        for row in case_categories():
            if row.code in existing:
                continue
            missing = [c for c in (row.primary_handler, *row.co_handlers) if c not in types]
            if missing:
                raise ServiceError(
                    "unknown_handler_type", f"类别 {row.code} 引用了未知的承办单位类型:{missing}"
                )
            category = Category.objects.create(
                code=row.code,
                group=row.group_zh,
                name=row.name_zh,
                primary_handler=types[row.primary_handler],
                sla_hours=row.sla_hours,
                scope=row.scope_zh,
                clock_unit=ClockUnit.NATURAL_HOURS
                if row.sla_hours <= URGENT_LIMIT_HOURS
                else ClockUnit.WORKING_HOURS,
            )
            category.co_handlers.set([types[c] for c in row.co_handlers])
            audit_append(
                actor=actor,
                action="category.create",
                obj=category,
                state={
                    "code": row.code,
                    "name": row.name_zh,
                    "primary": row.primary_handler,
                    "co": list(row.co_handlers),
                    "sla_hours": row.sla_hours,
                    "clock_unit": category.clock_unit,
                },
            )
            created += 1
    return created
