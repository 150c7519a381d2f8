"""Fixtures for the 网格通 tests: two grid workers in township A (grids a1-01 and a1-02), one in
township B, a few households in each grid, and the case catalogue for quick reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shanzhi.cases.tests.loop_setup import Loop
from shanzhi.conftest import make_user
from shanzhi.core.selectors import staff_of
from shanzhi.grid.models import Grid, Household
from shanzhi.grid.services import grid_worker_assign
from shanzhi.grid.tests.mapped_setup import Mapped

# Inside grid a1-01 (119.6–119.7, 28.35–28.5), a1-02 (119.7–119.8) and b1-01 (119.8–119.9).
IN_A1_01 = (119.65, 28.42)
IN_A1_02 = (119.75, 28.42)
IN_B1_01 = (119.85, 28.3)
OUTSIDE_COUNTY = (121.5, 31.2)


def household(grid: Grid, n: int, *, lon: float, lat: float, **flags: Any) -> Household:
    return Household.objects.create(
        code=f"{grid.code}-{n:04d}",
        grid=grid,
        village=grid.village,
        address=f"{grid.village.name}{n}号",
        head_name=f"户主{n}",
        lon=lon,
        lat=lat,
        members=3,
        phone="13900001111",
        **flags,
    )


@dataclass
class Phone:
    mapped: Mapped
    worker: Any  # grid worker of a1-01
    worker_02: Any  # grid worker of a1-02, same village
    worker_b: Any  # grid worker of b1-01, township B
    resident: Any
    home: Household  # a1-01, elderly living alone
    plain: Household  # a1-01, no care flag
    other_grid: Household  # a1-02
    other_town: Household  # b1-01


@pytest.fixture(name="phone")
def phone_fixture(mapped: Mapped, loop: Loop) -> Phone:
    county = mapped.county
    worker = loop.gridworker  # l-grid, region village a1
    worker_02 = make_user(username="p-grid-02", region=county.village_a1, roles=["gridworker"])
    worker_b = make_user(username="p-grid-b", region=county.village_b1, roles=["gridworker"])
    for user, grid in ((worker, mapped.a1_01), (worker_02, mapped.a1_02), (worker_b, mapped.b1_01)):
        staff = staff_of(user=user)
        assert staff is not None
        grid_worker_assign(actor=None, grid=grid, staff=staff)
    return Phone(
        mapped=mapped,
        worker=worker,
        worker_02=worker_02,
        worker_b=worker_b,
        resident=loop.resident,
        home=household(mapped.a1_01, 1, lon=119.65, lat=28.41, elderly_alone=True),
        plain=household(mapped.a1_01, 2, lon=119.66, lat=28.41),
        other_grid=household(mapped.a1_02, 1, lon=119.75, lat=28.41, disabled=True),
        other_town=household(mapped.b1_01, 1, lon=119.85, lat=28.31, bedridden=True),
    )
