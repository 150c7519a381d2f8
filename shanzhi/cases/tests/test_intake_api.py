"""POST /api/v1/cases: triage, place from the address, idempotency, photos checked by content."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from shanzhi.cases.models import Attachment, Case, CaseStatus
from shanzhi.conftest import make_user
from shanzhi.core.services import staff_create
from shanzhi.triage.models import TriageSettings


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def operator(loop):
    return make_user(username="l-operator", region=loop.county.county, roles=["operator"])


def post_case(client, body, **headers):
    return client.post("/api/v1/cases", data=body, content_type="application/json", **headers)


def test_hotline_intake_triages_and_places(loop, client, operator):
    client.force_login(operator)
    resp = post_case(
        client,
        {
            "channel": "hotline",
            "text": "市民来电反映:上溪村村口马路边的垃圾桶满了好几天没人清运,臭气熏天",
            "address": "青石镇上溪村村口",
            "reporter_phone": "13812345678",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["region"] == "331199101201"
    assert body["suggested_category"] in {"0101", "1301"}
    assert body["suggestion"]["top3"][0]["category"] == body["suggested_category"]
    assert body["reporter_phone"] == "13812345678"  # the operator calls back


def test_idempotency_key_returns_first_case(loop, client, operator):
    client.force_login(operator)
    body = {"channel": "hotline", "text": "路灯不亮了,晚上很黑", "address": "上溪村"}
    first = post_case(client, body, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = post_case(client, body, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1
    other = post_case(client, {**body, "text": "另一件事"}, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_photos_are_checked_by_content(loop, client, operator):
    client.force_login(operator)
    good = base64.b64encode(png_bytes()).decode()
    fake = base64.b64encode(b"\xff\xd8\xff" + b"not really a jpeg" * 10).decode()
    text = base64.b64encode(b"hello").decode()
    base = {"channel": "hotline", "text": "井盖丢了", "address": "上溪村"}
    for photos, code in [
        ([{"filename": "a.jpg", "content_base64": fake}], "photo_corrupt"),
        ([{"filename": "a.png", "content_base64": text}], "photo_type"),
        ([{"filename": "a.png", "content_base64": "%%%"}], "photo_encoding"),
    ]:
        resp = post_case(client, {**base, "photos": photos})
        assert resp.status_code == 400 and resp.json()["code"] == code
    assert Case.objects.count() == 0
    resp = post_case(client, {**base, "photos": [{"filename": "ok.png", "content_base64": good}]})
    assert resp.status_code == 201
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/png" and attachment.stage == "intake"


def test_oversized_photo_is_refused(loop, client, operator):
    client.force_login(operator)
    big = png_bytes() + b"\0" * (10 * 1024 * 1024)
    resp = post_case(
        client,
        {
            "channel": "hotline",
            "text": "照片太大",
            "photos": [{"filename": "big.png", "content_base64": base64.b64encode(big).decode()}],
        },
    )
    assert resp.status_code in (400, 413)
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "hotline"}, 422, "invalid_input"),
        ({"channel": "hotline", "text": "   "}, 400, "text_required"),
        ({"channel": "hotline", "text": "长" * 4001}, 400, "text_too_long"),
        ({"channel": "hotline", "text": "x", "lat": 28.3}, 422, "invalid_coordinates"),
        ({"channel": "hotline", "text": "x", "lat": "north"}, 422, "invalid_input"),
        ({"channel": "hotline", "text": "x", "reporter_phone": "123"}, 400, "invalid_mobile"),
        ({"channel": "pigeon", "text": "x"}, 422, "invalid_input"),
        ({"channel": "hotline", "text": "路灯\u0000不亮"}, 422, "invalid_character"),
        ({"channel": "hotline", "text": "路灯不亮", "address": "上溪\u0000村"}, 422, "invalid_character"),
    ],
)
def test_bad_intake_is_clear_and_writes_nothing(loop, client, operator, body, status, code):
    client.force_login(operator)
    resp = post_case(client, body)
    assert resp.status_code == status, resp.content
    assert resp.json()["code"] == code
    assert Case.objects.count() == 0


def test_channel_follows_the_role(loop, client):
    client.force_login(loop.resident)
    resp = post_case(client, {"channel": "hotline", "text": "我要反映路灯不亮"})
    assert resp.status_code == 403 and resp.json()["code"] == "channel_forbidden"
    resp = post_case(client, {"channel": "app", "text": "我家楼下路灯不亮好几天了", "address": "上溪村"})
    assert resp.status_code == 201
    assert Case.objects.get().reporter == loop.resident


def test_sensor_reports_with_its_token(loop, client):
    from shanzhi.core.tokens import token_create

    device = staff_create(
        actor=None,
        username="camera-17",
        password=None,
        name="消防通道摄像头 17",
        region=loop.county.county,
        roles=["sensor"],
    ).user
    _token, plain = token_create(actor=None, user=device, name="camera")
    resp = client.post(
        "/api/v1/cases",
        data={
            "channel": "sensor",
            "text": "AI识别:消防通道有车辆停放超过10分钟",
            "device": "CAM-17",
            "address": "上溪村",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["channel"] == "sensor"


def test_confident_triage_dispatches_at_once(loop, client, operator):
    TriageSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch_threshold": 0.0})
    client.force_login(operator)
    resp = post_case(
        client, {"channel": "hotline", "text": "饭店卖的熟食过期变质了,吃了拉肚子", "address": "上溪村"}
    )
    body = resp.json()
    assert body["status"] == CaseStatus.DISPATCHED, body
    assert body["assignments"][0]["handler"] == "market"
    assert any("智能分拨自动派遣" in e["note"] for e in body["timeline"])
