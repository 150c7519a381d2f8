"""message_queue_batch: messages with their own texts in one bulk insert; ids taken up front, so
they come back in the caller's order without reading rows back (no "ids above the maximum")."""

from __future__ import annotations

from shanzhi.conftest import make_user
from shanzhi.notify.models import Message, MessageChannel, MessageStatus
from shanzhi.notify.services import Outgoing, Recipient, message_queue, message_queue_batch


def test_own_texts_in_order_with_ids(county, django_capture_on_commit_callbacks):
    a = make_user(username="qb-a", region=county.county, roles=["leader"])
    b = make_user(username="qb-b", region=county.county, roles=["leader"])
    batch = [
        Outgoing(recipient=Recipient(user=a), body="你有 2 项任务", obj=county.county, subject="任务"),
        Outgoing(recipient=Recipient(user=b), body="你有 1 项任务", obj=county.town_a),
        Outgoing(recipient=Recipient(user=a), body="你有 2 项任务", obj=county.county, subject="任务"),
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ids = message_queue_batch(channel=MessageChannel.IN_APP, kind="emergency.task", messages=batch)
    assert callbacks == []  # in-app: nothing to hand to a worker
    rows = [Message.objects.get(pk=pk) for pk in ids]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [(m.recipient, m.body, m.subject) for m in rows] == [
        (a, "你有 2 项任务", "任务"),
        (b, "你有 1 项任务", ""),
        (a, "你有 2 项任务", "任务"),
    ]
    assert [m.object_id for m in rows] == [
        str(county.county.pk),
        str(county.town_a.pk),
        str(county.county.pk),
    ]
    assert all(m.status == MessageStatus.DELIVERED and m.delivered_at for m in rows)


def test_ids_never_reuse_and_single_messages_follow(county):
    first = message_queue(channel=MessageChannel.SMS, kind="x.y", body="一", phone="13900000001")
    first_id = first.pk
    first.delete()  # the highest id is gone; a new message must still not take it
    ids = message_queue_batch(
        channel=MessageChannel.SMS,
        kind="x.y",
        messages=[
            Outgoing(recipient=Recipient(phone=f"1390000000{n}"), body=f"第{n}条") for n in range(2, 5)
        ],
    )
    assert min(ids) > first_id
    assert list(Message.objects.filter(pk__in=ids).order_by("pk").values_list("phone", "body")) == [
        ("13900000002", "第2条"),
        ("13900000003", "第3条"),
        ("13900000004", "第4条"),
    ]
    after = message_queue(channel=MessageChannel.SMS, kind="x.y", body="后", phone="13900000005")
    assert after.pk > max(ids)  # the sequence moved past the ids we took
    assert (
        Message.objects.filter(pk__in=ids, status=MessageStatus.QUEUED, next_attempt_at__isnull=False).count()
        == 3
    )
