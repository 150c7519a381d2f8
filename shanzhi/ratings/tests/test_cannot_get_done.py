"""办不成事: straight to the supervisors with a working-day clock, escalated by the sweep."""

from __future__ import annotations

import datetime as dt

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.notify.models import Message
from shanzhi.ratings.models import CannotGetDoneReport, ReportStatus
from shanzhi.ratings.selectors import cannot_get_done_get, cannot_get_done_list
from shanzhi.ratings.services import (
    cannot_get_done_report,
    cannot_get_done_resolve,
    cannot_get_done_respond,
    cannot_get_done_sweep,
)
from shanzhi.ratings.tests.ratings_setup import TZ

FRIDAY = dt.datetime(2026, 11, 27, 10, 0, tzinfo=TZ)


def report(world, **kw):
    args = {
        "actor": None,
        "what": "给母亲办高龄津贴,跑了两趟都说材料不全,没人说清缺什么",
        "where": "青石镇便民服务中心",
        "phone": "139 0578 1234",
        "name": "王女士",
        "region_code": world.county.town_a.code,
    }
    args.update(kw)
    return cannot_get_done_report(**args)


def test_report_goes_to_the_supervisors_with_a_working_day_clock(world, clock):
    clock.set(FRIDAY)
    r = report(world)
    assert r.number == f"BC20261127{r.pk:06d}" and r.status == ReportStatus.OPEN
    assert r.contact_phone == "13905781234" and r.region == world.county.town_a and r.channel == "web"
    assert r.respond_by == dt.datetime(2026, 11, 30, 17, 30, tzinfo=TZ)  # next working day: Monday
    assert r.resolve_by == dt.datetime(2026, 12, 4, 17, 30, tzinfo=TZ)  # 5th working day
    told = set(
        Message.objects.filter(kind="rating.cannot_get_done").values_list("recipient__username", flat=True)
    )
    assert told == {"r-supervisor", "r-supervisor-a"}
    sms = Message.objects.get(kind="rating.cannot_get_done_received", channel="sms")
    assert sms.phone == "13905781234" and r.number in sms.body and "2026-11-30 17:30" in sms.body
    assert AuditEntry.objects.filter(action="cannot_get_done.report", object_id=str(r.pk)).count() == 1


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"phone": ""}, "phone_required"),
        ({"phone": "1234567"}, "invalid_mobile"),
        ({"phone": "23905781234"}, "invalid_mobile"),
        ({"what": "   "}, "invalid_what"),
        ({"what": "x" * 2001}, "invalid_what"),
        ({"region_code": "999999999999"}, "invalid_region"),
        ({"channel": "pigeon"}, "invalid_channel"),
    ],
)
def test_bad_reports_are_refused_and_change_nothing(world, kw, code):
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as err:
        report(world, **kw)
    assert err.value.code == code
    assert not CannotGetDoneReport.objects.exists() and AuditEntry.objects.count() == before
    assert not Message.objects.exists()


def test_a_resident_may_report_without_a_phone_and_one_phone_is_limited_per_day(world):
    r = report(world, actor=world.resident, phone="", region_code="")
    assert r.reporter == world.resident and r.region == world.county.village_a1 and r.contact_phone == ""
    assert Message.objects.filter(kind="rating.cannot_get_done_received", recipient=world.resident).exists()
    for _ in range(5):
        report(world, phone="13905780000")
    with pytest.raises(ServiceError) as err:
        report(world, phone="13905780000")
    assert err.value.status == 429
    assert CannotGetDoneReport.objects.filter(contact_phone="13905780000").count() == 5


def test_sweep_escalates_each_step_once(world, clock):
    clock.set(FRIDAY)
    slow = report(world)
    answered = report(world, phone="13905781235")
    fixed = report(world, phone="13905781236")
    clock.set(FRIDAY + dt.timedelta(hours=1))
    cannot_get_done_respond(actor=world.supervisor_a, report=answered, response="已电话联系,周一补办")
    cannot_get_done_resolve(actor=world.supervisor_a, report=fixed, resolution="当场补齐材料,已办结")

    assert cannot_get_done_sweep(now=slow.respond_by).total() == 0
    after_respond = slow.respond_by + dt.timedelta(seconds=1)
    swept = cannot_get_done_sweep(now=after_respond)
    assert (swept.respond, swept.resolve) == (1, 0)
    assert cannot_get_done_sweep(now=after_respond + dt.timedelta(hours=2)).total() == 0
    slow.refresh_from_db()
    assert slow.respond_escalated_at == after_respond
    first = set(
        Message.objects.filter(kind="rating.cannot_get_done_escalated").values_list(
            "recipient__username", flat=True
        )
    )
    assert first == {"r-supervisor", "r-supervisor-a", "r-leader-a"}

    after_resolve = slow.resolve_by + dt.timedelta(minutes=1)
    swept = cannot_get_done_sweep(now=after_resolve)
    assert (swept.respond, swept.resolve) == (0, 2)  # the slow one and the one only answered
    assert cannot_get_done_sweep(now=after_resolve).total() == 0
    fixed.refresh_from_db()
    assert fixed.resolve_escalated_at is None and fixed.status == ReportStatus.RESOLVED
    assert fixed.responded_at is not None  # resolving answers an open report too
    escalated = Message.objects.filter(kind="rating.cannot_get_done_escalated", object_id=str(slow.pk))
    assert {m.recipient.get_username() for m in escalated if m.recipient and "5 个工作日" in m.body} == {
        "r-supervisor",
        "r-supervisor-a",
        "r-leader-a",
    }
    assert AuditEntry.objects.filter(action="cannot_get_done.escalate_resolve").count() == 2
    # the resident heard at each answer
    assert Message.objects.filter(kind="rating.cannot_get_done_answered", channel="sms").count() == 2


def test_queue_is_the_supervisors_and_by_jurisdiction(world):
    r = report(world)
    far = report(world, region_code=world.county.town_b.code, phone="13905781299")
    assert set(cannot_get_done_list(user=world.supervisor)) == {r, far}
    assert list(cannot_get_done_list(user=world.supervisor_a)) == [r]
    with pytest.raises(NotFound):
        cannot_get_done_get(user=world.supervisor_a, pk=far.pk)
    with pytest.raises(NotFound):
        cannot_get_done_respond(actor=world.supervisor_b, report=r, response="越权")
    for user in (world.leader_a, world.urban_handler, world.resident):
        with pytest.raises(NotFound):
            cannot_get_done_list(user=user)
    with pytest.raises(ServiceError):
        cannot_get_done_respond(actor=world.supervisor_a, report=r, response="")
    r.refresh_from_db()
    assert r.status == ReportStatus.OPEN
    r = cannot_get_done_resolve(actor=world.supervisor_a, report=r, resolution="已办结")
    with pytest.raises(ServiceError) as err:
        cannot_get_done_respond(actor=world.supervisor_a, report=r, response="再响应")
    assert err.value.status == 409
