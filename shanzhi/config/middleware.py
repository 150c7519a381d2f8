"""A NUL in the URL (the path, or a query-string name or value) is answered here, before any view.

PostgreSQL refuses NUL in a text parameter, so every view that looked a path part or a filter up
failed with a 500 there (a case number, a household code, ?q= in a list), while SQLite simply found
nothing. No record's number, code or name holds a NUL, so the answer is the one a wrong number
gets: 404, as the site's 404 page, the API's {code, message} under /api/ and the Open311 error list
under /open311/. Nothing is read or written for such a request, whatever its method."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import render

from shanzhi.cases.open311.render import JSON, XML, error_response
from shanzhi.core.errors import NotFound

NUL = "\x00"


def url_has_nul(request: HttpRequest) -> bool:
    if NUL in request.path_info:
        return True
    return any(NUL in key or any(NUL in v for v in values) for key, values in request.GET.lists())


def not_found(request: HttpRequest) -> HttpResponseBase:
    """404 in the form the path's clients read: JSON, Open311's error list, or the 404 page."""
    error = NotFound()
    path = request.path_info
    if path.startswith("/api/"):
        return JsonResponse(error.as_dict(), status=404)
    if path.startswith("/open311/"):
        fmt = XML if path.endswith(".xml") else JSON
        return error_response(fmt=fmt, status=404, description=f"{error.message}(not found)")
    return render(request, "404.html", {"message": error.message}, status=404)


class NulInUrlMiddleware:
    """After authentication (the 404 page shows the signed-in user's menu), before every view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if url_has_nul(request):
            return not_found(request)
        return self.get_response(request)
