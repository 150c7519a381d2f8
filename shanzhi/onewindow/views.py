"""Resident pages of the catalogue, open without login: search, the one-time notice of an item
(page, PDF, SMS text), the bundles and what each saves. Views parse input and call selectors."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import content_disposition_header, urlencode

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.core.selectors import has_role
from shanzhi.onewindow import selectors
from shanzhi.onewindow.models import Bundle, Channel, ServiceItem
from shanzhi.onewindow.notice import build_notice, days_text, flow_svg, visits_text
from shanzhi.onewindow.pdf import notice_pdf

PAGE_SIZE = 20


def _page(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def _item(code: str) -> ServiceItem:
    try:
        return selectors.service_item_get(code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _bundle(code: str) -> Bundle:
    try:
        return selectors.bundle_get(code=code)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def catalog_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    theme = request.GET.get("theme", "")
    page = _page(request.GET.get("page"))
    error = ""
    try:
        result = selectors.service_item_search(
            q=q, theme=theme, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    except ServiceError as exc:
        error = exc.message
        result = selectors.SearchResult(total=0, items=[])
    pages = (result.total + PAGE_SIZE - 1) // PAGE_SIZE
    return render(
        request,
        "onewindow/catalog.html",
        {
            "q": q,
            "theme": theme,
            "query": urlencode({"q": q, "theme": theme}),
            "themes": selectors.theme_counts(),
            "result": result,
            "error": error,
            "page": page,
            "pages": pages,
            "bundles": selectors.bundle_list(),
        },
        status=422 if error else 200,
    )


def _apply_url(name: str, code: str) -> str | None:
    """The application page, once the applications part of this app provides one."""
    try:
        return reverse(name, args=[code])
    except NoReverseMatch:
        return None


def _staff_url(request: HttpRequest, item: ServiceItem) -> str | None:
    """窗口受理 of this item, for a clerk reading its notice."""
    if Channel.WINDOW not in item.channels or not has_role(user=request.user, roles={"clerk"}):
        return None
    return f"{reverse('onewindow:intake')}?item={item.code}"


def item_view(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code)
    notice = build_notice(item)
    return render(
        request,
        "onewindow/item.html",
        {
            "item": item,
            "notice": notice,
            "flow": flow_svg(notice.steps),
            "promised": days_text(item.promised_days),
            "statutory": days_text(item.statutory_days),
            "visits": visits_text(item.visits),
            "apply_url": _apply_url("onewindow:apply", item.code)
            if Channel.ONLINE in item.channels
            else None,
            "intake_url": _staff_url(request, item),
            "bundles": selectors.bundles_with_item(item=item),
        },
    )


def item_pdf_view(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code)
    response = HttpResponse(notice_pdf(build_notice(item)), content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(False, f"{item.name}-一次性告知书.pdf") or "inline"
    )
    return response


def item_sms_view(request: HttpRequest, code: str) -> HttpResponse:
    """The SMS version as plain text, for copying or for a gateway to fetch."""
    return HttpResponse(build_notice(_item(code)).sms, content_type="text/plain; charset=utf-8")


def bundles_view(request: HttpRequest) -> HttpResponse:
    rows = [(b, selectors.bundle_savings(b)) for b in selectors.bundle_list()]
    return render(request, "onewindow/bundles.html", {"rows": rows})


def bundle_view(request: HttpRequest, code: str) -> HttpResponse:
    bundle = _bundle(code)
    savings = selectors.bundle_savings(bundle)
    steps = list(bundle.steps.all())
    comparison = [
        ("到现场次数", savings.visits_separate, savings.visits_bundle, "次"),
        ("填写表格", savings.forms_separate, savings.forms_bundle, "张"),
        ("需提交材料", savings.materials_separate, savings.materials_bundle, "份"),
        ("承诺办结时间", savings.days_separate, savings.days_bundle, "个工作日"),
    ]
    return render(
        request,
        "onewindow/bundle.html",
        {
            "bundle": bundle,
            "savings": savings,
            "comparison": [
                {
                    "label": label,
                    "separate": a,
                    "bundle": b,
                    "unit": unit,
                    "saved": a - b,
                    "percent": savings.percent(a, b),
                }
                for label, a, b, unit in comparison
            ],
            "steps": [
                {
                    "step": s,
                    "after": [d.item.name for d in s.depends_on.all()],
                    "promised": days_text(s.item.promised_days),
                }
                for s in steps
            ],
            "materials": selectors.bundle_materials(bundle),
            "apply_url": _apply_url("onewindow:bundle_apply", bundle.code),
        },
    )
