"""The application API the pages use (mounted under the catalogue's router at /api/v1/applications):
create (with files and submit in one call), upload, the clerk's paper tick, every transition, the
public status lookup by number and phone, and reads within jurisdiction. Errors are JSON
{code, message[, details]}. POSTs take an `Idempotency-Key`: the same request again answers with
the first result and changes nothing."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Region
from shanzhi.onewindow import application_selectors as selectors
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow.materials import check_upload
from shanzhi.onewindow.models import Bundle, ServiceItem
from shanzhi.onewindow.models_applications import Application
from shanzhi.onewindow.presenters import application_dict, public_status

router = Router(tags=["onewindow-applications"])
MAX_FILES = 20


class FileIn(Schema):
    key: str = Field(max_length=100)
    filename: str = Field(default="", max_length=120)
    content_base64: str


class ConsentIn(Schema):
    reason: str
    consenter_name: str
    relation: str
    method: str
    witness: str = ""


class ApplicationIn(Schema):
    item: str | None = Field(default=None, max_length=40, description="事项实施编码")
    bundle: str | None = Field(default=None, max_length=40, description="一件事代码")
    channel: str = "online"
    applicant_name: str = Field(max_length=200)
    applicant_id_number: str = Field(max_length=40)
    applicant_phone: str = Field(max_length=40)
    answers: dict[str, Any] = Field(default_factory=dict)
    form: dict[str, Any] = Field(default_factory=dict)
    region: str | None = Field(default=None, max_length=12)
    consent: ConsentIn | None = None
    files: list[FileIn] = Field(default_factory=list, max_length=MAX_FILES)
    submit: bool = False


class PaperIn(Schema):
    received: bool = True


class ApplicationDecideIn(Schema):
    decision: str = Field(description="approve | refuse | correction")
    text: str = ""
    items: list[str] = Field(default_factory=list, max_length=50)


class NoteIn(Schema):
    note: str = ""


def _decode(files: list[FileIn]) -> list[tuple[str, str, bytes]]:
    out = []
    for n, f in enumerate(files, start=1):
        try:
            content = base64.b64decode(f.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ServiceError("file_encoding", f"第 {n} 个文件不是有效的 base64 编码", status=422) from exc
        out.append((f.key, f.filename, content))
    return out


def _owner(request: HttpRequest) -> str:
    return str(request.user.get_username())


def _idempotency(request: HttpRequest, payload: dict[str, Any]) -> tuple[str, str, str] | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    return (_owner(request), key, svc.request_digest(payload))


def _target(payload: ApplicationIn) -> tuple[ServiceItem | None, Bundle | None]:
    if payload.item and payload.bundle:
        raise ServiceError("invalid_target", "请只选择一个事项或一件事", status=422)
    if payload.item:
        item = (
            ServiceItem.objects.select_related("department")
            .filter(code=payload.item.strip(), active=True)
            .first()
        )
        if item is None:
            raise ServiceError("unknown_item", "没有找到该事项,可能编码有误或事项已停用", status=422)
        return item, None
    if payload.bundle:
        bundle = Bundle.objects.filter(code=payload.bundle.strip(), active=True).first()
        if bundle is None:
            raise ServiceError("unknown_bundle", "没有找到该一件事", status=422)
        return None, bundle
    raise ServiceError("invalid_target", "请选择一个事项或一件事", status=422)


def create_with_files(
    *,
    actor: Any,
    channel: str,
    applicant: svc.Applicant,
    item: ServiceItem | None,
    bundle: Bundle | None,
    answers: dict[str, Any],
    form: dict[str, Any],
    region: Region | None,
    consent: svc.ConsentSpec | None,
    files: list[tuple[str, str, bytes]],
    submit: bool,
) -> Application:
    """Create, attach the files and (optionally) submit, all or nothing: every file is checked by
    its content before anything is written."""
    checked = [
        (key, name, check_upload(name=name, content=content, label=f"第 {n} 个文件"))
        for n, (key, name, content) in enumerate(files, start=1)
    ]
    with transaction.atomic():
        app = svc.application_create(
            actor=actor,
            channel=channel,
            applicant=applicant,
            item=item,
            bundle=bundle,
            answers=answers,
            form_data=form,
            region=region,
            consent=consent,
        )
        for key, name, file in checked:
            svc.application_upload(actor=actor, application=app, key=key, name=name, checked=file)
        if submit:
            app = svc.application_submit(actor=actor, application=app)
    return app


@router.post(
    "", response={200: dict, 201: dict}, summary="新建申请(可同时上传材料并提交;支持 Idempotency-Key)"
)
def create(request: HttpRequest, payload: ApplicationIn) -> Status:
    item, bundle = _target(payload)
    applicant = svc.clean_applicant(
        name=payload.applicant_name, id_number=payload.applicant_id_number, phone=payload.applicant_phone
    )
    region = None
    if payload.region:
        region = Region.objects.filter(code=payload.region.strip()).first()
        if region is None:
            raise ServiceError("unknown_region", "区划代码不存在", status=422)
    consent = None
    if payload.consent is not None:
        consent = svc.ConsentSpec(**payload.consent.model_dump())
    files = _decode(payload.files)
    body = payload.model_dump()
    body["files"] = [(f.key, f.filename, svc.request_digest({"c": f.content_base64})) for f in payload.files]
    app, replayed = svc.idempotent(
        _idempotency(request, body),
        lambda: create_with_files(
            actor=request.user,
            channel=payload.channel,
            applicant=applicant,
            item=item,
            bundle=bundle,
            answers=payload.answers,
            form=payload.form,
            region=region,
            consent=consent,
            files=files,
            submit=payload.submit,
        ),
    )
    return Status(200 if replayed else 201, application_dict(user=request.user, app=app, detail=True))


@router.get("", response=dict, summary="办件列表(管辖范围内)")
def list_applications(
    request: HttpRequest, status: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    if not (1 <= limit <= 200) or offset < 0:
        raise ServiceError("invalid_page", "limit 应在 1–200 之间,offset 不能为负", status=422)
    qs = selectors.application_list(user=request.user)
    if status:
        qs = qs.filter(status__in=status.split(",")[:12])
    total = qs.count()
    rows = qs.order_by("-created_at", "-id")[offset : offset + limit]
    return {"total": total, "items": [application_dict(user=request.user, app=a) for a in rows]}


@router.get("/lookup", response=dict, auth=None, summary="凭受理编号和手机号查询办理进度(无需登录)")
def lookup(request: HttpRequest, number: str = "", phone: str = "") -> dict[str, Any]:
    return public_status(selectors.status_lookup(number=number, phone=phone))


@router.get("/{number}", response=dict, summary="办件详情")
def get_application(request: HttpRequest, number: str) -> dict[str, Any]:
    return application_dict(
        user=request.user, app=selectors.application_get(user=request.user, number=number), detail=True
    )


def _act(request: HttpRequest, number: str, action: str, body: dict[str, Any], run: Any) -> dict[str, Any]:
    app = selectors.application_get(user=request.user, number=number)
    payload = {"action": action, "number": app.number, **body}
    result, _replayed = svc.idempotent(_idempotency(request, payload), lambda: run(app))
    result.refresh_from_db()
    return application_dict(user=request.user, app=result, detail=True)


@router.post("/{number}/files", response=dict, summary="上传一项材料(按内容检查:PDF、JPEG、PNG、WebP,≤10 MB)")
def upload(request: HttpRequest, number: str, payload: FileIn) -> dict[str, Any]:
    [(key, name, content)] = _decode([payload])
    checked = check_upload(name=name, content=content, label="文件")

    def run(app: Application) -> Application:
        svc.application_upload(actor=request.user, application=app, key=key, name=name, checked=checked)
        return app

    return _act(request, number, "upload", {"key": key, "sha256": checked.sha256}, run)


@router.post("/{number}/materials/{key}/paper", response=dict, summary="窗口核验纸质材料")
def paper(request: HttpRequest, number: str, key: str, payload: PaperIn) -> dict[str, Any]:
    return _act(
        request,
        number,
        "paper",
        {"key": key, "received": payload.received},
        lambda app: svc.application_mark_paper(
            actor=request.user, application=app, key=key, received=payload.received
        ),
    )


@router.post("/{number}/submit", response=dict, summary="提交申请")
def submit(request: HttpRequest, number: str) -> dict[str, Any]:
    return _act(
        request, number, "submit", {}, lambda app: svc.application_submit(actor=request.user, application=app)
    )


@router.post("/{number}/accept", response=dict, summary="受理(材料齐全),出具受理回执")
def accept(request: HttpRequest, number: str) -> dict[str, Any]:
    return _act(
        request, number, "accept", {}, lambda app: svc.application_accept(actor=request.user, application=app)
    )


@router.post("/{number}/not-accept", response=dict, summary="材料不全:一次性告知全部所缺材料")
def not_accept(request: HttpRequest, number: str) -> dict[str, Any]:
    return _act(
        request,
        number,
        "not_accept",
        {},
        lambda app: svc.application_not_accept(actor=request.user, application=app),
    )


@router.post("/{number}/review", response=dict, summary="后台开始审查")
def review(request: HttpRequest, number: str) -> dict[str, Any]:
    return _act(
        request,
        number,
        "start_review",
        {},
        lambda app: svc.application_start_review(actor=request.user, application=app),
    )


@router.post("/{number}/decide", response=dict, summary="审批:批准、不予批准(须说明理由)或要求补正(仅一次)")
def decide(request: HttpRequest, number: str, payload: ApplicationDecideIn) -> dict[str, Any]:
    body = payload.model_dump()

    def approve(app: Any) -> Any:
        return svc.application_approve(actor=request.user, application=app, decision=payload.text)

    def refuse(app: Any) -> Any:
        return svc.application_refuse(actor=request.user, application=app, reason=payload.text)

    def correction(app: Any) -> Any:
        return svc.application_request_correction(actor=request.user, application=app, items=payload.items)

    decisions = {"approve": approve, "refuse": refuse, "correction": correction}
    run = decisions.get(payload.decision)
    if run is None:
        raise ServiceError("invalid_decision", "decision 应为 approve、refuse 或 correction", status=422)
    return _act(request, number, "decide", body, run)


@router.post("/{number}/correct", response=dict, summary="提交补正")
def correct(request: HttpRequest, number: str, payload: NoteIn) -> dict[str, Any]:
    return _act(
        request,
        number,
        "correct",
        payload.model_dump(),
        lambda app: svc.application_correct(actor=request.user, application=app, note=payload.note),
    )


@router.post("/{number}/finish", response=dict, summary="办结(结果已送达)")
def finish(request: HttpRequest, number: str, payload: NoteIn) -> dict[str, Any]:
    return _act(
        request,
        number,
        "finish",
        payload.model_dump(),
        lambda app: svc.application_finish(actor=request.user, application=app, note=payload.note),
    )
