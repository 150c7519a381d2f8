"""Fixtures for duty lists: items, published lists for township A and its village, and users."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from shanzhi.conftest import County, make_user
from shanzhi.duties.items import AssistFields, DutyFields
from shanzhi.duties.models import DutyList
from shanzhi.duties.services import duty_list_create, duty_list_publish

THIS_YEAR = timezone.localdate().year


def duty(n: int, **overrides: Any) -> DutyFields:
    values: dict[str, Any] = {
        "code": f"XZCF-{n:03d}",
        "name": f"对违法行为{n}的处罚",
        "type": "penalty",
        "legal_basis": f"《中华人民共和国测试法》第{n}条",
        "lead_handler": "综合行政执法队",
        "category_codes": (),
        "notes": "",
    }
    values.update(overrides)
    return DutyFields(**values)


def assist(n: int, **overrides: Any) -> AssistFields:
    values: dict[str, Any] = {
        "code": f"CXZ-{n:03d}",
        "name": f"协助事项{n}",
        "assists": "civil_affairs",
        "basis": "《社会救助暂行办法》第十一条",
        "category_codes": (),
        "notes": "",
    }
    values.update(overrides)
    return AssistFields(**values)


TOWN_DUTIES = [
    duty(1, name="对违法建设的日常巡查", type="inspection", category_codes=("0103",)),
    duty(2, name="对擅自占用城市道路摆摊设点的处罚", category_codes=("0102",)),
    duty(3, name="对露天焚烧秸秆的处罚", category_codes=("0501", "1301")),
]
VILLAGE_ASSISTS = [
    assist(1, name="协助做好生活垃圾分类宣传和督导", assists="urban_mgmt", category_codes=("0101",)),
    assist(2, name="协助开展独居老年人探访关爱", category_codes=("1002",)),
]


@pytest.fixture
def town_list(county: County) -> DutyList:
    """Township A's published list for this year."""
    draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=TOWN_DUTIES)
    return duty_list_publish(actor=None, duty_list=draft)


@pytest.fixture
def village_list(county: County) -> DutyList:
    """Village A1's published assist list for this year."""
    draft = duty_list_create(actor=None, region=county.village_a1, year=THIS_YEAR, items=VILLAGE_ASSISTS)
    return duty_list_publish(actor=None, duty_list=draft)


@pytest.fixture
def town_b_list(county: County) -> DutyList:
    draft = duty_list_create(actor=None, region=county.town_b, year=THIS_YEAR, items=[duty(9)])
    return duty_list_publish(actor=None, duty_list=draft)


@pytest.fixture
def handler_a(county: County) -> Any:
    """A township-A handler without the leader role: reads lists, cannot edit them."""
    return make_user(
        username="t-handler-a", region=county.town_a, roles=["handler"], handler=county.town_a_gov
    )


@pytest.fixture
def county_leader(county: County) -> Any:
    return make_user(username="t-county-leader", region=county.county, roles=["leader"])


@pytest.fixture
def village_leader(county: County) -> Any:
    return make_user(username="t-village-leader", region=county.village_a1, roles=["leader"])
