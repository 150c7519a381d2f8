"""The in-app inbox page: my messages, unread first; mark one or all read (POST)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shanzhi.core.errors import NotFound
from shanzhi.notify import selectors, services

PER_PAGE = 30


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    only_unread = request.GET.get("unread") == "1"
    qs = selectors.inbox(user=request.user)
    if only_unread:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {"page": page, "unread": selectors.inbox_unread_count(user=request.user), "only_unread": only_unread},
    )


@login_required
@require_POST
def read_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.message_mark_read(actor=request.user, message_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return redirect("notify:inbox")


@login_required
@require_POST
def read_all_view(request: HttpRequest) -> HttpResponse:
    count = services.message_mark_all_read(actor=request.user)
    messages.success(request, f"已将 {count} 条消息标记为已读" if count else "没有未读消息")
    return redirect("notify:inbox")
