"""The closed-loop pages: who may open which, jurisdiction as 404, the public lookup, photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shanzhi.audit.models import AuditEntry
from shanzhi.cases import services as svc
from shanzhi.cases.models import Case, CaseStatus
from shanzhi.conftest import make_user


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def received(loop, *, text="小区门口占道经营,流动摊贩很多", category="0102", route=None, **kw):
    """A case received in village A1, with triage's proposal as intake records it."""
    data = {"category": category, "top3": [{"category": category, "name": "x", "confidence": 0.62}]}
    if route is not None:
        data.update(handler=route[0], co_handlers=list(route[1:]), unresolved=[])
    place = svc.Place(region=loop.county.village_a1, township=loop.county.town_a, lon=119.8, lat=28.3)
    return svc.case_intake(
        actor=kw.pop("actor", None),
        channel=kw.pop("channel", "hotline"),
        text=text,
        place=place,
        suggestion=svc.Suggestion(category=loop.category(category), confidence=0.62, data=data),
        **kw,
    )


def dispatched(loop, case=None):
    case = case or received(loop, reporter_phone="13812345678")
    case = svc.case_register(actor=loop.dispatcher, case=case)
    return svc.case_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.dept)


def reported(loop, case=None):
    case = dispatched(loop, case)
    primary = case.assignments.get(role="primary")
    svc.assignment_accept(actor=loop.urban_handler, assignment=primary)
    svc.assignment_report(actor=loop.urban_handler, assignment=primary, text="已清理占道摊点")
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def operator(loop):
    return make_user(username="p-operator", region=loop.county.county, roles=["operator"])


@pytest.fixture
def as_(client):
    def login(user):
        client.logout()
        client.force_login(user)
        return client

    return login


PAGES = [
    ("/cases/intake/", "operator", "来电登记"),
    ("/cases/queue/", "dispatcher", "调度台"),
    ("/cases/queue/table/", "dispatcher", "待处理"),
    ("/cases/inbox/", "urban_handler", "待办"),
    ("/cases/verify/", "gridworker", "待核查"),
    ("/cases/report/", "resident", "我要反映"),
    ("/cases/mine/", "resident", "我的诉求"),
    ("/cases/", "supervisor", "案卷查询"),
]


@pytest.mark.parametrize(("url", "who", "text"), PAGES)
def test_each_page_renders_for_its_role_and_sends_strangers_to_login(loop, operator, client, url, who, text):
    assert client.get(url).status_code == 302
    assert client.get(url)["Location"].startswith("/login/?next=")
    user = operator if who == "operator" else getattr(loop, who)
    client.force_login(user)
    resp = client.get(url)
    assert resp.status_code == 200
    assert text in resp.content.decode()


@pytest.mark.parametrize(
    ("url", "who"),
    [
        ("/cases/intake/", "resident"),
        ("/cases/queue/", "urban_handler"),
        ("/cases/inbox/", "resident"),
        ("/cases/report/", "dispatcher"),
        ("/cases/", "resident"),
    ],
)
def test_a_page_of_another_role_is_refused(loop, client, url, who):
    client.force_login(getattr(loop, who))
    resp = client.get(url)
    assert resp.status_code == 403
    assert "不对您的角色开放" in resp.content.decode()


def test_live_refresh_after_logout_redirects_the_whole_page(loop, client):
    resp = client.get("/cases/queue/table/", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and resp["HX-Redirect"].startswith("/login/")


def test_nav_and_home_lead_each_role_to_its_pages(loop, operator, as_):
    expected = {
        operator: ["来电登记", "/cases/intake/"],
        loop.dispatcher: ["调度台", "/cases/queue/", "案卷查询"],
        loop.urban_handler: ["待办", "/cases/inbox/"],
        loop.gridworker: ["待核查", "/cases/verify/"],
        loop.resident: ["我要反映", "我的诉求", "12345"],
        loop.supervisor: ["案卷查询", "/cases/"],
    }
    for user, texts in expected.items():
        html = as_(user).get("/").content.decode()
        for text in texts:
            assert text in html, (user, text)
    assert "调度台" not in as_(loop.resident).get("/").content.decode()


def test_case_page_shows_text_clock_timeline_and_masks_phone(loop, as_):
    case = dispatched(loop)
    html = as_(loop.dispatcher).get(f"/cases/{case.number}/").content.decode()
    assert "小区门口占道经营" in html and "13812345678" in html  # the dispatcher calls back
    assert "县城管局" in html and "剩余" in html and "派遣" in html
    html = as_(loop.supervisor).get(f"/cases/{case.number}/").content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert "可办理的操作" in html and "当前没有需要您办理的操作" in html


def test_another_townships_case_is_a_404_page_and_its_actions_change_nothing(loop, as_):
    case = dispatched(loop)
    assignment = case.assignments.get()
    stranger = make_user(
        username="p-town-b", region=loop.county.town_b, roles=["dispatcher", "handler", "gridworker"]
    )
    c = as_(stranger)
    before = AuditEntry.objects.count()
    resp = c.get(f"/cases/{case.number}/")
    assert resp.status_code == 404 and "不在您的管辖范围内" in resp.content.decode()
    assert c.get(f"/cases/queue/{case.number}/panel/").status_code == 404
    for action, data in [
        ("register", {}),
        ("refuse", {"reason": "x"}),
        ("dispatch", {"primary": "urban_mgmt"}),
        ("verify", {"passed": "1"}),
        ("merge", {"into": case.number}),
    ]:
        assert c.post(f"/cases/{case.number}/do/{action}/", data).status_code == 404
    for action in ["accept", "return", "report", "resume"]:
        resp = c.post(f"/cases/assignments/{assignment.pk}/{action}/", {"reason": "x", "text": "x"})
        assert resp.status_code == 404
    assert case.number not in c.get("/cases/queue/").content.decode()
    assert AuditEntry.objects.count() == before
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED


def test_unknown_action_and_unknown_case_are_404(loop, as_):
    case = received(loop)
    c = as_(loop.dispatcher)
    assert c.post(f"/cases/{case.number}/do/explode/").status_code == 404
    assert c.get("/cases/SZ000/").status_code == 404


def test_photos_are_served_only_to_those_who_see_the_case(loop, as_):
    from shanzhi.cases.uploads import check_photos

    case = received(loop, photos=check_photos(files=[("a.png", png_bytes())]))
    attachment = case.attachments.get()
    url = f"/cases/{case.number}/photos/{attachment.pk}/"
    resp = as_(loop.dispatcher).get(url)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    assert b"".join(resp.streaming_content) == png_bytes()
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert url in as_(loop.dispatcher).get(f"/cases/{case.number}/").content.decode()
    stranger = make_user(username="p-b", region=loop.county.town_b, roles=["dispatcher"])
    assert as_(stranger).get(url).status_code == 404
    assert as_(loop.dispatcher).get(f"/cases/{case.number}/photos/{attachment.pk + 99}/").status_code == 404
    anonymous = as_(loop.dispatcher)
    anonymous.logout()
    assert anonymous.get(url).status_code == 302


def test_public_lookup_right_and_wrong_pairs_look_alike_when_wrong(loop, client):
    case = dispatched(loop)
    page = client.get("/cases/lookup/")
    assert page.status_code == 200 and "诉求进度查询" in page.content.decode()
    resp = client.post("/cases/lookup/", {"number": case.number.lower(), "phone": "138 1234 5678"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "已派遣" in html and "县城管局" in html and "派遣" in html
    assert "13812345678" not in html and "l-dispatcher" not in html  # no personal data, no staff names
    wrong_phone = client.post("/cases/lookup/", {"number": case.number, "phone": "13900000000"})
    no_case = client.post("/cases/lookup/", {"number": "SZ2099010100001", "phone": "13812345678"})
    assert wrong_phone.status_code == no_case.status_code == 404
    message = "未找到该编号与手机号对应的诉求"
    assert message in wrong_phone.content.decode() and message in no_case.content.decode()
    assert case.get_status_display() not in wrong_phone.content.decode()
    both_needed = client.post("/cases/lookup/", {"number": case.number, "phone": ""})
    assert both_needed.status_code == 400 and "请填写反映问题时留下的手机号" in both_needed.content.decode()


def test_case_list_filters_and_searches_within_jurisdiction(loop, as_):
    mine = received(loop, text="路灯不亮,晚上很黑", category="0102")
    other = received(loop, text="垃圾桶满了", category="0101")
    c = as_(loop.supervisor)
    html = c.get("/cases/", {"q": "路灯"}).content.decode()
    assert mine.number in html and other.number not in html
    html = c.get("/cases/", {"category": "0101"}).content.decode()
    assert other.number in html and mine.number not in html
    html = c.get("/cases/", {"status": "dispatched"}).content.decode()
    assert mine.number not in html and "没有符合条件的案卷" in html
    html = c.get("/cases/", {"q": mine.number}).content.decode()
    assert mine.number in html
    stranger = make_user(username="p-lead-b", region=loop.county.town_b, roles=["leader"])
    assert mine.number not in as_(stranger).get("/cases/").content.decode()


def test_case_page_draws_its_grid_and_point(loop, as_):
    from shanzhi.grid.services import grid_create

    square = [[119.79, 28.29], [119.81, 28.29], [119.81, 28.31], [119.79, 28.31], [119.79, 28.29]]
    grid = grid_create(
        actor=None,
        code="331199101201-01",
        name="上溪村第1网格",
        village=loop.county.village_a1,
        geometry={"type": "Polygon", "coordinates": [square]},
    )
    place = svc.Place(
        region=loop.county.village_a1, township=loop.county.town_a, grid=grid, lon=119.8, lat=28.3
    )
    case = svc.case_intake(
        actor=None, channel="grid", text="井盖缺失", place=place, suggestion=svc.Suggestion()
    )
    html = as_(loop.gridworker).get(f"/cases/{case.number}/").content.decode()
    config = html.split('<script id="case-map-config" type="application/json">')[1].split("</script>")[0]
    assert '"code": "331199101201-01"' in config and "[119.8, 28.3]" in config and "119.81" in config
    assert "vendor/echarts.min.js" in html and "cases/case_map.js" in html
    plain = received(loop)  # no grid: no map, no ECharts download
    assert "echarts" not in as_(loop.gridworker).get(f"/cases/{plain.number}/").content.decode()


def test_strangers_are_sent_to_login_from_case_pages_and_actions(loop, client):
    case = dispatched(loop)
    assignment = case.assignments.get()
    for url in [f"/cases/{case.number}/", f"/cases/queue/{case.number}/panel/"]:
        assert client.get(url)["Location"].startswith("/login/?next=")
    assert client.post(f"/cases/{case.number}/do/refuse/", {"reason": "x"}).status_code == 302
    assert client.post(f"/cases/assignments/{assignment.pk}/accept/").status_code == 302
    assert client.post("/cases/queue/bulk-dispatch/", {"numbers": [case.number]}).status_code == 302
    case.refresh_from_db()
    assignment.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED and assignment.status == "pending"
