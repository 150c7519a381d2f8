"""Delivery against real local servers: an HTTP SMS provider (success, 500 → retries → failed,
timeout) and SMTP (Django's locmem backend, and a real SMTP conversation on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import email
import logging

import pytest
from django.core import mail
from django.db import transaction

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.core.errors import ServiceError
from shanzhi.notify.models import Message, MessageAttempt, MessageStatus
from shanzhi.notify.services import (
    BACKOFF,
    _claim,
    message_deliver,
    message_deliver_due,
    message_queue,
    message_requeue,
)
from shanzhi.notify.tests.servers import MailServer, SmsProvider, sms_provider, smtp_server

PHONE = "13812345678"


@pytest.fixture
def provider(settings):
    with sms_provider() as p:
        settings.NOTIFY_SMS_URL = p.url
        settings.NOTIFY_SMS_KEY = "test-key-123"
        settings.NOTIFY_SMS_SIGN = "善水县政务服务"
        settings.NOTIFY_SMS_TIMEOUT = 2
        yield p


def queue_sms(capture, body="您反映的问题已办结,请评价", **kw):
    """Queue inside a transaction and run its on-commit delivery, as a service would."""
    with capture(execute=True), transaction.atomic():
        message = message_queue(channel="sms", kind="case.rate", body=body, phone=PHONE, **kw)
    message.refresh_from_db()
    return message


def test_sms_is_posted_to_the_provider_and_recorded(db, provider, django_capture_on_commit_callbacks, caplog):
    caplog.set_level(logging.INFO, logger="shanzhi.notify")
    message = queue_sms(django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.DELIVERED and message.delivered_at is not None
    assert message.attempts == 1 and message.provider_id == "prov-1" and message.next_attempt_at is None
    (sent,) = provider.requests
    assert sent["api_key"] == "test-key-123" and sent["content_type"].startswith("application/json")
    assert sent["json"] == {"phone": PHONE, "text": "您反映的问题已办结,请评价", "sign": "善水县政务服务"}
    (attempt,) = MessageAttempt.objects.filter(message=message)
    assert attempt.ok and attempt.number == 1 and attempt.provider_id == "prov-1"
    assert AuditEntry.objects.filter(action="message.attempt", object_id=str(message.pk)).count() == 1
    # the log names the message, never the full number
    assert "138****5678" in caplog.text and PHONE not in caplog.text


def test_a_500_is_retried_with_backoff_and_fails_after_three_attempts(
    db, provider, django_capture_on_commit_callbacks
):
    provider.status = 500
    message = queue_sms(django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.last_error == "短信服务商返回 HTTP 500"
    first = MessageAttempt.objects.get(message=message, number=1).at
    assert message.next_attempt_at == first + BACKOFF[0]

    assert message_deliver_due(now=first + dt.timedelta(seconds=30)) == 0  # not yet
    second = message.next_attempt_at + dt.timedelta(seconds=1)
    assert message_deliver_due(now=second) == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == second + BACKOFF[1]
    assert message_deliver_due(now=second + dt.timedelta(minutes=4)) == 0

    third = message.next_attempt_at
    assert message_deliver_due(now=third) == 1
    message.refresh_from_db()
    assert (
        message.status == MessageStatus.FAILED and message.attempts == 3 and message.next_attempt_at is None
    )
    assert len(provider.requests) == 3
    assert list(MessageAttempt.objects.filter(message=message).values_list("number", "ok")) == [
        (1, False),
        (2, False),
        (3, False),
    ]
    assert message_deliver_due(now=third + dt.timedelta(days=1)) == 0  # failed stays failed
    assert len(provider.requests) == 3


def test_a_provider_that_does_not_answer_in_time_is_a_failed_attempt(
    db, settings, django_capture_on_commit_callbacks
):
    with sms_provider(SmsProvider(delay=1.5)) as slow:
        settings.NOTIFY_SMS_URL = slow.url
        settings.NOTIFY_SMS_TIMEOUT = 0.3
        message = queue_sms(django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.last_error == "短信服务商 0.3 秒内无响应"
    assert MessageAttempt.objects.get(message=message).duration_ms < 1400


def test_a_provider_that_cannot_be_reached_is_a_failed_attempt(
    db, settings, django_capture_on_commit_callbacks
):
    with sms_provider() as gone:
        url = gone.url
    settings.NOTIFY_SMS_URL = url  # the server is closed now: connection refused
    message = queue_sms(django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.QUEUED and message.last_error.startswith("无法连接短信服务商")


def test_without_a_provider_sms_stay_in_the_outbox(db, settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_SMS_URL = ""
    message = queue_sms(django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.QUEUED and message.attempts == 0
    assert message_deliver(message_id=message.pk) == "skipped"
    assert message_deliver_due() == 0
    assert not MessageAttempt.objects.exists()


def test_only_one_worker_claims_a_message(db, provider):
    message = message_queue(channel="sms", kind="case.rate", body="x", phone=PHONE)
    now = message.next_attempt_at
    assert now is not None
    assert _claim(message.pk, now=now) is True
    assert _claim(message.pk, now=now) is False  # leased to the first
    assert message_deliver(message_id=message.pk, now=now) == "skipped"


def test_a_failed_message_is_requeued_by_an_administrator(
    db, county, provider, django_capture_on_commit_callbacks
):
    provider.status = 503
    message = queue_sms(django_capture_on_commit_callbacks)
    for _ in range(2):
        message_deliver_due(now=message.next_attempt_at)
        message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    admin = make_user(username="n-admin", region=county.county, roles=["admin"])
    clerk = make_user(username="n-clerk", region=county.county, roles=["clerk"])
    with pytest.raises(ServiceError):
        message_requeue(actor=clerk, message=message)
    provider.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        message_requeue(actor=admin, message=message)
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.attempts == 1
    with pytest.raises(ServiceError) as err:
        message_requeue(actor=admin, message=message)
    assert err.value.status == 409


def test_email_through_djangos_test_backend(db, county, django_capture_on_commit_callbacks):
    user = make_user(username="n-mail", region=county.county, roles=["leader"])
    user.email = "leader@example.gov.cn"
    user.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = message_queue(
            channel="email", kind="case.escalation", body="案卷超期未办结", recipient=user
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.email == "leader@example.gov.cn"
    (sent,) = mail.outbox
    assert (
        sent.to == ["leader@example.gov.cn"] and sent.subject == "案卷通知" and sent.body == "案卷超期未办结"
    )


def test_email_through_a_real_smtp_conversation(db, settings, django_capture_on_commit_callbacks):
    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.NOTIFY_EMAIL_ENABLED = True
        settings.DEFAULT_FROM_EMAIL = "noreply@shanshui.gov.cn"
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message = message_queue(
                channel="email", kind="application.done", body="您的申请已办结", email="zhang@example.cn"
            )
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    (got,) = server.messages
    assert got["from"] == "<noreply@shanshui.gov.cn>" and got["to"] == ["<zhang@example.cn>"]
    parsed = email.message_from_bytes(got["data"])
    payload = parsed.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode(parsed.get_content_charset() or "utf-8").strip() == "您的申请已办结"
    assert str(email.header.make_header(email.header.decode_header(parsed["Subject"]))) == "办件通知"


def test_a_refused_recipient_is_a_failed_attempt_without_the_address(
    db, settings, django_capture_on_commit_callbacks
):
    with smtp_server(MailServer(refuse_recipient=True)) as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.NOTIFY_EMAIL_ENABLED = True
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message = message_queue(
                channel="email", kind="case.rate", body="请评价", email="zhang.san@example.cn"
            )
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert "SMTPRecipientsRefused" in message.last_error and "zhang.san" not in message.last_error
    assert not server.messages


def test_email_waits_in_the_outbox_while_smtp_is_not_configured(
    db, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "localhost"  # Django's default: nobody configured a server
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = message_queue(channel="email", kind="case.rate", body="请评价", email="a@example.cn")
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 0


def test_queueing_needs_an_address_for_the_channel(db):
    with pytest.raises(ValueError):
        message_queue(channel="sms", kind="case.rate", body="x")
    with pytest.raises(ValueError):
        message_queue(channel="email", kind="case.rate", body="x")
    with pytest.raises(ValueError):
        message_queue(channel="in_app", kind="case.rate", body="x")
    with pytest.raises(ValueError):
        message_queue(channel="fax", kind="case.rate", body="x", phone=PHONE)
    assert not Message.objects.exists()
