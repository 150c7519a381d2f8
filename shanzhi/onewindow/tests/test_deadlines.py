"""Promised deadlines by the working-day calendar, the correction pause, and the escalation sweep."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command

from shanzhi.audit.models import AuditEntry
from shanzhi.core.workcal import TZ
from shanzhi.notify.models import Message
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow.deadlines import closed_pauses, promised_deadline, set_thresholds
from shanzhi.onewindow.escalation import application_sweep
from shanzhi.onewindow.models_applications import Application
from shanzhi.onewindow.tests.window_setup import accepted, in_review


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def test_deadline_skips_the_national_day_holiday_and_counts_the_make_up_saturday():
    # Accepted Tuesday 30 Sep 2025, 5 working days: 1–8 Oct are holidays, Sat 11 Oct is a
    # make-up workday → 9, 10, 11, 13, 14 October, at the end of office hours.
    assert promised_deadline(start=at(2025, 9, 30, 10, 0), days=5) == at(2025, 10, 14, 17, 30)
    # The start day never counts, however early.
    assert promised_deadline(start=at(2025, 9, 29, 8, 0), days=1) == at(2025, 9, 30, 17, 30)
    # 即办 (0 days) taken in on a holiday is due at the end of the next working day.
    assert promised_deadline(start=at(2025, 10, 3, 9, 0), days=0) == at(2025, 10, 9, 17, 30)
    assert promised_deadline(start=at(2025, 10, 9, 9, 0), days=0) == at(2025, 10, 9, 17, 30)


def test_a_correction_pause_moves_the_deadline_by_the_office_time_it_took(people, catalog):
    app = accepted(people, catalog)
    app.clock_started_at = at(2025, 9, 30, 10, 0)
    app.promised_days = 5
    app.pauses = []
    set_thresholds(app)
    assert app.deadline == at(2025, 10, 14, 17, 30)
    assert app.warn_at and app.deadline and app.county_at
    assert app.warn_at < app.deadline < app.county_at
    # Waiting for the applicant from Thursday 9 Oct 9:00 to Friday 10 Oct 9:00: one office day.
    app.pauses = [[at(2025, 10, 9, 9, 0).isoformat(), at(2025, 10, 10, 9, 0).isoformat()]]
    set_thresholds(app)
    assert closed_pauses(app)
    assert app.deadline == at(2025, 10, 15, 17, 30)
    # An open pause (correction still awaited) is not counted yet.
    app.pauses = [[at(2025, 10, 9, 9, 0).isoformat(), None]]
    set_thresholds(app)
    assert app.deadline == at(2025, 10, 14, 17, 30)


def _told(app: Application, kind: str) -> set[str]:
    return set(
        Message.objects.filter(object_id=str(app.pk), kind=kind, channel="in_app").values_list(
            "recipient__username", flat=True
        )
    )


def test_sweep_warns_escalates_and_tells_the_county_once_each(people, catalog):
    app = accepted(people, catalog)
    assert app.warn_at and app.deadline and app.county_at
    assert application_sweep(now=app.accepted_at).total() == 0
    audit_before = AuditEntry.objects.count()
    first = application_sweep(now=app.warn_at + dt.timedelta(minutes=1))
    assert (first.warning, first.escalation, first.county) == (1, 0, 0)
    assert application_sweep(now=app.warn_at + dt.timedelta(minutes=2)).total() == 0  # idempotent
    assert _told(app, "application.warning") == {"approver-hrss"}
    second = application_sweep(now=app.deadline + dt.timedelta(minutes=1))
    assert (second.warning, second.escalation, second.county) == (0, 1, 0)
    assert _told(app, "application.escalation") == {"approver-hrss", "supervisor"}
    third = application_sweep(now=app.county_at + dt.timedelta(minutes=1))
    assert (third.warning, third.escalation, third.county) == (0, 0, 1)
    assert application_sweep(now=app.county_at + dt.timedelta(days=30)).total() == 0
    assert AuditEntry.objects.count() - audit_before == 3
    actions = list(app.events.values_list("action", flat=True))
    assert actions[-3:] == ["warning", "escalation", "county"]
    app.refresh_from_db()
    assert app.warned_at and app.escalated_at and app.county_escalated_at


def test_sweep_skips_decided_and_paused_applications_and_a_late_decision_is_not_on_time(people, catalog):
    waiting = in_review(people, catalog)
    svc.application_request_correction(actor=people.approver, application=waiting, items=["补充银行卡号"])
    decided = in_review(people, catalog)
    svc.application_approve(actor=people.approver, application=decided)
    assert waiting.county_at is not None
    far = waiting.county_at + dt.timedelta(days=60)
    assert application_sweep(now=far).total() == 0
    late = in_review(people, catalog)
    Application.objects.filter(pk=late.pk).update(deadline=late.accepted_at)  # due already
    late = svc.application_approve(actor=people.approver, application=late)
    assert late.on_time is False


def test_command_runs_the_sweep(people, catalog):
    out = io.StringIO()
    call_command("onewindow", "sweep", stdout=out)
    assert "临期预警 0 件" in out.getvalue()
