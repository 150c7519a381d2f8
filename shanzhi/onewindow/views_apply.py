"""Application pages: a resident applies online (an item or a bundle's merged form), brings the
files, submits, follows, corrects once if asked and rates; every role opens the same application
page and sees the actions it may take; the papers (receipt, one-time notice, correction notice)
print from HTML or PDF; anyone follows an application by number and phone."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.masking import mask_id_number, mask_phone
from shanzhi.core.selectors import roles_of, staff_of
from shanzhi.onewindow import application_selectors as app_selectors
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow import materials, receipts, selectors
from shanzhi.onewindow.models import Bundle, Channel, ServiceItem
from shanzhi.onewindow.models_applications import Application
from shanzhi.onewindow.presenters import EVENT_LABELS, application_dict, public_status
from shanzhi.onewindow.views_common import (
    RESIDENT,
    form_idempotency,
    new_token,
    page,
    posted_file,
    problem,
    status_url,
)
from shanzhi.ratings.models import Level
from shanzhi.ratings.services import rating_submit

# --- applying --------------------------------------------------------------------------------


def answers_from(request: HttpRequest, questions: list[str]) -> dict[str, str]:
    """The posted yes/no answers, question by question (fields q0, q1, … in the questions' order)."""
    return {q: request.POST.get(f"q{n}", "") for n, q in enumerate(questions)}


def form_from(request: HttpRequest, bundle: Bundle) -> dict[str, str]:
    return {f["key"]: request.POST.get(f"f_{f['key']}", "") for f in bundle.form_fields}


def questions_context(questions: list[str], posted: dict[str, str]) -> list[dict[str, Any]]:
    return [{"n": n, "text": q, "value": posted.get(q, "")} for n, q in enumerate(questions)]


def applicant_defaults(request: HttpRequest) -> dict[str, str]:
    staff = staff_of(user=request.user)
    if staff is None or "resident" not in roles_of(user=request.user):
        return {"name": "", "phone": "", "id_number": ""}
    return {"name": staff.name.split(" ")[-1], "phone": staff.phone, "id_number": ""}


def create_from_post(
    request: HttpRequest,
    *,
    channel: str,
    item: ServiceItem | None,
    bundle: Bundle | None,
    questions: list[str],
    region: Any = None,
    consent: svc.ConsentSpec | None = None,
) -> Application:
    posted_answers = answers_from(request, questions)
    posted_form = form_from(request, bundle) if bundle is not None else {}
    applicant = svc.clean_applicant(
        name=request.POST.get("applicant_name", ""),
        id_number=request.POST.get("applicant_id_number", ""),
        phone=request.POST.get("applicant_phone", ""),
    )
    fields = {
        "channel": channel,
        "item": item.code if item else None,
        "bundle": bundle.code if bundle else None,
        "applicant": [applicant.name, applicant.id_number, applicant.phone],
        "answers": posted_answers,
        "form": posted_form,
        "region": region.code if region is not None else None,
    }
    app, _replayed = svc.idempotent(
        form_idempotency(request, what="create", fields=fields),
        lambda: svc.application_create(
            actor=request.user,
            channel=channel,
            applicant=applicant,
            item=item,
            bundle=bundle,
            answers=posted_answers,
            form_data=posted_form,
            region=region,
            consent=consent,
        ),
    )
    return app


def error_fields(exc: ServiceError) -> set[str]:
    """Which inputs an error is about, so the form marks them."""
    fields = {
        "invalid_name": "applicant_name",
        "invalid_id_number": "applicant_id_number",
        "invalid_mobile": "applicant_phone",
    }
    marked = {fields[exc.code]} if exc.code in fields else set()
    if isinstance(exc.details, list):
        marked |= {f"f_{d['field']}" for d in exc.details if isinstance(d, dict) and "field" in d}
    if isinstance(exc.details, dict):
        marked |= {"answers"} if exc.details.get("unanswered") else set()
    return marked


@page(roles=RESIDENT)
@require_http_methods(["GET", "POST"])
def apply_view(request: HttpRequest, code: str) -> HttpResponse:
    """网上申请 of one item: the applicant, the answers to its material conditions."""
    item = selectors.service_item_get(code=code)
    if Channel.ONLINE not in item.channels:
        return problem(request, status=404, message="该事项暂不支持网上申请,请到窗口办理。")
    questions = materials.item_questions(item)
    error: ServiceError | None = None
    if request.method == "POST":
        try:
            app = create_from_post(
                request, channel=Channel.ONLINE, item=item, bundle=None, questions=questions
            )
        except ServiceError as exc:
            error = exc
        else:
            messages.success(request, f"申请已保存(编号 {app.number}),请上传材料后提交。")
            return redirect("onewindow:application", app.number)
    posted = answers_from(request, questions) if request.method == "POST" else {}
    return render(
        request,
        "onewindow/apply.html",
        {
            "item": item,
            "bundle": None,
            "questions": questions_context(questions, posted),
            "defaults": applicant_defaults(request),
            "posted": request.POST if request.method == "POST" else {},
            "error": error,
            "error_fields": error_fields(error) if error else set(),
            "form_token": request.POST.get("form_token") or new_token(),
            "action": reverse("onewindow:apply", args=[item.code]),
        },
        status=422 if error else 200,
    )


@page(roles=RESIDENT | frozenset({"clerk", "admin"}))
@require_http_methods(["GET", "POST"])
def bundle_apply_view(request: HttpRequest, code: str) -> HttpResponse:
    """一件事: one merged form for every item of the bundle. A resident applies online; a clerk
    takes it in at the 一件事 window."""
    bundle = selectors.bundle_get(code=code)
    questions = materials.bundle_questions(bundle)
    channel = Channel.WINDOW if roles_of(user=request.user) & {"clerk", "admin"} else Channel.ONLINE
    error: ServiceError | None = None
    if request.method == "POST":
        try:
            app = create_from_post(request, channel=channel, item=None, bundle=bundle, questions=questions)
        except ServiceError as exc:
            error = exc
        else:
            messages.success(request, f"一件事申请已保存(编号 {app.number}),请核对材料。")
            return redirect("onewindow:application", app.number)
    posted = answers_from(request, questions) if request.method == "POST" else {}
    fields = [
        {
            **f,
            "name": f"f_{f['key']}",
            "value": request.POST.get(f"f_{f['key']}", "") if request.method == "POST" else "",
        }
        for f in bundle.form_fields
    ]
    return render(
        request,
        "onewindow/apply.html",
        {
            "item": None,
            "bundle": bundle,
            "fields": fields,
            "bundle_materials": selectors.bundle_materials(bundle),
            "questions": questions_context(questions, posted),
            "defaults": applicant_defaults(request),
            "posted": request.POST if request.method == "POST" else {},
            "error": error,
            "error_fields": error_fields(error) if error else set(),
            "form_token": request.POST.get("form_token") or new_token(),
            "action": reverse("onewindow:bundle_apply", args=[bundle.code]),
        },
        status=422 if error else 200,
    )


@page(roles=RESIDENT)
@require_GET
def mine_view(request: HttpRequest) -> HttpResponse:
    apps = list(app_selectors.my_applications(user=request.user)[:100])
    return render(request, "onewindow/mine.html", {"apps": apps})


# --- the application page ----------------------------------------------------------------------


def _app(request: HttpRequest, number: str) -> Application:
    return app_selectors.application_get(user=request.user, number=number)


@page()
@require_GET
def application_view(request: HttpRequest, number: str) -> HttpResponse:
    app = _app(request, number)
    data = application_dict(user=request.user, app=app, detail=True)
    roles = roles_of(user=request.user)
    return render(
        request,
        "onewindow/application.html",
        {
            "app": app,
            "data": data,
            "check": svc.material_check(app),
            "is_clerk": bool(roles & {"clerk", "admin"}),
            "is_applicant": app.applicant_user_id == request.user.pk,
            "levels": Level.choices,
            "form_token": new_token(),
            "labels": EVENT_LABELS,
            "parts": list(app.children.select_related("item", "department").order_by("number")),
            "events": list(app.events.order_by("at", "id")),
        },
    )


ACTIONS = {
    "submit": lambda request, app: svc.application_submit(actor=request.user, application=app),
    "accept": lambda request, app: svc.application_accept(actor=request.user, application=app),
    "not_accept": lambda request, app: svc.application_not_accept(actor=request.user, application=app),
    "start_review": lambda request, app: svc.application_start_review(actor=request.user, application=app),
    "approve": lambda request, app: svc.application_approve(
        actor=request.user, application=app, decision=request.POST.get("text", "")
    ),
    "refuse": lambda request, app: svc.application_refuse(
        actor=request.user, application=app, reason=request.POST.get("text", "")
    ),
    "request_correction": lambda request, app: svc.application_request_correction(
        actor=request.user, application=app, items=request.POST.get("items", "").splitlines()
    ),
    "correct": lambda request, app: svc.application_correct(
        actor=request.user, application=app, note=request.POST.get("text", "")
    ),
    "finish": lambda request, app: svc.application_finish(
        actor=request.user, application=app, note=request.POST.get("text", "")
    ),
}
DONE_TEXT = {
    "submit": "已提交,请等待受理。",
    "accept": "已受理,可打印受理回执。",
    "not_accept": "已生成一次性告知书,请打印交给申请人。",
    "start_review": "已开始审查。",
    "approve": "已批准,已短信告知申请人。",
    "refuse": "已作出不予批准决定,已告知申请人理由。",
    "request_correction": "已一次性告知需补正的全部内容。",
    "correct": "补正材料已提交。",
    "finish": "已办结。",
}


@page()
@require_POST
def act_view(request: HttpRequest, number: str, action: str) -> HttpResponseBase:
    """One transition from the application page; a refusal is shown on the page, nothing changed."""
    if action not in ACTIONS:
        return problem(request, status=404, message="没有这个操作")
    app = _app(request, number)
    fields = {
        "number": app.number,
        "action": action,
        "text": request.POST.get("text", ""),
        "items": request.POST.get("items", ""),
    }
    try:
        svc.idempotent(
            form_idempotency(request, what="act", fields=fields), lambda: ACTIONS[action](request, app)
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, DONE_TEXT[action])
        if action == "not_accept" and request.POST.get("print"):
            return redirect("onewindow:notice_page", app.number)
    return redirect("onewindow:application", app.number)


@page()
@require_POST
def upload_view(request: HttpRequest, number: str) -> HttpResponseBase:
    app = _app(request, number)
    key = request.POST.get("key", "")
    try:
        name, checked = posted_file(request)
        svc.application_upload(
            actor=request.user,
            application=app,
            key=key,
            name=name,
            checked=checked,
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, "材料已上传。")
    return redirect("onewindow:application", app.number)


@page(roles=frozenset({"clerk", "admin"}))
@require_POST
def paper_view(request: HttpRequest, number: str) -> HttpResponseBase:
    app = _app(request, number)
    try:
        svc.application_mark_paper(
            actor=request.user,
            application=app,
            key=request.POST.get("key", ""),
            received=request.POST.get("received", "1") == "1",
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    return redirect(reverse("onewindow:application", args=[app.number]) + "#materials")


@page()
@require_GET
def file_view(request: HttpRequest, number: str, pk: int) -> HttpResponseBase:
    """A material's file, served only to someone who may see the application (never a public URL)."""
    app = _app(request, number)
    upload = app.files.filter(pk=pk).first()
    if upload is None:
        raise NotFound("文件不存在")
    try:
        handle = upload.file.open("rb")
    except FileNotFoundError:
        raise NotFound("文件已不存在") from None
    response = FileResponse(handle, content_type=upload.content_type)
    response["Content-Disposition"] = content_disposition_header(False, upload.original_name) or "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@page()
@require_POST
def rate_view(request: HttpRequest, number: str) -> HttpResponseBase:
    app = _app(request, number)
    try:
        rating_submit(
            actor=request.user,
            obj_type="application",
            obj_id=app.number,
            level=request.POST.get("level", ""),
            comment=request.POST.get("comment", ""),
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, "感谢您的评价!")
    return redirect("onewindow:application", app.number)


# --- papers ------------------------------------------------------------------------------------


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename) or "inline"
    response["Cache-Control"] = "private, no-store"
    return response


@page()
@require_GET
def receipt_pdf_view(request: HttpRequest, number: str) -> HttpResponse:
    app = _app(request, number)
    if app.accepted_at is None:
        raise NotFound("该办件尚未受理,没有受理回执")
    return _pdf(
        receipts.receipt_pdf(app, status_url=status_url(request, app.number)), f"受理回执-{app.number}.pdf"
    )


@page()
@require_GET
def missing_notice_pdf_view(request: HttpRequest, number: str) -> HttpResponse:
    app = _app(request, number)
    if app.notified_at is None:
        raise NotFound("该办件没有一次性告知书")
    return _pdf(receipts.missing_notice_pdf(app), f"一次性告知书-{app.number}.pdf")


@page()
@require_GET
def correction_notice_pdf_view(request: HttpRequest, number: str) -> HttpResponse:
    app = _app(request, number)
    if app.correction_requested_at is None:
        raise NotFound("该办件没有补正告知书")
    return _pdf(receipts.correction_notice_pdf(app), f"补正告知书-{app.number}.pdf")


def _print_context(request: HttpRequest, app: Application) -> dict[str, Any]:
    return {
        "app": app,
        "data": application_dict(user=request.user, app=app, detail=True),
        "applicant": {
            "id_number": mask_id_number(app.applicant_id_number),
            "phone": mask_phone(app.applicant_phone),
        },
        "status_url": status_url(request, app.number),
    }


@page()
@require_GET
def receipt_page_view(request: HttpRequest, number: str) -> HttpResponse:
    """The receipt as a printable page (print styles), with the QR code as inline SVG."""
    app = _app(request, number)
    if app.accepted_at is None:
        raise NotFound("该办件尚未受理,没有受理回执")
    context = _print_context(request, app)
    context["qr_svg"] = receipts.qr_svg(context["status_url"])
    return render(request, "onewindow/print_receipt.html", context)


@page()
@require_GET
def notice_page_view(request: HttpRequest, number: str) -> HttpResponse:
    app = _app(request, number)
    if app.notified_at is None:
        raise NotFound("该办件没有一次性告知书")
    return render(request, "onewindow/print_notice.html", _print_context(request, app))


# --- public status lookup ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def status_view(request: HttpRequest) -> HttpResponse:
    """Anyone follows an application by its number and the applicant's phone (the receipt's QR
    code fills in the number), and rates it once it is finished."""
    number = (request.POST.get("n") or request.GET.get("n", "")).strip()[:24]
    phone = (request.POST.get("phone") or request.GET.get("phone", "")).strip()[:20]
    found, error, rated = None, "", False
    if number and phone:
        try:
            app = app_selectors.status_lookup(number=number, phone=phone)
        except NotFound as exc:
            error = exc.message
        else:
            if request.method == "POST" and request.POST.get("level"):
                try:
                    rating_submit(
                        actor=None,
                        obj_type="application",
                        obj_id=app.number,
                        level=request.POST.get("level", ""),
                        comment=request.POST.get("comment", ""),
                        channel="web",
                        phone=app.applicant_phone,
                    )
                    rated = True
                    app.refresh_from_db()
                except ServiceError as exc:
                    error = exc.message
            found = public_status(app)
    elif request.method == "POST" or request.GET.get("phone") is not None:
        error = "请填写受理编号和手机号"
    return render(
        request,
        "onewindow/status.html",
        {
            "number": number,
            "phone": phone,
            "found": found,
            "error": error,
            "rated": rated,
            "levels": Level.choices,
        },
        status=404 if error and not found else 200,
    )
