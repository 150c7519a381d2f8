"""The JSON API: jurisdiction on every URL, errors as {code, message, details}, Excel in and out."""

from __future__ import annotations

import io

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.duties.models import DutyList
from shanzhi.duties.services import duty_list_create, duty_list_revise

from .conftest import THIS_YEAR, duty
from .test_excel import VILLAGE_HEADER, sheet, town_row, village_row, xlsx

API = "/api/v1/duties"


@pytest.fixture
def api_a(client, user_a):
    client.force_login(user_a)
    return client


@pytest.fixture
def api_b(client, user_b):
    client.force_login(user_b)
    return client


def test_list_shows_only_jurisdiction(api_a, town_list, village_list, town_b_list):
    data = api_a.get(f"{API}/lists").json()
    assert {d["region_code"] for d in data} == {"331199101000", "331199101201"}
    township = next(d for d in data if d["kind"] == "township")
    assert (township["status"], township["item_count"], township["kind_label"]) == (
        "published",
        3,
        "乡镇履职事项清单",
    )
    assert [d["region_code"] for d in api_a.get(f"{API}/lists?kind=village_assist").json()] == [
        "331199101201"
    ]
    assert api_a.get(f"{API}/lists?year={THIS_YEAR - 1}").json() == []


def test_list_is_ordered_by_region_then_newest(api_a, county, town_list, village_list):
    duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    data = api_a.get(f"{API}/lists").json()
    assert [(d["region_code"], d["year"]) for d in data] == [
        ("331199101000", THIS_YEAR + 1),
        ("331199101000", THIS_YEAR),
        ("331199101201", THIS_YEAR),
    ]


def test_detail_with_items(api_a, town_list):
    data = api_a.get(f"{API}/lists/{town_list.pk}").json()
    assert data["can_edit"] is True and data["over_warning"] is False
    assert [i["code"] for i in data["items"]] == ["XZCF-001", "XZCF-002", "XZCF-003"]
    assert data["items"][0]["type_label"] == "行政检查"
    assert data["items"][2]["category_codes"] == ["0501", "1301"]


def test_other_township_is_404_on_every_url(api_b, county, town_list, village_list):
    draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR + 1, items=[duty(1)])
    before = (AuditEntry.objects.count(), DutyList.objects.count())
    pk, d = town_list.pk, draft.pk
    upload = {"file": io.BytesIO(xlsx([town_row(1)]))}
    responses = [
        api_b.get(f"{API}/lists/{pk}"),
        api_b.get(f"{API}/lists/{pk}/export"),
        api_b.get(f"{API}/diff?old={pk}&new={d}"),
        api_b.post(f"{API}/lists/{pk}/revise", {"year": THIS_YEAR + 2}, content_type="application/json"),
        api_b.post(f"{API}/lists/{d}/publish"),
        api_b.delete(f"{API}/lists/{d}"),
        api_b.post(f"{API}/lists/{d}/items", {"code": "X-1", "name": "x"}, content_type="application/json"),
        api_b.put(
            f"{API}/lists/{d}/items/XZCF-001", {"code": "X-1", "name": "x"}, content_type="application/json"
        ),
        api_b.delete(f"{API}/lists/{d}/items/XZCF-001"),
        api_b.post(f"{API}/lists/{d}/import", upload),
        api_b.post(
            f"{API}/lists", {"region": "331199101201", "year": THIS_YEAR}, content_type="application/json"
        ),
        api_b.post(
            f"{API}/check",
            {"unit": "331199101201", "assigner": "urban_mgmt", "work": "0101"},
            content_type="application/json",
        ),
    ]
    for resp in responses:
        assert resp.status_code == 404, resp.content
        assert resp.json()["code"] == "not_found"
    assert (AuditEntry.objects.count(), DutyList.objects.count()) == before


def test_requires_login(client, town_list):
    resp = client.get(f"{API}/lists")
    assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"


def test_create_add_update_remove_publish_revise(api_a, county):
    resp = api_a.post(
        f"{API}/lists", {"region": "331199101000", "year": THIS_YEAR}, content_type="application/json"
    )
    assert resp.status_code == 201
    pk = resp.json()["id"]
    item = {
        "code": "xzcf-001",
        "name": "对占道经营的处罚",
        "type": "行政处罚",
        "legal_basis": "《城市道路管理条例》",
        "lead_handler": "综合行政执法队",
        "category_codes": ["0102"],
    }
    resp = api_a.post(f"{API}/lists/{pk}/items", item, content_type="application/json")
    assert resp.status_code == 201 and resp.json()["code"] == "XZCF-001" and resp.json()["type"] == "penalty"
    resp = api_a.put(
        f"{API}/lists/{pk}/items/XZCF-001", {**item, "name": "改名"}, content_type="application/json"
    )
    assert resp.json()["name"] == "改名"
    api_a.post(f"{API}/lists/{pk}/items", {**item, "code": "XZCF-002"}, content_type="application/json")
    assert api_a.delete(f"{API}/lists/{pk}/items/XZCF-002").status_code == 204
    assert api_a.delete(f"{API}/lists/{pk}/items/XZCF-404").status_code == 404
    resp = api_a.post(f"{API}/lists/{pk}/publish")
    assert resp.status_code == 200 and resp.json()["status"] == "published"
    resp = api_a.post(f"{API}/lists/{pk}/revise", {"year": THIS_YEAR + 1}, content_type="application/json")
    assert resp.status_code == 201
    assert (resp.json()["based_on"], resp.json()["status"], len(resp.json()["items"])) == (pk, "draft", 1)
    assert api_a.delete(f"{API}/lists/{resp.json()['id']}").status_code == 204


def test_service_errors_are_json(api_a, county, village_list, town_list):
    resp = api_a.post(
        f"{API}/lists/{village_list.pk}/items",
        {"code": "CXZ-9", "name": "x"},
        content_type="application/json",
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "not_draft" and resp.json()["message"]
    draft = duty_list_create(actor=None, region=county.village_a2, year=THIS_YEAR)
    resp = api_a.post(
        f"{API}/lists/{draft.pk}/items",
        {"code": "CXZ-1", "name": "", "category_codes": ["77"]},
        content_type="application/json",
    )
    body = resp.json()
    assert resp.status_code == 400 and body["code"] == "invalid_item"
    assert {d["field"] for d in body["details"]} == {"name", "assists", "basis", "category_codes"}


def test_handler_without_leader_role_gets_403(client, handler_a, town_list):
    client.force_login(handler_a)
    assert client.get(f"{API}/lists/{town_list.pk}").json()["can_edit"] is False
    resp = client.post(
        f"{API}/lists/{town_list.pk}/revise", {"year": THIS_YEAR + 1}, content_type="application/json"
    )
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"


def test_diff(api_a, county, town_list):
    revised = api_a.post(
        f"{API}/lists/{town_list.pk}/revise", {"year": THIS_YEAR + 1}, content_type="application/json"
    ).json()
    api_a.delete(f"{API}/lists/{revised['id']}/items/XZCF-001")
    data = api_a.get(f"{API}/diff?old={town_list.pk}&new={revised['id']}").json()
    assert [i["code"] for i in data["removed"]] == ["XZCF-001"]
    assert (data["added"], data["changed"], data["unchanged"]) == ([], [], 2)


def test_check(api_a, county, town_list, village_list):
    ok = api_a.post(
        f"{API}/check",
        {"unit": "331199101000", "assigner": "urban_mgmt", "work": "0103"},
        content_type="application/json",
    ).json()
    assert (ok["allowed"], ok["code"], ok["duty"]) == (True, "in_list", "XZCF-001")
    pushed = api_a.post(
        f"{API}/check",
        {"unit": "331199101201", "assigner": "331199000000", "work": "0103"},
        content_type="application/json",
    ).json()
    assert (pushed["allowed"], pushed["code"]) == (False, "pushed_outside_list")
    bad = api_a.post(
        f"{API}/check",
        {"unit": "331199101201", "assigner": "nobody", "work": "0103"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_assigner"


def test_export(api_a, town_list):
    resp = api_a.get(f"{API}/lists/{town_list.pk}/export")
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in resp["Content-Disposition"] and ".xlsx" in resp["Content-Disposition"]
    ws = sheet(resp.content)
    assert ws.max_row == 4 and ws["A2"].value == "XZCF-001"


def test_import(api_a, county):
    draft = duty_list_create(actor=None, region=county.village_a1, year=THIS_YEAR)
    good = xlsx([village_row(1), village_row(2)], header=VILLAGE_HEADER)
    resp = api_a.post(f"{API}/lists/{draft.pk}/import", {"file": io.BytesIO(good)})
    assert resp.status_code == 200, resp.content
    assert [i["code"] for i in resp.json()["items"]] == ["CXZ-001", "CXZ-002"]
    before = AuditEntry.objects.count()
    bad = xlsx([village_row(1), village_row(1, assists="")], header=VILLAGE_HEADER)
    resp = api_a.post(f"{API}/lists/{draft.pk}/import", {"file": io.BytesIO(bad)})
    body = resp.json()
    assert resp.status_code == 400 and body["code"] == "import_invalid"
    assert [(e["row"], e["column"]) for e in body["details"]] == [(3, "C"), (3, "A")]
    assert AuditEntry.objects.count() == before and draft.assist_items.count() == 2
    missing = api_a.post(f"{API}/lists/{draft.pk}/import", {})
    assert missing.status_code == 422
