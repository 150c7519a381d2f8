"""A small mapped county on top of the shared `county` fixture.

   lon 119.6        119.7        119.8        119.9        120.0
28.5 +------------+------------+------------+------------+
     | a1-01      | a1-02      | b1-01      |  (no grid) |
28.35+------------+------------+            |            |
     | a2-01                   |            |            |
28.2 +-------------------------+------------+------------+
       township A (青石镇)        township B (白沙镇)

A pytest plugin (root conftest): any test requests `mapped` by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import shapely

from shanzhi.conftest import County
from shanzhi.grid.geometry import to_geojson
from shanzhi.grid.models import Grid
from shanzhi.grid.services import grid_create, region_shape_set


def box(minx: float, miny: float, maxx: float, maxy: float) -> dict[str, Any]:
    return to_geojson(shapely.box(minx, miny, maxx, maxy))


@dataclass
class Mapped:
    county: County
    a1_01: Grid
    a1_02: Grid
    a2_01: Grid
    b1_01: Grid


@pytest.fixture
def mapped(county: County) -> Mapped:
    region_shape_set(actor=None, region=county.county, geometry=box(119.6, 28.2, 120.0, 28.5))
    region_shape_set(actor=None, region=county.town_a, geometry=box(119.6, 28.2, 119.8, 28.5))
    region_shape_set(actor=None, region=county.town_b, geometry=box(119.8, 28.2, 120.0, 28.5))
    region_shape_set(actor=None, region=county.village_b1, geometry=box(119.8, 28.2, 120.0, 28.5))
    a1_01 = grid_create(
        actor=None,
        code="331199101201-01",
        name="上溪村第1网格",
        village=county.village_a1,
        geometry=box(119.6, 28.35, 119.7, 28.5),
    )
    a1_02 = grid_create(
        actor=None,
        code="331199101201-02",
        name="上溪村第2网格",
        village=county.village_a1,
        geometry=box(119.7, 28.35, 119.8, 28.5),
    )
    a2_01 = grid_create(
        actor=None,
        code="331199101001-01",
        name="青石社区第1网格",
        village=county.village_a2,
        geometry=box(119.6, 28.2, 119.8, 28.35),
    )
    b1_01 = grid_create(
        actor=None,
        code="331199102201-01",
        name="沙湾村第1网格",
        village=county.village_b1,
        geometry=box(119.8, 28.2, 119.9, 28.5),
    )
    return Mapped(county, a1_01, a1_02, a2_01, b1_01)
