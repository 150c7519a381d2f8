"""Demo duty lists: every township a published township list, every village a published assist
list, and one township with last year's version superseded by this year's, so "compare" has
something to show. Idempotent: a region that already has lists is left alone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from shanzhi.core.models import Region, RegionLevel
from shanzhi.duties import catalog
from shanzhi.duties.items import DutyFields
from shanzhi.duties.models import DutyList
from shanzhi.duties.services import (
    duty_list_create,
    duty_list_publish,
    duty_list_replace_items,
    duty_list_revise,
)

COUNTY_CODE = "331199000000"
HISTORY_TOWNSHIP = "331199101000"  # 青石镇: has a 2025 version to compare with


def demo_year() -> int:
    """2026, or the current year once the demo runs later, so the check finds this year's lists."""
    return max(2026, timezone.localdate().year)


def _previous_version(items: list[DutyFields]) -> list[DutyFields]:
    """Last year's list: without this year's additions, with the duties it dropped, old wordings."""
    old: list[DutyFields] = []
    for item in items:
        if item.code in catalog.ADDED_IN_2026:
            continue
        changes: dict[str, Any] = catalog.CHANGED_IN_2026.get(item.code, {})
        old.append(replace(item, **changes))
    return old + catalog.DROPPED_IN_2026


def _township(region: Region, year: int) -> int:
    """Lists created for one township (0 when it already has some)."""
    if DutyList.objects.filter(region=region).exists():
        return 0
    items = catalog.township_items(urban=region.kind == "街道")
    if region.code != HISTORY_TOWNSHIP:
        duty_list_publish(
            actor=None, duty_list=duty_list_create(actor=None, region=region, year=year, items=items)
        )
        return 1
    old = duty_list_create(actor=None, region=region, year=year - 1, items=_previous_version(items))
    duty_list_publish(actor=None, duty_list=old)
    draft = duty_list_revise(actor=None, region=region, year=year)
    duty_list_replace_items(actor=None, duty_list=draft, items=items)
    duty_list_publish(actor=None, duty_list=draft)
    return 2


def _village(region: Region, year: int) -> int:
    if DutyList.objects.filter(region=region).exists():
        return 0
    items = catalog.assist_items(community=region.kind == "社区")
    duty_list_publish(
        actor=None, duty_list=duty_list_create(actor=None, region=region, year=year, items=items)
    )
    return 1


def load_demo(*, stdout: TextIO) -> None:
    county = Region.objects.filter(code=COUNTY_CODE).first()
    if county is None:
        stdout.write("  权责清单:未找到演示县,跳过\n")
        return
    year = demo_year()
    with transaction.atomic():
        townships = list(Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP).order_by("code"))
        villages = list(
            Region.objects.filter(parent__in=townships, level=RegionLevel.VILLAGE).order_by("code")
        )
        made = sum(_township(t, year) for t in townships)
        made += sum(_village(v, year) for v in villages)
    stdout.write(
        f"  权责清单:{len(townships)} 个乡镇履职事项清单,{len(villages)} 个村级协助事项清单"
        f"({year} 年度;新增 {made} 份)\n"
    )
