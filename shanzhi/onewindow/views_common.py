"""What every application page shares: sign-in and roles, 404 for what the viewer may not see,
form tokens that make a second submit of the same form harmless, and reading uploaded files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from shanzhi.cases.uploads import CheckedFile
from shanzhi.core.errors import ServiceError
from shanzhi.onewindow.applications import request_digest
from shanzhi.onewindow.materials import MAX_FILE_BYTES, check_upload
from shanzhi.web import pages as web_pages

View = Callable[..., HttpResponseBase]

RESIDENT = frozenset({"resident"})
CLERK = frozenset({"clerk", "admin"})
BACK_OFFICE = frozenset({"approver", "admin"})
SUPERVISE = frozenset({"supervisor", "leader", "admin"})
ASSIST = frozenset({"clerk", "gridworker", "admin"})
STAFF = frozenset({"clerk", "approver", "supervisor", "leader", "gridworker", "admin"})


_PROBLEM = "onewindow/problem.html"
page = partial(web_pages.page, template=_PROBLEM)


def problem(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    return web_pages.problem(request, status=status, message=message, template=_PROBLEM)


def new_token() -> str:
    return uuid.uuid4().hex


def form_idempotency(
    request: HttpRequest, *, what: str, fields: dict[str, Any]
) -> tuple[str, str, str] | None:
    """(owner, form token, digest of what was posted): the second submit of the same form gets the
    first answer; a form without a token is simply not deduplicated."""
    token = str(request.POST.get("form_token", "")).strip()
    if not token:
        return None
    owner = request.user.get_username() if request.user.is_authenticated else "anonymous"
    return (f"page:{owner}", token[:128], request_digest({"what": what, **fields}))


def posted_file(request: HttpRequest, field: str = "file") -> tuple[str, CheckedFile]:
    """The uploaded file's name, and the file checked by its content (not its name or type)."""
    upload = request.FILES.get(field)
    if upload is None or isinstance(upload, list):
        raise ServiceError("file_required", "请选择要上传的文件", status=422)
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise ServiceError("file_too_large", "文件超过 10 MB,请压缩后再上传", status=422)
    content = upload.read(MAX_FILE_BYTES + 1)
    name = upload.name or "file"
    return name, check_upload(name=name, content=content, label="所选文件")


def status_url(request: HttpRequest, number: str) -> str:
    from django.urls import reverse

    return request.build_absolute_uri(f"{reverse('onewindow:status')}?n={number}")
