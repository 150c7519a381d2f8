"""Demo 好差评: one case rated 不满意 (so the supervisor and the township see a rectification),
one 办不成事 report in the supervisor's queue. Idempotent; uses the services like a person would.

Runs after the cases demo (it needs the catalogue, the triage model and the demo accounts). The
closed case the cases demo leaves for the demo resident stays unrated, for trying the widget."""

from __future__ import annotations

from typing import Any, TextIO

from django.contrib.auth import get_user_model

from shanzhi.cases import services as case_svc
from shanzhi.cases.intake import IntakeRequest, intake_request
from shanzhi.cases.models import Case, CaseStatus
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Handler
from shanzhi.ratings.models import CannotGetDoneReport, Rating
from shanzhi.ratings.services import cannot_get_done_report, rating_submit

CASE_TEXT = "小区门口的窨井盖松动,踩上去会翘起来,晚上有老人差点摔倒,请尽快修好。"
REPORT = {
    "what": "想给父亲办残疾人两项补贴,镇便民服务中心说要去县残联办,县残联又说在镇里办,跑了三趟没办成。",
    "where": "青石镇便民服务中心",
    "phone": "13905780001",
    "name": "李先生",
    "region_code": "331199101000",
}


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first()


def _closed_case(stdout: TextIO) -> Case | None:
    resident, dispatcher, gridworker = _user("resident"), _user("dispatcher"), _user("gridworker")
    if resident is None or dispatcher is None:
        stdout.write("  好差评:缺少演示账号,跳过\n")
        return None
    request = IntakeRequest(channel="app", text=CASE_TEXT, address="青石镇上溪村")
    case = intake_request(actor=resident, request=request, idempotency_key="ratings-demo-1", owner="demo")
    if case.status == CaseStatus.RECEIVED:
        case = case_svc.case_register(actor=dispatcher, case=case)
    if case.status == CaseStatus.REGISTERED:
        # The township, so the demo handler (王芳, 青石镇) has the rectification to work on; if its
        # duty list does not cover the category, whoever triage proposed.
        for code in ("township-331199101000", case.suggestion.get("handler")):
            handler = Handler.objects.filter(code=code or "").first()
            if handler is None:
                continue
            try:
                case = case_svc.case_dispatch(actor=dispatcher, case=case, primary=handler)
                break
            except ServiceError as exc:
                stdout.write(f"  好差评:演示诉求未能派给{handler.name}:{exc.message}\n")
    if case.status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS):
        primary = case.assignments.get(role="primary", status__in=["pending", "accepted"])
        worker = get_user_model().objects.filter(
            staff__handler=primary.handler, staff__roles__role="handler"
        ).first() or _user("admin")
        if primary.status == "pending":
            case_svc.assignment_accept(actor=worker, assignment=primary)
        case_svc.assignment_report(actor=worker, assignment=primary, text="已更换井盖并加固井圈,附照片。")
        case.refresh_from_db()
    if case.status == CaseStatus.VERIFYING:
        verifier = gridworker if gridworker and case.region_id == gridworker.staff.region_id else dispatcher
        case = case_svc.case_verify(actor=verifier, case=case, passed=True, note="现场查看已更换")
    return case


def load_demo(*, stdout: TextIO) -> None:
    from shanzhi.cases.models import IdempotencyRecord

    # The demo case is rated 不满意, which reopens it: a second run must not work it again.
    taken = IdempotencyRecord.objects.filter(owner="demo", key="ratings-demo-1").exists()
    try:
        case = None if taken else _closed_case(stdout)
        if case is not None and not Rating.objects.filter(object_type="case", object_id=case.number).exists():
            rating_submit(
                actor=_user("resident"),
                obj_type="case",
                obj_id=case.number,
                level="unsatisfied",
                comment="换了井盖但周边路面还是坑洼,晚上照样看不清。",
                channel="app",
            )
    except ServiceError as exc:
        stdout.write(f"  好差评:演示差评未能生成:{exc.message}\n")
    if not CannotGetDoneReport.objects.filter(contact_phone=REPORT["phone"], what=REPORT["what"]).exists():
        try:
            cannot_get_done_report(actor=None, **REPORT)
        except ServiceError as exc:
            stdout.write(f"  办不成事:演示反映未能生成:{exc.message}\n")
    bad = Rating.objects.filter(rectification__isnull=False).count()
    stdout.write(
        f"  好差评:评价 {Rating.objects.count()} 条(差评 {bad} 条),"
        f"办不成事反映 {CannotGetDoneReport.objects.count()} 件\n"
    )
