"""The application API over HTTP: create with files and submit in one call, idempotent retries,
clear errors that change nothing, jurisdiction, decisions, and the public status lookup."""

from __future__ import annotations

import base64
import json

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.onewindow.models_applications import Application, ApplicationFile
from shanzhi.onewindow.tests.window_setup import ID_A, PHONE_A, pdf_bytes, png_bytes

BASE = "/api/v1/applications"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body(catalog, **overrides) -> dict:
    values = {
        "item": catalog["resident_pension"].code,
        "channel": "online",
        "applicant_name": "王秀英",
        "applicant_id_number": ID_A,
        "applicant_phone": PHONE_A,
        "answers": {"委托他人代为办理": "否"},
        "files": [{"key": "申请人居民身份证", "filename": "id.pdf", "content_base64": b64(pdf_bytes())}],
        "submit": True,
    }
    values.update(overrides)
    return values


def post(client, url: str, data: dict | None = None, **headers):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json", headers=headers)


def counts() -> tuple[int, int, int]:
    return Application.objects.count(), ApplicationFile.objects.count(), AuditEntry.objects.count()


@pytest.fixture
def resident_client(client, people):
    client.force_login(people.resident)
    return client


def test_create_upload_and_submit_in_one_call_then_a_retry_is_the_same(resident_client, catalog):
    first = post(resident_client, BASE, body(catalog), **{"Idempotency-Key": "form-1"})
    assert first.status_code == 201, first.content
    data = first.json()
    assert (
        data["status"] == "submitted" and data["applicant"]["id_number"] == ID_A
    )  # the applicant sees it all
    assert [m["status"] for m in data["materials"]] == ["uploaded", "fetched", "not_needed"]
    assert data["materials"][1]["source"] == "户籍信息(公安共享)"
    before = counts()
    again = post(resident_client, BASE, body(catalog), **{"Idempotency-Key": "form-1"})
    assert again.status_code == 200 and again.json()["number"] == data["number"], again.content.decode()
    assert counts() == before, "a second submit of the same form changes nothing"
    reused = post(
        resident_client, BASE, body(catalog, applicant_name="李四"), **{"Idempotency-Key": "form-1"}
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"applicant_id_number": "331125198001011230"}, "invalid_id_number"),  # wrong check digit
        ({"applicant_phone": "12345"}, "invalid_mobile"),
        ({"files": []}, "materials_missing"),
        (
            {"files": [{"key": "申请人居民身份证", "filename": "id.pdf", "content_base64": b64(b"<html>")}]},
            "file_type",
        ),
        (
            {"files": [{"key": "申请人居民身份证", "filename": "id.pdf", "content_base64": "***"}]},
            "file_encoding",
        ),
        ({"answers": {}}, "answers_required"),
        ({"item": "331199-GG99999000-01"}, "unknown_item"),
        ({"channel": "window"}, "forbidden"),  # a resident applies online
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(resident_client, catalog, overrides, code):
    before = counts()
    response = post(resident_client, BASE, body(catalog, **overrides), **{"Idempotency-Key": f"k-{code}"})
    assert response.status_code in (403, 409, 422), response.content
    data = response.json()
    assert data["code"] == code and data["message"]
    assert counts() == before
    if code == "materials_missing":
        assert [m["name"] for m in data["details"]["missing"]] == ["申请人居民身份证"]


def test_window_flow_over_the_api_with_masking_and_jurisdiction(client, people, catalog):
    client.force_login(people.clerk_a)
    created = post(client, BASE, body(catalog, channel="window", files=[], submit=False))
    assert created.status_code == 201
    number = created.json()["number"]
    url = f"{BASE}/{number}"
    missing = post(client, f"{url}/accept")
    assert missing.status_code == 422 and missing.json()["code"] == "materials_missing"
    assert post(client, f"{url}/materials/申请人居民身份证/paper", {"received": True}).status_code == 200
    accepted = post(client, f"{url}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert accepted.json()["receipt_url"].endswith("/receipt.pdf")
    # Township B's clerk: the same 404 as a missing number, reading and writing.
    client.force_login(people.clerk_b)
    assert client.get(url).status_code == 404
    assert post(client, f"{url}/finish").json()["code"] == "not_found"
    # The supervisor sees it, with the ID number and phone masked.
    client.force_login(people.supervisor)
    seen = client.get(url).json()
    assert seen["applicant"]["id_number"] == ID_A[:6] + "********" + ID_A[14:]
    assert seen["applicant"]["phone"] == "138****5678"
    # The back office decides; a wrong decision word is a clear error.
    client.force_login(people.approver)
    assert post(client, f"{url}/review").json()["status"] == "in_review"
    bad = post(client, f"{url}/decide", {"decision": "maybe"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_decision"
    corr = post(client, f"{url}/decide", {"decision": "correction", "items": ["补充银行卡号"]})
    assert corr.json()["status"] == "correction_requested"
    again = post(client, f"{url}/decide", {"decision": "correction", "items": ["再补"]})
    assert again.status_code == 409 and again.json()["code"] == "correction_used"
    client.force_login(people.clerk_a)
    assert post(client, f"{url}/correct", {"note": "已补充"}).json()["status"] == "in_review"
    client.force_login(people.approver)
    again = post(client, f"{url}/decide", {"decision": "correction", "items": ["再补"]})
    assert again.status_code == 409 and again.json()["code"] == "correction_used"
    refused = post(client, f"{url}/decide", {"decision": "refuse", "text": ""})
    assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
    approved = post(client, f"{url}/decide", {"decision": "approve", "text": "准予登记"})
    assert approved.json()["status"] == "approved" and approved.json()["decision"] == "准予登记"
    # Anyone with the number and the phone follows it; a wrong phone looks like a wrong number.
    client.logout()
    found = client.get(f"{BASE}/lookup", {"number": number, "phone": PHONE_A})
    assert found.status_code == 200
    assert found.json()["status"] == "approved" and found.json()["applicant"] == "王**"
    assert "id_number" not in json.dumps(found.json())
    wrong = client.get(f"{BASE}/lookup", {"number": number, "phone": "13800000000"})
    assert wrong.status_code == 404 and wrong.json()["code"] == "not_found"
    assert client.get(url).status_code == 401


def test_upload_endpoint_checks_content(resident_client, catalog):
    created = post(resident_client, BASE, body(catalog, files=[], submit=False)).json()
    url = f"{BASE}/{created['number']}/files"
    before = counts()
    bad = post(
        resident_client,
        url,
        {"key": "申请人居民身份证", "filename": "x.png", "content_base64": b64(b"GIF89a....")},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "file_type" and counts() == before
    good = post(
        resident_client,
        url,
        {"key": "申请人居民身份证", "filename": "x.png", "content_base64": b64(png_bytes())},
    )
    assert good.status_code == 200 and good.json()["materials"][0]["status"] == "uploaded"
    file_url = good.json()["materials"][0]["files"][0]["url"]
    assert resident_client.get(file_url).status_code == 200


def test_list_is_jurisdiction_filtered(client, people, catalog):
    client.force_login(people.clerk_a)
    post(client, BASE, body(catalog, channel="window", files=[], submit=False))
    assert client.get(BASE).json()["total"] == 1
    client.force_login(people.clerk_b)
    assert client.get(BASE).json()["total"] == 0
    assert client.get(BASE, {"limit": 0}).json()["code"] == "invalid_page"
