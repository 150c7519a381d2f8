"""A county with the whole adopted catalogue, a few bodies and one person per role in the loop.

A pytest plugin (root conftest): any test requests `loop` by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shanzhi.cases.catalogue import category_sync
from shanzhi.cases.models import Category
from shanzhi.conftest import County, make_user
from shanzhi.core.catalogue import handler_types
from shanzhi.core.models import Handler
from shanzhi.core.services import handler_create, handler_type_upsert


@dataclass
class Loop:
    county: County
    police: Handler
    market: Handler
    community_a1: Handler
    dispatcher: Any
    dispatcher_b: Any
    urban_handler: Any
    police_handler: Any
    town_a_handler: Any
    gridworker: Any
    resident: Any
    supervisor: Any
    urban_leader: Any

    def category(self, code: str) -> Category:
        return Category.objects.get(code=code)


@pytest.fixture
def loop(county: County) -> Loop:
    for row in handler_types():
        handler_type_upsert(
            actor=None, code=row.code, kind=row.kind, name_zh=row.name_zh, name_en=row.name_en
        )
    police = handler_create(
        actor=None, code="police", type_code="police", name="县公安局", region=county.county
    )
    market = handler_create(
        actor=None, code="market", type_code="market", name="县市场监管局", region=county.county
    )
    community_a1 = handler_create(
        actor=None,
        code="community-331199101201",
        type_code="community",
        name="上溪村村民委员会",
        region=county.village_a1,
    )
    category_sync(actor=None)
    return Loop(
        county=county,
        police=police,
        market=market,
        community_a1=community_a1,
        dispatcher=make_user(username="l-dispatcher", region=county.county, roles=["dispatcher"]),
        dispatcher_b=make_user(username="l-dispatcher-b", region=county.town_b, roles=["dispatcher"]),
        urban_handler=make_user(
            username="l-urban", region=county.county, roles=["handler"], handler=county.dept
        ),
        police_handler=make_user(
            username="l-police", region=county.county, roles=["handler"], handler=police
        ),
        town_a_handler=make_user(
            username="l-town-a", region=county.town_a, roles=["handler"], handler=county.town_a_gov
        ),
        gridworker=make_user(username="l-grid", region=county.village_a1, roles=["gridworker"]),
        resident=make_user(username="l-resident", region=county.village_a1, roles=["resident"]),
        supervisor=make_user(username="l-supervisor", region=county.county, roles=["supervisor"]),
        urban_leader=make_user(
            username="l-urban-leader", region=county.county, roles=["leader"], handler=county.dept
        ),
    )
