"""The warnings API and pages: intake by token, reads in jurisdiction, CAP export, the issue form."""

from __future__ import annotations

import pytest
from django.test import Client

from shanzhi.conftest import make_user
from shanzhi.core.tokens import token_create
from shanzhi.emergency.cap import parse_cap, validate_cap
from shanzhi.emergency.models_warnings import Warning
from shanzhi.emergency.tests.capgen import cap, ref
from shanzhi.notify.models import Message

URL = "/api/v1/warnings/cap"


@pytest.fixture
def sensor_client(world):
    sensor = make_user(username="prov-platform", region=world.county.county, roles=["sensor"])
    _, plain = token_create(actor=None, user=sensor, name="省平台")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def test_token_posts_cap_and_gets_what_was_reached(world, sensor_client):
    xml = cap()
    r = sensor_client.post(URL, xml, content_type="application/cap+xml")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["identifier"] == "T-1" and body["msg_type"] == "Alert" and body["severity"] == "Severe"
    assert body["affected"] == {"grids": 2, "households": 3}
    again = sensor_client.post(URL, xml, content_type="application/xml")
    assert again.status_code == 200 and again.json()["id"] == body["id"]


@pytest.mark.parametrize(
    "xml, content_type, status, code",
    [
        (b"<alert", "application/xml", 422, "cap_malformed"),
        (cap(), "application/json", 415, "unsupported_media_type"),
        (cap(ns="urn:x"), "application/xml", 422, "cap_namespace"),
        (
            cap(msg_type="Cancel", references=ref("NOPE"), info=False),
            "application/xml",
            422,
            "unknown_reference",
        ),
        (cap(polygon="21,120 21,130 5,130 21,120"), "application/xml", 422, "area_outside_county"),
        (b"<a>" + b"x" * 1_100_000 + b"</a>", "application/xml", 413, "cap_too_large"),
    ],
)
def test_refusals_are_json_and_change_nothing(world, sensor_client, xml, content_type, status, code):
    r = sensor_client.post(URL, xml, content_type=content_type)
    assert r.status_code == status, r.content
    assert r.json()["code"] == code and r.json()["message"]
    assert Warning.objects.count() == 0 and Message.objects.count() == 0


def test_no_token_is_401_and_wrong_role_is_403(world, client):
    assert client.post(URL, cap(), content_type="application/xml").status_code == 401
    worker = world.users["worker_a1"]
    _, plain = token_create(actor=None, user=worker)
    r = Client(HTTP_AUTHORIZATION=f"Bearer {plain}").post(URL, cap(), content_type="application/xml")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_reads_follow_jurisdiction_and_export_is_valid_cap(world, sensor_client, client):
    wid = sensor_client.post(URL, cap(), content_type="application/xml").json()["id"]
    client.force_login(world.users["leader_a"])
    listed = client.get("/api/v1/warnings").json()
    assert [w["id"] for w in listed["items"]] == [wid]
    detail = client.get(f"/api/v1/warnings/{wid}").json()
    assert detail["affected"]["households"] == 3 and len(detail["grids"]) == 2
    exported = client.get(f"/api/v1/warnings/{wid}/cap")
    assert exported["Content-Type"].startswith("application/cap+xml")
    validate_cap(exported.content)
    assert parse_cap(exported.content).identifier == "T-1"
    # Township B's leader: the warning does not reach their grids.
    client.force_login(world.users["leader_b"])
    assert client.get("/api/v1/warnings").json()["total"] == 0
    assert client.get(f"/api/v1/warnings/{wid}").status_code == 404
    assert client.get(f"/api/v1/warnings/{wid}/cap").status_code == 404


def test_pages(world, sensor_client, client):
    wid = sensor_client.post(URL, cap(), content_type="application/xml").json()["id"]
    client.force_login(world.users["county_leader"])
    page = client.get("/emergency/warnings/").content.decode()
    assert "台风橙色预警" in page and "预警" in page
    detail = client.get(f"/emergency/warnings/{wid}/").content.decode()
    assert "按此范围启动应急" in detail and "涉及网格" in detail and "上溪村第1网格" in detail
    assert "重点关爱" in detail
    r = client.get(f"/emergency/warnings/{wid}/cap.xml")
    validate_cap(r.content)
    r = client.post(f"/emergency/warnings/{wid}/declare/", {"type_code": "typhoon", "title": "防御台风"})
    assert r.status_code == 302
    assert "已据此预警启动应急事件" in client.get(f"/emergency/warnings/{wid}/").content.decode()
    client.force_login(world.users["leader_b"])
    assert client.get(f"/emergency/warnings/{wid}/").status_code == 404
    # A grid worker reads the warnings reaching their grid (test_warning_gridworker.py); 沙湾村's
    # worker is not reached by this one.
    client.force_login(world.users["worker_b1"])
    assert client.get("/emergency/warnings/").status_code == 200
    assert client.get(f"/emergency/warnings/{wid}/").status_code == 404


def test_county_issues_its_own_warning(world, client, django_capture_on_commit_callbacks):
    client.force_login(world.users["dispatcher"])
    assert client.get("/emergency/warnings/issue/").status_code == 200
    form = {
        "event": "暴雨",
        "category": "Met",
        "severity": "Severe",
        "urgency": "Immediate",
        "certainty": "Likely",
        "headline": "善水县暴雨红色预警",
        "description": "3 小时内降雨量将达 100 毫米以上。",
        "instruction": "请远离河道和低洼地带。",
        "area_desc": "上溪村",
        "expires": "",
        "status": "Actual",
        "area_kind": "grids",
        "targets": ["r:331199101201"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/emergency/warnings/issue/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    w = Warning.objects.get()
    assert w.source == "county" and w.sender == "331199000000@shanzhi" and w.event_kind == "rainstorm"
    assert (w.grid_count, w.household_count, w.sms_count, w.visit_count) == (2, 3, 1, 2)
    validate_cap(w.raw_xml.encode())
    alert = parse_cap(client.get(f"/emergency/warnings/{w.pk}/cap.xml").content)
    assert alert.infos[0].areas[0].geocodes[0].value == "331199101201"
    # By grid codes and a drawn polygon, too; bad input is shown on the form and writes nothing.
    form |= {"targets": ["g:331199102201-01"], "headline": "沙湾村暴雨预警"}
    assert client.post("/emergency/warnings/issue/", form).status_code == 302
    form |= {"area_kind": "polygon", "polygon": "[[119.61,28.36],[119.79,28.36],[119.79,28.49]]"}
    assert client.post("/emergency/warnings/issue/", form).status_code == 302
    bad = client.post("/emergency/warnings/issue/", form | {"polygon": "[[150,10],[151,10],[151,11]]"})
    assert bad.status_code == 422 and "不在本县" in bad.content.decode()
    bad = client.post("/emergency/warnings/issue/", form | {"severity": "Huge"})
    assert bad.status_code == 422
    assert Warning.objects.count() == 3
    client.force_login(world.users["supervisor"])
    assert client.get("/emergency/warnings/issue/").status_code == 403
