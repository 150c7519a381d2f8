import io

import numpy as np
import pytest
import shapely
from django.contrib.auth import get_user_model

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.core.services import region_create
from shanzhi.grid.demo import load_demo, township_inputs
from shanzhi.grid.generate import generate_layout
from shanzhi.grid.locate import locate_points
from shanzhi.grid.models import Grid, GridIndexVersion, GridWorker, RegionShape


@pytest.fixture
def tree(county):
    """The shared county plus a sub-district with three communities, so the seat is urban."""
    street = region_create(
        actor=None, code="331199001000", name="城关街道", parent=county.county, kind="街道"
    )
    for n in range(1, 4):
        region_create(actor=None, code=f"331199001{n:03d}", name=f"城中{n}社区", parent=street, kind="社区")
    region_create(actor=None, code="331199001201", name="城郊村", parent=street, kind="村")
    return county


def test_layout_tiles_the_county_without_gaps_or_overlaps(tree):
    layout = generate_layout(county_code="331199000000", townships=township_inputs(tree.county))
    county_area = layout.county.area
    assert set(layout.townships) == {"331199001000", "331199101000", "331199102000"}
    assert len(layout.villages) == 7
    for level in (
        list(layout.townships.values()),
        list(layout.villages.values()),
        [g.geometry for g in layout.grids],
    ):
        geoms = np.array(level, dtype=object)
        assert all(shapely.is_valid(geoms))
        assert shapely.union_all(geoms).area == pytest.approx(county_area, rel=1e-9)  # no gaps
        assert shapely.area(geoms).sum() == pytest.approx(county_area, rel=1e-9)  # hence no overlaps
    tree_ = shapely.STRtree([g.geometry for g in layout.grids])
    left, right = tree_.query([g.geometry for g in layout.grids], predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(
        shapely.intersection(tree_.geometries[left[pairs]], tree_.geometries[right[pairs]])
    )
    assert overlaps.max() < 1e-12 * county_area
    # every village is covered by its own grids
    for code, village in layout.villages.items():
        own = [g.geometry for g in layout.grids if g.village_code == code]
        assert len(own) >= 3
        assert shapely.union_all(own).area == pytest.approx(village.area, rel=1e-9)
    minx, miny, maxx, maxy = layout.county.bounds
    assert minx >= 119.60 and maxx <= 120.05 and miny >= 28.15 and maxy <= 28.55


def test_layout_is_deterministic_and_urban_parts_are_denser(tree):
    inputs = township_inputs(tree.county)
    one = generate_layout(county_code="331199000000", townships=inputs)
    two = generate_layout(county_code="331199000000", townships=inputs)
    assert [g.code for g in one.grids] == [g.code for g in two.grids]
    assert all(
        shapely.equals_exact(a.geometry, b.geometry, 0) for a, b in zip(one.grids, two.grids, strict=True)
    )
    seat = one.townships["331199001000"]
    assert seat.covers(shapely.Point(one.seat))
    assert seat.area < min(one.townships["331199101000"].area, one.townships["331199102000"].area)
    per_village = {code: sum(g.village_code == code for g in one.grids) for code in one.villages}
    assert min(per_village[f"331199001{n:03d}"] for n in (1, 2, 3)) >= 5  # communities: more grids
    assert max(per_village[c] for c in ("331199001201", "331199101201", "331199102201")) <= 5


def test_load_demo_imports_once_staffs_every_grid_and_is_idempotent(tree):
    gridworker = make_user(username="gridworker", region=tree.village_a1, roles=["gridworker"]).staff
    out = io.StringIO()
    load_demo(stdout=out)
    grids = Grid.objects.count()
    assert grids >= 3 * 7
    assert RegionShape.objects.count() == 1 + 3 + 7
    assert AuditEntry.objects.filter(action="grid.import").count() == 1
    assert not Grid.objects.filter(workers__isnull=True).exists()
    own = set(GridWorker.objects.filter(staff=gridworker).values_list("grid__village__code", flat=True))
    assert own == {"331199101201"}
    assert (
        Grid.objects.filter(village=tree.village_a1).count()
        == GridWorker.objects.filter(staff=gridworker).count()
    )
    extra = get_user_model().objects.filter(username__startswith="gw-")
    assert extra.count() == grids - Grid.objects.filter(village=tree.village_a1).count()
    assert not any(u.has_usable_password() for u in extra)
    # the map it made answers point lookups: every grid's label point finds that grid
    points = list(Grid.objects.values_list("centroid_lon", "centroid_lat", "code"))
    found = locate_points(lon=[p[0] for p in points], lat=[p[1] for p in points])
    assert [loc.as_dict()["grid"]["code"] for loc in found] == [p[2] for p in points]

    counts = (
        Grid.objects.count(),
        GridWorker.objects.count(),
        get_user_model().objects.count(),
        AuditEntry.objects.count(),
        GridIndexVersion.objects.get(pk=1).version,
    )
    load_demo(stdout=io.StringIO())
    assert counts == (
        Grid.objects.count(),
        GridWorker.objects.count(),
        get_user_model().objects.count(),
        AuditEntry.objects.count(),
        GridIndexVersion.objects.get(pk=1).version,
    )


def test_load_demo_without_a_county_does_nothing(db):
    out = io.StringIO()
    load_demo(stdout=out)
    assert Grid.objects.count() == 0 and "跳过" in out.getvalue()
