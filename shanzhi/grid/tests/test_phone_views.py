"""网格通 pages and their JSON answers: what the phone's script and a plain form both get."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.utils import timezone
from PIL import Image

from shanzhi.cases.models import Case
from shanzhi.emergency.models import GridTask
from shanzhi.grid.models import HouseholdVisit, PatrolCheckin
from shanzhi.grid.tests.phone_setup import Phone

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def cid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def worker(client, phone: Phone):
    client.force_login(phone.worker)
    return client


def test_pages_render_for_the_grid_worker(worker, phone: Phone) -> None:
    for name in ("", "checkin/", "report/", "households/", "verify/"):
        response = worker.get(f"/grid/m/{name}")
        assert response.status_code == 200, name
        assert "待发送" in response.content.decode()
    home = worker.get("/grid/m/").content.decode()
    assert "今日任务" in home and "户主1户" in home and "独居老人" in home  # care household due a visit
    assert "户主2户" not in home  # no care flag
    households = worker.get("/grid/m/households/").content.decode()
    assert phone.home.code in households and phone.other_grid.code not in households


def test_not_for_other_roles_and_not_signed_in(client, phone: Phone) -> None:
    assert client.get("/grid/m/").status_code == 302
    client.force_login(phone.resident)
    assert client.get("/grid/m/").status_code == 403
    assert (
        client.post("/grid/m/checkin/", {"client_id": cid(), "lon": "119.65", "lat": "28.42"}).status_code
        == 403
    )
    assert PatrolCheckin.objects.count() == 0


def test_checkin_json_and_retry(worker, phone: Phone) -> None:
    key = cid()
    data = {
        "client_id": key,
        "lon": "119.65",
        "lat": "28.42",
        "accuracy": "8",
        "manual": "0",
        "note": "河道巡查",
    }
    first = worker.post("/grid/m/checkin/", data, **JSON)
    assert first.status_code == 201
    body = first.json()
    assert body["inside_grid"] is True and body["grid"]["code"] == phone.mapped.a1_01.code
    assert body["message"].startswith("打卡成功")
    again = worker.post("/grid/m/checkin/", data, **JSON)
    assert again.status_code == 200 and again.json()["id"] == body["id"] and again.json()["created"] is False
    assert PatrolCheckin.objects.count() == 1
    assert "河道巡查" in worker.get("/grid/m/checkin/").content.decode()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"lon": "abc", "lat": "28.4"}, "invalid_number"),
        ({"lon": "nan", "lat": "28.4"}, "invalid_number"),
        ({"lon": "", "lat": "28.4"}, "invalid_coordinates"),
        ({"lon": "190", "lat": "28.4"}, "invalid_coordinates"),
        ({"lon": "119.65", "lat": "28.42", "manual": "maybe"}, "invalid_flag"),
        ({"lon": "119.65", "lat": "28.42", "at": "yesterday"}, "invalid_time"),
        ({"lon": "119.65", "lat": "28.42", "client_id": "x"}, "invalid_client_id"),
    ],
)
def test_bad_checkin_gets_a_clear_json_error(worker, data: dict, code: str) -> None:
    response = worker.post("/grid/m/checkin/", {"client_id": cid(), **data}, **JSON)
    assert response.status_code == 422
    assert response.json()["code"] == code and response.json()["message"]
    assert PatrolCheckin.objects.count() == 0


def test_plain_form_checkin_redirects_with_a_message(worker) -> None:
    response = worker.post(
        "/grid/m/checkin/", {"client_id": cid(), "lon": "119.65", "lat": "28.42"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/grid/m/checkin/"
    assert "打卡成功" in response.content.decode()
    response = worker.post("/grid/m/checkin/", {"client_id": cid(), "lon": "x", "lat": "28.42"}, follow=True)
    assert "经度应为数字" in response.content.decode()
    assert PatrolCheckin.objects.count() == 1


def test_visit_json_retry_and_other_grid_404(worker, phone: Phone) -> None:
    key = cid()
    data = {
        "client_id": key,
        "household": phone.home.code,
        "kind": "status_report",
        "health": "isolated",
        "needs_help": "1",
        "supplies_requested": "饮用水 2 箱",
        "at": timezone.localtime().isoformat(),
    }
    first = worker.post("/grid/m/visit/", data, **JSON)
    assert first.status_code == 201 and "隔离" in first.json()["message"]
    assert worker.post("/grid/m/visit/", data, **JSON).status_code == 200
    assert HouseholdVisit.objects.count() == 1
    for other in (phone.other_grid, phone.other_town):
        response = worker.post(
            "/grid/m/visit/", {**data, "client_id": cid(), "household": other.code}, **JSON
        )
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert worker.get(f"/grid/m/households/?h={other.code}").status_code == 404
    bad = worker.post("/grid/m/visit/", {**data, "client_id": cid(), "health": "zombie"}, **JSON)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_health"
    assert HouseholdVisit.objects.count() == 1
    page = worker.get(f"/grid/m/households/?h={phone.home.code}").content.decode()
    assert "状况报告" in page and "隔离" in page


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_report_with_idempotency_key(worker, phone: Phone) -> None:
    key = cid()

    def post():
        return worker.post(
            "/grid/m/report/",
            {
                "client_id": key,
                "category": "0101",
                "text": "桥头垃圾堆积",
                "lon": "119.65",
                "lat": "28.42",
                "photos": io.BytesIO(png()),
                "audio": io.BytesIO(b"OggS" + bytes(100)),
            },
            HTTP_IDEMPOTENCY_KEY=key,
            **JSON,
        )

    first = post()
    assert first.status_code == 201, first.content
    number = first.json()["number"]
    again = post()
    assert again.status_code == 200 and again.json()["number"] == number
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert sorted(a.content_type for a in case.attachments.all()) == ["audio/ogg", "image/png"]
    bad = worker.post("/grid/m/report/", {"client_id": cid(), "lon": "119.65", "lat": "28.42"}, **JSON)
    assert bad.status_code == 422 and bad.json()["code"] == "text_required"
    reused = worker.post(
        "/grid/m/report/", {"client_id": key, "text": "别的事"}, HTTP_IDEMPOTENCY_KEY=key, **JSON
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_home_lists_open_emergency_tasks(worker, phone: Phone) -> None:
    GridTask.objects.create(
        grid=phone.mapped.a1_01,
        title="台风入户排查",
        checklist=["转移危房人员"],
        checked=[False],
        due_at=timezone.now() + dt.timedelta(hours=2),
    )
    GridTask.objects.create(
        grid=phone.mapped.b1_01, title="别的网格的任务", due_at=timezone.now() + dt.timedelta(hours=2)
    )
    home = worker.get("/grid/m/").content.decode()
    assert "台风入户排查" in home and "别的网格的任务" not in home


def test_service_worker_is_served_for_the_phone_scope(worker) -> None:
    response = worker.get("/grid/m/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/grid/m/"
    body = response.content.decode()
    assert '"/grid/m/checkin/"' in body and "grid/phone.js" in body


def _case_to_verify(phone: Phone, loop_fixture) -> Case:
    from shanzhi.cases import services as case_services
    from shanzhi.grid.phone.services import quick_report_submit

    case = quick_report_submit(
        actor=phone.worker, client_id=cid(), category_code="0101", lon=119.65, lat=28.42, text="路口垃圾满溢"
    ).obj
    case = case_services.case_register_and_dispatch(
        actor=loop_fixture.dispatcher, case=case, primary=phone.mapped.county.dept, co_handlers=[]
    )
    assignment = case.assignments.get()
    case_services.assignment_accept(actor=loop_fixture.urban_handler, assignment=assignment)
    assignment.refresh_from_db()
    case_services.assignment_report(actor=loop_fixture.urban_handler, assignment=assignment, text="已清运")
    case.refresh_from_db()
    return case


def test_verify_on_site(worker, phone: Phone, request) -> None:
    case = _case_to_verify(phone, request.getfixturevalue("loop"))
    assert case.status == "verifying"
    listing = worker.get("/grid/m/verify/").content.decode()
    assert case.number in listing and "已清运" in listing
    refused = worker.post(f"/grid/m/verify/{case.number}/", {"passed": "0", "note": ""}, **JSON)
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    missing = worker.post(f"/grid/m/verify/{case.number}/", {}, **JSON)
    assert missing.status_code == 422
    done = worker.post(
        f"/grid/m/verify/{case.number}/",
        {"passed": "1", "note": "现场已清理", "photos": io.BytesIO(png())},
        follow=True,
    )
    assert f"{case.number} 核查通过,已结案" in done.content.decode()
    case.refresh_from_db()
    assert case.status == "closed" and case.attachments.filter(stage="verify").count() == 1
    # Another township's grid worker cannot see it.
    worker.force_login(phone.worker_b)
    assert worker.post(f"/grid/m/verify/{case.number}/", {"passed": "1"}, **JSON).status_code == 404
