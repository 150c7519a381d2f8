"""Elder mode (适老化) read from its cookie, so the server renders the page large from the first
paint; the switch in base.html writes the cookie and localStorage (web/static/web/elder.js)."""

from __future__ import annotations

from django.http import HttpRequest

COOKIE = "shanzhi_elder"
HOTLINE = "12345"


def elder_mode(request: HttpRequest) -> dict[str, object]:
    return {"elder": request.COOKIES.get(COOKIE) == "1", "hotline": HOTLINE}
