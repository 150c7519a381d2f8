"""Household API and area resolve: jurisdiction (404), masking, bad input changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from shanzhi.audit.models import AuditEntry
from shanzhi.grid.models import Household
from shanzhi.grid.tests.households_setup import Homes, People
from shanzhi.grid.tests.mapped_setup import Mapped

pytestmark = pytest.mark.django_db
BASE = "/api/v1/grid"


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _post(c: Client, url: str, body: Any) -> Any:
    return c.post(
        url, data=json.dumps(body) if not isinstance(body, str) else body, content_type="application/json"
    )


def _snapshot() -> tuple[int, int]:
    return Household.objects.count(), AuditEntry.objects.count()


def test_list_and_get_respect_jurisdiction_and_masking(people: People, homes: Homes) -> None:
    own = _client(people.gw_a1_01).get(f"{BASE}/households").json()
    assert own["count"] == 2 and {i["phone"] for i in own["items"]} == {"13812345678", ""}
    lead = _client(people.town_a_leader).get(f"{BASE}/households", {"care": "any"}).json()
    assert [i["code"] for i in lead["items"]] == [homes.a1_01_care.code]
    got = _client(people.town_a_leader).get(f"{BASE}/households/{homes.a1_01.code}")
    assert got.status_code == 200 and got.json()["phone"] == "138****5678"
    other = _client(people.town_b_leader).get(f"{BASE}/households/{homes.a1_01.code}")
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert _client(people.town_a_handler).get(f"{BASE}/households").json()["count"] == 0
    bad = _client(people.town_a_leader).get(f"{BASE}/households", {"care": "rich"})
    assert bad.status_code == 422
    assert Client().get(f"{BASE}/households").status_code == 401


def test_create_update_deactivate(mapped: Mapped, people: People) -> None:
    c = _client(people.gw_a1_01)
    created = _post(
        c,
        f"{BASE}/households",
        {
            "address": "上溪村 9 号",
            "head_name": "孙丽",
            "lon": 119.64,
            "lat": 28.41,
            "phone": "13511112222",
            "care": {"left_behind_children": True},
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (
        body["grid"] == mapped.a1_01.code and body["phone"] == "13511112222" and body["care"] == ["留守儿童"]
    )
    code = body["code"]
    patched = c.patch(
        f"{BASE}/households/{code}", data=json.dumps({"members": 5}), content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["members"] == 5
    gone = _post(c, f"{BASE}/households/{code}/deactivate", {"reason": "迁出"})
    assert gone.status_code == 200 and gone.json()["active"] is False
    again = _post(c, f"{BASE}/households/{code}/deactivate", {})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ({"address": "a", "head_name": "b", "lon": "east", "lat": 28.4}, 422, "invalid_input"),
        ({"address": "a", "head_name": "b", "lon": 119.64, "lat": 128.4}, 422, "invalid_input"),
        (
            {"address": "a", "head_name": "b", "lon": 119.64, "lat": 28.41, "phone": "110"},
            422,
            "invalid_mobile",
        ),
        ({"address": "a", "head_name": "b", "lon": 116.4, "lat": 39.9}, 422, "point_outside_county"),
        (
            {"address": "a", "head_name": "b", "lon": 119.75, "lat": 28.45, "grid": "331199101201-01"},
            422,
            "point_outside_grid",
        ),
        ({"address": "a", "head_name": "b", "lon": 119.85, "lat": 28.30}, 404, "not_found"),  # township B
    ],
)
def test_create_bad_input_changes_nothing(people: People, body: Any, status: int, code: str) -> None:
    before = _snapshot()
    r = _post(_client(people.gw_a1_01), f"{BASE}/households", body)
    assert r.status_code == status, r.json()
    assert r.json()["code"] == code and r.json()["message"]
    assert _snapshot() == before


def test_update_in_other_township_is_404(people: People, homes: Homes) -> None:
    before = _snapshot()
    r = _client(people.town_b_leader).patch(
        f"{BASE}/households/{homes.a1_01.code}",
        data=json.dumps({"members": 2}),
        content_type="application/json",
    )
    assert r.status_code == 404
    assert _snapshot() == before


def test_resolve(mapped: Mapped, people: People, homes: Homes) -> None:
    c = _client(people.town_a_leader)
    square = {
        "type": "Polygon",
        "coordinates": [[[119.6, 28.2], [120.0, 28.2], [120.0, 28.5], [119.6, 28.5], [119.6, 28.2]]],
    }
    r = _post(c, f"{BASE}/areas/resolve", {"geojson": square})
    assert r.status_code == 200, r.json()
    body = r.json()
    # The whole county, but township A's leader reaches only township A.
    assert body["grids"] == 3 and body["households"] == 3
    assert body["grid_codes"] == sorted([mapped.a1_01.code, mapped.a1_02.code, mapped.a2_01.code])
    assert homes.b1_01.pk not in body["household_ids"]
    r = _post(
        c,
        f"{BASE}/areas/resolve",
        {"circles": [{"lon": 119.75, "lat": 28.45, "radius_m": 100}], "ids": False},
    )
    assert r.json() == {
        "grids": 1,
        "households": 1,
        "grid_ids": None,
        "grid_codes": None,
        "household_ids": None,
    }
    r = _post(c, f"{BASE}/areas/resolve", {"region_codes": [mapped.county.village_a1.code]})
    assert r.json()["households"] == 3
    r = _post(_client(people.county_admin), f"{BASE}/areas/resolve", {"grid_codes": [mapped.b1_01.code]})
    assert r.json()["households"] == 1


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        (
            {"geojson": {"type": "Polygon", "coordinates": [[[119.6, 28.3], [119.7, 28.3], [119.6, 28.3]]]}},
            "area_invalid",
            "4 个坐标点",
        ),
        (
            {
                "geojson": {
                    "type": "Polygon",
                    "coordinates": [[[119.6, 28.3], [119.7, 28.3], [119.7, 28.4], [119.6, 28.4]]],
                }
            },
            "area_invalid",
            "闭合",
        ),
        ({"circles": [{"lon": 119.7, "lat": 28.3, "radius_m": -1}]}, "area_invalid", "大于 0"),
        ({"geojson": {"type": "Point", "coordinates": [119.7, 28.3]}}, "area_invalid", "不支持"),
        ({"region_codes": ["331199999999"]}, "area_invalid", "未知"),
        ({}, "area_invalid", "区域为空"),
        (
            {
                "geojson": {
                    "type": "Polygon",
                    "coordinates": [[[116.0, 39.8], [116.1, 39.8], [116.1, 39.9], [116.0, 39.8]]],
                }
            },
            "area_outside_county",
            "不在本县",
        ),
        ({"circles": [{"lon": 119.7, "lat": 28.3, "radius_m": "far"}]}, "invalid_input", "格式"),
    ],
)
def test_resolve_refuses(people: People, body: Any, code: str, fragment: str) -> None:
    r = _post(_client(people.town_a_leader), f"{BASE}/areas/resolve", body)
    assert r.status_code == 422
    assert r.json()["code"] == code and fragment in r.json()["message"]


def test_resolve_needs_a_supervising_role(people: People) -> None:
    r = _post(_client(people.gw_a1_01), f"{BASE}/areas/resolve", {"region_codes": ["331199101201"]})
    assert r.status_code == 403
