"""Areas → grids and households: polygons, circles, codes, unions, jurisdiction, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely

from shanzhi.conftest import make_user
from shanzhi.core.errors import ServiceError
from shanzhi.grid.areas import (
    Area,
    Circle,
    Targets,
    area_check,
    area_from_geojson,
    area_resolve,
    polygon_from_coords,
)
from shanzhi.grid.coords import distance_m
from shanzhi.grid.models import Grid, Household
from shanzhi.grid.tests.mapped_setup import Mapped, box


def _household(grid: Grid, n: int, lon: float, lat: float, *, active: bool = True) -> Household:
    return Household.objects.create(
        code=f"{grid.code}-{n:04d}",
        grid=grid,
        village=grid.village,
        address=f"{grid.name}{n}号",
        head_name=f"户主{n}",
        lon=lon,
        lat=lat,
        active=active,
    )


@pytest.fixture
def homes(mapped: Mapped) -> dict[str, Household]:
    return {
        "a1_01": _household(mapped.a1_01, 1, 119.65, 28.45),
        "a1_01_edge": _household(mapped.a1_01, 2, 119.7, 28.40),  # on the a1-01 / a1-02 edge
        "a1_02": _household(mapped.a1_02, 1, 119.75, 28.45),
        "a2_01": _household(mapped.a2_01, 1, 119.70, 28.25),
        "b1_01": _household(mapped.b1_01, 1, 119.85, 28.30),
        "gone": _household(mapped.a1_02, 2, 119.76, 28.46, active=False),
    }


def _ids(*households: Household) -> list[int]:
    return sorted(h.pk for h in households)


def _grid_ids(*grids: Grid) -> list[int]:
    return sorted(g.pk for g in grids)


# --- polygons ---------------------------------------------------------------------------------


def test_polygon_reaches_intersecting_grids_and_households_inside(
    mapped: Mapped, homes: dict[str, Household]
) -> None:
    poly = polygon_from_coords(
        coords=[(119.62, 28.40), (119.78, 28.40), (119.78, 28.48), (119.62, 28.48), (119.62, 28.40)]
    )
    targets = area_resolve(area=Area(polygons=(poly,)))
    assert targets.grid_ids == _grid_ids(mapped.a1_01, mapped.a1_02)
    # The edge household is on the polygon's boundary: counted. The retired one is not.
    assert targets.household_ids == _ids(homes["a1_01"], homes["a1_01_edge"], homes["a1_02"])
    assert targets.counts() == {"grids": 2, "households": 3}


def test_multipolygon_from_geojson(mapped: Mapped, homes: dict[str, Household]) -> None:
    data = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[119.64, 28.44], [119.66, 28.44], [119.66, 28.46], [119.64, 28.46], [119.64, 28.44]]],
            [[[119.84, 28.29], [119.86, 28.29], [119.86, 28.31], [119.84, 28.31], [119.84, 28.29]]],
        ],
    }
    area = area_from_geojson(data=data)
    assert len(area.polygons) == 1 and isinstance(area.polygons[0], shapely.MultiPolygon)
    targets = area_resolve(area=area)
    assert targets.grid_ids == _grid_ids(mapped.a1_01, mapped.b1_01)
    assert targets.household_ids == _ids(homes["a1_01"], homes["b1_01"])


def test_feature_collection_json_text_and_round_trip(mapped: Mapped, homes: dict[str, Household]) -> None:
    area = Area(
        polygons=(shapely.box(119.64, 28.44, 119.66, 28.46),),
        circles=(Circle(lon=119.85, lat=28.30, radius_m=500),),
        region_codes=("331199101001",),
        grid_codes=("331199101201-02",),
    )
    text = json.dumps(area.geojson())
    again = area_from_geojson(data=text)
    assert again.circles == area.circles
    assert again.region_codes == area.region_codes
    assert again.grid_codes == area.grid_codes
    assert again.polygons[0].equals(area.polygons[0])
    assert area_resolve(area=again).household_ids == area_resolve(area=area).household_ids
    assert area_from_geojson(data=text.encode()).grid_codes == ("331199101201-02",)


def test_feature_with_point_and_radius_is_a_circle(mapped: Mapped, homes: dict[str, Household]) -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [119.85, 28.30]},
        "properties": {"radius_m": 300},
    }
    area = area_from_geojson(data=feature)
    assert area.circles == (Circle(lon=119.85, lat=28.30, radius_m=300.0),)
    assert area_resolve(area=area).household_ids == _ids(homes["b1_01"])


# --- circles ----------------------------------------------------------------------------------


def test_circle_uses_great_circle_distance(mapped: Mapped, homes: dict[str, Household]) -> None:
    home = homes["a2_01"]
    just_in = distance_m(119.70, 28.26, home.lon, home.lat) + 1
    inside = area_resolve(area=Area(circles=(Circle(lon=119.70, lat=28.26, radius_m=just_in),)))
    assert inside.household_ids == _ids(home)
    assert inside.grid_ids == _grid_ids(mapped.a2_01)
    outside = area_resolve(area=Area(circles=(Circle(lon=119.70, lat=28.26, radius_m=just_in - 2),)))
    assert outside.household_ids == []


def test_circle_reaches_grid_it_only_grazes(mapped: Mapped) -> None:
    # Centre in a2-01, 1 km south of the a1 grids' edge at 28.35; 1.2 km reaches a1-01 and a1-02.
    lat = 28.35 - 1000 / 111195.0
    near = area_resolve(area=Area(circles=(Circle(lon=119.70, lat=lat, radius_m=1200),)))
    assert near.grid_ids == _grid_ids(mapped.a1_01, mapped.a1_02, mapped.a2_01)
    short = area_resolve(area=Area(circles=(Circle(lon=119.70, lat=lat, radius_m=900),)))
    assert short.grid_ids == _grid_ids(mapped.a2_01)


# --- codes and unions -------------------------------------------------------------------------


def test_region_codes_township_village_county(mapped: Mapped, homes: dict[str, Household]) -> None:
    county = mapped.county
    town_a = area_resolve(area=Area(region_codes=(county.town_a.code,)))
    assert town_a.grid_ids == _grid_ids(mapped.a1_01, mapped.a1_02, mapped.a2_01)
    assert town_a.household_ids == _ids(homes["a1_01"], homes["a1_01_edge"], homes["a1_02"], homes["a2_01"])
    village = area_resolve(area=Area(region_codes=(county.village_b1.code,)))
    assert village.household_ids == _ids(homes["b1_01"])
    whole = area_resolve(area=Area(region_codes=(county.county.code,)))
    assert whole.grid_count == 4 and whole.household_count == 5


def test_grid_codes(mapped: Mapped, homes: dict[str, Household]) -> None:
    targets = area_resolve(area=Area(grid_codes=(mapped.a1_02.code,)))
    assert targets.grid_ids == _grid_ids(mapped.a1_02)
    assert targets.household_ids == _ids(homes["a1_02"])


def test_union_of_all_kinds_counts_each_once(mapped: Mapped, homes: dict[str, Household]) -> None:
    area = Area(
        polygons=(shapely.box(119.64, 28.44, 119.66, 28.46),),
        circles=(Circle(lon=119.65, lat=28.45, radius_m=200),),
        region_codes=(mapped.county.village_a1.code,),
        grid_codes=(mapped.a1_01.code, mapped.b1_01.code),
    )
    targets = area_resolve(area=area)
    assert targets.grid_ids == _grid_ids(mapped.a1_01, mapped.a1_02, mapped.b1_01)
    assert targets.household_ids == _ids(homes["a1_01"], homes["a1_01_edge"], homes["a1_02"], homes["b1_01"])


def test_area_larger_than_county_reaches_everything(mapped: Mapped, homes: dict[str, Household]) -> None:
    targets = area_resolve(area=Area(polygons=(shapely.box(119.0, 28.0, 121.0, 29.0),)))
    assert targets.grid_count == 4 and targets.household_count == 5


def test_area_inside_county_but_in_no_grid_is_empty_not_an_error(mapped: Mapped) -> None:
    targets = area_resolve(area=Area(polygons=(shapely.box(119.95, 28.4, 119.99, 28.45),)))
    assert targets == Targets()


# --- jurisdiction -----------------------------------------------------------------------------


def test_user_sees_only_their_jurisdiction(mapped: Mapped, homes: dict[str, Household]) -> None:
    user_a = make_user(username="lead-a", region=mapped.county.town_a, roles=["leader"])
    whole = Area(polygons=(shapely.box(119.0, 28.0, 121.0, 29.0),))
    targets = area_resolve(area=whole, user=user_a)
    assert targets.grid_ids == _grid_ids(mapped.a1_01, mapped.a1_02, mapped.a2_01)
    assert homes["b1_01"].pk not in targets.household_ids
    codes = area_resolve(
        area=Area(region_codes=(mapped.county.town_b.code,), grid_codes=(mapped.b1_01.code,)), user=user_a
    )
    assert codes == Targets()
    circle = area_resolve(area=Area(circles=(Circle(lon=119.85, lat=28.30, radius_m=500),)), user=user_a)
    assert circle == Targets()


def test_user_without_staff_row_reaches_nothing(mapped: Mapped, homes: dict[str, Household]) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert (
        area_resolve(area=Area(region_codes=(mapped.county.county.code,)), user=AnonymousUser()) == Targets()
    )


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coords", "fragment"),
    [
        ([(119.6, 28.3), (119.7, 28.3), (119.6, 28.3)], "至少需要 4 个"),
        ([(119.6, 28.3), (119.7, 28.3), (119.7, 28.4), (119.6, 28.4)], "没有闭合"),
        ([(119.6, 28.3), (119.7, 28.4), (119.7, 28.3), (119.6, 28.4), (119.6, 28.3)], "自相交"),
        ([(119.6, 28.3), (119.7, 28.3), (119.7, float("nan")), (119.6, 28.3)], "有限的数字"),
        ([(119.6, 28.3), (119.7, 28.3), (119.7, 95.0), (119.6, 28.3)], "超出范围"),
        ([(119.6, 28.3), (119.7, 28.3), (119.6, 28.3), (119.6, 28.3)], "3 个不同"),
        ([(119.6, 28.3), "x", (119.7, 28.4), (119.6, 28.3)], "应为 [经度, 纬度]"),
    ],
)
def test_polygon_from_coords_refuses(coords: list[Any], fragment: str) -> None:
    with pytest.raises(ServiceError) as exc:
        polygon_from_coords(coords=coords)
    assert exc.value.code == "area_invalid"
    assert exc.value.status == 422
    assert fragment in exc.value.message


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("{not json", "不是有效的 JSON"),
        (b"\xff\xfe", "UTF-8"),
        ([1, 2], "GeoJSON 对象"),
        ({"type": "Point", "coordinates": [119.7, 28.3]}, "不支持的 GeoJSON 类型"),
        ({"type": "LineString", "coordinates": [[119.7, 28.3], [119.8, 28.3]]}, "不支持"),
        (
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}, "properties": {}},
            "不支持的几何类型",
        ),
        ({"type": "Feature", "geometry": None, "properties": {}}, "没有几何数据"),
        ({"type": "FeatureCollection", "features": []}, "包含至少一个"),
        ({"type": "FeatureCollection", "features": [{"type": "Polygon"}]}, "应为 GeoJSON Feature"),
        ({"type": "Polygon", "coordinates": [[[119.6, 28.3], [119.7, 28.3], [119.6, 28.3]]]}, "4 个坐标点"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[119.6, 28.3], [119.7, 28.3], [119.7, 28.4], [119.6, 28.4]]],
            },
            "闭合",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[119.6, 28.3], [119.7, 28.4], [119.7, 28.3], [119.6, 28.4], [119.6, 28.3]]],
            },
            "自相交",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [119.7, 28.3]},
                "properties": {"radius_m": -5},
            },
            "大于 0",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [119.7, 28.3]},
                "properties": {"radius_m": "big"},
            },
            "有限的数字",
        ),
        ({"type": "Feature", "geometry": None, "properties": {"kind": "circle", "radius_m": 10}}, "圆心"),
        ({"type": "Feature", "geometry": None, "properties": {"kind": "region"}}, "缺少代码"),
    ],
)
def test_area_from_geojson_refuses(data: Any, fragment: str) -> None:
    with pytest.raises(ServiceError) as exc:
        area_from_geojson(data=data)
    assert exc.value.code == "area_invalid"
    assert fragment in exc.value.message


@pytest.mark.parametrize(
    ("area", "fragment"),
    [
        (Area(), "区域为空"),
        (Area(circles=(Circle(lon=119.7, lat=28.3, radius_m=0),)), "大于 0"),
        (Area(circles=(Circle(lon=119.7, lat=28.3, radius_m=-10),)), "大于 0"),
        (Area(circles=(Circle(lon=119.7, lat=28.3, radius_m=10_000_000),)), "过大"),
        (Area(circles=(Circle(lon=219.7, lat=28.3, radius_m=10),)), "超出范围"),
        (Area(region_codes=("331199999999",)), "未知的区划代码"),
        (Area(region_codes=("3311",)), "12 位数字"),
        (Area(grid_codes=("NOPE-01",)), "未知或已停用的网格编码"),
        (
            Area(polygons=(shapely.Polygon([(119.6, 28.3), (119.7, 28.4), (119.7, 28.3), (119.6, 28.4)]),)),
            "自相交",
        ),
    ],
)
def test_area_check_refuses_invalid(mapped: Mapped, area: Area, fragment: str) -> None:
    with pytest.raises(ServiceError) as exc:
        area_check(area=area)
    assert exc.value.code == "area_invalid"
    assert fragment in exc.value.message
    with pytest.raises(ServiceError):
        area_resolve(area=area)


def test_retired_grid_code_is_refused(mapped: Mapped) -> None:
    Grid.objects.filter(pk=mapped.a1_02.pk).update(active=False)
    with pytest.raises(ServiceError, match="已停用"):
        area_check(area=Area(grid_codes=(mapped.a1_02.code,)))


def test_areas_outside_the_county_are_refused(mapped: Mapped) -> None:
    far = [
        Area(polygons=(shapely.box(116.0, 39.8, 116.1, 39.9),)),
        Area(circles=(Circle(lon=121.0, lat=31.0, radius_m=5000),)),
        Area(polygons=(shapely.box(120.01, 28.3, 120.05, 28.35),)),  # just east of the county
    ]
    for area in far:
        with pytest.raises(ServiceError) as exc:
            area_resolve(area=area)
        assert exc.value.code == "area_outside_county"
        assert "不在本县范围内" in exc.value.message


def test_without_county_shape_grids_decide(county: Any) -> None:
    from shanzhi.grid.services import grid_create

    grid = grid_create(
        actor=None,
        code="331199101201-01",
        name="g",
        village=county.village_a1,
        geometry=box(119.6, 28.3, 119.7, 28.4),
    )
    assert area_resolve(area=Area(polygons=(shapely.box(119.65, 28.35, 119.8, 28.45),))).grid_ids == [grid.pk]
    with pytest.raises(ServiceError) as exc:
        area_check(area=Area(polygons=(shapely.box(119.75, 28.35, 119.8, 28.45),)))
    assert exc.value.code == "area_outside_county"


def test_resolve_changes_nothing(mapped: Mapped, homes: dict[str, Household]) -> None:
    before = list(Household.objects.order_by("pk").values())
    area_resolve(area=Area(region_codes=(mapped.county.county.code,)))
    with pytest.raises(ServiceError):
        area_resolve(area=Area(region_codes=("331199999999",)))
    assert list(Household.objects.order_by("pk").values()) == before
