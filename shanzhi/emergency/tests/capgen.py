"""CAP 1.2 test messages over the test county (tests/conftest.py: lon 119.6–120.0, lat 28.2–28.5)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

NS = "urn:oasis:names:tc:emergency:cap:1.2"
# Township A's top row (grids a1-01 and a1-02), in CAP "lat,lon" order, closed.
NORTH_A = "28.36,119.61 28.36,119.79 28.49,119.79 28.49,119.61 28.36,119.61"


def cap_time(value: dt.datetime) -> str:
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def cap(
    *,
    identifier: str = "T-1",
    sender: str = "qx@example.cn",
    msg_type: str = "Alert",
    status: str = "Actual",
    scope: str = "Public",
    references: str = "",
    event: str = "台风",
    severity: str = "Severe",
    urgency: str = "Expected",
    certainty: str = "Likely",
    headline: str = "台风橙色预警",
    instruction: str = "请关好门窗,不要外出。",
    area: str = "",
    polygon: str | None = NORTH_A,
    expires_in: dt.timedelta | None = dt.timedelta(hours=12),
    info: bool = True,
    ns: str = NS,
) -> bytes:
    now = timezone.now()
    refs = f"<references>{references}</references>" if references else ""
    body = ""
    if info:
        geo = area or (f"<polygon>{polygon}</polygon>" if polygon else "")
        expires = f"<expires>{cap_time(now + expires_in)}</expires>" if expires_in else ""
        body = f"""<info><language>zh-CN</language><category>Met</category><event>{event}</event>
<urgency>{urgency}</urgency><severity>{severity}</severity><certainty>{certainty}</certainty>{expires}
<senderName>善水县气象台</senderName><headline>{headline}</headline><description>风力 10 级。</description>
<instruction>{instruction}</instruction><area><areaDesc>青石镇北部</areaDesc>{geo}</area></info>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{ns}"><identifier>{identifier}</identifier><sender>{sender}</sender>
<sent>{cap_time(now)}</sent><status>{status}</status><msgType>{msg_type}</msgType><scope>{scope}</scope>
{refs}{body}</alert>""".encode()


def ref(xml_identifier: str, sender: str = "qx@example.cn") -> str:
    return f"{sender},{xml_identifier},{cap_time(timezone.now())}"
