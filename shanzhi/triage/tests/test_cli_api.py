"""`shanzhi triage` over stdin/stdout, `train`/`eval`, and POST /api/v1/triage."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from shanzhi.audit.models import AuditEntry
from shanzhi.triage.models import TriageModel

LINES = [
    json.dumps(
        {"id": 1, "text": "小区消防通道被私家车堵死了", "address": "青石镇锦绣花园二期"}, ensure_ascii=False
    ),
    "楼上装修电钻从早上七点响到晚上",
    "",
    "{not json",
    json.dumps({"text": "字" * 4001}),
    json.dumps({"text": "村口垃圾堆成山", "lat": 28.4}),
    json.dumps(
        {"text": "村口垃圾堆成山,好几天没人清", "lon": 119.65, "lat": 28.45, "crs": "wgs84"},
        ensure_ascii=False,
    ),
    json.dumps({"text": "路灯不亮", "crs": "mars"}),
    json.dumps(["路灯不亮"]),
    json.dumps({"text": "路灯不亮", "lon": 121.0, "lat": 31.0}, ensure_ascii=False),
]


def run(*args, stdin=""):
    out = io.StringIO()
    call_command("triage", *args, stdin=io.StringIO(stdin), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("batch", ["1", "4"])
def test_stdin_round_trip(town, trained, batch):
    lines = run("--batch", batch, stdin="\n".join(LINES) + "\n").splitlines()
    out = [json.loads(line) for line in lines]
    assert len(out) == len(LINES) - 1  # the blank line is skipped, every other line answered

    fire = out[0]
    assert fire["id"] == 1 and fire["category"] == "0301" and fire["category_name"] == "消防通道占用"
    assert fire["handler"] == "urban_mgmt" and fire["co_handlers"] == ["community-331199101001", "property-2"]
    assert fire["estate"] == {
        "name": "锦绣花园二期",
        "village": "331199101001",
        "property_company": "property-2",
    }
    assert (
        fire["village"] == {"code": "331199101001", "name": "青石社区"} and fire["place_source"] == "address"
    )
    assert fire["top3"][0]["category"] == "0301" and len(fire["top3"]) == 3
    assert fire["unresolved"] == [] and fire["grid"] is None

    noise = out[1]
    assert noise["category"] == "0402" and noise["handler"] == "police" and noise["village"] is None

    assert [o.get("error", {}).get("code") for o in out[2:6]] == [
        "invalid_json",
        "text_too_long",
        "invalid_coordinates",
        None,
    ]
    village = out[5]
    assert village["category"] == "1301"
    assert village["grid"] == {"code": "331199101201-01", "name": "上溪村第1网格"}
    assert village["village"]["code"] == "331199101201" and village["township"]["code"] == "331199101000"
    assert village["handler"] == "township-331199101000" and village["co_handlers"] == [
        "community-331199101201"
    ]
    assert village["place_source"] == "coordinates" and village["location"]["code"] == "in_grid"
    assert out[6]["error"]["code"] == "invalid_crs"
    assert out[7]["error"]["code"] == "invalid_input"
    outside = out[8]
    assert outside["location"] == {
        "code": "outside_jurisdiction",
        "inside": False,
        "message": "该位置不在本县管辖范围内",
    }
    assert outside["grid"] is None and outside["handler"] == "urban_mgmt"


def test_unknown_place_gives_type_codes(town, trained):
    (line,) = run(stdin="邻居天天把垃圾放我家门口,说了还骂人\n").splitlines()
    answer = json.loads(line)
    assert answer["category"] == "1202"
    assert answer["handler"] == "community" and answer["co_handlers"] == ["township"]
    assert [u["type"] for u in answer["unresolved"]] == ["community", "township"]
    assert answer["auto_dispatch"] is False


def test_train_and_eval_commands(town, trained):
    assert "v1" in run("train") and TriageModel.objects.get(version=1).active
    text = run("train", "--keep-active")
    assert "v2" in text and "未启用" in text and not TriageModel.objects.get(version=2).active
    report = run("eval")
    assert "模型 v1,403 条" in report and "混淆" in report and "0301" in report
    data = json.loads(run("eval", "--version", "2", "--json"))
    assert data["version"] == 2 and data["n"] == 403 and data["accuracy"] >= 0.9
    assert set(data["per_category"]) == {r for r in data["per_category"]} and len(data["per_category"]) == 31
    assert all({"true", "predicted", "count"} == set(c) for c in data["confusions"])


def test_api_answers_like_the_command(client, town, trained):
    client.force_login(town.operator)
    body = {"text": "小区消防通道被私家车堵死了", "address": "青石镇锦绣花园二期"}
    resp = client.post("/api/v1/triage", body, content_type="application/json")
    assert resp.status_code == 200, resp.content
    data = resp.json()
    (line,) = run(stdin=json.dumps(body, ensure_ascii=False) + "\n").splitlines()
    assert data | {"id": None} == json.loads(line) | {"id": None, "location": None}
    assert data["handler"] == "urban_mgmt" and data["confidence"] > 0.5


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": "字" * 4001}, "text_too_long"),
        ({"text": "   "}, "text_required"),
        ({"address": "青石镇"}, "invalid_input"),
        ({"text": "路灯不亮", "lat": 28.4}, "invalid_coordinates"),
        ({"text": "路灯不亮", "lon": 119.6, "lat": 91}, "invalid_coordinates"),
        ({"text": "路灯不亮", "lon": "东经", "lat": 28.4}, "invalid_input"),
        ({"text": "路灯不亮", "crs": "mars"}, "invalid_crs"),
        ({"text": "路灯不亮", "address": "址" * 501}, "invalid_address"),
    ],
)
def test_api_bad_input_is_422_and_writes_nothing(client, town, body, code):
    client.force_login(town.operator)
    before = AuditEntry.objects.count()
    resp = client.post("/api/v1/triage", body, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == code and resp.json()["message"]
    assert AuditEntry.objects.count() == before and not TriageModel.objects.exists()


def test_api_needs_a_login(client, town):
    resp = client.post("/api/v1/triage", {"text": "路灯不亮"}, content_type="application/json")
    assert resp.status_code == 401
    resp = client.post("/api/v1/triage", "not json", content_type="application/json")
    assert resp.status_code in (401, 422)
