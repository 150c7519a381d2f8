"""Rectification of a bad rating: call-back, fix (told to the rater), overdue sweep, and appeals."""

from __future__ import annotations

import datetime as dt

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.notify.models import Message
from shanzhi.ratings.models import AppealStatus, Rating, Rectification, RectificationStatus
from shanzhi.ratings.services import (
    appeal_decide,
    rating_appeal,
    rating_submit,
    rectification_callback,
    rectification_fix,
    rectification_sweep,
)
from shanzhi.ratings.tests.ratings_setup import PHONE, TZ


def bad_rating(world, level="unsatisfied"):
    case = world.closed_case(reporter=world.resident)
    return rating_submit(
        actor=world.resident, obj_type="case", obj_id=case.number, level=level, comment="没解决"
    )


def test_call_back_then_fix_and_the_rater_is_told(world):
    rect = bad_rating(world).rectification
    with pytest.raises(ServiceError) as err:  # no fix without calling the rater first
        rectification_fix(actor=world.urban_handler, rectification=rect, result="已整改")
    assert err.value.code == "callback_first" and err.value.status == 409
    with pytest.raises(ServiceError):  # what the rater said is required
        rectification_callback(actor=world.urban_handler, rectification=rect, rater_said="  ")
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.OPEN and rect.called_back_at is None

    rect = rectification_callback(
        actor=world.urban_handler_2, rectification=rect, rater_said="居民说摊贩晚上又来,希望夜间巡查"
    )
    assert rect.status == RectificationStatus.CALLED_BACK and rect.called_back_by == world.urban_handler_2
    with pytest.raises(ServiceError) as err:
        rectification_callback(actor=world.urban_handler, rectification=rect, rater_said="再次回访")
    assert err.value.status == 409

    rect = rectification_fix(
        actor=world.urban_leader, rectification=rect, result="已安排夜间巡查两周,摊点已清除"
    )
    assert rect.status == RectificationStatus.FIXED and not rect.fixed_late
    told = Message.objects.filter(kind="rating.rectified")
    assert {(m.channel, m.recipient_id, m.phone) for m in told} == {
        ("in_app", world.resident.pk, ""),
        ("sms", None, PHONE),
    }
    assert all("已安排夜间巡查两周" in m.body for m in told)
    assert list(
        AuditEntry.objects.filter(object_type="ratings.rectification", object_id=str(rect.pk)).values_list(
            "action", flat=True
        )
    ) == ["rectification.open", "rectification.callback", "rectification.fix"]
    with pytest.raises(ServiceError) as err:
        rectification_fix(actor=world.urban_handler, rectification=rect, result="再改")
    assert err.value.status == 409


def test_only_the_unit_or_a_supervisor_over_the_place_acts(world):
    rect = bad_rating(world).rectification
    with pytest.raises(NotFound):  # another township's body does not see it
        rectification_callback(actor=world.town_b_handler, rectification=rect, rater_said="x")
    with pytest.raises(NotFound):  # nor does another township's supervisor
        rectification_callback(actor=world.supervisor_b, rectification=rect, rater_said="x")
    with pytest.raises(PermissionDenied):  # a leader over the place sees it but it is not theirs to do
        rectification_callback(actor=world.leader_a, rectification=rect, rater_said="x")
    rect = rectification_callback(actor=world.supervisor_a, rectification=rect, rater_said="督查回访")
    assert rect.status == RectificationStatus.CALLED_BACK


def test_call_back_time_is_checked(world):
    rect = bad_rating(world).rectification
    tomorrow = rect.opened_at + dt.timedelta(days=1)
    with pytest.raises(ServiceError) as err:
        rectification_callback(
            actor=world.urban_handler, rectification=rect, rater_said="x", called_at=tomorrow
        )
    assert err.value.code == "invalid_time"
    with pytest.raises(ServiceError):
        rectification_callback(
            actor=world.urban_handler,
            rectification=rect,
            rater_said="x",
            called_at=rect.opened_at - dt.timedelta(hours=1),
        )
    rect.refresh_from_db()
    assert rect.called_back_at is None


def test_overdue_sweep_marks_once_and_a_late_fix_is_still_recorded(world, clock):
    clock.set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
    late = bad_rating(world).rectification
    done = bad_rating(world, level="very_unsatisfied").rectification
    rectification_callback(actor=world.urban_handler, rectification=done, rater_said="好的")
    rectification_fix(actor=world.urban_handler, rectification=done, result="已处理")
    assert late.deadline == dt.datetime(2026, 11, 23, 17, 30, tzinfo=TZ)

    assert rectification_sweep(now=late.deadline) == 0  # due at the deadline, not overdue yet
    assert rectification_sweep(now=late.deadline + dt.timedelta(seconds=1)) == 1
    assert rectification_sweep(now=late.deadline + dt.timedelta(days=3)) == 0
    late.refresh_from_db()
    done.refresh_from_db()
    assert late.status == RectificationStatus.OVERDUE and done.status == RectificationStatus.FIXED
    told = set(
        Message.objects.filter(kind="rating.rectification_overdue").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"r-urban", "r-urban-2", "r-urban-leader", "r-supervisor", "r-supervisor-a"}

    clock.set(late.deadline + dt.timedelta(days=4))
    rectification_callback(actor=world.urban_handler, rectification=late, rater_said="接受道歉")
    late.refresh_from_db()
    assert late.status == RectificationStatus.OVERDUE  # still overdue until fixed
    late = rectification_fix(actor=world.urban_handler, rectification=late, result="已处理")
    assert late.status == RectificationStatus.FIXED and late.fixed_late


def test_appeal_upheld_excludes_the_rating_and_withdraws_the_rectification(world):
    rating = bad_rating(world)
    with pytest.raises(NotFound):  # another township's body
        rating_appeal(actor=world.town_b_handler, rating=rating, reason="恶意")
    with pytest.raises(PermissionDenied):  # the supervisor decides appeals, does not file them
        rating_appeal(actor=world.supervisor, rating=rating, reason="恶意")
    appeal = rating_appeal(actor=world.urban_handler, rating=rating, reason="评价人与本案无关,系同行恶意差评")
    assert appeal.status == AppealStatus.PENDING
    assert Message.objects.filter(kind="rating.appeal_filed", recipient=world.supervisor).exists()
    with pytest.raises(ServiceError) as err:
        rating_appeal(actor=world.urban_handler, rating=rating, reason="再申诉")
    assert err.value.status == 409

    with pytest.raises(NotFound):  # another township's supervisor
        appeal_decide(actor=world.supervisor_b, appeal=appeal, uphold=True, note="成立")
    with pytest.raises(PermissionDenied):
        appeal_decide(actor=world.leader_a, appeal=appeal, uphold=True, note="成立")
    with pytest.raises(ServiceError):  # a reason is required
        appeal_decide(actor=world.supervisor_a, appeal=appeal, uphold=True, note="")
    appeal = appeal_decide(actor=world.supervisor_a, appeal=appeal, uphold=True, note="经核实系恶意评价")
    rating.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD and rating.excluded and "恶意" in rating.excluded_reason
    assert Rectification.objects.get(rating=rating).status == RectificationStatus.WITHDRAWN
    assert Message.objects.filter(kind="rating.appeal_decided", recipient=world.urban_handler).exists()
    with pytest.raises(ServiceError) as err:
        appeal_decide(actor=world.supervisor, appeal=appeal, uphold=False, note="改判")
    assert err.value.status == 409


def test_appeal_refused_keeps_the_rating_and_the_rectification(world):
    rating = bad_rating(world)
    appeal = rating_appeal(actor=world.urban_leader, rating=rating, reason="评价不实")
    appeal = appeal_decide(actor=world.supervisor, appeal=appeal, uphold=False, note="评价属实,继续整改")
    rating.refresh_from_db()
    assert appeal.status == AppealStatus.REFUSED and not rating.excluded
    assert rating.rectification.status == RectificationStatus.OPEN


def test_only_bad_ratings_are_appealed(world):
    case = world.closed_case(reporter=world.resident)
    rating = rating_submit(actor=world.resident, obj_type="case", obj_id=case.number, level="basic")
    with pytest.raises(ServiceError) as err:
        rating_appeal(actor=world.urban_handler, rating=rating, reason="x")
    assert err.value.code == "not_bad"
    assert Rating.objects.get(pk=rating.pk).excluded is False
