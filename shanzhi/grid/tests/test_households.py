"""Household services and selectors: rights, validation, jurisdiction, masking, audit."""

from __future__ import annotations

from typing import Any

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.grid import household_selectors as hs
from shanzhi.grid.households import (
    HouseholdInput,
    household_create,
    household_deactivate,
    household_update,
)
from shanzhi.grid.models import Household
from shanzhi.grid.tests.households_setup import Homes, People
from shanzhi.grid.tests.mapped_setup import Mapped

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[list[dict[str, Any]], int]:
    return [dict(row) for row in Household.objects.order_by("pk").values()], AuditEntry.objects.count()


# --- create -----------------------------------------------------------------------------------


def test_gridworker_creates_in_own_grid_with_grid_from_point(mapped: Mapped, people: People) -> None:
    h = household_create(
        actor=people.gw_a1_01,
        data=HouseholdInput(
            address="上溪村 5 号", head_name="赵敏", lon=119.62, lat=28.42, phone="+86 139 0000 1111"
        ),
    )
    assert h.grid == mapped.a1_01 and h.village == mapped.county.village_a1
    assert h.code == f"{mapped.a1_01.code}-0001"
    assert h.phone == "13900001111" and not h.no_phone
    entry = AuditEntry.objects.get(action="grid.household.create", object_id=str(h.pk))
    assert entry.actor == "gw-a1-01"
    second = household_create(
        actor=people.gw_a1_01,
        data=HouseholdInput(address="上溪村 6 号", head_name="赵刚", lon=119.63, lat=28.42),
    )
    assert second.code == f"{mapped.a1_01.code}-0002"
    assert second.no_phone  # no number → flagged for a visit instead of an SMS


def test_gcj02_point_is_converted(mapped: Mapped, people: People) -> None:
    from shanzhi.grid.coords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(119.65, 28.45)
    h = household_create(
        actor=people.gw_a1_01,
        data=HouseholdInput(address="x", head_name="y", lon=lon, lat=lat, crs="gcj02"),
    )
    assert abs(h.lon - 119.65) < 1e-7 and abs(h.lat - 28.45) < 1e-7


def test_superiors_create_below_them(mapped: Mapped, people: People) -> None:
    for actor in (people.village_a1_leader, people.town_a_leader, people.county_admin):
        h = household_create(
            actor=actor,
            data=HouseholdInput(
                address="a", head_name="b", lon=119.75, lat=28.40, grid_code=mapped.a1_02.code
            ),
        )
        assert h.grid == mapped.a1_02


@pytest.mark.parametrize(
    ("actor_name", "grid_attr", "lon", "lat", "code"),
    [
        ("gw_a1_02", "a1_01", 119.65, 28.45, "forbidden"),  # same village, sees nothing of a1-01 → 404
        ("town_b_leader", "a1_01", 119.65, 28.45, "not_found"),
        ("town_a_handler", "a1_01", 119.65, 28.45, "not_found"),
        ("gw_b1_01", "a1_01", 119.65, 28.45, "not_found"),
    ],
)
def test_create_refused_for_others(
    mapped: Mapped, people: People, actor_name: str, grid_attr: str, lon: float, lat: float, code: str
) -> None:
    before = _snapshot()
    with pytest.raises(ServiceError) as exc:
        household_create(
            actor=getattr(people, actor_name),
            data=HouseholdInput(
                address="a", head_name="b", lon=lon, lat=lat, grid_code=getattr(mapped, grid_attr).code
            ),
        )
    # A worker of the next grid does not see a1-01's households either: 404, not 403.
    assert exc.value.code == ("not_found" if code == "forbidden" else code)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("changes", "code", "fragment"),
    [
        ({"phone": "12345"}, "invalid_mobile", "11 位"),
        ({"phone": 13812345678}, "invalid_mobile", "11 位"),
        ({"lon": 116.4, "lat": 39.9}, "point_outside_county", "不在本县"),
        ({"lon": 119.95, "lat": 28.4}, "point_in_no_grid", "尚未划入"),
        ({"lon": 119.75, "lat": 28.45, "grid_code": "331199101201-01"}, "point_outside_grid", "不在网格"),
        ({"grid_code": "331199101201-99"}, "unknown_grid", "不存在"),
        ({"lon": float("nan")}, "invalid_coordinates", "有限"),
        ({"lon": "119.6"}, "invalid_coordinates", "有限"),
        ({"lat": 95.0}, "invalid_coordinates", "超出范围"),
        ({"crs": "utm"}, "invalid_crs", "坐标系"),
        ({"address": "  "}, "invalid_field", "地址不能为空"),
        ({"head_name": "x" * 65}, "invalid_field", "不能超过 64"),
        ({"address": "a\x00b"}, "invalid_field", "非法字符"),
        ({"members": 0}, "invalid_members", "人口数"),
        ({"members": "3"}, "invalid_members", "人口数"),
        ({"members": True}, "invalid_members", "人口数"),
        ({"care": {"rich": True}}, "invalid_care_flag", "未知"),
        ({"care": {"disabled": "yes"}}, "invalid_care_flag", "是/否"),
        ({"code": "含中文"}, "invalid_household_code", "户编号"),
    ],
)
def test_create_refuses_bad_input(mapped: Mapped, changes: dict[str, Any], code: str, fragment: str) -> None:
    fields: dict[str, Any] = {"address": "上溪村 1 号", "head_name": "王", "lon": 119.65, "lat": 28.45}
    fields.update(changes)
    before = _snapshot()
    with pytest.raises(ServiceError) as exc:
        household_create(actor=None, data=HouseholdInput(**fields))
    assert exc.value.code == code
    assert fragment in exc.value.message
    assert exc.value.status == 422
    assert _snapshot() == before


def test_duplicate_code_refused(mapped: Mapped, homes: Homes) -> None:
    before = _snapshot()
    with pytest.raises(ServiceError) as exc:
        household_create(
            actor=None,
            data=HouseholdInput(address="a", head_name="b", lon=119.65, lat=28.45, code=homes.a1_01.code),
        )
    assert exc.value.code == "duplicate_household_code"
    assert _snapshot() == before


def test_point_on_grid_edge_counts_for_either_grid(mapped: Mapped) -> None:
    for grid in (mapped.a1_01, mapped.a1_02):
        h = household_create(
            actor=None,
            data=HouseholdInput(address="a", head_name="b", lon=119.7, lat=28.4, grid_code=grid.code),
        )
        assert h.grid == grid


def test_inactive_grid_refused(mapped: Mapped) -> None:
    mapped.a1_02.active = False
    mapped.a1_02.save()
    with pytest.raises(ServiceError) as exc:
        household_create(
            actor=None,
            data=HouseholdInput(
                address="a", head_name="b", lon=119.75, lat=28.45, grid_code=mapped.a1_02.code
            ),
        )
    assert exc.value.code == "grid_inactive"


# --- update and deactivate --------------------------------------------------------------------


def test_update_fields_and_move_within_and_across_grids(mapped: Mapped, people: People, homes: Homes) -> None:
    h = household_update(
        actor=people.gw_a1_01,
        household=homes.a1_01,
        address="上溪村 2 号",
        members=4,
        care={"disabled": True},
    )
    assert (h.address, h.members, h.disabled) == ("上溪村 2 号", 4, True)
    assert h.phone == "13812345678"  # untouched when not given
    # The grid worker cannot move the household into the next grid (not theirs): 404.
    before = _snapshot()
    with pytest.raises(NotFound):
        household_update(actor=people.gw_a1_01, household=h, lon=119.75, lat=28.45)
    assert _snapshot() == before
    # The village leader can; the grid follows the point.
    moved = household_update(actor=people.village_a1_leader, household=h, lon=119.75, lat=28.45)
    assert moved.grid == mapped.a1_02
    assert AuditEntry.objects.filter(action="grid.household.update", object_id=str(h.pk)).count() == 2


def test_update_point_outside_named_grid_refused(mapped: Mapped, homes: Homes) -> None:
    before = _snapshot()
    with pytest.raises(ServiceError) as exc:
        household_update(actor=None, household=homes.a1_01, grid_code=mapped.a1_02.code)
    assert exc.value.code == "point_outside_grid"
    with pytest.raises(ServiceError) as exc:
        household_update(actor=None, household=homes.a1_01, phone="abc")
    assert exc.value.code == "invalid_mobile"
    assert _snapshot() == before


def test_clearing_the_phone_flags_no_phone(homes: Homes) -> None:
    h = household_update(actor=None, household=homes.a1_01, phone="")
    assert h.phone == "" and h.no_phone


def test_update_refused_across_townships(people: People, homes: Homes) -> None:
    before = _snapshot()
    for actor in (people.town_b_leader, people.town_a_handler, people.gw_a1_02):
        with pytest.raises(NotFound):
            household_update(actor=actor, household=homes.a1_01, address="x")
        with pytest.raises(NotFound):
            household_deactivate(actor=actor, household=homes.a1_01)
    assert _snapshot() == before


def test_deactivate(people: People, homes: Homes) -> None:
    h = household_deactivate(actor=people.gw_a1_01, household=homes.a1_01, reason="搬迁")
    assert not h.active and "搬迁" in h.note
    assert AuditEntry.objects.filter(action="grid.household.deactivate").count() == 1
    with pytest.raises(ServiceError) as exc:
        household_deactivate(actor=people.gw_a1_01, household=h)
    assert exc.value.code == "household_inactive"
    assert h.pk not in [x.pk for x in hs.household_list(user=people.gw_a1_01)]
    assert hs.household_get(user=people.gw_a1_01, code=h.code) == h


# --- selectors --------------------------------------------------------------------------------


def _codes(qs: Any) -> set[str]:
    return {h.code for h in qs}


def test_who_sees_which_households(people: People, homes: Homes) -> None:
    a1 = {homes.a1_01.code, homes.a1_01_care.code}
    everything = a1 | {homes.a1_02.code, homes.b1_01.code}
    assert _codes(hs.household_list(user=people.gw_a1_01)) == a1
    assert _codes(hs.household_list(user=people.gw_a1_02)) == {homes.a1_02.code}
    assert _codes(hs.household_list(user=people.village_a1_leader)) == a1 | {homes.a1_02.code}
    assert _codes(hs.household_list(user=people.town_a_leader)) == a1 | {homes.a1_02.code}
    assert _codes(hs.household_list(user=people.town_b_leader)) == {homes.b1_01.code}
    assert _codes(hs.household_list(user=people.county_admin)) == everything
    assert _codes(hs.household_list(user=people.town_a_handler)) == set()
    with pytest.raises(NotFound):
        hs.household_get(user=people.town_b_leader, code=homes.a1_01.code)
    with pytest.raises(NotFound):
        hs.household_get(user=people.gw_a1_02, code=homes.a1_01.code)
    with pytest.raises(NotFound):
        hs.household_get(user=people.town_a_leader, code="nope")


def test_filters(mapped: Mapped, people: People, homes: Homes) -> None:
    user = people.county_admin
    assert _codes(hs.household_list(user=user, grid_code=mapped.a1_02.code)) == {homes.a1_02.code}
    assert _codes(hs.household_list(user=user, village_code=mapped.county.town_b.code)) == {homes.b1_01.code}
    assert _codes(hs.household_list(user=user, care="elderly_alone")) == {homes.a1_01_care.code}
    assert _codes(hs.household_list(user=user, care="any")) == {homes.a1_01_care.code}
    assert _codes(hs.household_list(user=user, search="秀英")) == {homes.a1_01_care.code}
    with pytest.raises(ServiceError) as exc:
        hs.household_list(user=user, care="rich")
    assert exc.value.code == "invalid_care_flag"
    with pytest.raises(NotFound):
        hs.household_list(user=people.town_b_leader, village_code=mapped.county.village_a1.code)


def test_phone_whole_only_for_the_grids_own_workers(people: People, homes: Homes) -> None:
    own = hs.household_dict(user=people.gw_a1_01, household=homes.a1_01)
    assert own["phone"] == "13812345678" and not own["phone_masked"]
    for user in (people.village_a1_leader, people.town_a_leader, people.county_admin):
        seen = hs.household_dict(user=user, household=homes.a1_01)
        assert seen["phone"] == "138****5678" and seen["phone_masked"]
    assert hs.household_dict(user=people.county_admin, household=homes.a1_01_care)["care"] == [
        "独居老人",
        "无手机",
    ]
