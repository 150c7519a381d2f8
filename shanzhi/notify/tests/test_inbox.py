"""The inbox (page and API), templates edited in the back office, and the masked outbox admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.notify.models import Message, MessageTemplate
from shanzhi.notify.services import message_mark_read, message_queue, message_send, message_template_save
from shanzhi.notify.wording import forget_stored_templates, render


@pytest.fixture
def people(county):
    return (
        make_user(username="n-a", region=county.town_a, roles=["handler"]),
        make_user(username="n-b", region=county.town_b, roles=["handler"]),
    )


def test_inbox_page_lists_unread_first_and_marks_read(client, people):
    me, other = people
    old = message_queue(channel="in_app", kind="case.dispatch", body="旧消息", recipient=me, subject="派遣")
    new = message_queue(channel="in_app", kind="case.rework", body="新消息", recipient=me)
    theirs = message_queue(channel="in_app", kind="case.rework", body="别人的消息", recipient=other)
    message_mark_read(actor=me, message_id=new.pk)
    client.force_login(me)
    page = client.get(reverse("notify:inbox"))
    html = page.content.decode()
    assert page.status_code == 200 and "别人的消息" not in html
    assert html.index("旧消息") < html.index("新消息")  # unread first although older
    assert "您有 <strong>1</strong> 条未读消息" in html

    assert client.post(reverse("notify:read", args=[theirs.pk])).status_code == 404
    assert Message.objects.get(pk=theirs.pk).read_at is None
    assert client.get(reverse("notify:read", args=[old.pk])).status_code == 405  # POST only
    response = client.post(reverse("notify:read", args=[old.pk]))
    assert response.status_code == 302 and Message.objects.get(pk=old.pk).read_at is not None
    assert AuditEntry.objects.filter(action="message.read", object_id=str(old.pk)).count() == 1


def test_inbox_api(client, people):
    me, other = people
    for n in range(3):
        message_queue(channel="in_app", kind="case.rework", body=f"消息{n}", recipient=me)
    theirs = message_queue(channel="in_app", kind="case.rework", body="x", recipient=other)
    client.force_login(me)
    data = client.get("/api/v1/notify/inbox").json()
    assert data["total"] == 3 and data["unread"] == 3
    first = data["items"][0]["id"]
    assert client.post(f"/api/v1/notify/messages/{first}/read").json()["read_at"] is not None
    assert client.post(f"/api/v1/notify/messages/{theirs.pk}/read").status_code == 404
    assert client.get("/api/v1/notify/inbox?unread=true").json()["total"] == 2
    assert client.post("/api/v1/notify/inbox/read-all").json() == {"count": 2}
    assert client.get("/api/v1/notify/outbox").status_code == 404  # administrators only
    client.logout()
    assert client.get("/api/v1/notify/inbox").status_code == 401


def test_mark_read_refuses_someone_elses_message(people):
    me, other = people
    theirs = message_queue(channel="in_app", kind="case.rework", body="x", recipient=other)
    with pytest.raises(NotFound):
        message_mark_read(actor=me, message_id=theirs.pk)


def test_templates_word_messages_and_are_edited_with_an_audit_entry(people, county):
    me, _ = people
    admin = make_user(username="n-admin", region=county.county, roles=["admin"])
    family = MessageTemplate.objects.get(code="case.*", channel="sms")  # seeded by the migration
    family.body = "【善水县】{body} 回复T退订 {body.__class__} {unknown}"
    message_template_save(actor=admin, template=family)
    sms = message_queue(channel="sms", kind="case.rate", body="请评价", phone="13812345678")
    # placeholders are names only: no attribute access, unknown ones stay visible
    assert sms.body == "【善水县】请评价 回复T退订 {body.__class__} {unknown}"
    exact = MessageTemplate(code="case.rate", channel="sms", body="评价:{body}")
    message_template_save(actor=admin, template=exact)
    assert render(code="case.rate", channel="sms", context={"body": "好"}).body == "评价:好"
    with pytest.raises(ServiceError) as err:
        message_template_save(
            actor=admin, template=MessageTemplate(code="case.rate", channel="sms", body="y")
        )
    assert err.value.status == 409
    with pytest.raises(ServiceError):
        message_template_save(actor=admin, template=MessageTemplate(code="Bad Code", channel="sms", body="y"))
    with pytest.raises(ServiceError):
        message_template_save(actor=me, template=MessageTemplate(code="case.x", channel="sms", body="y"))
    assert AuditEntry.objects.filter(action="message_template.save").count() == 2
    # a kind's own default when there is no row, and "{body}" when there is no template at all
    MessageTemplate.objects.filter(code="rating.rectified", channel="in_app").update(body="行:{result}")
    forget_stored_templates()
    assert render(code="rating.rectified", channel="in_app", context={"result": "好"}).body == "行:好"
    MessageTemplate.objects.filter(code="rating.rectified").delete()
    forget_stored_templates()
    msg = message_send(
        kind="rating.rectified",
        channel="in_app",
        context={"object": "诉求 A", "result": "已修复"},
        recipient=me,
    )
    assert msg.body == "您对诉求 A的评价已收到整改反馈:已修复。感谢您的监督。" and msg.subject == "整改结果"
    assert render(code="nothing.here", channel="sms", context={"body": "原文"}).body == "原文"


def test_outbox_admin_masks_phones(client, county):
    admin = make_user(username="n-admin", region=county.county, roles=["admin"])
    message_queue(channel="sms", kind="case.rate", body="请评价", phone="13812345678")
    client.force_login(admin)
    page = client.get("/admin/notify/message/")
    html = page.content.decode()
    assert page.status_code == 200 and "138****5678" in html and "13812345678" not in html
    message = Message.objects.get()
    detail = client.get(f"/admin/notify/message/{message.pk}/change/").content.decode()
    assert "138****5678" in detail and "13812345678" not in detail
    outbox = client.get("/api/v1/notify/outbox").json()
    assert outbox["items"][0]["phone"] == "138****5678"
    assert client.get("/admin/notify/messagetemplate/").status_code == 200
