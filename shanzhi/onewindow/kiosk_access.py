"""A kiosk account (role `kiosk`) is a walk-up terminal, not a person: it may open the terminal's
own pages and nothing else. The pages' role checks already refuse it almost everywhere, but many
pages are open to any signed-in user (the home page, messages, the org tree, the JSON API by
session), so the allow-list is enforced here, once, for every request: anything else is a 403, and
the home page sends the terminal to its own start page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from shanzhi.core.models import Role
from shanzhi.core.selectors import roles_of
from shanzhi.web import pages as web_pages

# What the terminal does: its start page, 取号, applying and scanning, the printed receipt or
# one-time notice (page and PDF), the public progress lookup; and signing in/out, elder mode.
KIOSK_URLS = frozenset(
    {
        "onewindow:kiosk",
        "onewindow:kiosk_ticket",
        "onewindow:kiosk_item",
        "onewindow:kiosk_application",
        "onewindow:kiosk_upload",
        "onewindow:kiosk_complete",
        "onewindow:receipt_page",
        "onewindow:receipt",
        "onewindow:notice_page",
        "onewindow:missing_notice",
        "onewindow:status",
        "web:login",
        "web:logout",
        "web:elder",
    }
)
KIOSK_HOME = "onewindow:kiosk"
MESSAGE = "自助终端账号只能使用自助服务页面。"


def is_kiosk(user: object) -> bool:
    return Role.KIOSK in roles_of(user=user)


def _view_name(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return ""


class KioskOnlyMiddleware:
    """After authentication: a kiosk account gets its pages, its home redirected, a 403 elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not is_kiosk(user):
            return self.get_response(request)
        path = request.path_info
        if path.startswith(settings.STATIC_URL or "/static/"):
            return self.get_response(request)
        name = _view_name(path)
        if name in KIOSK_URLS:
            return self.get_response(request)
        if name == "web:home" and request.method in ("GET", "HEAD"):
            return redirect(KIOSK_HOME)
        return refuse(request)


def refuse(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"code": "kiosk_only", "message": MESSAGE}, status=403)
    return web_pages.problem(request, status=403, message=MESSAGE, template="onewindow/problem.html")
