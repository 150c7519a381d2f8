import json

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.core.errors import ServiceError
from shanzhi.grid.geometry import parse_geometry
from shanzhi.grid.models import Grid, GridIndexVersion
from shanzhi.grid.services import grid_create, grid_update_geometry
from shanzhi.grid.tests.mapped_setup import box

SQUARE = [[119.61, 28.21], [119.62, 28.21], [119.62, 28.22], [119.61, 28.22], [119.61, 28.21]]

BAD = [
    ("not json", "invalid_geojson"),
    (json.dumps({"type": "Polygon"}), "invalid_geojson"),
    ([1, 2, 3], "invalid_geojson"),
    ({"type": "Point", "coordinates": [119.6, 28.2]}, "invalid_geometry_type"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}, "invalid_geometry_type"),
    ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, "ring_not_closed"),
    (
        {"type": "Polygon", "coordinates": [[[119.61, 28.21], [119.62, 28.21], [119.61, 28.21]]]},
        "ring_too_short",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [[[119.61, 28.21], [119.62, 28.21], [119.61, 28.21], [119.61, 28.21]]],
        },
        "ring_too_short",
    ),
    # a bow tie: the ring crosses itself
    (
        {
            "type": "Polygon",
            "coordinates": [
                [[119.61, 28.21], [119.62, 28.22], [119.62, 28.21], [119.61, 28.22], [119.61, 28.21]]
            ],
        },
        "invalid_polygon",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [[[191.0, 28.21], [191.1, 28.21], [191.1, 28.22], [191.0, 28.21]]],
        },
        "coordinates_out_of_range",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [[[119.61, 98.0], [119.62, 98.0], [119.62, 98.1], [119.61, 98.0]]],
        },
        "coordinates_out_of_range",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [[["119.61", 28.21], [119.62, 28.21], [119.62, 28.22], ["119.61", 28.21]]],
        },
        "invalid_geojson",
    ),
    (
        {
            "type": "Polygon",
            "coordinates": [[[True, 28.21], [119.62, 28.21], [119.62, 28.22], [True, 28.21]]],
        },
        "invalid_geojson",
    ),
    (
        {"type": "Polygon", "coordinates": [[[119.61], [119.62, 28.21], [119.62, 28.22], [119.61]]]},
        "invalid_geojson",
    ),
    ({"type": "Polygon", "coordinates": []}, "invalid_geojson"),
    ({"type": "Polygon", "coordinates": "[[0,0]]"}, "invalid_geojson"),
    # two parts of a multipolygon that overlap
    (
        {
            "type": "MultiPolygon",
            "coordinates": [
                [SQUARE],
                [[[119.615, 28.215], [119.63, 28.215], [119.63, 28.23], [119.615, 28.23], [119.615, 28.215]]],
            ],
        },
        "invalid_polygon",
    ),
]


@pytest.mark.parametrize(("geometry", "code"), BAD)
def test_parse_refuses_bad_geojson_with_a_code_and_chinese_message(geometry, code):
    with pytest.raises(ServiceError) as err:
        parse_geometry(geometry)
    assert err.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)


def test_parse_accepts_json_text_and_normalises_winding():
    clockwise = {"type": "Polygon", "coordinates": [list(reversed(SQUARE))]}
    geom = parse_geometry(json.dumps(clockwise))
    assert geom.is_valid and geom.area > 0
    assert not geom.exterior.is_ccw  # as given; stored form is normalised below


@pytest.mark.parametrize(("geometry", "code"), BAD)
def test_grid_create_with_bad_geometry_changes_nothing(mapped, geometry, code):
    before = (Grid.objects.count(), AuditEntry.objects.count(), GridIndexVersion.objects.get(pk=1).version)
    with pytest.raises(ServiceError) as err:
        grid_create(
            actor=None,
            code="331199101201-09",
            name="新网格",
            village=mapped.county.village_a1,
            geometry=geometry,
        )
    assert err.value.code == code
    assert err.value.status == 422
    assert (
        Grid.objects.count(),
        AuditEntry.objects.count(),
        GridIndexVersion.objects.get(pk=1).version,
    ) == before


def test_overlap_and_outside_county_are_refused_and_change_nothing(mapped):
    village = mapped.county.village_a1
    before = (Grid.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ServiceError) as err:  # half inside grid a1-01
        grid_create(
            actor=None,
            code="331199101201-03",
            name="重叠",
            village=village,
            geometry=box(119.65, 28.40, 119.66, 28.41),
        )
    assert err.value.code == "grid_overlap"
    assert err.value.details[0]["grid"] == "331199101201-01"
    assert "331199101201-01" in err.value.message
    with pytest.raises(ServiceError) as err:  # wholly outside the county box
        grid_create(
            actor=None,
            code="331199101201-03",
            name="县外",
            village=village,
            geometry=box(118.0, 28.0, 118.1, 28.1),
        )
    assert err.value.code == "outside_county"
    with pytest.raises(ServiceError) as err:  # redraw a1-02 over a2-01
        grid_update_geometry(actor=None, grid=mapped.a1_02, geometry=box(119.7, 28.30, 119.8, 28.5))
    assert err.value.code == "grid_overlap"
    assert (Grid.objects.count(), AuditEntry.objects.count()) == before
    mapped.a1_02.refresh_from_db()
    assert mapped.a1_02.min_lat == pytest.approx(28.35)


def test_grid_create_audits_and_stores_normalised_geojson(mapped):
    before = AuditEntry.objects.count()
    # The 119.9–120.0 strip of the county has no grid yet; a clockwise ring is accepted and re-wound.
    ring = [[119.9, 28.2], [119.9, 28.5], [120.0, 28.5], [120.0, 28.2], [119.9, 28.2]]
    grid = grid_create(
        actor=None,
        code="331199102201-02",
        name="沙湾村第2网格",
        village=mapped.county.village_b1,
        geometry={"type": "Polygon", "coordinates": [ring]},
    )
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-index")[0]
    assert (entry.action, entry.object_id) == ("grid.create", str(grid.pk))
    assert grid.geometry["type"] == "Polygon"
    stored = parse_geometry(grid.geometry)
    assert stored.exterior.is_ccw
    assert grid.area_m2 == pytest.approx(0.1 * 0.3 * 111_195**2 * 0.8801, rel=0.01)
    assert 119.9 < grid.centroid_lon < 120.0


def test_code_village_and_rights_are_checked(mapped, user_a, user_b, admin_user):
    c = mapped.county
    geometry = box(119.9, 28.2, 120.0, 28.3)
    with pytest.raises(ServiceError) as err:
        grid_create(actor=None, code="331199101201-05", name="x", village=c.village_b1, geometry=geometry)
    assert err.value.code == "invalid_grid_code"
    with pytest.raises(ServiceError) as err:
        grid_create(actor=None, code="331199102000-01", name="x", village=c.town_b, geometry=geometry)
    assert err.value.code == "invalid_village"
    with pytest.raises(ServiceError) as err:
        grid_create(actor=None, code="331199102201-01", name="x", village=c.village_b1, geometry=geometry)
    assert err.value.code == "duplicate_code"
    with pytest.raises(ServiceError) as err:  # a township leader may staff grids but not draw them
        grid_create(actor=user_b, code="331199102201-02", name="x", village=c.village_b1, geometry=geometry)
    assert err.value.code == "forbidden"
    town_a_admin = make_user(username="t-admin-a", region=c.town_a, roles=["admin"])
    with pytest.raises(ServiceError) as err:  # another township's village is simply not there
        grid_create(
            actor=town_a_admin, code="331199102201-02", name="x", village=c.village_b1, geometry=geometry
        )
    assert err.value.code == "not_found"
    grid = grid_create(
        actor=admin_user,
        code="331199102201-02",
        name="沙湾村第2网格",
        village=c.village_b1,
        geometry=geometry,
    )
    assert AuditEntry.objects.filter(action="grid.create", object_id=str(grid.pk), actor="t-admin").exists()
