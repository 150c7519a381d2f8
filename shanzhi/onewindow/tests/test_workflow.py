"""Every transition of the application table, and every refusal: wrong state (409), wrong role
(403), another township or department (404); each refusal changes nothing."""

from __future__ import annotations

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import ServiceError
from shanzhi.notify.models import Message
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow.materials import check_upload
from shanzhi.onewindow.models_applications import Application, ApplicationEvent
from shanzhi.onewindow.models_applications import ApplicationStatus as S
from shanzhi.onewindow.tests.window_setup import ID_A, PHONE_A, accepted, in_review, pension_draft, png_bytes
from shanzhi.onewindow.workflow import TRANSITIONS


def _snapshot(app: Application) -> tuple:
    app.refresh_from_db()
    return (
        app.status,
        app.decision,
        app.refuse_reason,
        app.correction_items,
        app.missing_notice,
        AuditEntry.objects.count(),
        ApplicationEvent.objects.count(),
        Message.objects.count(),
    )


def refused(code: str, fn, app: Application, **kwargs) -> ServiceError:
    before = _snapshot(app)
    with pytest.raises(ServiceError) as exc:
        fn(application=app, **kwargs)
    assert exc.value.code == code, exc.value.message
    assert _snapshot(app) == before, "a refused request changed nothing"
    return exc.value


def sms_bodies(app: Application) -> list[str]:
    return list(
        Message.objects.filter(channel="sms", object_id=str(app.pk), phone=PHONE_A)
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_window_happy_path_every_step_audited_told_and_on_the_timeline(people, catalog):
    audit_before = AuditEntry.objects.count()
    app = pension_draft(people, catalog)
    assert (
        app.status == S.DRAFT
        and app.department is not None
        and app.department.code == "hrss"
        and app.region.code == "331199101000"
    )
    app = svc.application_mark_paper(actor=people.clerk_a, application=app, key="申请人居民身份证")
    app = svc.application_accept(actor=people.clerk_a, application=app)
    assert app.status == S.ACCEPTED and app.deadline and app.accepted_at and app.clerk == people.clerk_a
    app = svc.application_start_review(actor=people.approver, application=app)
    app = svc.application_approve(actor=people.approver, application=app, decision="准予参保登记")
    assert (app.status, app.decision, app.decided_by, app.on_time) == (
        S.APPROVED,
        "准予参保登记",
        people.approver,
        True,
    )
    app = svc.application_finish(actor=people.clerk_a, application=app, note="窗口领取")
    assert app.status == S.FINISHED and app.finished_at
    actions = list(app.events.values_list("action", flat=True))
    assert actions == ["create", "paper", "accept", "start_review", "approve", "finish"]
    assert AuditEntry.objects.count() - audit_before == 6
    assert list(
        AuditEntry.objects.filter(object_id=str(app.pk), object_type="onewindow.application").values_list(
            "action", flat=True
        )
    ) == [f"application.{a}" for a in actions]
    bodies = sms_bodies(app)
    assert len(bodies) == 4, bodies  # accepted, in review, approved, finished
    assert app.number in bodies[0] and "已受理" in bodies[0]
    assert "准予参保登记" in bodies[2] and "评价" in bodies[3]
    # The back office heard of it in the app.
    assert (
        Message.objects.filter(channel="in_app", recipient=people.approver, kind="application.routed").count()
        == 1
    )


def test_online_submit_then_acceptance_by_the_department(people, catalog):
    app = svc.application_create(
        actor=people.resident,
        channel="online",
        applicant=svc.clean_applicant(name="王秀英", id_number=ID_A, phone=PHONE_A),
        item=catalog["resident_pension"],
        answers={"委托他人代为办理": "yes"},
    )
    assert app.applicant_user == people.resident and app.region.code == "331199101201"
    # Two materials needed (ID and the power of attorney): submitting with one names the other.
    svc.application_upload(
        actor=people.resident,
        application=app,
        key="申请人居民身份证",
        name="id.png",
        checked=check_upload(name="id.png", content=png_bytes()),
    )
    err = refused("materials_missing", lambda **kw: svc.application_submit(actor=people.resident, **kw), app)
    assert [m["name"] for m in err.details["missing"]] == ["授权委托书"]
    svc.application_upload(
        actor=people.resident,
        application=app,
        key="授权委托书",
        name="wt.png",
        checked=check_upload(name="wt.png", content=png_bytes()),
    )
    app = svc.application_submit(actor=people.resident, application=app)
    assert app.status == S.SUBMITTED
    # The department's approver accepts online applications routed to it.
    app = svc.application_accept(actor=people.approver, application=app)
    assert app.status == S.ACCEPTED and app.clerk == people.approver


def test_refuse_needs_a_reason_and_tells_it(people, catalog):
    app = in_review(people, catalog)
    refused(
        "reason_required", lambda **kw: svc.application_refuse(actor=people.approver, **kw), app, reason="  "
    )
    app = svc.application_refuse(
        actor=people.approver, application=app, reason="已参加职工基本养老保险,不能重复参保"
    )
    assert app.status == S.REFUSED and app.on_time
    assert "不能重复参保" in sms_bodies(app)[-1]
    # Refused is final: no finish, no approve.
    refused("illegal_transition", lambda **kw: svc.application_finish(actor=people.clerk_a, **kw), app)
    refused("illegal_transition", lambda **kw: svc.application_approve(actor=people.approver, **kw), app)


def test_correction_is_asked_once_with_the_full_list_and_pauses_the_clock(people, catalog):
    app = in_review(people, catalog)
    refused(
        "items_required",
        lambda **kw: svc.application_request_correction(actor=people.approver, **kw),
        app,
        items=["", " "],
    )
    app = svc.application_request_correction(
        actor=people.approver, application=app, items=["身份证复印件不清晰,请重新提供", "补充银行卡号"]
    )
    assert app.status == S.CORRECTION_REQUESTED and app.pauses[-1][1] is None
    body = sms_bodies(app)[-1]
    assert "1. 身份证复印件不清晰" in body and "2. 补充银行卡号" in body
    # Correcting needs something new; then the clock runs again, later than before.
    refused("correction_empty", lambda **kw: svc.application_correct(actor=people.clerk_a, **kw), app)
    deadline = app.deadline
    app = svc.application_correct(actor=people.clerk_a, application=app, note="已补充银行卡号,重新核验身份证")
    assert app.status == S.IN_REVIEW and app.pauses[-1][1] is not None
    assert app.deadline and deadline and app.deadline >= deadline
    # A second correction is refused: it was asked once.
    err = refused(
        "correction_used",
        lambda **kw: svc.application_request_correction(actor=people.approver, **kw),
        app,
        items=["再补"],
    )
    assert "只能要求一次" in err.message
    app = svc.application_approve(actor=people.approver, application=app)
    assert app.status == S.APPROVED


def test_illegal_transitions_are_409_and_change_nothing(people, catalog):
    draft = pension_draft(people, catalog)
    # The back office does not see drafts at all; once submitted it sees, but cannot review yet.
    refused("not_found", lambda **kw: svc.application_start_review(actor=people.approver, **kw), draft)
    refused("illegal_transition", lambda **kw: svc.application_finish(actor=people.clerk_a, **kw), draft)
    refused("illegal_transition", lambda **kw: svc.application_correct(actor=people.clerk_a, **kw), draft)
    svc.application_mark_paper(actor=people.clerk_a, application=draft, key="申请人居民身份证")
    submitted = svc.application_submit(actor=people.clerk_a, application=draft)
    refused(
        "illegal_transition",
        lambda **kw: svc.application_start_review(actor=people.approver, **kw),
        submitted,
    )
    app = accepted(people, catalog)
    refused("illegal_transition", lambda **kw: svc.application_accept(actor=people.clerk_a, **kw), app)
    refused("illegal_transition", lambda **kw: svc.application_not_accept(actor=people.clerk_a, **kw), app)
    refused("illegal_transition", lambda **kw: svc.application_approve(actor=people.approver, **kw), app)
    refused("illegal_transition", lambda **kw: svc.application_submit(actor=people.clerk_a, **kw), app)
    with pytest.raises(ServiceError) as exc:
        svc.application_start_review(actor=people.approver, application=app)
        svc.application_start_review(actor=people.approver, application=app)
    assert exc.value.status == 409


def test_roles_and_jurisdiction(people, catalog):
    app = accepted(people, catalog)
    # A clerk may not decide (403); another department's approver does not see it (404).
    err = refused("forbidden", lambda **kw: svc.application_start_review(actor=people.clerk_a, **kw), app)
    assert err.status == 403
    err = refused(
        "not_found", lambda **kw: svc.application_start_review(actor=people.approver_police, **kw), app
    )
    assert err.status == 404
    # Another township's clerk gets the 404 of a missing number, for reading and for writing.
    draft = pension_draft(people, catalog)
    refused("not_found", lambda **kw: svc.application_accept(actor=people.clerk_b, **kw), draft)
    refused(
        "not_found",
        lambda **kw: svc.application_mark_paper(actor=people.clerk_b, key="申请人居民身份证", **kw),
        draft,
    )
    # A resident cannot accept their own application, nor touch someone else's.
    online = svc.application_create(
        actor=people.resident_b,
        channel="online",
        applicant=svc.Applicant(name="李四", id_number=ID_A, phone="13900001111"),
        item=catalog["resident_pension"],
        answers={"委托他人代为办理": "no"},
    )
    refused("not_found", lambda **kw: svc.application_submit(actor=people.resident, **kw), online)
    refused("forbidden", lambda **kw: svc.application_accept(actor=people.resident_b, **kw), online)


def test_every_state_is_a_start_or_reached_through_the_table():
    # No state exists only for history: each is where an application starts (a draft, or a bundle
    # part created to wait for its prerequisites) or the target of a transition.
    targets = {t.target for t in TRANSITIONS.values()}
    assert targets | {S.DRAFT, S.WAITING} == set(S.values)
