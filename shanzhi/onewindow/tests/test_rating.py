"""好差评 for applications: every finished application can be rated once, by the applicant (their
account or their phone); the department and the decider answer for it."""

from __future__ import annotations

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow.tests.window_setup import ID_A, PHONE_A, accepted, in_review
from shanzhi.ratings.models import Rating, Rectification
from shanzhi.ratings.services import rating_submit


def _rate(actor, app, level="satisfied", **kw):
    return rating_submit(actor=actor, obj_type="application", obj_id=app.number, level=level, **kw)


def test_rated_once_by_phone_with_the_department_and_approver_responsible(people, catalog):
    app = in_review(people, catalog)
    with pytest.raises(ServiceError) as exc:
        _rate(None, app, phone=PHONE_A)
    assert exc.value.code == "not_finished"
    app = svc.application_approve(actor=people.approver, application=app)
    with pytest.raises(ServiceError) as exc:
        _rate(None, app, phone="13900000000")
    assert exc.value.status == 404
    rating = _rate(None, app, phone=PHONE_A, channel="web", comment="办得很快")
    assert rating.handler.code == "hrss" and rating.staff.user == people.approver
    assert rating.region.code == "331199101000" and rating.rater_phone == PHONE_A
    app.refresh_from_db()
    assert app.satisfaction == "satisfied" and app.rated_at
    assert app.events.filter(action="rate").exists()
    with pytest.raises(ServiceError) as exc:
        _rate(None, app, phone=PHONE_A)
    assert exc.value.code == "already_rated"


def test_a_resident_rates_their_own_online_application_and_a_bad_rating_opens_rectification(people, catalog):
    app = svc.application_create(
        actor=people.resident,
        channel="online",
        applicant=svc.Applicant(name="王秀英", id_number=ID_A, phone=PHONE_A),
        item=catalog["resident_pension"],
        answers={"委托他人代为办理": "否"},
    )
    svc.application_mark_paper(actor=people.clerk_a, application=app, key="申请人居民身份证")
    app = svc.application_accept(actor=people.clerk_a, application=app)
    app = svc.application_start_review(actor=people.approver, application=app)
    app = svc.application_refuse(actor=people.approver, application=app, reason="不符合参保条件")
    with pytest.raises(ServiceError) as exc:
        _rate(people.resident_b, app)
    assert exc.value.status == 404
    rating = _rate(people.resident, app, level="unsatisfied", comment="理由没讲清楚")
    assert rating.rater == people.resident and rating.is_bad
    rect = Rectification.objects.get(rating=rating)
    assert rect.handler is not None and rect.handler.code == "hrss"


def test_clerk_enters_a_rating_at_the_window_on_the_applicants_behalf(people, catalog):
    app = accepted(people, catalog)
    app = svc.application_start_review(actor=people.approver, application=app)
    app = svc.application_approve(actor=people.approver, application=app)
    app = svc.application_finish(actor=people.clerk_a, application=app)
    rating = _rate(people.clerk_a, app, level="very_satisfied")
    assert rating.entered_by == people.clerk_a and rating.channel == "window"
    with pytest.raises(ServiceError) as exc:
        _rate(people.clerk_b, app)
    assert exc.value.status == 404
    assert Rating.objects.count() == 1
