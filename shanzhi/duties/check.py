"""The duty check: may this work be assigned to this township or village?

Townships do what their published 履职事项清单 lists; villages assist only with what their
村级协助事项清单 lists, and anything else pushed down to them is refused (严禁随意摊派).
The case dispatch calls this before assigning; it reads, it never writes.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from django.utils import timezone

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Handler, Region, RegionLevel
from shanzhi.duties.items import known_categories
from shanzhi.duties.models import AssistItem, Duty, DutyListKind
from shanzhi.duties.selectors import duty_list_items, duty_list_published

_CATEGORY_RE = re.compile(r"^\d{4}$")
_DUTY_CODE_RE = re.compile(r"^[A-Za-z]+[A-Za-z0-9]*-\d+$")


@dataclass(frozen=True)
class DutyCheckResult:
    allowed: bool
    code: str  # in_list | no_published_list | not_in_list | pushed_outside_list | assigner_out_of_area
    reason: str
    duty: str | None = None


@dataclass(frozen=True)
class Work:
    """What is asked, parsed from free input: "0101", "XZCF-003", "0301 消防通道", "垃圾 清运"."""

    categories: tuple[str, ...]
    duty_codes: tuple[str, ...]
    keywords: tuple[str, ...]

    def describe(self, names: dict[str, str]) -> str:
        parts = [f"{c} {names.get(c, '')}".strip() for c in self.categories]
        parts += list(self.duty_codes) + list(self.keywords)
        return "「" + " ".join(parts) + "」"


def parse_work(work: str, *, known: Collection[str]) -> Work:
    tokens = (work or "").split()
    if not tokens:
        raise ServiceError("invalid_work", "请说明所派事项:诉求类别代码、清单事项编码或关键词")
    categories, codes, keywords = [], [], []
    for token in tokens:
        if _CATEGORY_RE.match(token):
            if token not in known:
                raise ServiceError("unknown_category", f"未知的诉求类别代码:{token}")
            categories.append(token)
        elif _DUTY_CODE_RE.match(token):
            codes.append(token.upper())
        else:
            keywords.append(token)
    return Work(tuple(categories), tuple(codes), tuple(keywords))


# When several duties cover a case category, quote the one a complaint most likely concerns:
# inspection and service before penalties, licences last.
_TYPE_RANK = {
    "inspection": 0,
    "public_service": 1,
    "penalty": 2,
    "enforcement": 3,
    "other": 4,
    "confirmation": 5,
    "payment": 6,
    "reward": 7,
    "licensing": 8,
}


def _rank(item: Duty | AssistItem) -> int:
    return _TYPE_RANK.get(item.type, 9) if isinstance(item, Duty) else 0


def _matches(item: Duty | AssistItem, work: Work) -> bool:
    """An item covers the work when it agrees with every part that was given."""
    if work.duty_codes and item.code not in work.duty_codes:
        return False
    if work.categories and not set(work.categories) <= set(item.category_codes):
        return False
    return all(k in item.name for k in work.keywords)


def _assigner_region(assigner: Region | Handler) -> Region:
    return assigner.region if isinstance(assigner, Handler) else assigner


def duty_check(
    *, assigner: Region | Handler, unit: Region, work: str, year: int | None = None
) -> DutyCheckResult:
    """Whether `unit`'s published list for `year` (default: this year) covers `work` from `assigner`.

    `assigner` is the body handing the work down (a county department, the township
    government, or their region). Bad input (a county as unit, an unknown category code, no
    work at all) raises ServiceError; every answer about the lists is a DutyCheckResult.
    """
    if unit.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise ServiceError("invalid_unit", "只能核对乡镇(街道)或村(社区)的清单")
    names = known_categories()
    parsed = parse_work(work, known=names)
    year = year or timezone.localdate().year
    asked = parsed.describe(names)
    source = _assigner_region(assigner)
    who = assigner.name
    if not unit.path.startswith(source.path):
        return DutyCheckResult(
            allowed=False,
            code="assigner_out_of_area",
            reason=f"{who}不是{unit.name}的上级单位,不能向其派遣事项{asked}",
        )
    duty_list = duty_list_published(region=unit, year=year)
    is_village = unit.level == RegionLevel.VILLAGE
    list_name = DutyListKind.VILLAGE_ASSIST.label if is_village else DutyListKind.TOWNSHIP.label
    if duty_list is None:
        return DutyCheckResult(
            allowed=False,
            code="no_published_list",
            reason=f"{unit.name}尚未发布 {year} 年度{list_name},无法确认事项{asked}是否在清单内,暂不能派遣",
        )
    for item in sorted(duty_list_items(duty_list=duty_list), key=_rank):
        if _matches(item, parsed):
            return DutyCheckResult(
                allowed=True,
                code="in_list",
                reason=f"事项{asked}属于{unit.name} {year} 年度{list_name}第 {item.code} 项「{item.name}」",
                duty=item.code,
            )
    if is_village:
        return DutyCheckResult(
            allowed=False,
            code="pushed_outside_list",
            reason=(
                f"事项{asked}不在{unit.name} {year} 年度{list_name}内,属于清单外事项下派。"
                f"严禁随意向村(社区)摊派工作,请由{who}依职责自行办理或按程序调整清单"
            ),
        )
    return DutyCheckResult(
        allowed=False,
        code="not_in_list",
        reason=(
            f"事项{asked}不在{unit.name} {year} 年度{list_name}内,"
            f"应由{who}或有关县级部门依法履职,不得转嫁给乡镇(街道)"
        ),
    )
