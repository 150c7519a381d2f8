import pytest

from shanzhi.conftest import PASSWORD, make_user
from shanzhi.core.models import Region


def test_login_page_is_chinese_and_login_works(client, user_a):
    page = client.get("/login/")
    assert page.status_code == 200
    assert "登录善治平台" in page.content.decode()
    resp = client.post("/login/", {"username": "t-town-a", "password": PASSWORD})
    assert resp.status_code == 302
    assert resp["Location"] == "/"
    home = client.get("/")
    assert "您好" in home.content.decode()


def test_wrong_password_shows_error_and_no_session(client, user_a):
    resp = client.post("/login/", {"username": "t-town-a", "password": "wrong-password"})
    assert resp.status_code == 200
    assert client.get("/").status_code == 302


def test_home_requires_login(client, county):
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp["Location"].startswith("/login/")


def test_org_tree_shows_only_own_subtree(client_a, county):
    html = client_a.get("/org/").content.decode()
    assert "青石镇" in html and "上溪村" in html
    assert "白沙镇" not in html and "沙湾村" not in html


@pytest.mark.parametrize(
    ("roles", "expected", "absent"),
    [
        (["admin"], ["后台管理", "审计日志", "组织架构"], []),
        (["gridworker"], ["我的网格"], ["审计日志", "后台管理"]),
        (["auditor"], ["审计日志"], ["后台管理"]),
        (["resident"], ["12345"], ["审计日志", "组织架构"]),
    ],
)
def test_home_leads_each_role_to_its_work(client, county, roles, expected, absent):
    user = make_user(username=f"u-{roles[0]}", region=county.village_a1, roles=roles)
    client.force_login(user)
    html = client.get("/").content.decode()
    for text in expected:
        assert text in html
    for text in absent:
        assert text not in html


def test_logout_is_post_only(client_a):
    assert client_a.get("/logout/").status_code == 405
    assert client_a.post("/logout/").status_code == 302
    assert client_a.get("/").status_code == 302


def test_region_count_in_summary(client_a):
    html = client_a.get("/").content.decode()
    assert Region.objects.count() == 6
    assert "管辖范围" in html
