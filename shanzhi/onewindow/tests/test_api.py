"""The public catalogue API: shapes, paging with `total`, search, detail, bundles, bad input."""

from __future__ import annotations

import pytest

from shanzhi.onewindow.selectors import bundle_get, bundle_savings
from shanzhi.onewindow.services import service_item_set_active

API = "/api/v1"


def test_list_is_public_paged_and_reports_the_total(client, catalog):
    data = client.get(f"{API}/service-items?limit=4").json()
    assert (data["total"], data["limit"], data["offset"], len(data["items"])) == (6, 4, 0, 4)
    rest = client.get(f"{API}/service-items?limit=4&offset=4").json()
    assert (rest["total"], len(rest["items"])) == (6, 2)
    item = next(i for i in data["items"] if i["name"] == "出生登记(户口)")
    assert item == {
        "code": "331199-GG00003000-01",
        "basic_code": "GG00003000",
        "name": "出生登记(户口)",
        "item_type": "public_service",
        "item_type_label": "公共服务",
        "theme": "household",
        "theme_label": "户籍",
        "department": {"code": "police", "name": "县公安局"},
        "promised_days": 0,
        "statutory_days": None,
        "visits": 1,
        "at_most_once": True,
        "channels": ["window", "online"],
        "channel_labels": ["窗口办理", "网上办理"],
        "fee_text": "不收费",
        "url": "/services/items/331199-GG00003000-01/",
    }


def test_search_and_theme(client, catalog):
    data = client.get(f"{API}/service-items", {"q": "ylbx"}).json()
    assert [i["name"] for i in data["items"]] == ["职工基本养老保险待遇申领", "城乡居民基本养老保险参保登记"]
    assert data["total"] == 2
    data = client.get(f"{API}/service-items", {"q": "户口", "theme": "household", "limit": 1}).json()
    assert (data["total"], [i["name"] for i in data["items"]]) == (2, ["出生登记(户口)"])


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("limit=0", 422, "invalid_page"),
        ("limit=101", 422, "invalid_page"),
        ("offset=-5", 422, "invalid_page"),
        ("limit=abc", 422, "invalid_input"),
        ("theme=weather", 422, "invalid_theme"),
        ("q=" + "长" * 51, 422, "invalid_query"),
    ],
)
def test_bad_list_input_is_a_json_error(client, catalog, query, status, code):
    response = client.get(f"{API}/service-items?{query}")
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["message"]


def test_detail_has_materials_and_the_notice(client, catalog, bundle):
    code = catalog["birth"].code
    data = client.get(f"{API}/service-items/{code}").json()
    assert data["name"] == "出生登记(户口)"
    assert data["steps"] == [
        {"name": "申请", "detail": "提交材料"},
        {"name": "受理", "detail": ""},
        {"name": "办结", "detail": "当场办结"},
    ]
    assert [(m["name"], m["required"], m["shared"], m["form_label"]) for m in data["materials"]] == [
        ("出生医学证明", True, True, "原件"),
        ("父母双方居民身份证", True, False, "原件"),
        ("非婚生育说明", False, False, "原件"),
    ]
    assert data["materials"][2]["condition"] == "非婚生育"
    assert data["notice"]["sentence"] == "本事项为居民办理出生登记(户口),本县居民可以申请。"
    assert "父母双方居民身份证" in data["notice"]["sms"]
    assert data["notice"]["pdf_url"] == f"/services/items/{code}/notice.pdf"
    assert data["bundles"] == [{"code": "test-bundle", "name": "测试一件事"}]
    assert "search_text" not in data and "pinyin_full" not in data


def test_unknown_or_withdrawn_item_is_a_404_json(client, catalog):
    response = client.get(f"{API}/service-items/331199-GG09999000-01")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    service_item_set_active(actor=None, item=catalog["remote"], active=False)
    assert client.get(f"{API}/service-items/{catalog['remote'].code}").status_code == 404


def test_bundles_with_steps_and_savings(client, bundle):
    data = client.get(f"{API}/bundles").json()
    assert data["total"] == 1
    b = data["items"][0]
    assert (b["code"], b["name"], b["url"]) == ("test-bundle", "测试一件事", "/services/bundles/test-bundle/")
    assert [(s["order"], s["item"]["name"], s["depends_on"]) for s in b["steps"]] == [
        (1, "出生登记(户口)", []),
        (2, "城乡居民基本养老保险参保登记", ["331199-GG00003000-01"]),
        (3, "高龄津贴申领", []),
    ]
    s = bundle_savings(bundle_get(code="test-bundle"))
    assert b["savings"] == {
        "items": 3,
        "visits": {"separate": s.visits_separate, "bundle": 1, "saved": s.visits_saved},
        "forms": {"separate": 1, "bundle": 1, "saved": 0},
        "materials": {
            "separate": s.materials_separate,
            "bundle": s.materials_bundle,
            "saved": s.materials_saved,
            "deduplicated": s.materials_deduplicated,
            "fetched": s.materials_fetched,
            "from_results": s.materials_from_results,
        },
        "promised_days": {"separate": 10, "bundle": 5, "saved": 5},
    }
    assert b["form_fields"][0] == {"key": "name", "label": "姓名", "kind": "text", "required": True}
    assert client.get(f"{API}/bundles/test-bundle").json()["code"] == "test-bundle"
    assert client.get(f"{API}/bundles/nothing").status_code == 404


def test_a_bundle_with_a_withdrawn_item_is_hidden(client, catalog, bundle):
    service_item_set_active(actor=None, item=catalog["elderly"], active=False)
    assert client.get(f"{API}/bundles").json() == {"total": 0, "items": []}
