import numpy as np
import pytest
from django.db import transaction

from shanzhi.core.errors import ServiceError
from shanzhi.grid.coords import wgs84_to_bd09, wgs84_to_gcj02
from shanzhi.grid.locate import IndexCache, default_cache, locate_point, locate_points
from shanzhi.grid.services import grid_update_geometry
from shanzhi.grid.tests.mapped_setup import box


def code_at(lon, lat, **kw):
    loc = locate_point(lon=lon, lat=lat, **kw)
    return loc.grid.code if loc.grid else loc.code


def test_point_inside_a_grid_gives_grid_village_and_township(mapped):
    loc = locate_point(lon=119.65, lat=28.45)
    assert loc.inside and loc.code == "in_grid"
    answer = loc.as_dict()
    assert answer["grid"] == {"code": "331199101201-01", "name": "上溪村第1网格"}
    assert answer["village"] == {"code": "331199101201", "name": "上溪村"}
    assert answer["township"] == {"code": "331199101000", "name": "青石镇"}
    assert loc.grid_id == mapped.a1_01.pk
    assert code_at(119.75, 28.25) == "331199101001-01"
    assert code_at(119.85, 28.3) == "331199102201-01"


def test_outside_the_county_is_an_answer_not_an_error(mapped):
    loc = locate_point(lon=116.4, lat=39.9)
    assert not loc.inside and loc.code == "outside_jurisdiction" and loc.grid is None
    assert "不在" in loc.message
    assert loc.as_dict() == {"inside": False, "code": "outside_jurisdiction", "message": loc.message}


def test_inside_the_county_but_in_no_grid_names_the_village_from_its_shape(mapped):
    loc = locate_point(lon=119.95, lat=28.3)
    assert loc.inside and loc.code == "no_grid" and loc.grid is None
    assert loc.as_dict()["village"] == {"code": "331199102201", "name": "沙湾村"}
    assert loc.as_dict()["township"] == {"code": "331199102000", "name": "白沙镇"}


def test_edges_shared_edges_and_the_county_boundary(mapped):
    # On the edge shared by a1-01 and a1-02 both match; the lower code wins, every time.
    assert code_at(119.7, 28.42) == "331199101201-01"
    # A corner shared by three grids.
    assert code_at(119.7, 28.35) == "331199101001-01"
    # On the county's outer boundary counts as inside.
    assert code_at(119.6, 28.3) == "331199101001-01"
    # A hair outside it does not.
    assert code_at(119.6 - 1e-7, 28.3) == "outside_jurisdiction"


def test_gcj02_and_bd09_input_is_converted_first(mapped):
    # Near the a1-01/a1-02 edge: the raw GCJ-02 numbers lie ~450 m east, inside a1-02.
    lon, lat = 119.698, 28.42
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    assert code_at(g_lon, g_lat) == "331199101201-02"
    assert code_at(g_lon, g_lat, crs="gcj02") == "331199101201-01"
    assert code_at(b_lon, b_lat, crs="bd09") == "331199101201-01"


@pytest.mark.parametrize(
    ("lon", "lat"), [(float("nan"), 28.3), (119.7, float("inf")), (181.0, 28.3), (119.7, -91.0)]
)
def test_bad_numbers_raise_a_422_service_error(mapped, lon, lat):
    with pytest.raises(ServiceError) as err:
        locate_point(lon=lon, lat=lat)
    assert (err.value.code, err.value.status) == ("invalid_coordinates", 422)


def test_unknown_crs_is_refused(mapped):
    with pytest.raises(ServiceError) as err:
        locate_point(lon=119.7, lat=28.3, crs="epsg:4490")
    assert err.value.code == "invalid_crs"


def test_batch_agrees_with_single_lookups(mapped):
    rng = np.random.default_rng(5)
    lons = np.concatenate([rng.uniform(119.5, 120.1, 400), [119.7, 119.6, np.nan, 500.0]])
    lats = np.concatenate([rng.uniform(28.1, 28.6, 400), [28.42, 28.3, 28.3, 28.3]])
    batch = locate_points(lon=lons, lat=lats)
    assert len(batch) == len(lons)
    for lon, lat, loc in zip(lons[:402], lats[:402], batch[:402], strict=True):
        assert loc == locate_point(lon=float(lon), lat=float(lat))
    assert batch[-2].code == batch[-1].code == "outside_jurisdiction"
    codes = {loc.code for loc in batch}
    assert codes == {"in_grid", "no_grid", "outside_jurisdiction"}
    g_lon, g_lat = wgs84_to_gcj02(lons[:400], lats[:400])
    assert locate_points(lon=g_lon, lat=g_lat, crs="gcj02") == batch[:400]


def test_index_is_rebuilt_in_this_process_after_a_geometry_change(mapped):
    assert code_at(119.95, 28.3) == "no_grid"
    grid_update_geometry(actor=None, grid=mapped.b1_01, geometry=box(119.8, 28.2, 120.0, 28.5))
    assert code_at(119.95, 28.3) == "331199102201-01"


def test_another_process_sees_the_change_through_the_version_stamp(mapped):
    other = IndexCache()  # another process's cache, warmed before the change
    assert locate_point(lon=119.95, lat=28.3, cache=other).code == "no_grid"
    builds = other.builds
    assert locate_point(lon=119.95, lat=28.3, cache=other).code == "no_grid"
    assert other.builds == builds  # unchanged stamp: no rebuild
    grid_update_geometry(actor=None, grid=mapped.b1_01, geometry=box(119.8, 28.2, 120.0, 28.5))
    assert code_at(119.95, 28.3, cache=other) == "331199102201-01"
    assert other.builds == builds + 1
    other.clear()  # a freshly started process
    assert code_at(119.95, 28.3, cache=other) == "331199102201-01"
    assert other.builds == builds + 2


def test_a_rolled_back_change_does_not_stick_in_the_cache(mapped):
    assert code_at(119.95, 28.3) == "no_grid"
    with pytest.raises(RuntimeError), transaction.atomic():
        grid_update_geometry(actor=None, grid=mapped.b1_01, geometry=box(119.8, 28.2, 120.0, 28.5))
        assert code_at(119.95, 28.3) == "331199102201-01"  # this transaction sees its own change
        raise RuntimeError("abandon")
    # Same version number as before the change, but a different token: the cache rebuilds.
    assert code_at(119.95, 28.3) == "no_grid"
    assert default_cache.get().size == 4
