"""What every application page shares: sign-in and roles, 404 for what the viewer may not see,
form tokens that make a second submit of the same form harmless, and reading uploaded files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from shanzhi.cases.uploads import CheckedFile
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.selectors import roles_of
from shanzhi.onewindow.applications import request_digest
from shanzhi.onewindow.materials import MAX_FILE_BYTES, check_upload

View = Callable[..., HttpResponseBase]

RESIDENT = frozenset({"resident"})
CLERK = frozenset({"clerk", "admin"})
BACK_OFFICE = frozenset({"approver", "admin"})
SUPERVISE = frozenset({"supervisor", "leader", "admin"})
ASSIST = frozenset({"clerk", "gridworker", "admin"})
STAFF = frozenset({"clerk", "approver", "supervisor", "leader", "gridworker", "admin"})


def problem(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    title = "未找到" if status == 404 else "无法访问"
    return render(request, "onewindow/problem.html", {"title": title, "message": message}, status=status)


def page(*, roles: frozenset[str] | None = None, public: bool = False) -> Callable[[View], View]:
    """Sign-in (→ login), the page's roles (→ 403), a record outside the viewer's jurisdiction (→ 404)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not public and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if roles is not None and not roles_of(user=request.user) & roles:
                return problem(request, status=403, message="此页面不对您的角色开放。")
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                return problem(request, status=404, message=exc.message)
            except PermissionDenied as exc:
                return problem(request, status=403, message=exc.message)

        return wrapper

    return decorate


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
