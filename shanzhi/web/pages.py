"""The one decorator every page view uses: sign-in, the page's roles, and records outside the
viewer's jurisdiction shown as the app's "problem" page (a 404 looks like a missing record)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from shanzhi.core.errors import NotFound, PermissionDenied
from shanzhi.core.selectors import roles_of

View = Callable[..., HttpResponseBase]


def problem(request: HttpRequest, *, status: int, message: str, template: str) -> HttpResponse:
    title = "未找到" if status == 404 else "无法访问"
    return render(request, template, {"title": title, "message": message}, status=status)


def page(
    *,
    template: str,
    roles: frozenset[str] | None = None,
    public: bool = False,
    wrong_role_status: int = 403,
    wrong_role_message: str = "此页面不对您的角色开放。",
) -> Callable[[View], View]:
    """Anonymous → the login page (an htmx refresh gets HX-Redirect, since a partial swap of the
    login page would be wrong); a role the page is not for → `wrong_role_status`; NotFound → 404
    and PermissionDenied → 403, rendered with the app's `template`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not public and not request.user.is_authenticated:
                login = redirect_to_login(request.get_full_path())
                if request.headers.get("HX-Request"):
                    answer = HttpResponse(status=200)
                    answer["HX-Redirect"] = login["Location"]
                    return answer
                return login
            if roles is not None and not roles_of(user=request.user) & roles:
                return problem(
                    request, status=wrong_role_status, message=wrong_role_message, template=template
                )
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                return problem(request, status=404, message=exc.message, template=template)
            except PermissionDenied as exc:
                return problem(request, status=403, message=exc.message, template=template)

        return wrapper

    return decorate
