"""The demo's applications half on the full demo county: every state the pages show, a queue
morning near the 15-minute target, and a second run that writes nothing."""

from __future__ import annotations

import io

from shanzhi.audit.models import AuditEntry
from shanzhi.core.demo import load_demo as load_core
from shanzhi.onewindow import queue
from shanzhi.onewindow.demo import load_demo
from shanzhi.onewindow.models_applications import Application, HomeVisit, ProxyConsent
from shanzhi.onewindow.models_queue import QueueTicket, ServiceWindow
from shanzhi.ratings.models import Rating


def test_demo_applications_once(db):
    load_core(stdout=io.StringIO())
    out = io.StringIO()
    load_demo(stdout=out)
    assert "演示办件新增 7 组" in out.getvalue(), out.getvalue()
    parents = Application.objects.filter(parent__isnull=True)
    statuses = set(parents.values_list("status", flat=True))
    assert statuses == {"accepted", "in_review", "not_accepted", "finished", "submitted", "draft"}
    late = parents.get(item__basic_code="JF30004000")
    assert late.escalated_at and late.county_escalated_at  # a month overdue: the sweep escalated it
    newborn = parents.get(bundle__code="newborn")
    parts = list(newborn.children.order_by("number").values_list("status", flat=True))
    assert parts == ["approved", "accepted", "accepted", "waiting", "waiting"]
    assert ProxyConsent.objects.count() == 1 and HomeVisit.objects.count() == 1
    assert Rating.objects.filter(object_type="application").count() == 1
    assert ServiceWindow.objects.count() == 7 and QueueTicket.objects.filter(status="done").count() == 24
    from django.contrib.auth import get_user_model

    clerk = get_user_model().objects.get(username="clerk")
    day = QueueTicket.objects.values_list("day", flat=True).first()
    assert day is not None
    total = queue.window_stats(user=clerk, since=day, until=day)[-1]
    assert total.waited == 24 and total.avg_wait_minutes is not None and 8 <= total.avg_wait_minutes <= 20
    before = (Application.objects.count(), QueueTicket.objects.count(), AuditEntry.objects.count())
    again = io.StringIO()
    load_demo(stdout=again)
    assert (Application.objects.count(), QueueTicket.objects.count(), AuditEntry.objects.count()) == before
    assert "演示办件新增 0 组" in again.getvalue()
