"""The demo's applications half: service windows in the county centre and in 城关街道's hall, a
morning of queue numbers whose waits average about a quarter of an hour (the seed's 45 → 15),
and applications in every state the pages show — accepted, in review, told what is missing,
finished and rated, overdue, submitted online by the demo resident, assisted with consent, a
newborn bundle half-way down its chain — plus a booked home visit. All through the services
(backdated with their `now`), so each step has its audit entry. Idempotent: each part is skipped
when its rows exist.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.utils import timezone

from shanzhi.core.models import Region, Staff
from shanzhi.core.validators import id_check_digit
from shanzhi.core.workcal import TZ, is_working_day
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow import assisted, queue
from shanzhi.onewindow.escalation import application_sweep
from shanzhi.onewindow.materials import bundle_questions, check_upload, item_questions
from shanzhi.onewindow.models import Bundle, ServiceItem
from shanzhi.onewindow.models_applications import Application, HomeVisit
from shanzhi.onewindow.models_queue import QueueTicket, ServiceWindow

COUNTY_HALL = "331199000000"
TOWN_HALL = "331199001000"  # 城关街道, where the demo clerk works
WINDOWS = [
    (COUNTY_HALL, "1", "“一件事”综合窗口", []),
    (COUNTY_HALL, "2", "社保医保窗口", ["social_security", "medical_insurance"]),
    (COUNTY_HALL, "3", "民政残联窗口", ["civil_affairs", "disability"]),
    (COUNTY_HALL, "4", "户籍窗口", ["household"]),
    (COUNTY_HALL, "5", "市场准入窗口", ["market", "agriculture"]),
    (TOWN_HALL, "1", "综合窗口", []),
    (TOWN_HALL, "2", "社保民政窗口", ["social_security", "medical_insurance", "civil_affairs"]),
]
DEMO_PHONES = [
    "13905781001",
    "13905781002",
    "13905781003",
    "13905781004",
    "13905781005",
    "13905781006",
    "13905781007",
]
NAMES = ["周桂英", "陈志强", "林美华", "吴德明", "黄秀兰", "郑国平", "王小宝家长 王丽"]


def _id(n: int, birth: str) -> str:
    body = f"331199{birth}{n:03d}"
    return body + id_check_digit(body)


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first()


def _last_working_day(before: dt.date) -> dt.date:
    day = before - dt.timedelta(days=1)
    while not is_working_day(day=day):
        day -= dt.timedelta(days=1)
    return day


def _windows() -> int:
    created = 0
    for hall_code, code, name, themes in WINDOWS:
        hall = Region.objects.filter(code=hall_code).first()
        if hall is None or ServiceWindow.objects.filter(hall=hall, code=code).exists():
            continue
        queue.window_create(actor=None, hall=hall, code=code, name=name, themes=themes)
        created += 1
    return created


def _morning_queue(clerk: Any) -> int:
    """24 numbers on the last working day at 城关街道's two windows, seeded for repeatability."""
    hall = Region.objects.get(code=TOWN_HALL)
    if QueueTicket.objects.filter(hall=hall).exists():
        return 0
    windows = list(ServiceWindow.objects.filter(hall=hall).order_by("code"))
    day = _last_working_day(timezone.localdate())
    rng = random.Random(20250603)
    free_at = {w.pk: dt.datetime.combine(day, dt.time(8, 45), tzinfo=TZ) for w in windows}
    taken = dt.datetime.combine(day, dt.time(8, 30), tzinfo=TZ)
    themes = ["", "social_security", "civil_affairs", "medical_insurance", ""]
    for _ in range(24):
        taken += dt.timedelta(minutes=rng.randint(3, 9))
        theme = rng.choice(themes)
        ticket = queue.ticket_take(actor=None, hall=hall, theme=theme, now=taken)
        window = min((w for w in windows if w.serves(theme)), key=lambda w: free_at[w.pk])
        called = max(free_at[window.pk], taken + dt.timedelta(minutes=rng.randint(4, 10)))
        got = queue.ticket_call_next(actor=None, window=window, now=called)
        assert got is not None and got.pk == ticket.pk
        started = called + dt.timedelta(minutes=1)
        queue.ticket_start(actor=None, ticket=ticket, now=started)
        finished = started + dt.timedelta(minutes=rng.randint(5, 12))
        queue.ticket_finish(actor=None, ticket=ticket, now=finished)
        free_at[window.pk] = finished
    return 24


def _scan_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned document."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 760, f"scan {len(title)}")
    page.save()
    return buffer.getvalue()


def _answers(item: ServiceItem, yes: tuple[str, ...] = ()) -> dict[str, bool]:
    return {q: q in yes for q in item_questions(item)}


def _bring_all(app: Application, *, now: dt.datetime) -> None:
    for line in svc.material_check(app).missing:
        svc.application_mark_paper(actor=None, application=app, key=line.key, now=now)


def _window_app(item: ServiceItem, n: int, region: Region, clerk: Any, *, at: dt.datetime) -> Application:
    applicant = svc.Applicant(name=NAMES[n], id_number=_id(n, "19450312"), phone=DEMO_PHONES[n])
    return svc.application_create(
        actor=None,
        channel="window",
        applicant=applicant,
        item=item,
        answers=_answers(item),
        region=region,
        now=at,
    )


def _applications(stdout: TextIO) -> int:
    if Application.objects.filter(applicant_phone__in=DEMO_PHONES).exists():
        return 0
    items = {i.basic_code: i for i in ServiceItem.objects.filter(active=True)}
    town = Region.objects.get(code=TOWN_HALL)
    clerk = _user("clerk")
    now = timezone.now()
    ago = now - dt.timedelta(days=30)  # well past a 10-working-day promise
    made = 0

    # Overdue: 高龄津贴, accepted a month ago and never decided; the sweep escalates it.
    late = _window_app(items["JF30004000"], 0, town, clerk, at=ago)
    _bring_all(late, now=ago)
    svc.application_accept(actor=None, application=late, now=ago)
    made += 1

    # In review at 县民政局: 最低生活保障.
    review = _window_app(items["JF30001000"], 1, town, clerk, at=now - dt.timedelta(days=2))
    _bring_all(review, now=now - dt.timedelta(days=2))
    review = svc.application_accept(actor=None, application=review, now=now - dt.timedelta(days=2))
    svc.application_start_review(actor=None, application=review, now=now - dt.timedelta(days=1))
    made += 1

    # Told once what is missing: 临时救助, the applicant brought only the ID card.
    told = _window_app(items["JF30003000"], 2, town, clerk, at=now - dt.timedelta(hours=3))
    svc.application_mark_paper(
        actor=None, application=told, key="申请人居民身份证", now=now - dt.timedelta(hours=3)
    )
    svc.application_not_accept(actor=None, application=told, now=now - dt.timedelta(hours=3))
    made += 1

    # Finished and rated: 老年人优待证 (即办).
    done = _window_app(items["GG30007000"], 3, town, clerk, at=now - dt.timedelta(days=5))
    _bring_all(done, now=now - dt.timedelta(days=5))
    done = svc.application_accept(actor=None, application=done, now=now - dt.timedelta(days=5))
    done = svc.application_start_review(actor=None, application=done, now=now - dt.timedelta(days=5))
    done = svc.application_approve(
        actor=None, application=done, decision="准予办理老年人优待证", now=now - dt.timedelta(days=5)
    )
    svc.application_finish(actor=None, application=done, note="窗口当场领取", now=now - dt.timedelta(days=5))
    from shanzhi.ratings.services import rating_submit

    rating_submit(
        actor=None,
        obj_type="application",
        obj_id=done.number,
        level="very_satisfied",
        channel="window",
        phone=done.applicant_phone,
    )
    made += 1

    # Online, by the demo resident: 居家养老上门服务, submitted and waiting for 县民政局 to accept.
    resident = _user("resident")
    home_care = items["GG30006000"]
    if resident is not None:
        online = svc.application_create(
            actor=resident,
            channel="online",
            applicant=svc.Applicant(name="张大爷", id_number=_id(4, "19400808"), phone=DEMO_PHONES[4]),
            item=home_care,
            answers=_answers(home_care),
        )
        for line in svc.material_check(online).missing:  # scanned at home and uploaded
            scan = check_upload(name="scan.pdf", content=_scan_pdf(line.name), label=line.name)
            svc.application_upload(
                actor=resident, application=online, key=line.key, name=f"{line.name}.pdf", checked=scan
            )
        svc.application_submit(actor=resident, application=online)
        made += 1

    # Assisted, with witnessed verbal consent: 经济困难老年人养老服务补贴 for an elderly villager.
    grid = _user("gridworker")
    subsidy = items["JF30005000"]
    if grid is not None:
        svc.application_create(
            actor=grid,
            channel="assisted",
            applicant=svc.Applicant(name=NAMES[5], id_number=_id(5, "19380101"), phone=DEMO_PHONES[5]),
            item=subsidy,
            answers=_answers(subsidy),
            consent=svc.ConsentSpec(
                reason="elderly",
                consenter_name=NAMES[5],
                relation="本人",
                method="verbal",
                witness="上溪村村委会主任",
            ),
        )
        made += 1

    # 新生儿出生一件事, accepted two days ago; the birth certificate is issued, so 出生登记 is released.
    bundle = Bundle.objects.filter(code="newborn").first()
    if bundle is not None:
        made += _newborn(bundle, town, at=now - dt.timedelta(days=2))
    return made


def _newborn(bundle: Bundle, town: Region, *, at: dt.datetime) -> int:
    father, mother = _id(6, "19920505"), _id(7, "19940618")
    form = {
        "child_name": "王小宝",
        "child_gender": "男",
        "birth_date": (at - dt.timedelta(days=10)).date().isoformat(),
        "birth_hospital": "善水县人民医院",
        "mother_name": "王丽",
        "mother_id": mother,
        "father_name": "李强",
        "father_id": father,
        "household_follow": "随父",
        "address": "城关街道城中社区 3 幢 201 室",
        "phone": DEMO_PHONES[6],
        "mail_address": "",
    }
    app = svc.application_create(
        actor=None,
        channel="window",
        applicant=svc.Applicant(name="王丽", id_number=mother, phone=DEMO_PHONES[6]),
        bundle=bundle,
        answers={q: False for q in bundle_questions(bundle)},
        form_data=form,
        region=town,
        now=at,
    )
    _bring_all(app, now=at)
    app = svc.application_accept(actor=None, application=app, now=at)
    first = app.children.order_by("number").first()
    if first is not None:
        first = svc.application_start_review(actor=None, application=first, now=at)
        svc.application_approve(
            actor=None, application=first, decision="已签发出生医学证明", now=at + dt.timedelta(hours=3)
        )
    return 1


def _visit() -> int:
    grid = Staff.objects.filter(user__username="gridworker").select_related("region").first()
    if grid is None or HomeVisit.objects.exists():
        return 0
    visit_day = timezone.localdate() + dt.timedelta(days=1)
    assisted.home_visit_book(
        actor=None,
        region=grid.region,
        resident_name="张大爷",
        resident_phone=DEMO_PHONES[4],
        reason="elderly",
        address=f"{grid.region.name} 8 号",
        visit_date=visit_day,
        staff=grid,
        item=ServiceItem.objects.filter(basic_code="JF30004000").first(),
        note="行动不便,需上门采集照片",
    )
    return 1


def load_applications(*, stdout: TextIO) -> None:
    if not Region.objects.filter(code=TOWN_HALL).exists():
        stdout.write("  跳过办件演示:缺少城关街道\n")
        return
    windows = _windows()
    tickets = _morning_queue(_user("clerk"))
    apps = _applications(stdout)
    visits = _visit()
    swept = application_sweep().total()
    stdout.write(
        f"  服务窗口新增 {windows} 个,排队号新增 {tickets} 个,演示办件新增 {apps} 组,"
        f"上门帮办新增 {visits} 个,督办 {swept} 次\n"
    )
