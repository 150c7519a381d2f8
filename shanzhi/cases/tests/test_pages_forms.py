"""Every form of the closed-loop pages: its happy path, and its refusal with the message shown
beside the form, the values kept and nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shanzhi.audit.models import AuditEntry
from shanzhi.cases import services as svc
from shanzhi.cases.models import (
    Assignment,
    AssignmentStatus,
    Case,
    CaseStatus,
    HandlerRequest,
    RequestState,
)
from shanzhi.cases.tests.test_pages import dispatched, png_bytes, received, reported
from shanzhi.conftest import make_user
from shanzhi.triage.models import TriageSettings


def photo(name="a.png", content=None):
    return SimpleUploadedFile(name, png_bytes() if content is None else content, content_type="image/png")


@pytest.fixture
def operator(loop):
    return make_user(username="f-operator", region=loop.county.county, roles=["operator"])


@pytest.fixture
def as_(client):
    def login(user):
        client.logout()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def trained(db):
    """The triage model exists before the test counts audit entries (training the first is audited)."""
    from shanzhi.triage.services import triage_model_ensure

    triage_model_ensure()


@pytest.fixture
def no_auto_dispatch(db):
    TriageSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch_threshold": 1.0})


# --- hotline intake -------------------------------------------------------------------------------


def test_operator_registers_a_call_and_sees_its_number(loop, operator, as_, no_auto_dispatch):
    c = as_(operator)
    page = c.get("/cases/intake/").content.decode()
    assert 'name="idempotency_key"' in page and 'hx-post="/cases/intake/suggest/"' in page
    form = {
        "text": "上溪村村口的垃圾桶满了好几天没人清运",
        "address": "青石镇上溪村村口",
        "reporter_name": "李先生",
        "reporter_phone": "13812345678",
        "urgent": "1",
        "idempotency_key": "k-1",
    }
    resp = c.post("/cases/intake/", {**form, "photos": [photo()]})
    case = Case.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/cases/intake/?created={case.number}"
    assert case.channel == "hotline" and case.urgent and case.region == loop.county.village_a1
    assert case.reporter_phone == "13812345678" and case.attachments.count() == 1
    html = c.get(resp["Location"]).content.decode()
    assert f'href="/cases/{case.number}/"' in html and "已登记诉求" in html
    # a double click sends the same form with the same key: the first case, not a second one
    again = c.post("/cases/intake/", {**form, "photos": [photo()]})
    assert again["Location"] == resp["Location"] and Case.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"text": "   "}, "text-intake", "请填写诉求内容"),
        ({"text": "井盖丢了", "reporter_phone": "12345"}, "reporter_phone-intake", "手机号应为 11 位数字"),
        ({"text": "井盖丢了", "lon": "119.8"}, "lon-intake", "经度和纬度必须同时填写"),
        ({"text": "井盖丢了", "lon": "东经", "lat": "28"}, "lon-intake", "经度应为数字"),
        ({"text": "长" * 4001}, "text-intake", "不能超过 4000 字"),
    ],
)
def test_bad_intake_is_shown_inline_keeps_values_and_writes_nothing(
    loop, operator, as_, trained, data, field_id, message
):
    before = AuditEntry.objects.count()
    resp = as_(operator).post("/cases/intake/", {"address": "上溪村东头", **data})
    html = resp.content.decode()
    assert resp.status_code == 400
    assert 'role="alert"' in html and message in html
    assert f'id="{field_id}"' in html and f'aria-describedby="{field_id}-error"' in html
    assert 'value="上溪村东头"' in html  # what the operator typed is still there
    assert Case.objects.count() == 0 and AuditEntry.objects.count() == before


def test_a_fake_photo_is_refused_by_content(loop, operator, as_):
    resp = as_(operator).post(
        "/cases/intake/", {"text": "井盖丢了", "photos": [photo("x.png", b"hello, not an image")]}
    )
    html = resp.content.decode()
    assert resp.status_code == 400 and "第 1 张照片不是 JPEG、PNG 或 WebP 图片" in html
    assert "请重新选择" in html and "井盖丢了" in html
    assert Case.objects.count() == 0


def test_live_triage_fragment_suggests_category_place_and_handlers(loop, operator, as_):
    c = as_(operator)
    resp = c.post(
        "/cases/intake/suggest/",
        {"text": "村口的垃圾桶满了好几天没人清运,臭气熏天", "address": "青石镇上溪村", "lon": "119."},
        HTTP_HX_REQUEST="true",
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in html
    assert html.count("置信度") == 3 and "上溪村" in html and "青石镇" in html
    assert "主办" in html and "县城管局" in html
    assert "输入诉求内容后" in c.post("/cases/intake/suggest/", {"text": " "}).content.decode()
    too_long = c.post("/cases/intake/suggest/", {"text": "长" * 4001}).content.decode()
    assert "不能超过 4000 字" in too_long and 'role="alert"' in too_long
    assert Case.objects.count() == 0


# --- the dispatcher's queue -----------------------------------------------------------------------


def test_queue_puts_late_cases_first_and_shows_triage_and_duplicates(loop, as_):
    now = timezone.now()
    normal = received(loop, text="路边摊占道", received_at=now - dt.timedelta(hours=1), route=("urban_mgmt",))
    urgent = received(loop, text="流动摊贩堵路", urgent=True, received_at=now - dt.timedelta(minutes=40))
    c = as_(loop.dispatcher)
    html = c.get("/cases/queue/").content.decode()
    assert html.index(urgent.number) < html.index(normal.number)
    assert "超时待派" in html and "62%" in html and "县城管局" in html
    assert 'hx-trigger="every 15s [shanzhiQueueIdle()]"' in html
    assert urgent.possible_duplicate_of == normal and "疑似重复" in html
    table = c.get("/cases/queue/table/", {"q": "路边"}).content.decode()
    assert "<html" not in table and normal.number in table and urgent.number not in table


def test_queue_panel_is_prefilled_from_triage(loop, as_):
    case = received(loop, category="0103", route=("urban_mgmt", "township-331199101000"))
    html = as_(loop.dispatcher).get(f"/cases/queue/{case.number}/panel/?next=/cases/queue/").content.decode()
    assert 'class="panel-row"' in html and "立案并派遣" in html
    assert '<option value="urban_mgmt" selected>' in html
    assert 'value="township-331199101000" checked' in html
    assert '<option value="0103" selected>' in html and 'name="reason"' in html


def test_register_and_dispatch_from_the_queue(loop, as_):
    case = received(loop, route=("urban_mgmt",))
    c = as_(loop.dispatcher)
    resp = c.post(
        f"/cases/{case.number}/do/dispatch/",
        {
            "primary": "urban_mgmt",
            "co": ["police"],
            "category": "0102",
            "origin": "queue",
            "next": "/cases/queue/",
        },
    )
    assert resp.status_code == 302 and resp["Location"] == "/cases/queue/"
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED
    assert sorted(case.assignments.values_list("handler__code", flat=True)) == ["police", "urban_mgmt"]
    html = c.get("/cases/queue/").content.decode()
    assert "已派遣至 县城管局、县公安局" in html and case.number not in html.split("批量派遣所选案卷")[1]


def test_a_duty_list_refusal_changes_nothing_and_reopens_the_panel(loop, as_):
    case = received(loop, category="0103")
    before = AuditEntry.objects.count()
    resp = as_(loop.dispatcher).post(
        f"/cases/{case.number}/do/dispatch/",
        {
            "primary": "township-331199101000",
            "category": "0103",
            "note": "请镇里处理",
            "origin": "queue",
            "next": "/cases/queue/?q=%E5%B0%8F%E5%8C%BA",
        },
    )
    html = resp.content.decode()
    assert resp.status_code == 400
    assert 'class="panel-row"' in html and "清单" in html and 'role="alert"' in html
    assert 'value="请镇里处理"' in html and '<option value="township-331199101000" selected>' in html
    assert 'action="/cases/queue/"' in html and 'value="小区"' in html  # the filters still lead to the queue
    case.refresh_from_db()
    assert case.status == CaseStatus.RECEIVED  # 立案并派遣 is both steps or neither
    assert AuditEntry.objects.count() == before


def test_register_corrects_the_category(loop, as_):
    case = received(loop, category="0102")
    resp = as_(loop.dispatcher).post(
        f"/cases/{case.number}/do/register/", {"category": "0101", "urgent_shown": "1", "urgent": "1"}
    )
    assert resp.status_code == 302 and resp["Location"] == f"/cases/{case.number}/"
    case.refresh_from_db()
    assert case.status == CaseStatus.REGISTERED and case.category.code == "0101" and case.urgent


def test_refuse_needs_a_reason(loop, as_):
    case = received(loop)
    c = as_(loop.dispatcher)
    resp = c.post(f"/cases/{case.number}/do/refuse/", {"reason": "  "})
    assert resp.status_code == 400 and "不予立案必须说明理由" in resp.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.RECEIVED
    c.post(f"/cases/{case.number}/do/refuse/", {"reason": "属于司法程序,请走诉讼途径"})
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED and case.refuse_reason == "属于司法程序,请走诉讼途径"


def test_merge_into_the_suggested_duplicate(loop, as_):
    first = received(loop)
    second = received(loop, text="又有人在小区门口摆摊")
    assert second.possible_duplicate_of == first
    c = as_(loop.dispatcher)
    panel = c.get(f"/cases/queue/{second.number}/panel/").content.decode()
    assert f'value="{first.number}"' in panel
    bad = c.post(f"/cases/{second.number}/do/merge/", {"into": "SZ19990101"})
    assert bad.status_code == 400 and "不存在或不在您的管辖范围内" in bad.content.decode()
    c.post(f"/cases/{second.number}/do/merge/", {"into": first.number})
    second.refresh_from_db()
    assert second.status == CaseStatus.MERGED and second.merged_into == first


def test_bulk_dispatch_reports_each_case(loop, as_):
    ok = received(loop, route=("urban_mgmt",))
    duty = received(loop, text="邻居私搭乱建", category="0103", route=("urban_mgmt", "township-331199101000"))
    no_route = received(loop, text="物业不管事", category="0201")  # no housing bureau here
    c = as_(loop.dispatcher)
    resp = c.post(
        "/cases/queue/bulk-dispatch/",
        {"numbers": [ok.number, duty.number, no_route.number, "SZ00000000"], "next": "/cases/queue/"},
    )
    assert resp.status_code == 302
    html = c.get("/cases/queue/").content.decode()
    assert "成功 1 件,未派遣 3 件" in html
    result = html.split("批量派遣结果")[1].split("</section>")[0]
    assert "已派遣至 县城管局" in result
    assert "清单" in result  # the township's duty list refused it
    assert "无法自动确定主办单位" in result and "不存在或不在您的管辖范围内" in result
    statuses = dict(Case.objects.values_list("number", "status"))
    assert statuses[ok.number] == CaseStatus.DISPATCHED
    assert statuses[duty.number] == statuses[no_route.number] == CaseStatus.RECEIVED
    assert "批量派遣结果" not in c.get("/cases/queue/").content.decode()  # shown once
    nothing = c.post("/cases/queue/bulk-dispatch/", {})
    assert nothing.status_code == 302


def test_extension_request_is_decided_in_the_queue(loop, as_):
    case = dispatched(loop)
    assignment = case.assignments.get()
    h = as_(loop.urban_handler)
    no_hours = h.post(
        f"/cases/assignments/{assignment.pk}/request/", {"kind": "extension", "reason": "等材料"}
    )
    assert no_hours.status_code == 400 and "请填写需要延长的小时数" in no_hours.content.decode()
    assert not HandlerRequest.objects.exists()
    h.post(
        f"/cases/assignments/{assignment.pk}/request/",
        {"kind": "extension", "hours": "8", "reason": "等材料"},
    )
    request = HandlerRequest.objects.get()
    d = as_(loop.dispatcher)
    assert "等材料" in d.get("/cases/queue/").content.decode()
    undecided = d.post(f"/cases/requests/{request.pk}/decide/", {"origin": "queue", "next": "/cases/queue/"})
    assert undecided.status_code == 400 and "请选择批准或不批准" in undecided.content.decode()
    d.post(f"/cases/requests/{request.pk}/decide/", {"decision": "approve", "note": "同意"})
    request.refresh_from_db()
    assignment.refresh_from_db()
    assert request.state == RequestState.APPROVED and assignment.extension_hours == 8
    assert d.post(f"/cases/requests/{request.pk}/decide/", {"decision": "approve"}).status_code == 404


# --- the handler's inbox --------------------------------------------------------------------------


def test_inbox_shows_clocks_and_works_the_share(loop, as_):
    case = dispatched(loop)
    assignment = case.assignments.get()
    c = as_(loop.urban_handler)
    html = c.get("/cases/inbox/").content.decode()
    assert case.number in html and "剩余" in html and "签收" in html
    Assignment.objects.filter(pk=assignment.pk).update(deadline=timezone.now() - dt.timedelta(hours=3))
    html = c.get("/cases/inbox/").content.decode()
    assert "已超时" in html and "clock-overdue" in html
    resp = c.post(f"/cases/assignments/{assignment.pk}/accept/", {"origin": "inbox", "next": "/cases/inbox/"})
    assert resp.status_code == 302 and resp["Location"] == "/cases/inbox/"
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACCEPTED
    bad = c.post(
        f"/cases/assignments/{assignment.pk}/report/",
        {"text": "已清理", "origin": "inbox", "photos": [photo("x.jpg", b"\xff\xd8\xff" + b"x" * 40)]},
    )
    assert bad.status_code == 400 and "已损坏或无法识别" in bad.content.decode()
    assert "已清理" in bad.content.decode()  # the report text is kept
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACCEPTED
    c.post(f"/cases/assignments/{assignment.pk}/report/", {"text": "已清理占道摊点", "photos": [photo()]})
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFYING and case.attachments.filter(stage="report").count() == 1


def test_return_needs_a_reason(loop, as_):
    case = dispatched(loop)
    assignment = case.assignments.get()
    c = as_(loop.urban_handler)
    resp = c.post(f"/cases/assignments/{assignment.pk}/return/", {"reason": "", "origin": "inbox"})
    html = resp.content.decode()
    assert (
        resp.status_code == 400
        and "退回必须说明理由" in html
        and f'id="reason-return-{assignment.pk}"' in html
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PENDING
    c.post(f"/cases/assignments/{assignment.pk}/return/", {"reason": "不属于本单位职责"})
    case.refresh_from_db()
    assert case.status == CaseStatus.REGISTERED


def test_suspension_and_resume(loop, as_):
    case = dispatched(loop)
    assignment = case.assignments.get()
    as_(loop.urban_handler).post(
        f"/cases/assignments/{assignment.pk}/request/", {"kind": "suspension", "reason": "连续暴雨"}
    )
    request = HandlerRequest.objects.get()
    as_(loop.dispatcher).post(f"/cases/requests/{request.pk}/decide/", {"decision": "approve"})
    c = as_(loop.urban_handler)
    html = c.get("/cases/inbox/").content.decode()
    assert "缓办中,计时暂停" in html and "恢复办理" in html
    c.post(f"/cases/assignments/{assignment.pk}/resume/")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PENDING


# --- verification, rating, residents --------------------------------------------------------------


def test_grid_worker_verifies_from_the_list(loop, as_):
    case = reported(loop)
    c = as_(loop.gridworker)
    html = c.get("/cases/verify/").content.decode()
    assert case.number in html and "已清理占道摊点" in html and "核查通过,结案" in html
    resp = c.post(f"/cases/{case.number}/do/verify/", {"passed": "0", "note": "", "origin": "verify"})
    html = resp.content.decode()
    assert resp.status_code == 400 and "核查不通过必须说明原因" in html and "待核查" in html
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFYING
    resp = c.post(
        f"/cases/{case.number}/do/verify/",
        {
            "passed": "1",
            "note": "现场已无摊贩",
            "origin": "verify",
            "next": "/cases/verify/",
            "photos": [photo()],
        },
    )
    assert resp.status_code == 302 and resp["Location"] == "/cases/verify/"
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.attachments.filter(stage="verify").count() == 1


def test_resident_reports_follows_and_rates(loop, as_):
    c = as_(loop.resident)
    empty = c.post("/cases/report/", {"text": "", "address": "上溪村"})
    assert empty.status_code == 400 and "请填写诉求内容" in empty.content.decode()
    assert Case.objects.count() == 0
    resp = c.post(
        "/cases/report/",
        {
            "text": "村口路灯坏了一个星期",
            "address": "上溪村村口",
            "lon": "",
            "lat": "",
            "crs": "wgs84",
            "reporter_phone": "13812345678",
        },
    )
    case = Case.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/cases/{case.number}/"
    assert case.channel == "app" and case.reporter == loop.resident
    assert f"编号 {case.number}" in c.get(resp["Location"]).content.decode()
    assert case.number in c.get("/cases/mine/").content.decode()
    case = reported(loop, case)
    svc.case_verify(actor=loop.gridworker, case=case, passed=True)
    c = as_(loop.resident)
    html = c.get(f"/cases/{case.number}/").content.decode()
    assert "您对办理结果满意吗" in html and "非常满意" in html and "l-urban" not in html
    assert "去评价" in c.get("/cases/mine/").content.decode()
    bad = c.post(f"/cases/{case.number}/do/rate/", {"satisfaction": "so-so"})
    assert bad.status_code == 400 and "评价应为" in bad.content.decode()
    c.post(f"/cases/{case.number}/do/rate/", {"satisfaction": "satisfied", "comment": "很及时"})
    case.refresh_from_db()
    assert case.status == CaseStatus.EVALUATED and case.satisfaction == "satisfied"
    assert "您的评价:满意" in c.get("/cases/mine/").content.decode()


def test_another_residents_case_is_not_theirs(loop, as_):
    case = received(loop, actor=loop.resident, channel="app")
    neighbour = make_user(username="p-neighbour", region=loop.county.village_a1, roles=["resident"])
    c = as_(neighbour)
    assert c.get(f"/cases/{case.number}/").status_code == 404
    assert c.post(f"/cases/{case.number}/do/rate/", {"satisfaction": "satisfied"}).status_code == 404
    assert case.number not in c.get("/cases/mine/").content.decode()


def test_queue_pages_keep_their_filters(loop, as_):
    for i in range(31):
        received(loop, text=f"第 {i} 个占道摊点")
    c = as_(loop.dispatcher)
    first = c.get("/cases/queue/", {"q": "占道"}).content.decode()
    assert (
        "第 1 / 2 页(共 31 件)" in first and 'href="/cases/queue/?q=%E5%8D%A0%E9%81%93&amp;page=2"' in first
    )
    second = c.get("/cases/queue/", {"q": "占道", "page": "2"}).content.decode()
    assert second.count('name="numbers"') == 1


def test_a_share_past_its_deadline_is_overdue_out_of_office_hours():
    """A working-hours share whose deadline passed at 17:30 is overdue at 21:00 the same day, though
    no working time has passed since (the inbox once said 剩余 in the evening); the next morning
    the overdue span counts the office time since."""
    from zoneinfo import ZoneInfo

    from shanzhi.cases.models import Assignment
    from shanzhi.cases.views import assignment_clock

    sh = ZoneInfo("Asia/Shanghai")
    deadline = dt.datetime(2026, 11, 25, 17, 30, tzinfo=sh)  # a Wednesday, the end of office hours
    a = Assignment(
        status=AssignmentStatus.PENDING,
        clock_unit="working_hours",
        deadline=deadline,
        warn_at=deadline - dt.timedelta(hours=2),
    )
    evening = assignment_clock(a, now=dt.datetime(2026, 11, 25, 21, 0, tzinfo=sh))
    assert evening["state"] == "overdue" and evening["text"] == "已超时"
    morning = assignment_clock(a, now=dt.datetime(2026, 11, 26, 10, 0, tzinfo=sh))
    assert morning["state"] == "overdue" and morning["text"].startswith("已超时 ")
    before = assignment_clock(a, now=dt.datetime(2026, 11, 25, 16, 0, tzinfo=sh))
    assert before["state"] == "warn" and before["text"].startswith("剩余 ")
