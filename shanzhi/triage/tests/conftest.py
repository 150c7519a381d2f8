"""Triage fixtures: one fit per test session, a county with every kind of handler and estate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import shapely

from shanzhi.conftest import County, make_user
from shanzhi.core.catalogue import case_categories, handler_types
from shanzhi.core.models import Estate, Handler, Region
from shanzhi.core.services import estate_create, handler_create, handler_type_upsert, region_create
from shanzhi.grid.geometry import to_geojson
from shanzhi.grid.models import Grid
from shanzhi.grid.services import grid_create, region_shape_set
from shanzhi.triage import learn
from shanzhi.triage.predict import predictor_cache_clear


@pytest.fixture(scope="session")
def trained() -> learn.Trained:
    """The corpus-only model, fitted once; services find it in the process memo, so storing it in
    each test's database costs an insert, not a fit."""
    return learn.train(corrections=[], primary_of={c.code: c.primary_handler for c in case_categories()})


@pytest.fixture(autouse=True)
def _fresh_predictor() -> None:
    # Each test has its own database; forget which model the previous test had active.
    predictor_cache_clear()


@dataclass
class Town:
    county: County
    community_a2: Handler  # 青石社区居民委员会
    community_a1: Handler  # 上溪村村民委员会
    property_1: Handler
    property_2: Handler
    police: Handler
    estate_a2: Estate  # 锦绣花园 in 青石社区 (property-1)
    estate_a2_phase2: Estate  # 锦绣花园二期 in 青石社区 (property-2)
    estate_b2: Estate  # 锦绣花园 in 白沙社区 (property-2): the same name in another township
    estate_bare: Estate  # 阳光家园 in 青石社区, no property company
    village_b2: Region  # 白沙社区
    grid_a1: Grid
    dispatcher: Any
    operator: Any
    resident: Any
    admin: Any


def box(minx: float, miny: float, maxx: float, maxy: float) -> dict[str, Any]:
    return to_geojson(shapely.box(minx, miny, maxx, maxy))


@pytest.fixture
def town(county: County) -> Town:
    for row in handler_types():
        handler_type_upsert(
            actor=None, code=row.code, kind=row.kind, name_zh=row.name_zh, name_en=row.name_en
        )
    for row in handler_types():
        if row.kind == "department" and row.code != "urban_mgmt":
            handler_create(
                actor=None, code=row.code, type_code=row.code, name=row.name_zh, region=county.county
            )
    village_b2 = region_create(
        actor=None, code="331199102001", name="白沙社区", parent=county.town_b, kind="社区"
    )
    communities = {}
    for village in (county.village_a1, county.village_a2, county.village_b1, village_b2):
        communities[village.code] = handler_create(
            actor=None,
            code=f"community-{village.code}",
            type_code="community",
            name=f"{village.name}委员会",
            region=village,
        )
    p1 = handler_create(
        actor=None, code="property-1", type_code="property", name="安居物业", region=county.county
    )
    p2 = handler_create(
        actor=None, code="property-2", type_code="property", name="绿城物业", region=county.county
    )
    a2 = estate_create(actor=None, name="锦绣花园", region=county.village_a2, property_company=p1)
    a2_2 = estate_create(actor=None, name="锦绣花园二期", region=county.village_a2, property_company=p2)
    b2 = estate_create(actor=None, name="锦绣花园", region=village_b2, property_company=p2)
    bare = estate_create(actor=None, name="阳光家园", region=county.village_a2, property_company=None)
    # A mapped corner: the county, and one grid in 上溪村.
    region_shape_set(actor=None, region=county.county, geometry=box(119.6, 28.2, 120.0, 28.5))
    grid = grid_create(
        actor=None,
        code="331199101201-01",
        name="上溪村第1网格",
        village=county.village_a1,
        geometry=box(119.6, 28.35, 119.7, 28.5),
    )
    return Town(
        county=county,
        community_a2=communities[county.village_a2.code],
        community_a1=communities[county.village_a1.code],
        property_1=p1,
        property_2=p2,
        police=Handler.objects.get(code="police"),
        estate_a2=a2,
        estate_a2_phase2=a2_2,
        estate_b2=b2,
        estate_bare=bare,
        village_b2=village_b2,
        grid_a1=grid,
        dispatcher=make_user(username="t-dispatcher", region=county.county, roles=["dispatcher"]),
        operator=make_user(username="t-operator", region=county.county, roles=["operator"]),
        resident=make_user(username="t-resident", region=county.village_a1, roles=["resident"]),
        admin=make_user(username="t-admin2", region=county.county, roles=["admin"]),
    )
