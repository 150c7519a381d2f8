"""What the public GeoReport endpoints say about services and cases.

Never the reporter's name or phone. Phones and ID numbers inside free text are masked. Cases of
the groups in PRIVATE_GROUPS (crime, family disputes, welfare, wages, health) are listed with
their status only: their text, address and coordinates would point at a person.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from shanzhi.cases.models import Assignment, Case, CaseStatus, Category, ClockUnit
from shanzhi.cases.open311.models import Open311Request
from shanzhi.cases.open311.selectors import CLOSED_STATUSES
from shanzhi.core.masking import mask_text
from shanzhi.core.models import Region

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-26T00:00:00+08:00"  # when this endpoint's document last changed
FORMATS = ["text/xml", "application/json"]
PRIVATE_GROUPS = frozenset({"治安纠纷", "民政服务", "劳动社保", "卫生健康"})
MAX_NOTES = 500


def w3c(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in county time with its offset, e.g. 2026-05-01T08:30:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def discovery_dict(*, url: str, county: Region | None) -> dict[str, Any]:
    place = county.name if county is not None else ""
    return {
        "changeset": CHANGESET,
        "contact": f"{place}12345 政务服务便民热线(12345 government service hotline)",
        "key_service": "api_key 由平台系统管理员签发,请向 12345 热线管理部门申请"
        "(api keys are issued by the platform administrator)",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": FORMATS,
            }
        ],
    }


_PHRASES = re.compile(r"[、,,;;。]")


def keywords(category: Category) -> str:
    """The scope's phrases, comma-separated; cross-references to other codes ("…归1301") dropped."""
    phrases = [p.strip() for p in _PHRASES.split(category.scope)]
    return ",".join(p for p in phrases if p and not any(ch.isdigit() for ch in p))


def service_dict(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.scope,
        "metadata": False,
        "type": "realtime",
        "keywords": keywords(category),
        "group": category.group,
    }


def service_definition_dict(category: Category) -> dict[str, Any]:
    # Our categories ask for nothing beyond the standard fields.
    return {"service_code": category.code, "attributes": []}


def time_limit_notice(category: Category | None) -> str:
    if category is None:
        return ""
    unit = "工作小时" if category.clock_unit == ClockUnit.WORKING_HOURS else "小时(昼夜连续计算)"
    return f"本类诉求办理时限为 {category.sla_hours} 个{unit}"


def _link(case: Case) -> Open311Request | None:
    link: Open311Request | None = getattr(case, "open311", None)
    return link


def case_service(case: Case) -> Category | None:
    """The service a case is shown under (the same order as selectors._service_in)."""
    link = _link(case)
    return case.category or (link.service if link is not None else None) or case.suggested_category


def _primary(case: Case) -> Assignment | None:
    primaries: list[Assignment] | None = getattr(case, "open311_primaries", None)
    if primaries is None:  # not fetched through the selectors
        primaries = list(
            case.assignments.filter(role="primary")
            .exclude(status__in=["cancelled", "returned"])
            .select_related("handler")
            .order_by("-id")
        )
    return primaries[0] if primaries else None


def public_status(case: Case) -> str:
    return "closed" if case.status in CLOSED_STATUSES else "open"


def status_notes(case: Case, *, primary: Assignment | None, private: bool) -> str:
    """The status in words, with what the public may know: why it was refused, what it was merged
    into, or what the handler reported doing."""
    detail = ""
    if case.status == CaseStatus.MERGED and case.merged_into is not None:
        detail = f"并入 {case.merged_into.number}"
    elif private:
        detail = ""
    elif case.status == CaseStatus.REFUSED:
        detail = case.refuse_reason
    elif case.status in (CaseStatus.VERIFYING, CaseStatus.CLOSED, CaseStatus.EVALUATED) and primary:
        detail = primary.report_text
    notes = str(case.get_status_display()) + (f":{mask_text(detail)}" if detail else "")
    return notes[:MAX_NOTES]


def request_dict(case: Case) -> dict[str, Any]:
    """One service request as the public sees it. No reporter name or phone, ever."""
    service = case_service(case)
    private = service is None or service.group in PRIVATE_GROUPS
    primary = _primary(case)
    link = _link(case)
    return {
        "service_request_id": case.number,
        "status": public_status(case),
        "status_notes": status_notes(case, primary=primary, private=private),
        "service_name": service.name if service else "",
        "service_code": service.code if service else "",
        "description": "" if private else mask_text(case.text),
        "agency_responsible": primary.handler.name if primary else "",
        "service_notice": time_limit_notice(service),
        "requested_datetime": w3c(case.received_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.deadline),
        "address": "" if private else mask_text(case.address),
        "address_id": link.address_id if link is not None and not private else "",
        "zipcode": "",
        "lat": None if private else case.lat,
        "long": None if private else case.lon,
        "media_url": "",
    }


def created_dict(link: Open311Request) -> dict[str, Any]:
    """The answer to POST requests: the case number, the token, and what happens next."""
    case = link.case
    service = case.category or link.service
    if case.deadline is not None:
        notice = (
            f"已受理并派遣,编号 {case.number},办结时限 {timezone.localtime(case.deadline):%Y-%m-%d %H:%M}。"
        )
    else:
        notice = f"已受理,编号 {case.number},将由指挥中心立案派遣。"
    return {
        "service_request_id": case.number,
        "token": link.token,
        "service_notice": notice + time_limit_notice(service),
        "account_id": link.account_id or None,
    }


def token_dict(link: Open311Request) -> dict[str, Any]:
    return {"service_request_id": link.case.number, "token": link.token}
