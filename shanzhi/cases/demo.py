"""Demo cases for 善水县: the catalogue's categories, and a day's worth of requests in every state
of the loop, taken in through the real intake and moved by the real services.

Idempotent: each demo request carries an Idempotency-Key, so a second run replays instead of adding.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.utils import timezone

from shanzhi.cases import services as svc
from shanzhi.cases.catalogue import category_sync
from shanzhi.cases.intake import IntakeRequest, intake_request
from shanzhi.cases.models import Assignment, Case, CaseStatus, IdempotencyRecord, TimelineEvent
from shanzhi.core.errors import ServiceError

# (who, channel, text, address, target state)
REQUESTS: list[tuple[str, str, str, str, str]] = [
    (
        "operator",
        "hotline",
        "市民来电反映:城中社区锦绣花园3幢楼下垃圾桶满溢两天无人清运,气味很大。",
        "城关街道城中社区锦绣花园",
        "received",
    ),
    (
        "operator",
        "hotline",
        "市民来电反映:文昌社区文昌小区东门外每晚有流动摊贩占道经营,影响通行。",
        "城关街道文昌社区",
        "dispatched",
    ),
    (
        "operator",
        "hotline",
        "来电人称南门社区江滨花苑电梯困人,有老人被困在5楼和6楼之间,请尽快处理。",
        "城关街道南门社区江滨花苑",
        "in_progress",
    ),
    (
        "operator",
        "hotline",
        "市民反映上溪村村道两旁堆满生活垃圾和建筑垃圾,下雨后污水横流。",
        "青石镇上溪村",
        "verifying",
    ),
    (
        "resident",
        "app",
        "我家门口的路灯坏了一个多星期了,晚上出门很不安全,麻烦修一下。",
        "青石镇上溪村",
        "closed",
    ),
    (
        "resident",
        "app",
        "村里小广场晚上跳广场舞音响开得特别大,十点多还不停,老人孩子都睡不着。",
        "青石镇上溪村",
        "evaluated",
    ),
    ("gridworker", "grid", "上溪村3组路口消防通道被两辆私家车堵住,已拍照。", "青石镇上溪村3组", "received"),
    (
        "gridworker",
        "grid",
        "上溪村溪边发现有人倾倒废油,河面漂浮油污,疑似上游小作坊偷排。",
        "青石镇上溪村",
        "registered",
    ),
    (
        "operator",
        "hotline",
        "市民来电:东湖社区东湖名邸物业擅自涨停车费,业主多次沟通无果。",
        "城关街道东湖社区东湖名邸",
        "dispatched",
    ),
    (
        "operator",
        "hotline",
        "来电反映临溪镇沙湾村有工地夜间施工打桩,凌晨一点还在作业。",
        "临溪镇沙湾村",
        "received",
    ),
    (
        "operator",
        "hotline",
        "市民反映西园社区有一家小饭店卖的凉菜变质发酸,吃后全家腹泻。",
        "城关街道西园社区",
        "in_progress",
    ),
    (
        "operator",
        "hotline",
        "农民工来电:在城东街道某工地干了三个月活,老板拖欠工资两万多元不给。",
        "城东街道",
        "received",
    ),
]


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first()


def _advance(case: Case, target: str) -> None:
    """Move a demo case forward with the demo accounts, as far as `target`."""
    dispatcher, gridworker, resident = _user("dispatcher"), _user("gridworker"), _user("resident")
    order = ["received", "registered", "dispatched", "in_progress", "verifying", "closed", "evaluated"]
    if order.index(target) <= order.index(case.status):
        return
    if case.status == CaseStatus.RECEIVED:
        case = svc.case_register(actor=dispatcher, case=case)
    if target == "registered":
        return
    if case.status == CaseStatus.REGISTERED:
        handler_codes = [case.suggestion.get("handler"), *case.suggestion.get("co_handlers", [])]
        from shanzhi.core.models import Handler

        handlers = [Handler.objects.get(code=c) for c in handler_codes if c]
        if not handlers:
            return
        case = svc.case_dispatch(actor=dispatcher, case=case, primary=handlers[0], co_handlers=handlers[1:])
    if target == "dispatched":
        return
    primary = case.assignments.get(role="primary", status__in=["pending", "accepted"])
    handler_user = (
        get_user_model().objects.filter(staff__handler=primary.handler, staff__roles__role="handler").first()
    )
    actor = handler_user or _user("admin")
    if primary.status == "pending":
        svc.assignment_accept(actor=actor, assignment=primary)
    if target == "in_progress":
        return
    svc.assignment_report(actor=actor, assignment=primary, text="已到现场处置完毕,附处置前后照片说明。")
    case.refresh_from_db()
    if target == "verifying":
        return
    case = svc.case_verify(
        actor=gridworker if case.region_id == gridworker.staff.region_id else dispatcher,
        case=case,
        passed=True,
        note="现场核查,问题已解决",
    )
    if target == "closed":
        return
    if case.reporter_id == resident.pk:
        svc.case_rate(actor=resident, case=case, satisfaction="satisfied", comment="处理很及时")


def load_demo(*, stdout: TextIO) -> None:
    created = category_sync(actor=None)
    stdout.write(f"  诉求类别:新增 {created} 个\n")
    made = 0
    start = timezone.now() - dt.timedelta(hours=len(REQUESTS))
    done = set(IdempotencyRecord.objects.filter(owner="demo").values_list("key", flat=True))
    for n, (who, channel, text, address, target) in enumerate(REQUESTS):
        if f"demo-{n}" in done:  # taken in by an earlier run (its receive time differed, so no replay)
            continue
        actor = _user(who)
        request = IntakeRequest(
            channel=channel,
            text=text,
            address=address,
            reporter_phone="13905780000" if who == "operator" else "",
            received_at=start + dt.timedelta(hours=n),
        )
        before = Case.objects.count()
        try:
            case = intake_request(actor=actor, request=request, idempotency_key=f"demo-{n}", owner="demo")
        except ServiceError as exc:
            stdout.write(f"  演示诉求 {n} 未能受理:{exc.message}\n")
            continue
        if Case.objects.count() > before:
            made += 1
            try:
                _advance(case, target)
            except ServiceError as exc:
                stdout.write(f"  演示诉求 {case.number} 停在“{case.get_status_display()}”:{exc.message}\n")
    open_assignments = Assignment.objects.filter(status__in=["pending", "accepted"]).count()
    stdout.write(
        f"  演示诉求:新增 {made} 件(共 {Case.objects.count()} 件,在办派遣 {open_assignments} 件,"
        f"时间线 {TimelineEvent.objects.count()} 条)\n"
    )
