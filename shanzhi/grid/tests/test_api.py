import pytest

from shanzhi.conftest import make_user
from shanzhi.grid.services import grid_worker_assign

A_GRIDS = {"331199101201-01", "331199101201-02", "331199101001-01"}


def test_list_is_a_feature_collection_of_own_jurisdiction(client_a, mapped):
    resp = client_a.get("/api/v1/grids")
    assert resp.status_code == 200
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in body["features"]} == A_GRIDS
    feature = next(f for f in body["features"] if f["id"] == "331199101201-01")
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    props = feature["properties"]
    assert props["name"] == "上溪村第1网格"
    assert (props["village"], props["village_code"]) == ("上溪村", "331199101201")
    assert (props["township"], props["township_code"]) == ("青石镇", "331199101000")
    assert props["workers"] == 0


def test_worker_count_and_village_filter(client_a, mapped):
    c = mapped.county
    worker = make_user(username="gw-test", region=c.village_a1, roles=["gridworker"]).staff
    grid_worker_assign(actor=None, grid=mapped.a1_01, staff=worker, is_leader=True)
    body = client_a.get("/api/v1/grids", {"village": "331199101201"}).json()
    counts = {f["id"]: f["properties"]["workers"] for f in body["features"]}
    assert counts == {"331199101201-01": 1, "331199101201-02": 0}
    assert client_a.get("/api/v1/grids", {"village": "331199102201"}).status_code == 404  # township B's
    assert client_a.get("/api/v1/grids", {"village": "331199101000"}).json()["code"] == "invalid_village"


def test_township_b_user_never_sees_township_a(client, mapped, user_b):
    client.force_login(user_b)
    codes = {f["id"] for f in client.get("/api/v1/grids").json()["features"]}
    assert codes == {"331199102201-01"}
    resp = client.get("/api/v1/grids/331199101201-01")
    assert resp.status_code == 404
    assert resp.json()["code"] == "not_found"


def test_county_admin_sees_every_grid(client, mapped, admin_user):
    client.force_login(admin_user)
    assert len(client.get("/api/v1/grids").json()["features"]) == 4


def test_detail_is_a_feature_with_workers_masked(client_a, mapped):
    c = mapped.county
    worker = make_user(username="gw-test", region=c.village_a1, roles=["gridworker"]).staff
    worker.phone = "13812345678"
    worker.save()
    grid_worker_assign(actor=None, grid=mapped.a1_01, staff=worker, is_leader=True)
    body = client_a.get("/api/v1/grids/331199101201-01").json()
    assert body["type"] == "Feature" and body["id"] == "331199101201-01"
    assert body["properties"]["worker_list"][0]["is_leader"] is True
    # user_a is a handler and leader: leaders see the number in full, others masked
    assert body["properties"]["worker_list"][0]["phone"] == "13812345678"
    handler_only = make_user(username="t-handler-a", region=c.town_a, roles=["handler"])
    client_a.force_login(handler_only)
    body = client_a.get("/api/v1/grids/331199101201-01").json()
    assert body["properties"]["worker_list"][0]["phone"] == "138****5678"


def test_locate_inside_outside_and_other_township(client_a, mapped):
    body = client_a.get("/api/v1/grids/locate", {"lon": "119.65", "lat": "28.45"}).json()
    assert body["inside"] is True
    assert body["grid"] == {"code": "331199101201-01", "name": "上溪村第1网格"}
    assert body["village"]["code"] == "331199101201" and body["township"]["code"] == "331199101000"
    far = client_a.get("/api/v1/grids/locate", {"lon": "116.4", "lat": "39.9"})
    assert far.status_code == 200
    assert far.json()["inside"] is False and far.json()["code"] == "outside_jurisdiction"
    # In the county, but in township B: outside this user's jurisdiction, and B's grid is not named.
    other = client_a.get("/api/v1/grids/locate", {"lon": "119.85", "lat": "28.3"}).json()
    assert other["inside"] is False and other["code"] == "outside_jurisdiction"
    assert "331199102201" not in str(other)


def test_locate_with_crs(client_a, mapped):
    from shanzhi.grid.coords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(119.698, 28.42)
    body = client_a.get("/api/v1/grids/locate", {"lon": lon, "lat": lat, "crs": "gcj02"}).json()
    assert body["grid"]["code"] == "331199101201-01"


@pytest.mark.parametrize(
    "params",
    [
        {"lon": "abc", "lat": "28.3"},
        {"lat": "28.3"},
        {"lon": "nan", "lat": "28.3"},
        {"lon": "inf", "lat": "28.3"},
        {"lon": "181", "lat": "28.3"},
        {"lon": "119.7", "lat": "-90.5"},
        {"lon": "119.7", "lat": "28.3", "crs": "epsg:3857"},
    ],
)
def test_locate_bad_input_is_422_json(client_a, mapped, params):
    resp = client_a.get("/api/v1/grids/locate", params)
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_input" and body["message"]


def test_api_requires_authentication(client, mapped):
    assert client.get("/api/v1/grids").status_code == 401
    assert client.get("/api/v1/grids/locate", {"lon": 119.7, "lat": 28.3}).json()["code"] == "unauthenticated"


def test_openapi_lists_the_grid_endpoints(client, county):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/grids", "/api/v1/grids/locate", "/api/v1/grids/{code}"} <= set(paths)
