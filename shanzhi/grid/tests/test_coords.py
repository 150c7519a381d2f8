import numpy as np
import pytest

from shanzhi.grid.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    distance_m,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)


def test_forward_formulas_match_published_reference_values():
    # Values widely used to check implementations of the public formulas (Beijing, Tiananmen area).
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-12)
    # The one-step BD-09 inverse is only ~cm accurate; ours is refined, so compare at 1e-6°.
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-6)


def test_offset_in_the_demo_county_is_a_few_hundred_metres():
    lon, lat = 119.82, 28.35
    g = wgs84_to_gcj02(lon, lat)
    b = wgs84_to_bd09(lon, lat)
    assert 200 < distance_m(lon, lat, *g) < 800
    assert 800 < distance_m(lon, lat, *b) < 2000


@pytest.mark.parametrize("lon", [75.0, 98.5, 105.0, 113.26, 119.82, 121.47, 134.0])
@pytest.mark.parametrize("lat", [3.0, 18.2, 22.5, 28.35, 31.23, 39.9, 53.0])
def test_round_trips_are_below_one_metre(lon, lat):
    assert distance_m(lon, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))) < 1.0
    assert distance_m(lon, lat, *wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))) < 1.0
    assert distance_m(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat))) < 1.0
    assert distance_m(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))) < 1.0
    # in fact well under a millimetre
    assert distance_m(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))) < 1e-3


def test_vectorised_matches_scalar_and_outside_china_is_unchanged():
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(100, 125, 500), rng.uniform(20, 45, 500)
    g_lon, g_lat = wgs84_to_gcj02(lons, lats)
    assert g_lon[7] == pytest.approx(wgs84_to_gcj02(float(lons[7]), float(lats[7]))[0], abs=1e-12)
    back_lon, back_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert np.max(np.abs(back_lon - lons)) < 1e-8 and np.max(np.abs(back_lat - lats)) < 1e-8
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris: no offset outside China
    assert to_wgs84(2.35, 48.85, crs="bd09") != (2.35, 48.85)  # BD-09's own shift still applies
    with pytest.raises(ValueError):
        to_wgs84(1.0, 2.0, crs="epsg:3857")
