"""Every change to a case: one function per transition, each in one transaction with one audit
entry and one timeline event. The allowed moves are the table in workflow.py."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from shanzhi.audit.services import actor_label, audit_append
from shanzhi.cases import duplicates
from shanzhi.cases.clocks import clock_unit_for, set_thresholds
from shanzhi.cases.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Attachment,
    AttachmentStage,
    Case,
    CaseSequence,
    CaseStatus,
    Category,
    Channel,
    ClockPause,
    HandlerRequest,
    IdempotencyRecord,
    RequestKind,
    RequestState,
    Satisfaction,
    TimelineEvent,
)
from shanzhi.cases.uploads import CheckedFile
from shanzhi.cases.workflow import TRANSITIONS, transition_for
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Handler, Region, RegionLevel
from shanzhi.core.selectors import has_role, jurisdiction_root, region_county, roles_of, staff_of
from shanzhi.core.validators import validate_mobile
from shanzhi.notify.models import MessageChannel
from shanzhi.notify.services import message_queue
from shanzhi.ratings.services import rating_submit

MAX_TEXT = 4000
REOPEN_WINDOW = dt.timedelta(days=7)


# --- helpers ------------------------------------------------------------------------------------


def case_state(case: Case) -> dict[str, Any]:
    """What the audit digest covers: the governed fields of a case."""
    return {
        "number": case.number,
        "status": case.status,
        "channel": case.channel,
        "category": case.category.code if case.category_id and case.category else None,
        "region": case.region.code if case.region_id and case.region else None,
        "grid": case.grid_id,
        "text_sha256": hashlib.sha256(case.text.encode()).hexdigest(),
        "deadline": case.deadline,
        "merged_into": case.merged_into_id,
        "satisfaction": case.satisfaction,
        "assignments": [
            {"handler": a.handler.code, "role": a.role, "status": a.status, "deadline": a.deadline}
            for a in case.assignments.select_related("handler").order_by("id")
        ]
        if case.pk
        else [],
    }


def _event(
    case: Case,
    *,
    actor: Any,
    action: str,
    note: str = "",
    assignment: Assignment | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    TimelineEvent.objects.create(
        case=case,
        assignment=assignment,
        at=timezone.now(),
        actor=actor_label(actor),
        action=action,
        note=_no_nul(note, label="说明"),  # every service's note; its transaction rolls back
        data=data or {},
    )


def _audit(case: Case, *, actor: Any, action: str) -> None:
    audit_append(actor=actor, action=f"case.{action}", obj=case, state=case_state(case))


def _lock(case: Case) -> Case:
    """Re-read the case under a row lock so two people cannot move it at once."""
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins.
    # no_key=True (FOR NO KEY UPDATE): still excludes every other transition, but not the
    # FOR KEY SHARE that a foreign-key check takes on the case another transaction points at
    # (an intake linking it as its possible duplicate, a split child). With plain FOR UPDATE that
    # check, which runs at commit after the audit head is taken, waited for this lock while this
    # transaction waited for the audit head: a deadlock (docs/cases.md, "Locks"). No transition
    # changes a case's id or number or deletes it, which is all FOR UPDATE adds.
    return (
        Case.objects.select_for_update(of=("self",), no_key=True)
        .select_related("category", "region")
        .get(pk=case.pk)
    )


def _check_role(actor: Any, action: str) -> None:
    if actor is None:  # the system itself: auto-dispatch, the sweep, imports
        return
    if not has_role(user=actor, roles=TRANSITIONS[action].roles):
        raise PermissionDenied(f"您的角色不能执行“{TRANSITIONS[action].label}”")


def _check_jurisdiction(actor: Any, case: Case) -> None:
    if actor is None:
        return
    root = jurisdiction_root(user=actor)
    region_path = case.region.path if case.region else ""
    if root is None or not region_path.startswith(root.path):
        raise NotFound()


def _check_handler(actor: Any, assignment: Assignment) -> None:
    """Handler steps are taken by staff of the assigned body (or an administrator)."""
    if actor is None or "admin" in roles_of(user=actor):
        return
    staff = staff_of(user=actor)
    if staff is None or staff.handler_id != assignment.handler_id:
        raise NotFound("该派遣不是派给您所在单位的")


def _transition(case: Case, *, actor: Any, action: str) -> Case:
    case = _lock(case)
    _check_jurisdiction(actor, case)
    transition = transition_for(action=action, status=case.status)
    _check_role(actor, action)
    case.status = transition.target
    return case


def _next_number(now: dt.datetime) -> str:
    day = timezone.localdate(now)
    seq, _ = CaseSequence.objects.select_for_update().get_or_create(day=day)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"SZ{day:%Y%m%d}{seq.last:05d}"


# --- intake -------------------------------------------------------------------------------------


@dataclass
class Place:
    """Where a case is: the village (jurisdiction key), township, grid, estate, coordinates."""

    region: Region | None = None
    township: Region | None = None
    grid: Any = None
    estate: Any = None
    lon: float | None = None
    lat: float | None = None


@dataclass
class Suggestion:
    category: Category | None = None
    confidence: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _no_nul(value: str, *, label: str) -> str:
    """PostgreSQL cannot store NUL in text; refuse it on every database alike."""
    if "\x00" in value:
        raise ServiceError("invalid_character", f"{label}含有不允许的控制字符")
    return value


def _validate_text(text: str) -> str:
    text = _no_nul((text or "").strip(), label="诉求内容")
    if not text:
        raise ServiceError("text_required", "请填写诉求内容")
    if len(text) > MAX_TEXT:
        raise ServiceError("text_too_long", f"诉求内容不能超过 {MAX_TEXT} 字(当前 {len(text)} 字)")
    return text


def case_intake(
    *,
    actor: Any,
    channel: str,
    text: str,
    place: Place,
    suggestion: Suggestion,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    device: str = "",
    photos: list[CheckedFile] | None = None,
    urgent: bool = False,
    received_at: dt.datetime | None = None,
    idempotency: tuple[str, str, str] | None = None,
) -> Case:
    """受理: record a request from any channel. Triage and place are worked out by the caller
    (cases.intake.intake_request) so this stays one short transaction.

    `idempotency` is (owner, key, request digest): a retry of the same request returns the
    first case; the same key with a different request is refused.
    """
    if channel not in Channel.values:
        raise ServiceError("invalid_channel", f"未知的来源渠道:{channel}")
    text = _validate_text(text)
    if reporter_phone:
        reporter_phone = validate_mobile(reporter_phone)
    if len(address) > 255:
        raise ServiceError("address_too_long", "地址不能超过 255 字")
    _no_nul(address, label="地址")
    _no_nul(reporter_name, label="反映人姓名")
    _no_nul(device, label="设备编号")
    now = timezone.now()
    county = region_county()
    try:
        with transaction.atomic():
            if idempotency is not None:
                previous = _idempotent_replay(*idempotency)
                if previous is not None:
                    return previous
            case = Case.objects.create(
                number=_next_number(now),
                channel=channel,
                text=text,
                address=address.strip(),
                lon=place.lon,
                lat=place.lat,
                region=place.region or place.township or county,
                township=place.township,
                grid=place.grid,
                estate=place.estate,
                urgent=urgent,
                reporter=actor if actor is not None and "resident" in roles_of(user=actor) else None,
                reporter_name=reporter_name.strip()[:64],
                reporter_phone=reporter_phone,
                device=device[:64],
                created_by=actor,
                suggested_category=suggestion.category,
                suggestion_confidence=suggestion.confidence,
                suggestion=suggestion.data,
                received_at=received_at or now,
            )
            for checked in photos or []:
                _attach(case, checked, stage=AttachmentStage.INTAKE)
            # The link's (deferred) foreign-key check locks the linked case FOR KEY SHARE at commit,
            # after the audit head is taken; _lock's FOR NO KEY UPDATE does not block it.
            case.possible_duplicate_of = duplicates.find_duplicate(case=case, category=suggestion.category)
            if case.possible_duplicate_of is not None:
                case.save(update_fields=["possible_duplicate_of"])
            if idempotency is not None:
                owner, key, digest = idempotency
                IdempotencyRecord.objects.create(owner=owner, key=key, request_digest=digest, case=case)
            _event(
                case,
                actor=actor,
                action="receive",
                note=f"来源:{case.get_channel_display()}",
                data={"suggestion": suggestion.data},
            )
            _audit(case, actor=actor, action="receive")
    except IntegrityError:
        # Two retries raced on the same Idempotency-Key: the loser answers with the winner's case.
        if idempotency is not None:
            previous = _idempotent_replay(*idempotency)
            if previous is not None:
                return previous
        raise
    return case


def _idempotent_replay(owner: str, key: str, digest: str) -> Case | None:
    record = IdempotencyRecord.objects.filter(owner=owner, key=key).select_related("case").first()
    if record is None:
        return None
    if record.request_digest != digest:
        raise ServiceError(
            "idempotency_key_reused", "该 Idempotency-Key 已用于另一条不同的请求,请使用新的键", status=409
        )
    return record.case


def _attach(case: Case, checked: CheckedFile, *, stage: str) -> Attachment:
    attachment = Attachment(
        case=case,
        stage=stage,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_at=timezone.now(),
    )
    attachment.file.save(
        f"{case.number}-{checked.sha256[:12]}-{checked.name}", ContentFile(checked.content), save=False
    )
    attachment.save()
    return attachment


# --- registration -------------------------------------------------------------------------------


def case_register(
    *, actor: Any, case: Case, category: Category | None = None, urgent: bool | None = None
) -> Case:
    """立案: accept the request as a case of a category."""
    with transaction.atomic():
        case = _transition(case, actor=actor, action="register")
        corrected = category is not None and case.suggested_category_id not in (None, category.pk)
        case.category = category or case.category or case.suggested_category
        if case.category is None:
            raise ServiceError("category_required", "立案前请确定诉求类别")
        if corrected and actor is not None:
            _learn_correction(actor=actor, case=case)
        if urgent is not None:
            case.urgent = urgent
        case.registered_at = timezone.now()
        case.save()
        _event(case, actor=actor, action="register", note=f"类别:{case.category}")
        _audit(case, actor=actor, action="register")
    return case


def case_refuse(*, actor: Any, case: Case, reason: str) -> Case:
    """不予立案, with the reason the reporter will be told."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "不予立案必须说明理由")
    with transaction.atomic():
        case = _transition(case, actor=actor, action="refuse")
        case.refuse_reason = reason[:255]
        case.closed_at = timezone.now()
        case.save()
        _event(case, actor=actor, action="refuse", note=reason)
        _audit(case, actor=actor, action="refuse")
        _tell_reporter(case, kind="case.refused", body=f"您反映的问题(编号 {case.number})不予立案:{reason}")
    return case


def case_merge(*, actor: Any, case: Case, into: Case) -> Case:
    """Merge a duplicate into the case that carries on (合并)."""
    if into.pk == case.pk:
        raise ServiceError("merge_self", "不能把案卷合并到它自己")
    with transaction.atomic():
        target = _lock(into)
        _check_jurisdiction(actor, target)
        if target.status not in (
            CaseStatus.RECEIVED,
            CaseStatus.REGISTERED,
            CaseStatus.DISPATCHED,
            CaseStatus.IN_PROGRESS,
            CaseStatus.VERIFYING,
        ):
            raise ServiceError("merge_target_closed", "只能合并到尚未办结的案卷", status=409)
        case = _transition(case, actor=actor, action="merge")
        case.merged_into = target
        case.closed_at = timezone.now()
        case.save()
        _event(case, actor=actor, action="merge", note=f"合并到 {target.number}")
        _event(target, actor=actor, action="absorb", note=f"合并了 {case.number}")
        _audit(case, actor=actor, action="merge")
    return case


def case_split(*, actor: Any, case: Case, texts: list[str]) -> list[Case]:
    """Split off the other matters of a multi-issue request as new cases (拆分); this one keeps the first."""
    if not texts:
        raise ServiceError("split_empty", "请填写拆分出的诉求内容")
    if len(texts) > 10:
        raise ServiceError("split_too_many", "一次最多拆分 10 件")
    cleaned = [_validate_text(t) for t in texts]
    with transaction.atomic():
        case = _lock(case)
        _check_jurisdiction(actor, case)
        _check_role(actor, "register")
        if case.status not in (CaseStatus.RECEIVED, CaseStatus.REGISTERED):
            raise ServiceError("illegal_transition", "只有尚未派遣的案卷可以拆分", status=409)
        now = timezone.now()
        children = []
        for text in cleaned:
            child = Case.objects.create(
                number=_next_number(now),
                channel=case.channel,
                text=text,
                address=case.address,
                lon=case.lon,
                lat=case.lat,
                region=case.region,
                township=case.township,
                grid=case.grid,
                estate=case.estate,
                reporter=case.reporter,
                reporter_name=case.reporter_name,
                reporter_phone=case.reporter_phone,
                created_by=actor,
                received_at=case.received_at,
                split_from=case,
            )
            _event(child, actor=actor, action="receive", note=f"由 {case.number} 拆分而来")
            _audit(child, actor=actor, action="split_receive")
            children.append(child)
        _event(case, actor=actor, action="split", note="拆分出 " + "、".join(c.number for c in children))
        _audit(case, actor=actor, action="split")
    return children


# --- dispatch -----------------------------------------------------------------------------------


def _duty_gate(*, actor: Any, handler: Handler, category: Category) -> None:
    """Township and village bodies take only work on their published lists (严禁随意摊派)."""
    if handler.region.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        return
    if handler.type.code not in ("township", "community"):
        return
    from shanzhi.duties.check import duty_check

    staff = staff_of(user=actor) if actor is not None else None
    assigner = staff.region if staff is not None else region_county()
    assert assigner is not None
    result = duty_check(assigner=assigner, unit=handler.region, work=category.code)
    if not result.allowed:
        raise ServiceError(
            "duty_check_failed", result.reason, details={"handler": handler.code, "check": result.code}
        )


def _new_assignment(case: Case, *, handler: Handler, role: str, now: dt.datetime) -> Assignment:
    assert case.category is not None
    assignment = Assignment(
        case=case,
        handler=handler,
        role=role,
        clock_unit=clock_unit_for(category=case.category, urgent=case.urgent),
        sla_hours=float(case.category.sla_hours),
        started_at=now,
    )
    set_thresholds(assignment=assignment)
    assignment.save()
    return assignment


def case_dispatch(
    *,
    actor: Any,
    case: Case,
    primary: Handler,
    co_handlers: list[Handler] | None = None,
    category: Category | None = None,
    note: str = "",
) -> Case:
    """派遣: one assignment per handler, each with its own clock. The category may be corrected here;
    the correction is kept as a labelled example for triage."""
    co = [h for h in (co_handlers or []) if h.pk != primary.pk]
    if len({h.pk for h in co}) != len(co):
        raise ServiceError("duplicate_handler", "协办单位重复")
    with transaction.atomic():
        case = _transition(case, actor=actor, action="dispatch")
        corrected = category is not None and category.pk != case.category_id
        if category is not None:
            case.category = category
        if case.category is None:
            raise ServiceError("category_required", "派遣前请确定诉求类别")
        for handler in [primary, *co]:
            if not handler.active:
                raise ServiceError("handler_inactive", f"{handler.name}已停用,不能派遣")
            _duty_gate(actor=actor, handler=handler, category=case.category)
        now = timezone.now()
        case.assignments.filter(status__in=[AssignmentStatus.PENDING]).update(
            status=AssignmentStatus.CANCELLED, finished_at=now
        )
        _new_assignment(case, handler=primary, role=AssignmentRole.PRIMARY, now=now)
        for handler in co:
            _new_assignment(case, handler=handler, role=AssignmentRole.CO, now=now)
        primary_deadline = case.assignments.get(
            status=AssignmentStatus.PENDING, role=AssignmentRole.PRIMARY
        ).deadline
        case.deadline = primary_deadline
        case.dispatched_at = now
        case.save()
        if corrected and actor is not None:
            _learn_correction(actor=actor, case=case)
        names = "、".join([primary.name, *(h.name for h in co)])
        _event(
            case,
            actor=actor,
            action="dispatch",
            note=f"派遣至 {names}" + (f";{note}" if note else ""),
            data={"primary": primary.code, "co": [h.code for h in co], "category": case.category.code},
        )
        _audit(case, actor=actor, action="dispatch")
        for assignment in case.assignments.filter(status=AssignmentStatus.PENDING).select_related("handler"):
            _tell_handler(
                assignment,
                kind="case.dispatched",
                body=f"新派遣:{case.number}({case.category.name}),请在 {_fmt(assignment.deadline)} 前办结",
            )
    return case


def case_register_and_dispatch(
    *,
    actor: Any,
    case: Case,
    primary: Handler,
    co_handlers: list[Handler] | None = None,
    category: Category | None = None,
    note: str = "",
) -> Case:
    """立案并派遣 in one step from the dispatcher's queue: both transitions or neither.

    A received case is registered with triage's category first, so that a correction made here
    is recorded once, at dispatch, as the example triage learns from."""
    with transaction.atomic():
        if _lock(case).status == CaseStatus.RECEIVED:
            first = None if case.suggested_category_id else category
            case = case_register(actor=actor, case=case, category=first)
        return case_dispatch(
            actor=actor, case=case, primary=primary, co_handlers=co_handlers, category=category, note=note
        )


def _learn_correction(*, actor: Any, case: Case) -> None:
    from shanzhi.triage.services import triage_example_add

    assert case.category is not None
    triage_example_add(actor=actor, text=case.text, category=case.category.code)


def _fmt(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _assignment_for_update(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("handler", "case")
        .get(pk=assignment.pk)
    )


def _open_assignment(
    assignment: Assignment, *, actor: Any, statuses: tuple[str, ...], label: str
) -> Assignment:
    assignment = _assignment_for_update(assignment)
    _check_handler(actor, assignment)
    if actor is not None and "admin" in roles_of(user=actor):
        _check_jurisdiction(actor, assignment.case)
    if assignment.status not in statuses:
        raise ServiceError(
            "illegal_transition",
            f"该派遣当前为“{assignment.get_status_display()}”,不能{label}",
            status=409,
        )
    return assignment


def assignment_accept(*, actor: Any, assignment: Assignment) -> Assignment:
    """签收. The primary's acceptance moves the case to 处置中; a co-handler's only its own share."""
    with transaction.atomic():
        assignment = _open_assignment(
            assignment, actor=actor, statuses=(AssignmentStatus.PENDING,), label="签收"
        )
        if assignment.role == AssignmentRole.PRIMARY:
            case = _transition(assignment.case, actor=actor, action="accept")
        else:
            case = _lock(assignment.case)
        assignment.status = AssignmentStatus.ACCEPTED
        assignment.accepted_at = timezone.now()
        assignment.save()
        case.save()
        _event(
            case, actor=actor, action="accept", assignment=assignment, note=f"{assignment.handler.name}签收"
        )
        _audit(case, actor=actor, action="accept")
    return assignment


def assignment_return(*, actor: Any, assignment: Assignment, reason: str) -> Assignment:
    """退回 a mis-dispatch to the dispatcher; counted against the dispatch, not the handler."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "退回必须说明理由")
    with transaction.atomic():
        assignment = _open_assignment(
            assignment, actor=actor, statuses=(AssignmentStatus.PENDING,), label="退回"
        )
        now = timezone.now()
        if assignment.role == AssignmentRole.PRIMARY:
            case = _transition(assignment.case, actor=actor, action="return")
            case.dispatch_returns += 1
            case.deadline = None
            # The whole dispatch was wrong: the co-handlers' pending shares go with it.
            case.assignments.exclude(pk=assignment.pk).filter(status=AssignmentStatus.PENDING).update(
                status=AssignmentStatus.CANCELLED, finished_at=now
            )
        else:
            case = _lock(assignment.case)
        assignment.status = AssignmentStatus.RETURNED
        assignment.return_reason = reason[:255]
        assignment.finished_at = now
        assignment.save()
        case.save()
        _event(
            case,
            actor=actor,
            action="return",
            assignment=assignment,
            note=f"{assignment.handler.name}退回:{reason}",
        )
        _audit(case, actor=actor, action="return")
        _tell_dispatchers(
            case, kind="case.returned", body=f"{case.number} 被{assignment.handler.name}退回:{reason}"
        )
    return assignment


def assignment_report(
    *, actor: Any, assignment: Assignment, text: str, photos: list[CheckedFile] | None = None
) -> Assignment:
    """反馈办理结果 with text and photos. The primary's report sends the case to verification."""
    text = _validate_text(text)
    with transaction.atomic():
        assignment = _open_assignment(
            assignment, actor=actor, statuses=(AssignmentStatus.ACCEPTED,), label="反馈"
        )
        now = timezone.now()
        if assignment.role == AssignmentRole.PRIMARY:
            case = _transition(assignment.case, actor=actor, action="report")
        else:
            case = _lock(assignment.case)
        assignment.status = AssignmentStatus.REPORTED
        assignment.report_text = text
        assignment.reported_at = now
        assignment.on_time = now <= assignment.deadline
        assignment.save()
        for checked in photos or []:
            _attach(case, checked, stage=AttachmentStage.REPORT)
        case.save()
        _event(case, actor=actor, action="report", assignment=assignment, note=text)
        _audit(case, actor=actor, action="report")
        if assignment.role == AssignmentRole.PRIMARY:
            _tell_verifiers(case, kind="case.verify", body=f"{case.number} 已反馈办理结果,请现场核查")
    return assignment


def assignment_request(
    *, actor: Any, assignment: Assignment, kind: str, reason: str, hours: float = 0
) -> HandlerRequest:
    """Ask for an extension (延期, with extra hours) or a suspension (缓办)."""
    if kind not in RequestKind.values:
        raise ServiceError("invalid_request_kind", "只能申请延期或缓办")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "申请必须说明理由")
    if kind == RequestKind.EXTENSION and not (0 < hours <= 24 * 30):
        raise ServiceError("invalid_hours", "延期时长应在 0 到 720 小时之间")
    with transaction.atomic():
        assignment = _open_assignment(
            assignment,
            actor=actor,
            statuses=(AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED),
            label="申请",
        )
        if assignment.requests.filter(state=RequestState.PENDING).exists():
            raise ServiceError("request_pending", "已有一项申请正在审批,请等待结果", status=409)
        request = HandlerRequest.objects.create(
            assignment=assignment,
            kind=kind,
            hours=hours if kind == RequestKind.EXTENSION else 0,
            reason=reason[:500],
            requested_by=actor,
            requested_at=timezone.now(),
        )
        case = assignment.case
        _event(
            case,
            actor=actor,
            action=f"request_{kind}",
            assignment=assignment,
            note=f"{RequestKind(kind).label}申请:{reason}",
        )
        audit_append(
            actor=actor,
            action=f"assignment.request_{kind}",
            obj=request,
            state={"assignment": assignment.pk, "kind": kind, "hours": request.hours, "reason": reason},
        )
        _tell_dispatchers(
            case,
            kind="case.request",
            body=f"{case.number}:{assignment.handler.name}申请{RequestKind(kind).label}",
        )
    return request


def request_decide(*, actor: Any, request: HandlerRequest, approve: bool, note: str = "") -> HandlerRequest:
    """A dispatcher approves or refuses an extension or suspension."""
    with transaction.atomic():
        request = (
            HandlerRequest.objects.select_for_update(of=("self",))
            .select_related("assignment__case")
            .get(pk=request.pk)
        )
        case = request.assignment.case
        _check_jurisdiction(actor, case)
        if actor is not None and not has_role(user=actor, roles={"dispatcher", "admin"}):
            raise PermissionDenied("只有调度员可以审批延期和缓办")
        if request.state != RequestState.PENDING:
            raise ServiceError("already_decided", "该申请已审批", status=409)
        assignment = _assignment_for_update(request.assignment)
        now = timezone.now()
        request.state = RequestState.APPROVED if approve else RequestState.REFUSED
        request.decided_by, request.decided_at, request.decision_note = actor, now, note[:500]
        request.save()
        if approve and request.kind == RequestKind.EXTENSION:
            assignment.sla_hours += request.hours
            assignment.extension_hours += request.hours
            set_thresholds(assignment=assignment)
            _reset_ladder(assignment, now=now)
            assignment.save()
        elif approve and request.kind == RequestKind.SUSPENSION:
            if assignment.status not in OPEN_FOR_SUSPENSION:
                raise ServiceError("illegal_transition", "该派遣当前不能缓办", status=409)
            ClockPause.objects.create(assignment=assignment, started_at=now, reason=request.reason)
            assignment.status = AssignmentStatus.SUSPENDED
            assignment.suspended_at = now
            assignment.save()
        if assignment.role == AssignmentRole.PRIMARY:
            case.deadline = assignment.deadline
            case.save(update_fields=["deadline", "updated_at"])
        verdict = "批准" if approve else "不批准"
        _event(
            case,
            actor=actor,
            action=f"decide_{request.kind}",
            assignment=assignment,
            note=f"{verdict}{request.get_kind_display()}申请" + (f":{note}" if note else ""),
        )
        _audit(case, actor=actor, action=f"decide_{request.kind}")
        _tell_handler(
            assignment,
            kind="case.request_decided",
            body=f"{case.number} 的{request.get_kind_display()}申请已{verdict}",
        )
    return request


OPEN_FOR_SUSPENSION = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)


def _reset_ladder(assignment: Assignment, *, now: dt.datetime) -> None:
    """A moved deadline re-arms the ladder steps that now lie in the future."""
    if assignment.warn_at > now:
        assignment.warned_at = None
    if assignment.deadline > now:
        assignment.escalated_at = None
    if assignment.county_at > now:
        assignment.county_escalated_at = None


def assignment_resume(*, actor: Any, assignment: Assignment) -> Assignment:
    """End a suspension: the clock runs again and the deadline moves by the time it stood still."""
    with transaction.atomic():
        assignment = _open_assignment(
            assignment, actor=actor, statuses=(AssignmentStatus.SUSPENDED,), label="恢复办理"
        )
        now = timezone.now()
        assignment.pauses.filter(ended_at__isnull=True).update(ended_at=now)
        assignment.status = AssignmentStatus.ACCEPTED if assignment.accepted_at else AssignmentStatus.PENDING
        assignment.suspended_at = None
        set_thresholds(assignment=assignment)
        _reset_ladder(assignment, now=now)
        assignment.save()
        case = _lock(assignment.case)
        if assignment.role == AssignmentRole.PRIMARY:
            case.deadline = assignment.deadline
            case.save(update_fields=["deadline", "updated_at"])
        _event(
            case,
            actor=actor,
            action="resume",
            assignment=assignment,
            note=f"恢复办理,新时限 {_fmt(assignment.deadline)}",
        )
        _audit(case, actor=actor, action="resume")
    return assignment


# --- verification, closure, rating -----------------------------------------------------------------


def case_verify(
    *, actor: Any, case: Case, passed: bool, note: str = "", photos: list[CheckedFile] | None = None
) -> Case:
    """核查 on site: pass closes the case; reject sends it back to the primary handler as 返工."""
    _no_nul(note or "", label="核查说明")  # before any photo is stored
    if not passed and not (note or "").strip():
        raise ServiceError("reason_required", "核查不通过必须说明原因")
    with transaction.atomic():
        case = _transition(case, actor=actor, action="verify_pass" if passed else "verify_reject")
        now = timezone.now()
        for checked in photos or []:
            _attach(case, checked, stage=AttachmentStage.VERIFY)
        primary = case.assignments.select_for_update().get(
            role=AssignmentRole.PRIMARY, status=AssignmentStatus.REPORTED
        )
        if passed:
            case.closed_at = now
            case.assignments.filter(
                status__in=[
                    AssignmentStatus.REPORTED,
                    AssignmentStatus.ACCEPTED,
                    AssignmentStatus.PENDING,
                    AssignmentStatus.SUSPENDED,
                ]
            ).update(status=AssignmentStatus.DONE, finished_at=now)
        else:
            case.rework_count += 1
            primary.status = AssignmentStatus.ACCEPTED
            primary.rework_count += 1
            primary.reported_at = None
            primary.on_time = None
            primary.save()
        case.save()
        _event(case, actor=actor, action="verify_pass" if passed else "verify_reject", note=note)
        _audit(case, actor=actor, action="verify_pass" if passed else "verify_reject")
        if passed:
            _tell_reporter(
                case,
                kind="case.rate",
                body=f"您反映的问题(编号 {case.number})已办结,请评价:{RATING_CHOICES_TEXT}",
            )
        else:
            _tell_handler(primary, kind="case.rework", body=f"{case.number} 核查未通过,需返工:{note}")
    return case


UNSATISFIED = (Satisfaction.UNSATISFIED, Satisfaction.VERY_UNSATISFIED)
RATING_CHOICES_TEXT = "/".join(str(label) for label in Satisfaction.labels)


def case_rate(*, actor: Any, case: Case, satisfaction: str, comment: str = "", channel: str = "") -> Case:
    """评价 once, through ratings, so each case has one Rating (and a bad one its rectification):
    rating_submit checks who may rate, records the rating and calls case_rated back in the same
    transaction. `channel` is a ratings channel (app, web, hotline, sms, …); empty = by role."""
    if satisfaction not in Satisfaction.values:
        raise ServiceError("invalid_satisfaction", "评价应为:非常满意、满意、基本满意、不满意、非常不满意")
    rating_submit(
        actor=actor, obj_type="case", obj_id=case.number, level=satisfaction, comment=comment, channel=channel
    )
    return Case.objects.select_related("category", "region").get(pk=case.pk)


def case_rated(*, actor: Any, case: Case, satisfaction: str, comment: str = "") -> Case:
    """The case's side of a rating, called by ratings inside rating_submit's transaction: 已评价;
    不满意 within 7 days of closure reopens the case for the dispatcher's review."""
    if satisfaction not in Satisfaction.values:
        raise ServiceError("invalid_satisfaction", "评价应为:非常满意、满意、基本满意、不满意、非常不满意")
    with transaction.atomic():
        locked = _lock(case)
        if actor is not None and "resident" in roles_of(user=actor) and locked.reporter_id != actor.pk:
            raise NotFound()
        if actor is not None and "resident" not in roles_of(user=actor):
            _check_jurisdiction(actor, locked)
        case = locked
        transition = transition_for(action="rate", status=case.status)
        if actor is not None and not has_role(user=actor, roles=transition.roles):
            raise PermissionDenied("您的角色不能评价案卷")
        case.status = transition.target
        case.satisfaction = satisfaction
        case.rated_at = timezone.now()
        case.save()
        _event(case, actor=actor, action="rate", note=f"{Satisfaction(satisfaction).label} {comment}".strip())
        _audit(case, actor=actor, action="rate")
        if satisfaction in UNSATISFIED and case.closed_at and case.rated_at - case.closed_at <= REOPEN_WINDOW:
            case.status = TRANSITIONS["reopen"].target
            case.reopen_count += 1
            case.closed_at = None
            case.deadline = None
            case.save()
            _event(case, actor=None, action="reopen", note="群众评价不满意,案卷重新办理,等待调度员复核")
            _audit(case, actor=None, action="reopen")
            _tell_dispatchers(
                case, kind="case.reopened", body=f"{case.number} 群众评价不满意,已重新打开待复核"
            )
    return case


# --- who is told ---------------------------------------------------------------------------------


def _tell_reporter(case: Case, *, kind: str, body: str) -> None:
    if case.reporter_id:
        message_queue(channel=MessageChannel.IN_APP, kind=kind, body=body, recipient=case.reporter, obj=case)
    if case.reporter_phone:
        message_queue(channel=MessageChannel.SMS, kind=kind, body=body, phone=case.reporter_phone, obj=case)


def _tell_handler(assignment: Assignment, *, kind: str, body: str) -> None:
    from shanzhi.cases.people import handler_staff

    for user in handler_staff(handler=assignment.handler):
        message_queue(
            channel=MessageChannel.IN_APP, kind=kind, body=body, recipient=user, obj=assignment.case
        )


def _tell_dispatchers(case: Case, *, kind: str, body: str) -> None:
    from shanzhi.cases.people import dispatchers_for

    for user in dispatchers_for(case=case):
        message_queue(channel=MessageChannel.IN_APP, kind=kind, body=body, recipient=user, obj=case)


def _tell_verifiers(case: Case, *, kind: str, body: str) -> None:
    from shanzhi.cases.people import verifiers_for

    for user in verifiers_for(case=case):
        message_queue(channel=MessageChannel.IN_APP, kind=kind, body=body, recipient=user, obj=case)
