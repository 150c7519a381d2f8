"""Elder mode (适老化) read from its cookie, so the server renders the page large from the first
paint. The switch in base.html posts here without JavaScript; with it, web/static/web/elder.js
flips the class at once and writes the same cookie and localStorage."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

COOKIE = "shanzhi_elder"
HOTLINE = "12345"
MAX_AGE = 365 * 24 * 3600


def elder_mode(request: HttpRequest) -> dict[str, object]:
    return {"elder": request.COOKIES.get(COOKIE) == "1", "hotline": HOTLINE}


@require_POST
def elder_switch(request: HttpRequest) -> HttpResponse:
    """Public (residents switch before signing in); only a same-site `next` is followed."""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    answer = HttpResponseRedirect(target)
    if request.POST.get("on") == "1":
        answer.set_cookie(COOKIE, "1", max_age=MAX_AGE, samesite="Lax")
    else:
        answer.delete_cookie(COOKIE, samesite="Lax")
    return answer
