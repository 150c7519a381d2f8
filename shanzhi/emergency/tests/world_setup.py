"""A mapped county with grid workers, cadres and households for the emergency tests.

   lon 119.6        119.7        119.8        119.9        120.0
28.5 +------------+------------+------------+------------+
     | a1-01      | a1-02      | b1-01      |  (no grid) |
28.35+------------+------------+            |            |
     | a2-01                   |            |            |
28.2 +-------------------------+------------+------------+
       township A (青石镇)        township B (白沙镇)

A pytest plugin (root conftest): any test requests `world` by name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest

from shanzhi.conftest import County, make_user
from shanzhi.core.models import Staff
from shanzhi.emergency import demo
from shanzhi.grid.models import Grid, Household
from shanzhi.grid.services import grid_create, grid_worker_assign, region_shape_set
from shanzhi.grid.tests.mapped_setup import box


@dataclass
class World:
    county: County
    a1_01: Grid
    a1_02: Grid
    a2_01: Grid
    b1_01: Grid
    users: dict[str, Any] = field(default_factory=dict)
    homes: dict[str, Household] = field(default_factory=dict)


def household(grid: Grid, n: int, lon: float, lat: float, **flags: Any) -> Household:
    return Household.objects.create(
        code=f"{grid.code}-{n:04d}",
        grid=grid,
        village=grid.village,
        address=f"{grid.name}{n}号",
        head_name=f"户主{n}",
        lon=lon,
        lat=lat,
        **flags,
    )


def _phone(user: Any, phone: str) -> None:
    Staff.objects.filter(user=user).update(phone=phone)


@pytest.fixture
def world(county: County) -> World:
    region_shape_set(actor=None, region=county.county, geometry=box(119.6, 28.2, 120.0, 28.5))
    grids = {}
    for key, code, name, village, geom in [
        ("a1_01", "331199101201-01", "上溪村第1网格", county.village_a1, box(119.6, 28.35, 119.7, 28.5)),
        ("a1_02", "331199101201-02", "上溪村第2网格", county.village_a1, box(119.7, 28.35, 119.8, 28.5)),
        ("a2_01", "331199101001-01", "青石社区第1网格", county.village_a2, box(119.6, 28.2, 119.8, 28.35)),
        ("b1_01", "331199102201-01", "沙湾村第1网格", county.village_b1, box(119.8, 28.2, 119.9, 28.5)),
    ]:
        grids[key] = grid_create(actor=None, code=code, name=name, village=village, geometry=geom)
    w = World(county, grids["a1_01"], grids["a1_02"], grids["a2_01"], grids["b1_01"])
    u = w.users
    u["admin"] = make_user(username="e-admin", region=county.county, roles=["admin"])
    u["county_leader"] = make_user(username="e-leader", region=county.county, roles=["leader"])
    u["leader_a"] = make_user(username="e-leader-a", region=county.town_a, roles=["leader"])
    u["leader_b"] = make_user(username="e-leader-b", region=county.town_b, roles=["leader"])
    u["cadre_a1"] = make_user(username="e-cadre-a1", region=county.village_a1, roles=["leader"])
    u["dispatcher"] = make_user(username="e-dispatcher", region=county.county, roles=["dispatcher"])
    u["supervisor"] = make_user(username="e-supervisor", region=county.county, roles=["supervisor"])
    u["worker_a1"] = make_user(username="e-worker-a1", region=county.village_a1, roles=["gridworker"])
    u["worker_a1b"] = make_user(username="e-worker-a1b", region=county.village_a1, roles=["gridworker"])
    u["worker_a2"] = make_user(username="e-worker-a2", region=county.village_a2, roles=["gridworker"])
    u["worker_b1"] = make_user(username="e-worker-b1", region=county.village_b1, roles=["gridworker"])
    _phone(u["worker_a1"], "13800000001")
    _phone(u["cadre_a1"], "13800000009")
    grid_worker_assign(actor=None, grid=w.a1_01, staff=u["worker_a1"].staff, is_leader=True)
    grid_worker_assign(actor=None, grid=w.a1_02, staff=u["worker_a1b"].staff, is_leader=True)
    grid_worker_assign(actor=None, grid=w.a2_01, staff=u["worker_a2"].staff)
    grid_worker_assign(actor=None, grid=w.b1_01, staff=u["worker_b1"].staff, is_leader=True)
    h = w.homes
    h["a1_01_1"] = household(w.a1_01, 1, 119.65, 28.45, elderly_alone=True, phone="13900000001")
    h["a1_01_2"] = household(w.a1_01, 2, 119.66, 28.40)
    h["a1_02_1"] = household(w.a1_02, 1, 119.75, 28.45, bedridden=True)
    h["a2_01_1"] = household(w.a2_01, 1, 119.70, 28.25)
    h["b1_01_1"] = household(w.b1_01, 1, 119.85, 28.30)
    h["gone"] = household(w.a1_02, 9, 119.76, 28.46, active=False)
    demo.load(stdout=io.StringIO())
    return w
