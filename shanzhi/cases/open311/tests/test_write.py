"""POST requests: a client's report becomes a case through intake; bad input is refused and
creates nothing; retries with an Idempotency-Key are safe."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from lxml import etree

from shanzhi.audit.models import AuditEntry
from shanzhi.cases.models import Case, Category, IdempotencyRecord
from shanzhi.cases.open311.models import Open311Request
from shanzhi.cases.open311.services import open311_client_revoke

from .conftest import LAT, LON

STALLS = "小区门口流动摊贩占道经营,晚上很吵"


def body(response):
    return json.loads(response.content)


def refused(response, status, words=""):
    assert response.status_code == status, response.content.decode()
    (error,) = body(response)
    assert error["code"] == status and words in error["description"]
    assert not Case.objects.exists() and not Open311Request.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_post_with_lat_long(o311):
    response = o311.post(
        service_code="0102",
        lat=LAT,
        long=LON,
        description=STALLS,
        first_name="小明",
        last_name="王",
        phone="138 1234 5678",
        email="wxm@example.org",
        account_id="u-42",
        device_id="phone-7",
        media_url="https://img.example.org/a.jpg",
    )
    assert response.status_code == 200
    (item,) = body(response)
    assert list(item) == ["service_request_id", "token", "service_notice", "account_id"]
    case = Case.objects.get(number=item["service_request_id"])
    assert case.channel == "open311" and case.text == STALLS
    assert (case.lat, case.lon) == (LAT, LON)
    assert case.region == o311.loop.county.village_a1
    assert case.grid is not None and case.grid.code == "331199101201-01"
    assert case.reporter_name == "王小明" and case.reporter_phone == "13812345678"
    link = Open311Request.objects.get(case=case)
    assert link.client == o311.client and link.service.code == "0102" and link.token == item["token"]
    assert (link.account_id, link.device_id, link.media_url) == (
        "u-42",
        "phone-7",
        "https://img.example.org/a.jpg",
    )
    assert item["account_id"] == "u-42" and case.number in item["service_notice"]
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"case.receive", "open311_request.create"} <= actions
    # the public read of the new case carries none of the reporter's details
    content = o311.get(f"requests/{case.number}.json").content.decode()
    assert "王小明" not in content and "13812345678" not in content and "wxm@" not in content


def test_post_xml_answer(o311):
    response = o311.post("xml", service_code="0102", lat=LAT, long=LON, description=STALLS)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == "service_requests"
    assert [c.tag for c in root.find("request")] == [
        "service_request_id",
        "token",
        "service_notice",
        "account_id",
    ]
    assert Case.objects.filter(number=root.findtext("request/service_request_id")).exists()


def test_post_with_address_string(o311):
    response = o311.post(
        service_code="0602", address_string="青石镇上溪村村口", description="村口路灯不亮一周了"
    )
    assert response.status_code == 200
    case = Case.objects.get(number=body(response)[0]["service_request_id"])
    assert case.address == "青石镇上溪村村口" and case.lat is None and case.lon is None
    assert case.region == o311.loop.county.village_a1


def test_post_with_address_id_only(o311):
    response = o311.post(service_code="0602", address_id="DOOR-1001", description="路灯不亮")
    assert response.status_code == 200
    number = body(response)[0]["service_request_id"]
    assert Open311Request.objects.get(case__number=number).address_id == "DOOR-1001"
    assert o311.get(f"requests/{number}.json").json()[0]["address_id"] == "DOOR-1001"


def test_api_key_missing_wrong_or_revoked_is_403(o311):
    fields = {"service_code": "0102", "lat": LAT, "long": LON, "description": STALLS}
    response = o311.http.post(
        "/open311/v2/requests.json", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )
    refused(response, 403, "api_key")
    o311.key, key = o311.key + "x", o311.key
    refused(o311.post(**fields), 403, "api_key")
    o311.key = key
    open311_client_revoke(actor=None, client=o311.client)
    refused(o311.post(**fields), 403, "吊销")
    response = o311.post("xml", **fields)
    assert response.status_code == 403 and etree.fromstring(response.content).findtext("error/code") == "403"


def test_unknown_service_is_404(o311):
    refused(o311.post(service_code="9999", lat=LAT, long=LON, description=STALLS), 404, "service_code")
    Category.objects.filter(code="0102").update(active=False)
    refused(o311.post(service_code="0102", lat=LAT, long=LON, description=STALLS), 404, "service_code")


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"description": STALLS}, "位置"),
        ({"description": STALLS, "lat": LAT}, "lat 和 long"),
        ({"description": STALLS, "lat": "91", "long": LON}, "lat"),
        ({"description": STALLS, "lat": "nan", "long": LON}, "lat"),
        ({"description": STALLS, "lat": LAT, "long": "east"}, "long"),
        ({"lat": LAT, "long": LON}, "description"),
        ({"description": "摊贩\x00", "lat": LAT, "long": LON}, "NUL"),
        ({"description": "长" * 4001, "lat": LAT, "long": LON}, "4000"),
        ({"description": STALLS, "lat": LAT, "long": LON, "phone": "12345"}, "phone"),
        ({"description": STALLS, "lat": LAT, "long": LON, "email": "not-an-address"}, "email"),
        ({"description": STALLS, "lat": LAT, "long": LON, "media_url": "file:///etc/passwd"}, "media_url"),
        ({"description": STALLS, "address_string": "路" * 256}, "address_string"),
        ({"description": STALLS, "lat": LAT, "long": LON, "jurisdiction_id": "other"}, "jurisdiction_id"),
    ],
)
def test_bad_input_is_refused_and_creates_nothing(o311, fields, words):
    status = 404 if "jurisdiction_id" in fields else 400
    refused(o311.post(service_code="0102", **fields), status, words)


def test_missing_service_code_is_400(o311):
    refused(o311.post(lat=LAT, long=LON, description=STALLS), 400, "service_code")


def test_point_outside_the_county_is_400(o311):
    refused(o311.post(service_code="0102", lat=30.0, long=121.0, description=STALLS), 400)


def test_body_size_and_type(o311):
    response = o311.post(service_code="0102", lat=LAT, long=LON, description=STALLS, padding="x" * 70_000)
    assert response.status_code == 413 and body(response)[0]["code"] == 413
    response = o311.http.post(
        "/open311/v2/requests.json",
        json.dumps({"api_key": o311.key, "service_code": "0102", "description": STALLS}),
        content_type="application/json",
    )
    refused(response, 400, "form")


def test_post_needs_no_csrf_token(o311):
    o311.http = Client(enforce_csrf_checks=True)
    assert o311.post(service_code="0102", lat=LAT, long=LON, description=STALLS).status_code == 200


def test_idempotent_retry_returns_the_first_case_and_token(o311):
    fields = {"service_code": "0102", "lat": LAT, "long": LON, "description": STALLS}
    first = body(o311.post(headers={"Idempotency-Key": "app-0001"}, **fields))[0]
    again = body(o311.post(headers={"Idempotency-Key": "app-0001"}, **fields))[0]
    assert again == first
    assert Case.objects.count() == 1 and Open311Request.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.owner, record.key) == ("open311:test-app", "app-0001")
    # the same key with another body is a client bug, said plainly
    response = o311.post(headers={"Idempotency-Key": "app-0001"}, **{**fields, "description": "另一件事"})
    assert response.status_code == 409 and body(response)[0]["code"] == 409
    assert Case.objects.count() == 1
    # without a key, a second POST is a second case
    o311.post(**fields)
    assert Case.objects.count() == 2


def test_token_points_at_the_case(o311):
    item = body(o311.post(service_code="0102", lat=LAT, long=LON, description=STALLS))[0]
    assert body(o311.get(f"tokens/{item['token']}.json")) == [
        {"service_request_id": item["service_request_id"], "token": item["token"]}
    ]


def test_the_clients_service_code_is_the_suggestion(o311):
    # the text reads like street stalls (0102); the client says street lights (0602)
    item = body(o311.post(service_code="0602", lat=LAT, long=LON, description=STALLS))[0]
    case = Case.objects.get(number=item["service_request_id"])
    assert case.suggested_category is not None and case.suggested_category.code == "0602"
    assert case.suggestion_confidence == 1.0
    assert o311.get(f"requests/{case.number}.json").json()[0]["service_code"] == "0602"


def test_the_chosen_service_decides_the_route(o311):
    # stalls text (0102 → 城管), but the client files it as 社会生活噪声 (0402 → 公安)
    item = body(o311.post(service_code="0402", lat=LAT, long=LON, description="小区门口流动摊贩占道经营"))[0]
    case = Case.objects.get(number=item["service_request_id"])
    assert case.category is not None and case.category.code == "0402"
    assert case.assignments.get(role="primary").handler == o311.loop.police
