"""Rating through the service: once, only when finished, only by the rater, five valid levels."""

from __future__ import annotations

import datetime as dt

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.cases import services as case_svc
from shanzhi.cases.models import Case, CaseStatus
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.notify.models import Message
from shanzhi.ratings.models import Rating, Rectification, RectificationStatus
from shanzhi.ratings.services import rating_submit
from shanzhi.ratings.tests.ratings_setup import PHONE, TZ


def _rate(actor, case, level="satisfied", **kw):
    return rating_submit(actor=actor, obj_type="case", obj_id=case.number, level=level, **kw)


def test_rate_a_closed_case_once(world):
    case = world.closed_case(reporter=world.resident)
    before = AuditEntry.objects.count()
    rating = _rate(world.resident, case, "very_satisfied", comment="  处理很及时 ")
    assert (rating.level, rating.comment, rating.channel) == ("very_satisfied", "处理很及时", "app")
    assert rating.rater == world.resident and rating.rater_phone == PHONE and rating.entered_by is None
    assert rating.region == world.county.village_a1 and rating.handler == world.county.dept
    assert rating.staff.user == world.urban_handler  # who reported the primary assignment
    assert rating.object_title.startswith(f"诉求 {case.number}")
    case.refresh_from_db()
    assert case.status == CaseStatus.EVALUATED and case.satisfaction == "very_satisfied"
    actions = list(AuditEntry.objects.filter(index__gte=before).values_list("action", flat=True))
    assert actions == ["rating.submit", "case.rate"]
    assert not Rectification.objects.exists()

    with pytest.raises(ServiceError) as err:
        _rate(world.resident, case, "satisfied")
    assert err.value.status == 409 and err.value.code == "already_rated"
    assert Rating.objects.count() == 1 and AuditEntry.objects.count() == before + 2


def test_only_a_finished_object_is_rated_and_nothing_is_written_otherwise(world):
    case = world.closed_case(reporter=world.resident)
    case = case_svc.case_intake(
        actor=world.resident,
        channel="app",
        text="路灯不亮",
        place=case_svc.Place(region=world.county.village_a1, township=world.county.town_a),
        suggestion=case_svc.Suggestion(),
    )
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as err:
        _rate(world.resident, case)
    assert err.value.status == 409 and err.value.code == "not_finished"
    assert not Rating.objects.exists() and AuditEntry.objects.count() == before
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RECEIVED


def test_only_the_rater_may_rate(world):
    case = world.closed_case(reporter=world.resident)
    with pytest.raises(NotFound):  # another resident does not see the case at all
        _rate(world.resident_b, case)
    with pytest.raises(NotFound):  # an operator of another township neither
        _rate(world.operator_b, case)
    with pytest.raises(PermissionDenied):  # a dispatcher sees it but does not rate for the reporter
        _rate(world.dispatcher, case)
    with pytest.raises(NotFound):
        rating_submit(actor=world.resident, obj_type="application", obj_id="X1", level="satisfied")
    assert not Rating.objects.exists()
    # a hotline operator records the reporter's answer on the phone
    phoned = world.closed_case(reporter=None)
    rating = _rate(world.operator, phoned, "basic")
    assert rating.channel == "hotline" and rating.rater is None and rating.rater_phone == PHONE
    assert rating.entered_by == world.operator


def test_the_system_rates_from_an_sms_reply_only_with_the_reporters_phone(world):
    case = world.closed_case(reporter=None)
    with pytest.raises(NotFound):
        _rate(None, case, phone="13900000000")
    rating = _rate(None, case, "satisfied", phone=PHONE, channel="sms")
    assert rating.channel == "sms" and rating.rater_phone == PHONE


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"level": "great"}, "invalid_level"),
        ({"level": ""}, "invalid_level"),
        ({"level": "satisfied", "comment": "长" * 501}, "invalid_comment"),
        ({"level": "satisfied", "channel": "fax"}, "invalid_channel"),
        ({"level": "satisfied", "phone": "12345"}, "invalid_mobile"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, kwargs, code):
    case = world.closed_case(reporter=world.resident)
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as err:
        rating_submit(actor=world.resident, obj_type="case", obj_id=case.number, **kwargs)
    assert err.value.code == code
    assert not Rating.objects.exists() and AuditEntry.objects.count() == before
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


def test_bad_rating_opens_a_rectification_due_in_15_working_days_across_national_day(world, clock):
    clock.set(dt.datetime(2026, 9, 28, 10, 0, tzinfo=TZ))  # Monday before the 国庆 holiday
    case = world.closed_case(reporter=world.resident)
    rating = _rate(world.resident, case, "very_unsatisfied", comment="摊贩第二天又回来了")
    rect = rating.rectification
    assert rect.status == RectificationStatus.OPEN and rect.handler == world.county.dept
    # 9/29, 9/30, then 10/1–10/7 off, 10/8, 10/9, 10/10 (make-up Saturday), 10/12–16, 10/19–23:
    # the 15th working day is Friday 23 October, end of office hours.
    assert rect.deadline == dt.datetime(2026, 10, 23, 17, 30, tzinfo=TZ)
    # the unit's staff and the supervisors over the place are told, in the app
    told = set(
        Message.objects.filter(kind="rating.rectification_opened").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"r-urban", "r-urban-2", "r-urban-leader", "r-supervisor", "r-supervisor-a"}
    body = Message.objects.filter(kind="rating.rectification_opened")[0].body
    assert "非常不满意" in body and "2026-10-23 17:30" in body and "摊贩第二天又回来了" in body
    # the case side still works: a 不满意 within 7 days reopens it for the dispatcher
    case.refresh_from_db()
    assert case.status == CaseStatus.REGISTERED and case.satisfaction == "very_unsatisfied"
    assert AuditEntry.objects.filter(action="rectification.open", object_id=str(rect.pk)).count() == 1


def test_case_rate_goes_through_ratings_so_there_is_one_record(world):
    case = world.closed_case(reporter=world.resident)
    case = case_svc.case_rate(actor=world.resident, case=case, satisfaction="unsatisfied", comment="没解决")
    assert case.status == CaseStatus.REGISTERED
    rating = Rating.objects.get(object_type="case", object_id=case.number)
    assert rating.level == "unsatisfied" and rating.rectification.status == "open"
    with pytest.raises(ServiceError) as err:
        case_svc.case_rate(actor=world.resident, case=case, satisfaction="satisfied")
    assert err.value.status == 409
    assert Rating.objects.count() == 1
