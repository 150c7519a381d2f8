"""Every change to an application: one service per transition of the table in workflow.py, plus
creating an application, bringing its files, and the clerk's tick for a paper original.

Each runs in one transaction, checks the actor's rights and jurisdiction (another township's
application is a 404), writes one event on the timeline and one audit entry, and queues the
applicant's SMS (sent once the change commits). Bad input is refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from shanzhi.audit.services import actor_label, audit_append
from shanzhi.cases.uploads import CheckedFile
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Region
from shanzhi.core.selectors import has_role, jurisdiction_root, region_county, roles_of, staff_of
from shanzhi.core.validators import refuse_nul, validate_id_number, validate_mobile
from shanzhi.onewindow import bundles as bundle_flow
from shanzhi.onewindow import deadlines, materials, people
from shanzhi.onewindow.application_selectors import can_see
from shanzhi.onewindow.models import Bundle, Channel, ServiceItem
from shanzhi.onewindow.models_applications import (
    FILE_STATUSES,
    Application,
    ApplicationEvent,
    ApplicationFile,
    ApplicationIdempotency,
    ApplicationMaterial,
    ApplicationSequence,
    ApplicationStatus,
    ConsentMethod,
    FileStage,
    LineStatus,
    ProxyConsent,
    ProxyReason,
)
from shanzhi.onewindow.workflow import SYSTEM, TRANSITIONS, status_label, transition_for

# Who may take an application in on each channel. A kiosk is a terminal signed in with its own
# kiosk account of its hall (a clerk may still run one); a resident applies online for themselves.
CHANNEL_ROLES: dict[str, frozenset[str]] = {
    Channel.WINDOW: frozenset({"clerk", "admin"}),
    Channel.ONLINE: frozenset({"resident", "admin"}),
    Channel.KIOSK: frozenset({"clerk", "kiosk", "admin"}),
    Channel.ASSISTED: frozenset({"clerk", "gridworker", "admin"}),
}
# A kiosk uploads scans only to what it can see: its own applications of the last hour.
UPLOAD_ROLES = frozenset({"resident", "clerk", "gridworker", "kiosk", "admin"})
MAX_NAME = 64
MAX_REASON = 500
MAX_CORRECTION_ITEMS = 20
CONSENT_MAX_AGE = dt.timedelta(days=30)


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    name: str
    id_number: str
    phone: str


def clean_applicant(*, name: str, id_number: str, phone: str) -> Applicant:
    """Name, an ID number that passes GB 11643's check digit, a mainland mobile number."""
    return Applicant(name=clean_name(name), id_number=_id_number(id_number), phone=clean_phone(phone))


def clean_name(value: str) -> str:
    name = " ".join(refuse_nul(value, label="姓名").split())
    if not name or len(name) > MAX_NAME:
        raise ServiceError("invalid_name", f"请填写姓名(不超过 {MAX_NAME} 字)", status=422)
    return name


def _id_number(value: str) -> str:
    try:
        return validate_id_number(value)
    except ServiceError as exc:
        raise ServiceError(exc.code, exc.message, status=422) from exc


def clean_phone(value: str) -> str:
    try:
        return validate_mobile(value)
    except ServiceError as exc:
        raise ServiceError(exc.code, exc.message, status=422) from exc


@dataclass(frozen=True)
class ConsentSpec:
    """帮办代办: who agreed that staff apply for the resident, how, and when."""

    reason: str
    consenter_name: str
    relation: str
    method: str
    witness: str = ""
    consented_at: dt.datetime | None = None


def _clean_consent(spec: ConsentSpec, *, now: dt.datetime) -> ConsentSpec:
    errors = []
    if spec.reason not in ProxyReason.values:
        errors.append(("reason", "请选择代办原因(老年人、残疾人、重病行动不便)"))
    name = " ".join(refuse_nul(spec.consenter_name, label="同意代办的人", field="consenter_name").split())
    relation = " ".join(refuse_nul(spec.relation, label="与申请人的关系", field="relation").split())
    witness = " ".join(refuse_nul(spec.witness, label="见证人", field="witness").split())
    if not name or len(name) > MAX_NAME:
        errors.append(("consenter_name", "请填写同意代办的人"))
    if not relation or len(relation) > 32:
        errors.append(("relation", "请填写同意人与申请人的关系"))
    if spec.method not in ConsentMethod.values:
        errors.append(("method", "请选择同意方式:本人签字或有见证人的口头同意"))
    if spec.method == ConsentMethod.VERBAL and not witness:
        errors.append(("witness", "口头同意须有见证人"))
    if len(witness) > MAX_NAME:
        errors.append(("witness", "见证人姓名过长"))
    at = spec.consented_at or now
    if at.tzinfo is None:
        errors.append(("consented_at", "同意时间须带时区"))
    elif at > now + dt.timedelta(minutes=5) or at < now - CONSENT_MAX_AGE:
        errors.append(("consented_at", "同意时间应在 30 天之内,且不能晚于现在"))
    if errors:
        raise ServiceError(
            "invalid_consent",
            "代办授权记录不完整:" + ";".join(m for _f, m in errors),
            details=[{"field": f, "message": m} for f, m in errors],
            status=422,
        )
    return ConsentSpec(
        reason=spec.reason,
        consenter_name=name,
        relation=relation,
        method=spec.method,
        witness=witness,
        consented_at=at,
    )


def clean_form(*, bundle: Bundle, values: Mapping[str, Any]) -> dict[str, str]:
    """The bundle's merged form: every required field filled, ID numbers, phones, dates and numbers
    valid; each problem named at once."""
    fields = {f["key"]: f for f in bundle.form_fields}
    errors: list[tuple[str, str]] = []
    unknown = [k for k in values if k not in fields]
    for key in unknown[:5]:
        errors.append((str(key)[:40], "不是本表单的字段"))
    out: dict[str, str] = {}
    for key, f in fields.items():
        label = f["label"]
        raw = " ".join(refuse_nul(values.get(key), label=label, field=key).split())
        if not raw:
            if f.get("required", True):
                errors.append((key, f"请填写{label}"))
            continue
        if len(raw) > 200:
            errors.append((key, f"{label}不超过 200 字"))
            continue
        try:
            if f["kind"] == "id_number":
                raw = validate_id_number(raw)
            elif f["kind"] == "phone":
                raw = validate_mobile(raw)
            elif f["kind"] == "date":
                raw = dt.date.fromisoformat(raw).isoformat()
            elif f["kind"] == "number" and not (math.isfinite(float(raw)) and float(raw) >= 0):
                raise ValueError(raw)
        except ServiceError as exc:
            errors.append((key, f"{label}:{exc.message}"))
            continue
        except ValueError:
            errors.append((key, f"{label}格式不正确"))
            continue
        out[key] = raw
    if errors:
        raise ServiceError(
            "invalid_form",
            "申请表有误:" + ";".join(m for _k, m in errors),
            details=[{"field": k, "message": m} for k, m in errors],
            status=422,
        )
    return out


# --- helpers ----------------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def application_state(app: Application) -> dict[str, Any]:
    """What the audit digest covers; personal data enters only as digests."""
    return {
        "number": app.number,
        "status": app.status,
        "item": app.item.code if app.item_id and app.item else None,
        "bundle": app.bundle.code if app.bundle_id and app.bundle else None,
        "parent": app.parent.number if app.parent_id and app.parent else None,
        "channel": app.channel,
        "region": app.region.code,
        "department": app.department.code if app.department_id and app.department else None,
        "applicant_id_sha256": _digest(app.applicant_id_number),
        "applicant_phone_sha256": _digest(app.applicant_phone),
        "answers": app.answers,
        "lines": [[line.key, line.status, line.source] for line in app.lines.order_by("order")]
        if app.pk
        else [],
        "deadline": app.deadline,
        "missing_notice": app.missing_notice,
        "correction_items": app.correction_items,
        "decision": app.decision,
        "refuse_reason": app.refuse_reason,
    }


def event(
    app: Application, *, actor: Any, action: str, note: str = "", now: dt.datetime | None = None
) -> None:
    ApplicationEvent.objects.create(
        application=app, at=now or timezone.now(), actor=actor_label(actor), action=action, note=note[:500]
    )


def audit(app: Application, *, actor: Any, action: str) -> None:
    audit_append(actor=actor, action=f"application.{action}", obj=app, state=application_state(app))


def _next_number(now: dt.datetime) -> str:
    day = timezone.localdate(now)
    seq, _ = ApplicationSequence.objects.select_for_update().get_or_create(day=day)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"SQ{day:%Y%m%d}{seq.last:05d}"


def when(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def lock(app: Application, *, actor: Any) -> Application:
    """Re-read under a row lock; someone who may not see it gets the 404 of a missing number.

    A bundle part locks its parent first: decisions on two parts of one bundle then take turns
    (each may release or stop the other parts and complete the parent), never deadlock."""
    if app.parent_id is not None:
        list(Application.objects.select_for_update().filter(pk=app.parent_id).values_list("pk", flat=True))
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("item", "bundle", "region", "department", "parent")
        .filter(pk=app.pk)
        .first()
    )
    if locked is None or (actor is not None and not can_see(user=actor, app=locked)):
        raise NotFound("办件不存在或不在您的管辖范围内")
    return locked


def _check_role(actor: Any, action: str) -> None:
    transition = TRANSITIONS[action]
    if actor is None:
        return
    if transition.roles == SYSTEM or not has_role(user=actor, roles=transition.roles):
        raise PermissionDenied(f"您的角色不能执行“{transition.label}”")


def _check_department(actor: Any, app: Application) -> None:
    """Back-office steps are taken by the department the application is routed to."""
    if actor is None or "admin" in roles_of(user=actor):
        return
    staff = staff_of(user=actor)
    if staff is None or app.department_id is None or staff.handler_id != app.department_id:
        raise NotFound("该办件不是流转到您所在部门的")


def _check_own(actor: Any, app: Application) -> None:
    """A resident acts only on their own application."""
    if actor is not None and roles_of(user=actor) == {"resident"} and app.applicant_user_id != actor.pk:
        raise NotFound("办件不存在或不在您的管辖范围内")


def transition(app: Application, *, actor: Any, action: str) -> Application:
    """Lock, check who and whether, and move `app` to the transition's target (not saved)."""
    locked = lock(app, actor=actor)
    _check_role(actor, action)
    move = transition_for(action=action, status=locked.status)
    locked.status = move.target
    return locked


def _text(value: str, *, code: str, label: str, max_length: int = MAX_REASON, required: bool = True) -> str:
    text = refuse_nul(value, label=label).strip()
    if required and not text:
        raise ServiceError(code, f"请填写{label}", status=422)
    if len(text) > max_length:
        raise ServiceError(code, f"{label}不超过 {max_length} 字", status=422)
    return text


# --- idempotency ------------------------------------------------------------------------------


def request_digest(payload: Mapping[str, Any]) -> str:
    return _digest(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str))


def _replay(owner: str, key: str, digest: str) -> Application | None:
    record = ApplicationIdempotency.objects.filter(owner=owner, key=key).select_related("application").first()
    if record is None:
        return None
    if record.request_digest != digest:
        raise ServiceError(
            "idempotency_key_reused",
            "该表单或 Idempotency-Key 已用于另一份不同的申请,请刷新页面后重试",
            status=409,
        )
    return record.application


def idempotent(
    idempotency: tuple[str, str, str] | None, run: Callable[[], Application]
) -> tuple[Application, bool]:
    """Run a write once per (owner, key): a second submit of the same form or request answers
    with the first result (and True) instead of doing it again. A key reused for a different
    request is refused."""
    if idempotency is None:
        return run(), False
    owner, key, digest = idempotency
    key = refuse_nul(key, label="Idempotency-Key").strip()
    if not 1 <= len(key) <= 128:
        raise ServiceError("invalid_idempotency_key", "Idempotency-Key 应为 1–128 个字符", status=422)
    try:
        with transaction.atomic():
            previous = _replay(owner, key, digest)
            if previous is not None:
                return previous, True
            app = run()
            ApplicationIdempotency.objects.create(
                owner=owner, key=key, request_digest=digest, application=app
            )
            return app, False
    except IntegrityError:
        previous = _replay(owner, key, digest)  # a simultaneous twin won; answer with its result
        if previous is None:
            raise
        return previous, True


# --- create -----------------------------------------------------------------------------------


def _intake_region(actor: Any, region: Region | None, channel: str) -> Region:
    if actor is None:
        chosen = region or region_county()
        if chosen is None:
            raise ServiceError("no_region", "尚未建立行政区域", status=422)
        return chosen
    staff = staff_of(user=actor)
    if channel == Channel.ONLINE and staff is not None:
        return staff.region  # where the resident lives
    root = jurisdiction_root(user=actor)
    if root is None:
        raise PermissionDenied("您的账号没有所属区域,不能受理申请")
    chosen = region or root
    if not chosen.path.startswith(root.path):
        raise NotFound("所选区域不在您的管辖范围内")
    return chosen


def application_create(
    *,
    actor: Any,
    channel: str,
    applicant: Applicant,
    item: ServiceItem | None = None,
    bundle: Bundle | None = None,
    answers: Mapping[str, Any] | None = None,
    form_data: Mapping[str, Any] | None = None,
    region: Region | None = None,
    consent: ConsentSpec | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """Start an application (draft) for an item or a bundle, with the applicant's answers to its
    material conditions; the checklist is made from them at once, recording what the platform
    fetches from shared data. Assisted applications need the resident's consent."""
    now = now or timezone.now()
    if channel not in Channel.values:
        raise ServiceError("invalid_channel", "申请渠道应为窗口、网上、自助终端或帮办代办", status=422)
    if actor is not None and not has_role(user=actor, roles=CHANNEL_ROLES[channel]):
        raise PermissionDenied(f"您的角色不能通过“{Channel(channel).label}”渠道申请")
    if (item is None) == (bundle is None):
        raise ServiceError("invalid_target", "请选择一个事项或一件事", status=422)
    if item is not None and (not item.active or channel not in item.channels):
        raise ServiceError(
            "channel_not_offered", f"“{item.name}”不能通过“{Channel(channel).label}”办理", status=422
        )
    if bundle is not None and not bundle.active:
        raise ServiceError("invalid_target", "该一件事已停用", status=422)
    if channel == Channel.ASSISTED:
        if consent is None:
            raise ServiceError("consent_required", "帮办代办须记录申请人(或监护人)的同意", status=422)
        consent = _clean_consent(consent, now=now)
    if item is not None:
        questions = materials.item_questions(item)
    else:
        assert bundle is not None
        questions = materials.bundle_questions(bundle)
    clean = materials.clean_answers(questions=questions, answers=answers or {})
    data = clean_form(bundle=bundle, values=form_data or {}) if bundle is not None else {}
    if item is not None:
        lines = materials.item_checklist(item=item, answers=clean)
    else:
        assert bundle is not None
        lines = materials.bundle_checklist(bundle=bundle, answers=clean)
    place = _intake_region(actor, region, channel)
    resident = (
        actor
        if actor is not None and channel == Channel.ONLINE and "resident" in roles_of(user=actor)
        else None
    )
    with transaction.atomic():
        app = Application.objects.create(
            number=_next_number(now),
            item=item,
            bundle=bundle,
            channel=channel,
            status=ApplicationStatus.DRAFT,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
            applicant_phone=applicant.phone,
            applicant_user=resident,
            region=place,
            department=item.department if item is not None else None,
            created_by=actor,
            answers=clean,
            form_data=data,
            promised_days=item.promised_days if item is not None else 0,
            created_at=now,
        )
        ApplicationMaterial.objects.bulk_create(
            [
                ApplicationMaterial(
                    application=app,
                    material=spec.material,
                    order=n,
                    key=spec.key,
                    name=spec.name,
                    form=spec.form,
                    copies=spec.copies,
                    condition=spec.condition,
                    status=spec.status,
                    source=spec.source,
                    checked_at=now if spec.status == LineStatus.FETCHED else None,
                )
                for n, spec in enumerate(lines, start=1)
            ]
        )
        note = f"渠道:{Channel(channel).label}"
        if consent is not None:
            ProxyConsent.objects.create(
                application=app,
                reason=consent.reason,
                consenter_name=consent.consenter_name,
                relation=consent.relation,
                method=consent.method,
                witness=consent.witness,
                consented_at=consent.consented_at or now,
                recorded_by=actor,
            )
            how = ConsentMethod(consent.method).label
            note += f";代办授权:{consent.consenter_name}({consent.relation}),{how}"
        fetched = [f"{s.name}({s.source})" for s in lines if s.status == LineStatus.FETCHED]
        if fetched:
            note += ";共享获取:" + "、".join(fetched)
        event(app, actor=actor, action="create", note=note, now=now)
        audit(app, actor=actor, action="create")
    return app


# --- materials --------------------------------------------------------------------------------


def _line(app: Application, key: str) -> ApplicationMaterial:
    line = app.lines.filter(key=refuse_nul(key, label="材料名称").strip()[:100]).first()
    if line is None:
        raise ServiceError("unknown_material", "本办件的材料清单中没有这项材料", status=422)
    return line


def application_upload(
    *, actor: Any, application: Application, key: str, name: str, checked: CheckedFile
) -> ApplicationFile:
    """Attach a file (already checked by its content: materials.check_upload) to one line of the
    checklist. Files are taken while the application is being prepared, or during 补正."""
    if actor is not None and not has_role(user=actor, roles=UPLOAD_ROLES):
        raise PermissionDenied("您的角色不能上传申请材料")
    now = timezone.now()
    with transaction.atomic():
        app = lock(application, actor=actor)
        _check_own(actor, app)
        if app.status not in FILE_STATUSES:
            raise ServiceError(
                "not_editable", f"办件当前状态为“{status_label(app.status)}”,不能再上传材料", status=409
            )
        line = _line(app, key)
        if line.status in (
            LineStatus.NOT_NEEDED,
            LineStatus.FETCHED,
            LineStatus.PENDING_RESULT,
            LineStatus.FROM_RESULT,
        ):
            raise ServiceError(
                "line_not_needed", f"“{line.name}”无需您提交({line.get_status_display()})", status=409
            )
        if line.files.count() >= materials.MAX_FILES_PER_LINE:
            raise ServiceError(
                "too_many_files", f"每项材料最多上传 {materials.MAX_FILES_PER_LINE} 个文件", status=422
            )
        stage = (
            FileStage.CORRECTION if app.status == ApplicationStatus.CORRECTION_REQUESTED else FileStage.INTAKE
        )
        upload = ApplicationFile(
            application=app,
            line=line,
            stage=stage,
            original_name=(name or checked.name)[:120],
            content_type=checked.content_type,
            size=len(checked.content),
            sha256=checked.sha256,
            uploaded_by=actor,
            uploaded_at=now,
        )
        ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
        # The stored name says nothing about the person; only the view that checks rights serves it.
        upload.file.save(
            f"{app.number}-{line.order:02d}-{checked.sha256[:16]}.{ext[checked.content_type]}",
            ContentFile(checked.content),
            save=False,
        )
        upload.save()
        line.status = LineStatus.UPLOADED
        line.checked_at = now
        line.checked_by = actor
        line.save(update_fields=["status", "checked_at", "checked_by"])
        event(app, actor=actor, action="upload", note=f"{line.name}:{upload.original_name}", now=now)
        audit(app, actor=actor, action="upload")
    return upload


def application_mark_paper(
    *, actor: Any, application: Application, key: str, received: bool = True, now: dt.datetime | None = None
) -> Application:
    """The clerk saw the paper original (or took the copy) of a material at the window."""
    if actor is not None and not has_role(user=actor, roles={"clerk", "admin"}):
        raise PermissionDenied("只有窗口人员可以核验纸质材料")
    now = now or timezone.now()
    with transaction.atomic():
        app = lock(application, actor=actor)
        if app.status not in FILE_STATUSES:
            raise ServiceError(
                "not_editable", f"办件当前状态为“{status_label(app.status)}”,不能再核验材料", status=409
            )
        line = _line(app, key)
        if received:
            if line.status not in (LineStatus.NEEDED, LineStatus.PAPER, LineStatus.UPLOADED):
                raise ServiceError(
                    "line_not_needed", f"“{line.name}”无需提交({line.get_status_display()})", status=409
                )
            line.status = LineStatus.PAPER
        else:
            if line.status != LineStatus.PAPER:
                raise ServiceError("not_marked", f"“{line.name}”没有登记为已收纸质材料", status=409)
            line.status = LineStatus.UPLOADED if line.files.exists() else LineStatus.NEEDED
        line.checked_by = actor
        line.checked_at = now
        line.save(update_fields=["status", "checked_by", "checked_at"])
        event(
            app,
            actor=actor,
            action="paper",
            note=f"{line.name}:{'已收' if received else '撤销'}纸质材料",
            now=now,
        )
        audit(app, actor=actor, action="paper")
    return app


def material_check(app: Application) -> materials.MaterialCheck:
    return materials.check_lines(app.lines.order_by("order"))


def _require_complete(app: Application) -> materials.MaterialCheck:
    check = material_check(app)
    if not check.complete:
        raise ServiceError(
            "materials_missing", check.message(), details={"missing": check.missing_list()}, status=422
        )
    return check


# --- transitions ------------------------------------------------------------------------------


def application_submit(
    *, actor: Any, application: Application, now: dt.datetime | None = None
) -> Application:
    """提交: online, at a kiosk or for an assisted resident. Every needed material must be there;
    what is missing is named completely in the refusal."""
    now = now or timezone.now()
    with transaction.atomic():
        app = transition(application, actor=actor, action="submit")
        _check_own(actor, app)
        _require_complete(app)
        app.submitted_at = now
        app.save()
        event(app, actor=actor, action="submit", now=now)
        audit(app, actor=actor, action="submit")
        people.tell_applicant(
            app,
            kind="application.submitted",
            body=f"您申请的“{app.title}”已提交,办件编号 {app.number},工作人员将尽快受理。",
        )
        people.tell_back_office(
            app, kind="application.submitted", body=f"{app.number} {app.title}:网上申请待受理"
        )
    return app


def application_accept(
    *, actor: Any, application: Application, now: dt.datetime | None = None
) -> Application:
    """受理: the material check passes, the clock starts (promised working days), the receipt is
    issued, and the application goes to its department's back office. A bundle fans out into one
    part per step: parts without prerequisites go to their back offices now, the rest wait."""
    now = now or timezone.now()
    with transaction.atomic():
        app = transition(application, actor=actor, action="accept")
        if (
            actor is not None
            and "approver" in roles_of(user=actor)
            and not has_role(user=actor, roles={"clerk", "admin"})
        ):
            _check_department(actor, app)
        _require_complete(app)
        app.accepted_at = now
        app.submitted_at = app.submitted_at or now
        app.clerk = actor if actor is not None else app.clerk
        if app.is_bundle:
            assert app.bundle is not None
            app.promised_days = bundle_flow.promised_days(app.bundle)
        deadlines.start_clock(app, now=now)
        app.save()
        event(app, actor=actor, action="accept", note=f"承诺 {when(app.deadline)} 前办结", now=now)
        audit(app, actor=actor, action="accept")
        people.tell_applicant(
            app,
            kind="application.accepted",
            body=f"您申请的“{app.title}”已受理,受理编号 {app.number},承诺 {when(app.deadline)} 前办结。"
            "凭受理编号和本手机号可随时查询进度。",
        )
        if app.is_bundle:
            bundle_flow.fan_out(app, actor=actor, now=now)
        else:
            people.tell_back_office(
                app,
                kind="application.routed",
                body=f"新办件 {app.number} {app.title},请于 {when(app.deadline)} 前办结",
            )
    return app


def application_not_accept(
    *, actor: Any, application: Application, now: dt.datetime | None = None
) -> Application:
    """一次性告知: materials are missing; the applicant is told the complete list, once. A second
    notice is refused: everything missing was named the first time."""
    now = now or timezone.now()
    with transaction.atomic():
        app = lock(application, actor=actor)
        if app.notified_at is not None:
            raise ServiceError(
                "already_told",
                f"已于 {when(app.notified_at)} 一次性告知所缺材料,不能再次告知;材料补齐后即可受理",
                status=409,
            )
        app = transition(app, actor=actor, action="not_accept")
        check = material_check(app)
        if check.complete:
            raise ServiceError("nothing_missing", "材料已齐全,请直接受理", status=409)
        app.missing_notice = check.missing_list()
        app.notified_at = now
        app.clerk = actor if actor is not None else app.clerk
        app.save()
        names = "、".join(m["name"] for m in app.missing_notice)
        event(
            app, actor=actor, action="not_accept", note=f"缺少 {len(app.missing_notice)} 项:{names}", now=now
        )
        audit(app, actor=actor, action="not_accept")
        people.tell_applicant(
            app,
            kind="application.not_accepted",
            body=f"您申请的“{app.title}”(编号 {app.number})还缺 {len(app.missing_notice)} 项材料:{names}。"
            "以上即全部所缺材料,补齐后即可受理。",
        )
    return app


def application_start_review(
    *, actor: Any, application: Application, now: dt.datetime | None = None
) -> Application:
    now = now or timezone.now()
    with transaction.atomic():
        app = transition(application, actor=actor, action="start_review")
        _check_department(actor, app)
        app.review_started_at = now
        app.save()
        event(app, actor=actor, action="start_review", now=now)
        audit(app, actor=actor, action="start_review")
        people.tell_applicant(
            app, kind="application.in_review", body=f"您申请的“{app.title}”(编号 {app.number})已进入审查。"
        )
    return app


def _decide(app: Application, *, actor: Any, now: dt.datetime) -> None:
    app.decided_at = now
    app.decided_by = actor
    app.on_time = app.deadline is None or now <= app.deadline


def application_approve(
    *, actor: Any, application: Application, decision: str = "", now: dt.datetime | None = None
) -> Application:
    decision = _text(decision, code="invalid_decision", label="办理结果", required=False) or "准予办理"
    now = now or timezone.now()
    with transaction.atomic():
        app = transition(application, actor=actor, action="approve")
        _check_department(actor, app)
        _decide(app, actor=actor, now=now)
        app.decision = decision
        app.save()
        event(app, actor=actor, action="approve", note=decision, now=now)
        audit(app, actor=actor, action="approve")
        people.tell_applicant(
            app,
            kind="application.approved",
            body=f"您申请的“{app.title}”(编号 {app.number})已批准:{decision}。",
        )
        if app.parent_id:
            bundle_flow.part_approved(app, actor=actor, now=now)
    return app


def application_refuse(
    *, actor: Any, application: Application, reason: str, now: dt.datetime | None = None
) -> Application:
    reason = _text(reason, code="reason_required", label="不予批准的理由")
    now = now or timezone.now()
    with transaction.atomic():
        app = transition(application, actor=actor, action="refuse")
        _check_department(actor, app)
        _decide(app, actor=actor, now=now)
        app.refuse_reason = reason
        app.save()
        event(app, actor=actor, action="refuse", note=reason, now=now)
        audit(app, actor=actor, action="refuse")
        people.tell_applicant(
            app,
            kind="application.refused",
            body=f"您申请的“{app.title}”(编号 {app.number})不予批准,理由:{reason}。"
            "如有异议,可依法申请行政复议。",
        )
        if app.parent_id:
            bundle_flow.part_refused(app, actor=actor, now=now)
    return app


def clean_correction_items(items: list[str]) -> list[str]:
    cleaned = [" ".join(refuse_nul(i, label="补正内容").split()) for i in items]
    cleaned = [i for i in cleaned if i]
    if not cleaned:
        raise ServiceError("items_required", "请列出需要补正的全部内容", status=422)
    if len(cleaned) > MAX_CORRECTION_ITEMS or any(len(i) > 200 for i in cleaned):
        raise ServiceError(
            "invalid_items", f"补正内容最多 {MAX_CORRECTION_ITEMS} 条,每条不超过 200 字", status=422
        )
    return cleaned


def application_request_correction(*, actor: Any, application: Application, items: list[str]) -> Application:
    """补正: once, with the complete list. The promised clock stops until the correction is in."""
    cleaned = clean_correction_items(items)
    now = timezone.now()
    with transaction.atomic():
        app = lock(application, actor=actor)
        _check_role(actor, "request_correction")
        if app.correction_requested_at is not None:
            raise ServiceError(
                "correction_used",
                f"已于 {when(app.correction_requested_at)} 要求过补正;补正只能要求一次,请直接作出决定",
                status=409,
            )
        app = transition(app, actor=actor, action="request_correction")
        _check_department(actor, app)
        app.correction_items = cleaned
        app.correction_requested_at = now
        deadlines.pause_clock(app, now=now)
        app.save()
        event(app, actor=actor, action="request_correction", note=";".join(cleaned), now=now)
        audit(app, actor=actor, action="request_correction")
        listing = ";".join(f"{n}. {text}" for n, text in enumerate(cleaned, start=1))
        people.tell_applicant(
            app,
            kind="application.correction_requested",
            body=f"您申请的“{app.title}”(编号 {app.number})需补正以下全部内容:{listing}。"
            "补正期间不计入办理时限。",
        )
    return app


def application_correct(*, actor: Any, application: Application, note: str = "") -> Application:
    """补正材料已交: the clock runs again, moved on by the time the correction took."""
    note = _text(note, code="invalid_note", label="补正说明", required=False)
    now = timezone.now()
    with transaction.atomic():
        app = transition(application, actor=actor, action="correct")
        _check_own(actor, app)
        _require_complete(app)
        if not app.files.filter(stage=FileStage.CORRECTION).exists() and not note:
            raise ServiceError("correction_empty", "请上传补正材料或填写补正说明", status=422)
        app.corrected_at = now
        deadlines.resume_clock(app, now=now)
        app.save()
        event(app, actor=actor, action="correct", note=note or "已上传补正材料", now=now)
        audit(app, actor=actor, action="correct")
        people.tell_applicant(
            app,
            kind="application.corrected",
            body=f"您为“{app.title}”(编号 {app.number})提交的补正材料已收到。",
        )
        people.tell_back_office(
            app, kind="application.corrected", body=f"{app.number} {app.title}:补正材料已提交"
        )
    return app


def application_finish(
    *, actor: Any, application: Application, note: str = "", now: dt.datetime | None = None
) -> Application:
    """办结: the result reached the applicant (collected at the window, mailed, or issued online)."""
    note = _text(note, code="invalid_note", label="送达方式", max_length=200, required=False) or "结果已送达"
    now = now or timezone.now()
    with transaction.atomic():
        app = transition(application, actor=actor, action="finish")
        if actor is not None and not has_role(user=actor, roles={"clerk", "admin"}):
            _check_department(actor, app)
        app.finished_at = now
        app.save()
        event(app, actor=actor, action="finish", note=note, now=now)
        audit(app, actor=actor, action="finish")
        people.tell_applicant(
            app,
            kind="application.finished",
            body=f"您申请的“{app.title}”(编号 {app.number})已办结({note})。欢迎对本次服务作出评价。",
        )
    return app
