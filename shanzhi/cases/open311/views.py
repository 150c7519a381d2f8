"""GeoReport v2 endpoints. Every path ends in .xml or .json; errors come in the same format as
the request asked for, in the spec's shape, with the HTTP status as their code.

CSRF-exempt: POST requests is called by other systems, authenticated by api_key in the form
body, never by a browser session; nothing here reads the session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from shanzhi.cases.open311 import params, presenters, selectors, services
from shanzhi.cases.open311.render import JSON, XML, error_response, respond
from shanzhi.core.errors import ServiceError
from shanzhi.core.selectors import region_county

MAX_BODY = 64 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PASSED_STATUSES = frozenset({403, 404, 405, 409, 413})  # everything else a client did wrong is a 400

View = Callable[..., HttpResponse]


def _allow_public_reads(response: HttpResponse) -> HttpResponse:
    # Public data: map pages on other sites may read it from the browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def open311_view(*methods: str) -> Callable[[View], View]:
    """Method check, jurisdiction_id check, and ServiceError → the spec's error list."""

    def decorate(view: View) -> View:
        @csrf_exempt  # no session is used here; a POST elsewhere gets a 405 in the spec's format
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(
                    fmt=fmt, status=405, description=f"不支持 {request.method} 方法(method not allowed)"
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if request.method == "POST":
                    _check_body(request)  # before anything reads request.POST
                _check_jurisdiction(request)
                response = view(request, *args, fmt=fmt, **kwargs)
            except ServiceError as exc:
                status = exc.status if exc.status in PASSED_STATUSES else 400
                return error_response(fmt=fmt, status=status, description=exc.message)
            if request.method in ("GET", "HEAD"):
                _allow_public_reads(response)
            return response

        return wrapper

    return decorate


def _check_jurisdiction(request: HttpRequest) -> None:
    """We serve one jurisdiction, the county; a client may name it by its division code."""
    source = request.POST if request.method == "POST" else request.GET
    wanted = str(source.get("jurisdiction_id", "") or "").strip()
    if not wanted:
        return
    county = region_county()
    if county is None or wanted != county.code:
        raise selectors.not_found(f"本接口不服务辖区 {wanted[:40]}(unknown jurisdiction_id)")


@open311_view("GET", "HEAD")
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("open311:root"))
    payload = presenters.discovery_dict(url=url, county=region_county())
    return respond(fmt=fmt, root="discovery", payload=payload)


@open311_view("GET", "HEAD")
def service_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    payload = [presenters.service_dict(c) for c in selectors.service_list()]
    return respond(fmt=fmt, root="services", payload=payload)


@open311_view("GET", "HEAD")
def service_definition(request: HttpRequest, *, code: str, fmt: str) -> HttpResponse:
    payload = presenters.service_definition_dict(selectors.service_get(code=code))
    return respond(fmt=fmt, root="service_definition", payload=payload)


@open311_view("GET", "HEAD", "POST")
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt=fmt)
    query = params.parse_query(request.GET, now=timezone.now())
    payload = [presenters.request_dict(c) for c in selectors.request_search(query=query)]
    return respond(fmt=fmt, root="service_requests", payload=payload)


def _check_body(request: HttpRequest) -> None:
    # Django reads at most CONTENT_LENGTH bytes of a body, so checking the header caps the read.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise ServiceError(
            "too_large", f"请求体不能超过 {MAX_BODY // 1024} KB(request too large)", status=413
        )
    if request.content_type not in FORM_TYPES:
        raise ServiceError(
            "unsupported_media_type",
            "请以 application/x-www-form-urlencoded 表单提交(send a form-encoded body)",
        )


def _create(request: HttpRequest, *, fmt: str) -> HttpResponse:
    api_key = str(request.POST.get("api_key", "") or "").strip()
    if not api_key:
        raise ServiceError("forbidden", "缺少 api_key(api_key is required)", status=403)
    client = services.open311_client_authenticate(api_key=api_key)
    if client is None:
        raise ServiceError("forbidden", "api_key 无效或已吊销(invalid or revoked api_key)", status=403)
    submission = params.parse_submission(request.POST)
    link = services.open311_request_create(
        client=client, submission=submission, idempotency_key=request.headers.get("Idempotency-Key")
    )
    # 200, not 201: the spec's examples answer 200 and some clients check for exactly that.
    return respond(fmt=fmt, root="service_requests", payload=[presenters.created_dict(link)])


@open311_view("GET", "HEAD")
def request_detail(request: HttpRequest, *, number: str, fmt: str) -> HttpResponse:
    payload = [presenters.request_dict(selectors.request_get(number=number))]
    return respond(fmt=fmt, root="service_requests", payload=payload)


@open311_view("GET", "HEAD")
def token(request: HttpRequest, *, token: str, fmt: str) -> HttpResponse:
    payload = [presenters.token_dict(selectors.token_get(token=token))]
    return respond(fmt=fmt, root="service_requests", payload=payload)


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /open311/v2/, in the spec's error format rather than an HTML page."""
    fmt = XML if rest.endswith(".xml") else JSON
    return error_response(
        fmt=fmt,
        status=404,
        description="没有这个接口;路径须以 .xml 或 .json 结尾(unknown endpoint; paths end in .xml or .json)",
    )
