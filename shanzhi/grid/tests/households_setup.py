"""People and households on the mapped test county, shared by the household tests.

A pytest plugin (root conftest): any test requests `people` and `homes` by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shanzhi.conftest import make_user
from shanzhi.grid.households import HouseholdInput, household_create
from shanzhi.grid.models import Household
from shanzhi.grid.services import grid_worker_assign
from shanzhi.grid.tests.mapped_setup import Mapped


@dataclass
class People:
    gw_a1_01: Any  # grid worker of a1-01
    gw_a1_02: Any  # grid worker of a1-02 (same village, other grid)
    village_a1_leader: Any
    town_a_leader: Any
    town_a_handler: Any  # not a supervising role
    town_b_leader: Any
    county_admin: Any
    gw_b1_01: Any


@pytest.fixture(name="people")
def people_fixture(mapped: Mapped) -> People:
    c = mapped.county
    gw1 = make_user(username="gw-a1-01", region=c.village_a1, roles=["gridworker"])
    gw2 = make_user(username="gw-a1-02", region=c.village_a1, roles=["gridworker"])
    gwb = make_user(username="gw-b1-01", region=c.village_b1, roles=["gridworker"])
    grid_worker_assign(actor=None, grid=mapped.a1_01, staff=gw1.staff, is_leader=True)
    grid_worker_assign(actor=None, grid=mapped.a1_02, staff=gw2.staff, is_leader=True)
    grid_worker_assign(actor=None, grid=mapped.b1_01, staff=gwb.staff, is_leader=True)
    return People(
        gw_a1_01=gw1,
        gw_a1_02=gw2,
        village_a1_leader=make_user(username="vl-a1", region=c.village_a1, roles=["leader"]),
        town_a_leader=make_user(username="tl-a", region=c.town_a, roles=["leader"]),
        town_a_handler=make_user(username="th-a", region=c.town_a, roles=["handler"], handler=c.town_a_gov),
        town_b_leader=make_user(username="tl-b", region=c.town_b, roles=["leader"]),
        county_admin=make_user(username="c-admin", region=c.county, roles=["admin"]),
        gw_b1_01=gwb,
    )


@dataclass
class Homes:
    a1_01: Household
    a1_01_care: Household
    a1_02: Household
    b1_01: Household


@pytest.fixture(name="homes")
def homes_fixture(mapped: Mapped) -> Homes:
    def make(grid_code: str, lon: float, lat: float, **kw: Any) -> Household:
        return household_create(
            actor=None,
            data=HouseholdInput(
                address=kw.pop("address", "上溪村 1 号"),
                head_name=kw.pop("head_name", "王建国"),
                lon=lon,
                lat=lat,
                grid_code=grid_code,
                phone=kw.pop("phone", "13812345678"),
                **kw,
            ),
        )

    return Homes(
        a1_01=make(mapped.a1_01.code, 119.65, 28.45),
        a1_01_care=make(
            mapped.a1_01.code,
            119.66,
            28.44,
            address="上溪村 8 号",
            head_name="李秀英",
            phone="",
            care={"elderly_alone": True},
            members=1,
        ),
        a1_02=make(mapped.a1_02.code, 119.75, 28.45, address="上溪村 20 号", head_name="张伟"),
        b1_01=make(mapped.b1_01.code, 119.85, 28.30, address="沙湾村 3 号", head_name="陈明"),
    )
