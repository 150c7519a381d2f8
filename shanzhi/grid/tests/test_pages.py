from shanzhi.conftest import make_user
from shanzhi.grid.services import grid_worker_assign


def test_map_page_renders_for_a_leader(client_a, mapped):
    resp = client_a.get("/grids/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "网格地图" in html
    assert "vendor/echarts.min.js" in html and "grid/map.js" in html
    assert 'id="grid-map-config"' in html and "/api/v1/grids" in html
    assert "青石镇" in html and "上溪村第1网格" in html  # legend and the accessible list
    assert "白沙镇" not in html and "沙湾村" not in html
    assert '<label for="locate-lon">' in html and '<label for="locate-lat">' in html


def test_map_page_redirects_anonymous_users_to_login(client, county):
    resp = client.get("/grids/")
    assert resp.status_code == 302
    assert resp["Location"].startswith("/login/")


def test_map_page_is_for_staff_not_residents(client, county):
    client.force_login(make_user(username="t-resident", region=county.village_a1, roles=["resident"]))
    assert client.get("/grids/").status_code == 403


def test_locate_form_works_without_javascript(client_a, mapped):
    html = client_a.get("/grids/", {"lon": "119.65", "lat": "28.45", "crs": "wgs84"}).content.decode()
    assert "上溪村第1网格" in html and "/grids/331199101201-01/" in html
    html = client_a.get("/grids/", {"lon": "119.85", "lat": "28.3"}).content.decode()
    assert "不在您的管辖范围内" in html
    html = client_a.get("/grids/", {"lon": "东经", "lat": "28.3"}).content.decode()
    assert "请输入数字" in html


def test_detail_page_lists_workers_and_hides_other_townships(client_a, mapped):
    c = mapped.county
    worker = make_user(username="gw-a1", region=c.village_a1, roles=["gridworker"]).staff
    worker.name = "李强"
    worker.save()
    grid_worker_assign(actor=None, grid=mapped.a1_01, staff=worker, is_leader=True)
    html = client_a.get("/grids/331199101201-01/").content.decode()
    assert "上溪村第1网格" in html and "李强" in html and "网格长" in html
    assert client_a.get("/grids/331199102201-01/").status_code == 404


def test_grid_worker_sees_own_village_map(client, mapped):
    worker = make_user(username="gw-a1", region=mapped.county.village_a1, roles=["gridworker"])
    client.force_login(worker)
    html = client.get("/grids/").content.decode()
    assert "上溪村第1网格" in html and "青石社区第1网格" not in html


def test_back_office_shows_grids_read_only(client, mapped, admin_user):
    client.force_login(admin_user)
    resp = client.get("/admin/grid/grid/")
    assert resp.status_code == 200 and "331199101201-01" in resp.content.decode()
    assert client.get("/admin/grid/grid/add/").status_code == 403


def test_map_role_check_refuses_the_kiosk_itself(rf, county):
    """The kiosk middleware already keeps a terminal off /grids/; the page's own role check must
    refuse it too, so the map does not depend on the middleware's list alone."""
    import pytest
    from django.core.exceptions import PermissionDenied

    from shanzhi.grid.views import _require_map_role

    request = rf.get("/grids/")
    request.user = make_user(username="t-kiosk", region=county.county, roles=["kiosk"])
    with pytest.raises(PermissionDenied):
        _require_map_role(request)
    request.user = make_user(username="t-clerk", region=county.county, roles=["clerk"])
    _require_map_role(request)
