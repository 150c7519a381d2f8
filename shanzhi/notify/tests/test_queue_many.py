"""message_queue_many: one wording, bulk insert in the given order, ids back, delivery on commit."""

from __future__ import annotations

import pytest

from shanzhi.conftest import make_user
from shanzhi.notify.models import Message, MessageChannel, MessageStatus
from shanzhi.notify.services import Recipient, message_queue_many


def test_sms_in_order_with_ids(county, django_capture_on_commit_callbacks):
    phones = [f"1390000{n:04d}" for n in range(25)]
    with django_capture_on_commit_callbacks(execute=True):
        ids = message_queue_many(
            channel=MessageChannel.SMS,
            kind="warning.alert",
            body="台风预警",
            recipients=[Recipient(phone=p) for p in phones],
            obj=county.county,
        )
    rows = list(Message.objects.filter(pk__in=ids).order_by("pk"))
    assert [m.pk for m in rows] == ids and [m.phone for m in rows] == phones
    assert all(m.status == MessageStatus.QUEUED and m.body == "台风预警" for m in rows)
    assert {m.object_id for m in rows} == {str(county.county.pk)} and rows[0].next_attempt_at is not None


def test_in_app_without_object_and_bad_recipients(county):
    user = make_user(username="q-many", region=county.county, roles=["leader"])
    ids = message_queue_many(
        channel=MessageChannel.IN_APP, kind="warning.defence", body="清单", recipients=[Recipient(user=user)]
    )
    message = Message.objects.get(pk=ids[0])
    assert message.recipient == user and message.status == MessageStatus.DELIVERED
    assert message_queue_many(channel=MessageChannel.SMS, kind="x.y", body="b", recipients=[]) == []
    with pytest.raises(ValueError):
        message_queue_many(channel=MessageChannel.SMS, kind="x.y", body="b", recipients=[Recipient()])
    with pytest.raises(ValueError):
        message_queue_many(
            channel=MessageChannel.IN_APP, kind="x.y", body="b", recipients=[Recipient(phone="1")]
        )
