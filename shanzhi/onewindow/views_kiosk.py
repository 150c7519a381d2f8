"""The self-service terminal (自助终端), a 1080×1920 portrait screen with a touch panel, an ID-card
reader's keypad fallback, a scanner and a printer. It runs signed in with a kiosk account of its
hall (role `kiosk`: these pages and nothing else, see kiosk_access; a clerk may open them too):
a resident applies for an item that offers the kiosk channel, scans the materials, and gets
either the receipt (complete: submitted and accepted at once) or the one-time notice of what is
missing, to print. The terminal also gives out queue numbers and looks up progress."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shanzhi.core.errors import ServiceError
from shanzhi.core.selectors import staff_of
from shanzhi.onewindow import application_selectors as app_selectors
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow import materials, queue, selectors
from shanzhi.onewindow.models import Channel, Theme
from shanzhi.onewindow.models_applications import ApplicationStatus
from shanzhi.onewindow.presenters import line_dicts
from shanzhi.onewindow.views_apply import answers_from, create_from_post, error_fields, questions_context
from shanzhi.onewindow.views_common import CLERK, new_token, page, posted_file, problem

KIOSK_ITEMS = 24
TERMINAL = CLERK | {"kiosk"}


@page(roles=TERMINAL)
@require_GET
def kiosk_view(request: HttpRequest) -> HttpResponse:
    theme = request.GET.get("theme", "")
    if theme not in Theme.values:
        theme = ""
    rows = app_selectors.channel_items(channel=Channel.KIOSK, theme=theme)
    return render(
        request,
        "onewindow/kiosk_home.html",
        {"items": rows[:KIOSK_ITEMS], "themes": Theme.choices, "theme": theme},
    )


@page(roles=TERMINAL)
@require_http_methods(["GET", "POST"])
def kiosk_item_view(request: HttpRequest, code: str) -> HttpResponse:
    item = selectors.service_item_get(code=code)
    if Channel.KIOSK not in item.channels:
        return problem(request, status=404, message="该事项不能在自助终端办理,请到窗口取号。")
    questions = materials.item_questions(item)
    error: ServiceError | None = None
    if request.method == "POST":
        try:
            app = create_from_post(
                request, channel=Channel.KIOSK, item=item, bundle=None, questions=questions
            )
        except ServiceError as exc:
            error = exc
        else:
            return redirect("onewindow:kiosk_application", app.number)
    posted = answers_from(request, questions) if request.method == "POST" else {}
    return render(
        request,
        "onewindow/kiosk_item.html",
        {
            "item": item,
            "questions": questions_context(questions, posted),
            "posted": request.POST if request.method == "POST" else {},
            "error": error,
            "error_fields": error_fields(error) if error else set(),
            "form_token": request.POST.get("form_token") or new_token(),
        },
        status=422 if error else 200,
    )


@page(roles=TERMINAL)
@require_GET
def kiosk_application_view(request: HttpRequest, number: str) -> HttpResponse:
    app = app_selectors.application_get(user=request.user, number=number)
    return render(
        request,
        "onewindow/kiosk_application.html",
        {
            "app": app,
            "lines": line_dicts(app=app, file_url=False),
            "check": svc.material_check(app),
            "form_token": new_token(),
        },
    )


@page(roles=TERMINAL)
@require_POST
def kiosk_upload_view(request: HttpRequest, number: str) -> HttpResponseBase:
    app = app_selectors.application_get(user=request.user, number=number)
    try:
        name, checked = posted_file(request)
        svc.application_upload(
            actor=request.user,
            application=app,
            key=request.POST.get("key", ""),
            name=name,
            checked=checked,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("onewindow:kiosk_application", app.number)


@page(roles=TERMINAL)
@require_POST
def kiosk_complete_view(request: HttpRequest, number: str) -> HttpResponseBase:
    """完成: everything there → submitted and accepted, print the receipt; something missing →
    the one-time notice, print it."""
    app = app_selectors.application_get(user=request.user, number=number)
    try:
        if svc.material_check(app).complete:
            if app.status in (ApplicationStatus.DRAFT, ApplicationStatus.NOT_ACCEPTED):
                app = svc.application_submit(actor=request.user, application=app)
            if app.status == ApplicationStatus.SUBMITTED:
                app = svc.application_accept(actor=request.user, application=app)
            if app.accepted_at is None:
                raise ServiceError("not_accepted", "暂时无法自助受理,请取号到窗口办理", status=409)
            return redirect(reverse("onewindow:receipt_page", args=[app.number]) + "?kiosk=1")
        if app.notified_at is None:
            svc.application_not_accept(actor=request.user, application=app)
        return redirect(reverse("onewindow:notice_page", args=[app.number]) + "?kiosk=1")
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("onewindow:kiosk_application", app.number)


@page(roles=TERMINAL)
@require_http_methods(["GET", "POST"])
def kiosk_ticket_view(request: HttpRequest) -> HttpResponse:
    """取号 at the terminal: choose what to do, optionally a phone to be called by SMS."""
    staff = staff_of(user=request.user)
    hall = staff.region if staff else None
    ticket, error = None, ""
    if request.method == "POST" and hall is not None:
        try:
            ticket = queue.ticket_take(
                actor=request.user,
                hall=hall,
                theme=request.POST.get("theme", ""),
                phone=request.POST.get("phone", ""),
            )
        except ServiceError as exc:
            error = exc.message
    ahead = (
        queue.waiting_list(hall=hall).filter(taken_at__lt=ticket.taken_at).count() if ticket and hall else 0
    )
    return render(
        request,
        "onewindow/kiosk_ticket.html",
        {"themes": Theme.choices, "ticket": ticket, "ahead": ahead, "hall": hall, "error": error},
        status=422 if error else 200,
    )
