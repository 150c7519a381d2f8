"""The closed loop through its services: every transition, its refusals, its clocks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shanzhi.audit.models import AuditEntry
from shanzhi.cases import services as svc
from shanzhi.cases.models import (
    Assignment,
    AssignmentStatus,
    Case,
    CaseStatus,
    ClockUnit,
    RequestKind,
    Supervision,
)
from shanzhi.cases.sweep import sla_sweep
from shanzhi.conftest import make_user
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.notify.models import Message

TZ = dt.timezone(dt.timedelta(hours=8))


def intake(loop, *, text="小区门口占道经营,流动摊贩很多", category="0102", actor=None, **kw):
    place = svc.Place(region=loop.county.village_a1, township=loop.county.town_a, lon=119.8, lat=28.3)
    return svc.case_intake(
        actor=actor or loop.dispatcher,
        channel=kw.pop("channel", "hotline"),
        text=text,
        place=place,
        suggestion=svc.Suggestion(category=loop.category(category), confidence=0.7),
        **kw,
    )


def to_reported(loop, case):
    case = svc.case_register(actor=loop.dispatcher, case=case)
    case = svc.case_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.dept)
    primary = case.assignments.get(role="primary")
    svc.assignment_accept(actor=loop.urban_handler, assignment=primary)
    svc.assignment_report(actor=loop.urban_handler, assignment=primary, text="已清理占道摊点,恢复通行")
    return Case.objects.get(pk=case.pk)


def test_happy_path_every_step_audited(loop):
    before = AuditEntry.objects.count()
    case = intake(loop, reporter_phone="13812345678", actor=loop.resident)
    assert case.status == CaseStatus.RECEIVED and case.number.startswith("SZ")
    assert case.reporter == loop.resident
    case = to_reported(loop, case)
    assert case.status == CaseStatus.VERIFYING
    case = svc.case_verify(actor=loop.gridworker, case=case, passed=True, note="现场已无摊贩")
    assert case.status == CaseStatus.CLOSED and case.closed_at
    assert case.assignments.get().status == AssignmentStatus.DONE
    # the reporter is asked to rate, in the app and by SMS
    assert Message.objects.filter(kind="case.rate", recipient=loop.resident).exists()
    assert Message.objects.filter(kind="case.rate", phone="13812345678", channel="sms").exists()
    case = svc.case_rate(actor=loop.resident, case=case, satisfaction="satisfied")
    assert case.status == CaseStatus.EVALUATED
    actions = list(
        AuditEntry.objects.filter(index__gte=before, object_type="cases.case").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "case.receive",
        "case.register",
        "case.dispatch",
        "case.accept",
        "case.report",
        "case.verify_pass",
        "case.rate",
    ]
    assert list(case.timeline.values_list("action", flat=True)) == [
        "receive",
        "register",
        "dispatch",
        "accept",
        "report",
        "verify_pass",
        "rate",
    ]


def test_illegal_transition_is_409_and_changes_nothing(loop):
    case = intake(loop)
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as err:
        svc.case_verify(actor=loop.dispatcher, case=case, passed=True)
    assert err.value.status == 409 and err.value.code == "illegal_transition"
    assert "已受理" in err.value.message
    case.refresh_from_db()
    assert case.status == CaseStatus.RECEIVED
    assert AuditEntry.objects.count() == before


def test_wrong_role_and_other_township_are_refused(loop):
    case = intake(loop)
    with pytest.raises(PermissionDenied):
        svc.case_register(actor=loop.gridworker, case=case)
    with pytest.raises(NotFound):  # a township-B dispatcher cannot see township A's case
        svc.case_register(actor=loop.dispatcher_b, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.RECEIVED


def test_only_the_assigned_body_works_the_assignment(loop):
    case = svc.case_register(actor=loop.dispatcher, case=intake(loop))
    case = svc.case_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.dept)
    assignment = case.assignments.get()
    with pytest.raises(NotFound):
        svc.assignment_accept(actor=loop.police_handler, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PENDING


def test_return_goes_back_to_dispatcher_and_counts_against_dispatch(loop):
    case = svc.case_register(actor=loop.dispatcher, case=intake(loop))
    case = svc.case_dispatch(
        actor=loop.dispatcher, case=case, primary=loop.county.dept, co_handlers=[loop.police]
    )
    primary = case.assignments.get(role="primary")
    with pytest.raises(ServiceError):
        svc.assignment_return(actor=loop.urban_handler, assignment=primary, reason=" ")
    svc.assignment_return(actor=loop.urban_handler, assignment=primary, reason="不属于本单位职责")
    case.refresh_from_db()
    assert case.status == CaseStatus.REGISTERED and case.dispatch_returns == 1
    assert set(case.assignments.values_list("status", flat=True)) == {"returned", "cancelled"}
    assert Message.objects.filter(kind="case.returned", recipient=loop.dispatcher).exists()
    # and it can be dispatched again, to the right body
    case = svc.case_dispatch(
        actor=loop.dispatcher, case=case, primary=loop.police, category=loop.category("0402")
    )
    assert case.status == CaseStatus.DISPATCHED
    assert case.category is not None and case.category.code == "0402"


def test_dispatch_correction_becomes_a_training_example(loop):
    from shanzhi.triage.models import TriageExample

    case = svc.case_register(actor=loop.dispatcher, case=intake(loop, text="楼下烧烤店每晚音响很吵"))
    svc.case_dispatch(actor=loop.dispatcher, case=case, primary=loop.police, category=loop.category("0402"))
    example = TriageExample.objects.get(text="楼下烧烤店每晚音响很吵")
    assert example.category == "0402"


def test_verify_reject_is_rework(loop):
    case = to_reported(loop, intake(loop))
    with pytest.raises(ServiceError):
        svc.case_verify(actor=loop.gridworker, case=case, passed=False, note="")
    case = svc.case_verify(actor=loop.gridworker, case=case, passed=False, note="摊贩又回来了")
    assert case.status == CaseStatus.IN_PROGRESS and case.rework_count == 1
    primary = case.assignments.get()
    assert primary.status == AssignmentStatus.ACCEPTED and primary.rework_count == 1
    assert Message.objects.filter(kind="case.rework", recipient=loop.urban_handler).exists()


def test_a_nul_in_a_note_is_refused_and_changes_nothing(loop):
    """PostgreSQL cannot store NUL; the verify note (网格通's on-site form) and every other
    service note are refused alike, and the transition is rolled back."""
    case = to_reported(loop, intake(loop))
    audit = AuditEntry.objects.count()
    for passed in (True, False):
        with pytest.raises(ServiceError) as err:
            svc.case_verify(actor=loop.gridworker, case=case, passed=passed, note="摊贩\x00又回来了")
        assert err.value.code == "invalid_character"
    case.refresh_from_db()
    assert case.status == CaseStatus.VERIFYING and AuditEntry.objects.count() == audit
    fresh = svc.case_register(actor=loop.dispatcher, case=intake(loop, text="路灯不亮"))
    with pytest.raises(ServiceError) as err:
        svc.case_dispatch(actor=loop.dispatcher, case=fresh, primary=loop.county.dept, note="\x00")
    assert err.value.code == "invalid_character"
    assert not Case.objects.filter(status=CaseStatus.DISPATCHED, text="路灯不亮").exists()


def test_unsatisfied_rating_reopens_for_review(loop):
    case = svc.case_verify(
        actor=loop.gridworker, case=to_reported(loop, intake(loop, actor=loop.resident)), passed=True
    )
    case = svc.case_rate(actor=loop.resident, case=case, satisfaction="unsatisfied", comment="没解决")
    assert (
        case.status == CaseStatus.REGISTERED and case.reopen_count == 1 and case.satisfaction == "unsatisfied"
    )
    with pytest.raises(ServiceError) as err:
        svc.case_rate(actor=loop.resident, case=case, satisfaction="satisfied")
    assert err.value.status == 409


def test_rating_is_once_and_only_by_the_reporter(loop):
    case = svc.case_verify(
        actor=loop.gridworker, case=to_reported(loop, intake(loop, actor=loop.resident)), passed=True
    )
    other = make_user(username="l-other-resident", region=loop.county.village_a1, roles=["resident"])
    with pytest.raises(NotFound):
        svc.case_rate(actor=other, case=case, satisfaction="satisfied")
    with pytest.raises(ServiceError):
        svc.case_rate(actor=loop.resident, case=case, satisfaction="great")
    svc.case_rate(actor=loop.resident, case=case, satisfaction="very_satisfied")
    with pytest.raises(ServiceError):
        svc.case_rate(actor=loop.resident, case=case, satisfaction="satisfied")


def test_refuse_and_merge(loop):
    first, second = intake(loop), intake(loop, text="门口又有人摆摊")
    assert second.possible_duplicate_of == first
    svc.case_merge(actor=loop.dispatcher, case=second, into=first)
    second.refresh_from_db()
    assert second.status == CaseStatus.MERGED and second.merged_into == first
    with pytest.raises(ServiceError):
        svc.case_refuse(actor=loop.dispatcher, case=first, reason="")
    svc.case_refuse(actor=loop.dispatcher, case=first, reason="不属于政府职能范围")
    first.refresh_from_db()
    assert first.status == CaseStatus.REFUSED


def test_split_keeps_place_and_reporter(loop):
    case = intake(loop, text="路灯不亮,另外井盖也坏了", reporter_phone="13900001111")
    children = svc.case_split(actor=loop.dispatcher, case=case, texts=["井盖缺失"])
    assert children[0].split_from == case and children[0].reporter_phone == "13900001111"
    assert children[0].region == loop.county.village_a1


def test_duplicate_needs_same_category_and_distance(loop):
    first = intake(loop)
    far = svc.case_intake(
        actor=loop.dispatcher,
        channel="hotline",
        text="占道经营",
        place=svc.Place(region=loop.county.village_a1, lon=119.81, lat=28.3),  # ~1 km east
        suggestion=svc.Suggestion(category=loop.category("0102")),
    )
    other_kind = intake(loop, category="0602", text="路灯不亮")
    assert far.possible_duplicate_of is None and other_kind.possible_duplicate_of is None
    assert first.possible_duplicate_of is None


def test_text_rules(loop):
    with pytest.raises(ServiceError) as err:
        intake(loop, text="   ")
    assert err.value.code == "text_required"
    with pytest.raises(ServiceError) as err:
        intake(loop, text="长" * 4001)
    assert err.value.code == "text_too_long"
    with pytest.raises(ServiceError):
        intake(loop, reporter_phone="12345")
    assert Case.objects.count() == 0


def test_idempotency_replays_and_refuses_a_reused_key(loop):
    first = intake(loop, idempotency=("op", "key-1", "digest-a"))
    again = intake(loop, idempotency=("op", "key-1", "digest-a"))
    assert again.pk == first.pk and Case.objects.count() == 1
    with pytest.raises(ServiceError) as err:
        intake(loop, idempotency=("op", "key-1", "digest-b"))
    assert err.value.status == 409
    assert Case.objects.count() == 1


def test_urgent_category_runs_on_natural_hours(loop):
    case = svc.case_register(
        actor=loop.dispatcher, case=intake(loop, text="消防通道被车堵了", category="0301")
    )
    case = svc.case_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.dept)
    assignment = case.assignments.get()
    assert assignment.clock_unit == ClockUnit.NATURAL_HOURS
    assert assignment.deadline - assignment.started_at == dt.timedelta(hours=2)
    assert assignment.warn_at - assignment.started_at == dt.timedelta(minutes=96)
    assert assignment.county_at - assignment.started_at == dt.timedelta(hours=4)


def _dispatched(loop, *, start: dt.datetime, category="0102"):
    case = svc.case_register(actor=loop.dispatcher, case=intake(loop, category=category))
    case = svc.case_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.dept)
    # A fixed start makes the working-hours arithmetic checkable.
    assignment = case.assignments.get()
    assignment.started_at = start
    from shanzhi.cases.clocks import set_thresholds

    set_thresholds(assignment=assignment)
    assignment.save()
    return case, assignment


def test_working_hour_deadline_skips_nights_and_holidays(loop):
    # 0102 has 24 working hours, dispatched Tue 2026-09-29 09:00. National Day runs 10-01..10-07.
    # 09-29: 7 h (09:00-12:00, 13:30-17:30) → 09-30: 7.5 h → holiday → 10-08: 7.5 h → 10-09: 2 h → 10:30.
    _case, a = _dispatched(loop, start=dt.datetime(2026, 9, 29, 9, 0, tzinfo=TZ))
    assert timezone.localtime(a.deadline).replace(tzinfo=None) == dt.datetime(2026, 10, 9, 10, 30)
    # 80 % is 19.2 h: 14.5 h by 09-30 → 4.7 h into 10-08 → 08:30 + 3.5 h (to 12:00) + 1.2 h → 14:42
    assert timezone.localtime(a.warn_at).replace(tzinfo=None) == dt.datetime(2026, 10, 8, 14, 42)


def test_sweep_ladder_is_idempotent(loop):
    start = timezone.now() - dt.timedelta(hours=3)
    _case, a = _dispatched(loop, start=start, category="0301")  # 2 natural hours: warned, escalated
    result = sla_sweep()
    assert (result.warning, result.escalation, result.county) == (1, 1, 0)
    assert set(Supervision.objects.values_list("level", flat=True)) == {"warning", "escalation"}
    escalation = Supervision.objects.get(level="escalation")
    assert "l-urban-leader" in escalation.notified and "l-dispatcher" in escalation.notified
    assert sla_sweep().total() == 0  # a second run changes nothing
    Assignment.objects.filter(pk=a.pk).update(county_at=timezone.now() - dt.timedelta(minutes=1))
    assert sla_sweep().county == 1
    assert "l-supervisor" in Supervision.objects.get(level="county").notified
    assert AuditEntry.objects.filter(action="assignment.county").count() == 1


def test_sweep_skips_finished_and_suspended(loop):
    _case, a = _dispatched(loop, start=timezone.now() - dt.timedelta(hours=3), category="0301")
    request = svc.assignment_request(
        actor=loop.urban_handler, assignment=a, kind=RequestKind.SUSPENSION, reason="等待车主联系"
    )
    svc.request_decide(actor=loop.dispatcher, request=request, approve=True)
    a.refresh_from_db()
    assert a.status == AssignmentStatus.SUSPENDED
    assert sla_sweep().total() == 0


def test_extension_moves_the_deadline(loop):
    _case, a = _dispatched(loop, start=timezone.now(), category="0301")
    old_deadline = a.deadline
    with pytest.raises(ServiceError):
        svc.assignment_request(
            actor=loop.urban_handler, assignment=a, kind=RequestKind.EXTENSION, reason="x", hours=0
        )
    request = svc.assignment_request(
        actor=loop.urban_handler, assignment=a, kind=RequestKind.EXTENSION, reason="需协调车主", hours=2
    )
    with pytest.raises(ServiceError):  # one request at a time
        svc.assignment_request(
            actor=loop.urban_handler, assignment=a, kind=RequestKind.EXTENSION, reason="再延", hours=1
        )
    with pytest.raises(PermissionDenied):
        svc.request_decide(actor=loop.urban_handler, request=request, approve=True)
    svc.request_decide(actor=loop.dispatcher, request=request, approve=True)
    a.refresh_from_db()
    assert a.deadline - old_deadline == dt.timedelta(hours=2)
    assert Case.objects.get(pk=a.case_id).deadline == a.deadline


def test_resume_after_suspension_moves_deadline_by_the_pause(loop):
    start = timezone.now() - dt.timedelta(minutes=30)
    _case, a = _dispatched(loop, start=start, category="0301")
    request = svc.assignment_request(actor=loop.urban_handler, assignment=a, kind="suspension", reason="等待")
    svc.request_decide(actor=loop.dispatcher, request=request, approve=True)
    a.refresh_from_db()
    pause = a.pauses.get()
    pause.started_at = timezone.now() - dt.timedelta(minutes=20)
    pause.save()
    svc.assignment_resume(actor=loop.urban_handler, assignment=a)
    a.refresh_from_db()
    stored = a.pauses.get()
    paused = stored.ended_at - stored.started_at
    assert a.status == AssignmentStatus.PENDING
    assert a.deadline == start + dt.timedelta(hours=2) + paused


def test_register_correction_is_learned(loop):
    from shanzhi.triage.models import TriageExample

    case = intake(loop, text="楼上邻居天天半夜剁肉,吵得睡不着")  # triage said 0102 (the helper's fixture)
    svc.case_register(actor=loop.dispatcher, case=case, category=loop.category("0402"))
    assert TriageExample.objects.filter(text="楼上邻居天天半夜剁肉,吵得睡不着", category="0402").exists()


def test_register_and_dispatch_is_both_or_neither(loop):
    case = intake(loop)
    with pytest.raises(ServiceError):  # a township body without a published duty list refuses
        svc.case_register_and_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.town_a_gov)
    case.refresh_from_db()
    assert case.status == CaseStatus.RECEIVED and case.registered_at is None
    case = svc.case_register_and_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.dept)
    assert case.status == CaseStatus.DISPATCHED


def test_sweep_warns_again_after_an_extension(loop):
    # An extension re-arms a step that already fired; the sweep must fire it again, not crash.
    _case, a = _dispatched(loop, start=timezone.now() - dt.timedelta(hours=3), category="0301")
    assert sla_sweep().total() == 2
    request = svc.assignment_request(
        actor=loop.urban_handler, assignment=a, kind=RequestKind.EXTENSION, reason="需要协调", hours=10
    )
    svc.request_decide(actor=loop.dispatcher, request=request, approve=True)
    Assignment.objects.filter(pk=a.pk).update(warn_at=timezone.now() - dt.timedelta(minutes=1))
    assert sla_sweep().warning == 1
    assert Supervision.objects.filter(assignment=a, level="warning").count() == 1
