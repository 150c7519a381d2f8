"""The case API end to end: transitions over HTTP, errors as JSON, jurisdiction as 404."""

from __future__ import annotations

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.cases.models import Case, CaseStatus
from shanzhi.cases.tests.test_loop import intake


def post(client, url, data=None):
    return client.post(url, data=data or {}, content_type="application/json")


@pytest.fixture
def as_(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_dispatch_to_closure_over_http(loop, as_):
    case = intake(loop, reporter_phone="13812345678")
    c = as_(loop.dispatcher)
    assert (
        post(c, f"/api/v1/cases/{case.number}/register", {"category": "0102"}).json()["status"]
        == "registered"
    )
    body = post(c, f"/api/v1/cases/{case.number}/dispatch", {"primary": "urban_mgmt"}).json()
    assert body["status"] == "dispatched" and body["assignments"][0]["handler"] == "urban_mgmt"
    assert body["reporter_phone"] == "13812345678"  # a dispatcher calls back: full number
    pk = body["assignments"][0]["id"]
    c = as_(loop.urban_handler)
    inbox = c.get("/api/v1/assignments").json()
    assert [row["id"] for row in inbox] == [pk]
    assert post(c, f"/api/v1/assignments/{pk}/accept").json()["status"] == "accepted"
    assert post(c, f"/api/v1/assignments/{pk}/report", {"text": "已处理"}).json()["status"] == "reported"
    c = as_(loop.gridworker)
    detail = c.get(f"/api/v1/cases/{case.number}").json()
    assert detail["reporter_phone"] == "138****5678"  # a grid worker does not need it
    assert detail["actions"] == ["verify_pass", "verify_reject"]
    assert post(c, f"/api/v1/cases/{case.number}/verify", {"passed": True}).json()["status"] == "closed"


def test_illegal_transition_is_409_json(loop, as_):
    case = intake(loop)
    before = AuditEntry.objects.count()
    resp = post(as_(loop.dispatcher), f"/api/v1/cases/{case.number}/verify", {"passed": True})
    assert resp.status_code == 409
    assert resp.json()["code"] == "illegal_transition"
    assert AuditEntry.objects.count() == before


def test_other_township_is_404_everywhere(loop, as_):
    case = intake(loop)
    c = as_(loop.dispatcher_b)
    assert c.get(f"/api/v1/cases/{case.number}").status_code == 404
    for action, body in [
        ("register", {}),
        ("refuse", {"reason": "x"}),
        ("dispatch", {"primary": "urban_mgmt"}),
        ("verify", {"passed": True}),
        ("rate", {"satisfaction": "satisfied"}),
        ("split", {"texts": ["a"]}),
        ("merge", {"into": case.number}),
    ]:
        resp = post(c, f"/api/v1/cases/{case.number}/{action}", body)
        assert resp.status_code == 404, action
        assert resp.json()["code"] == "not_found"
    assert c.get("/api/v1/cases").json()["total"] == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.RECEIVED


def test_assignment_of_another_body_is_404(loop, as_):
    case = intake(loop)
    c = as_(loop.dispatcher)
    post(c, f"/api/v1/cases/{case.number}/register")
    pk = post(c, f"/api/v1/cases/{case.number}/dispatch", {"primary": "urban_mgmt"}).json()["assignments"][0][
        "id"
    ]
    resp = post(as_(loop.police_handler), f"/api/v1/assignments/{pk}/accept")
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("url", "body", "status", "code"),
    [
        ("register", {"category": "9999"}, 422, "unknown_category"),
        ("dispatch", {"primary": "nobody"}, 422, "unknown_handler"),
        ("dispatch", {"primary": 7}, 422, "invalid_input"),
        ("rate", {"satisfaction": "great"}, 422, "invalid_input"),
        ("refuse", {}, 422, "invalid_input"),
    ],
)
def test_bad_input_is_clear_json(loop, as_, url, body, status, code):
    case = intake(loop)
    resp = post(as_(loop.dispatcher), f"/api/v1/cases/{case.number}/{url}", body)
    assert resp.status_code == status
    assert resp.json()["code"] == code and resp.json()["message"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED


def test_malformed_json_changes_nothing(loop, as_):
    case = intake(loop)
    resp = as_(loop.dispatcher).post(
        f"/api/v1/cases/{case.number}/register", data="{not json", content_type="application/json"
    )
    assert resp.status_code == 400
    assert resp.json() == {"code": "malformed_json", "message": "请求体不是有效的 JSON,请检查格式后重试"}
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED


def test_resident_sees_only_own_cases(loop, as_):
    mine = intake(loop, actor=loop.resident, channel="app")
    intake(loop, text="别人反映的占道经营")
    listing = as_(loop.resident).get("/api/v1/cases").json()
    assert [row["number"] for row in listing["items"]] == [mine.number]


def test_extension_request_and_decision_over_http(loop, as_):
    case = intake(loop)
    c = as_(loop.dispatcher)
    post(c, f"/api/v1/cases/{case.number}/register")
    pk = post(c, f"/api/v1/cases/{case.number}/dispatch", {"primary": "urban_mgmt"}).json()["assignments"][0][
        "id"
    ]
    resp = post(
        as_(loop.urban_handler),
        f"/api/v1/assignments/{pk}/request",
        {"kind": "extension", "reason": "需要协调", "hours": 8},
    )
    assert resp.status_code == 200
    request_id = resp.json()["id"]
    assert (
        post(as_(loop.dispatcher_b), f"/api/v1/requests/{request_id}/decide", {"approve": True}).status_code
        == 404
    )
    assert (
        post(as_(loop.dispatcher), f"/api/v1/requests/{request_id}/decide", {"approve": True}).json()["state"]
        == "approved"
    )
