"""The kiosk role: a self-service terminal's account takes numbers, applies and scans, prints the
receipt or the one-time notice and looks up progress — and nothing else: clerk pages, every other
page, the JSON API and the admin answer 403, its home is the kiosk page, it sees only what it took
itself lately and gets no API token. A clerk still runs the kiosk pages as before."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from shanzhi.conftest import County, make_user
from shanzhi.core import demo
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Staff, StaffRole
from shanzhi.core.services import handler_create, handler_type_upsert
from shanzhi.core.tokens import token_authenticate, token_create
from shanzhi.core.validators import id_check_digit
from shanzhi.onewindow.catalog import ItemSpec, MaterialSpec, StepSpec
from shanzhi.onewindow.models import ServiceItem
from shanzhi.onewindow.models_applications import Application
from shanzhi.onewindow.models_applications import ApplicationStatus as S
from shanzhi.onewindow.models_queue import QueueTicket
from shanzhi.onewindow.services import service_item_create

PHONE = "13905781234"
ID_BODY = "33119919560101123"
ID_NUMBER = ID_BODY + id_check_digit(ID_BODY)


@dataclass
class Terminal:
    county: County
    item: ServiceItem
    kiosk: Any
    clerk: Any


@pytest.fixture
def terminal(county: County) -> Terminal:
    handler_type_upsert(actor=None, code="hrss", kind="department", name_zh="县人社局", name_en="hrss")
    handler_create(
        actor=None, code="hrss", type_code="hrss", name="县人力资源和社会保障局", region=county.county
    )
    item = service_item_create(
        actor=None,
        spec=ItemSpec(
            code="331199-GG00001000-01",
            basic_code="GG00001000",
            name="城乡居民基本养老保险参保登记",
            item_type="public_service",
            theme="social_security",
            summary="为居民办理城乡居民基本养老保险参保登记",
            applicants="本县居民",
            legal_basis="《中华人民共和国社会保险法》",
            conditions="本县户籍。",
            steps=(StepSpec("申请", "提交材料"), StepSpec("受理"), StepSpec("办结", "当场办结")),
            promised_days=5,
            statutory_days=20,
            department="hrss",
            window="县政务服务中心 2 号窗口",
            channels=("window", "online", "kiosk"),
            phone="0578-8612333",
            materials=(
                MaterialSpec(
                    name="申请人居民身份证", form="original", condition="", shared_source="", key=""
                ),
                MaterialSpec(
                    name="授权委托书", form="original", condition="委托他人代为办理", shared_source="", key=""
                ),
            ),
        ),
    )
    kiosk = make_user(username="t-kiosk", region=county.county, roles=["kiosk"])
    clerk = make_user(username="t-clerk", region=county.town_a, roles=["clerk"], handler=county.town_a_gov)
    return Terminal(county, item, kiosk, clerk)


def png() -> bytes:
    """A small real image, as the terminal's scanner sends."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def apply(client: Client, item: ServiceItem, token: str) -> Application:
    answer = client.post(
        reverse("onewindow:kiosk_item", args=[item.code]),
        {
            "form_token": token,
            "applicant_name": "王秀英",
            "applicant_id_number": ID_NUMBER,
            "applicant_phone": PHONE,
            "q0": "no",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:500]
    return Application.objects.get(number=answer["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_kiosk_account_takes_a_number_applies_prints_and_looks_up(terminal):
    kiosk = signed_in(terminal.kiosk)
    home = kiosk.get("/")
    assert home.status_code == 302 and home["Location"] == reverse("onewindow:kiosk")
    start = kiosk.get(reverse("onewindow:kiosk")).content.decode()
    assert terminal.item.name in start and "窗口取号" in start
    # the navigation offers the terminal and nothing else
    assert "自助服务" in start and "工作台" not in start and "消息" not in start

    ticket = kiosk.post(reverse("onewindow:kiosk_ticket"), {"theme": "social_security", "phone": ""})
    assert ticket.status_code == 200 and "A001" in ticket.content.decode()
    assert QueueTicket.objects.get().hall == terminal.county.county  # the kiosk's own hall

    app = apply(kiosk, terminal.item, "k-1")
    assert app.channel == "kiosk" and app.created_by == terminal.kiosk
    page = kiosk.get(reverse("onewindow:kiosk_application", args=[app.number]))
    assert page.status_code == 200 and "待扫描" in page.content.decode()

    told = kiosk.post(reverse("onewindow:kiosk_complete", args=[app.number]))
    assert reverse("onewindow:notice_page", args=[app.number]) in told["Location"]
    assert kiosk.get(told["Location"]).status_code == 200
    assert kiosk.get(reverse("onewindow:missing_notice", args=[app.number])).status_code == 200

    scanned = kiosk.post(
        reverse("onewindow:kiosk_upload", args=[app.number]),
        {"key": "申请人居民身份证", "file": SimpleUploadedFile("scan.png", png(), "image/png")},
    )
    assert scanned.status_code == 302
    done = kiosk.post(reverse("onewindow:kiosk_complete", args=[app.number]))
    assert reverse("onewindow:receipt_page", args=[app.number]) in done["Location"]
    receipt = kiosk.get(done["Location"])
    assert receipt.status_code == 200 and app.number in receipt.content.decode()
    app.refresh_from_db()
    assert app.status == S.ACCEPTED and app.accepted_at is not None

    status = kiosk.get(reverse("onewindow:status"), {"n": app.number, "phone": PHONE, "kiosk": "1"})
    assert status.status_code == 200 and terminal.item.name in status.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/services/window/",
        "/services/window/intake/",
        "/services/window/stats/",
        "/services/backoffice/",
        "/services/assisted/",
        "/services/",
        "/services/my/",
        "/cases/",
        "/cases/report/",
        "/cases/intake/",
        "/messages/",
        "/org/",
        "/duties/",
        "/grids/",
        "/audit/",
        "/cockpit/",
        "/emergency/",
        "/admin/",
        "/admin/core/staff/",
        "/no-such-page/",
    ],
)
def test_kiosk_account_gets_403_on_every_other_page(terminal, path):
    answer = signed_in(terminal.kiosk).get(path)
    assert answer.status_code == 403, (path, answer.status_code)
    assert "自助终端账号只能使用自助服务页面" in answer.content.decode()


def test_kiosk_account_cannot_post_clerk_actions_or_use_the_api(terminal):
    kiosk = signed_in(terminal.kiosk)
    taken = kiosk.post(reverse("onewindow:ticket_take"), {"hall": terminal.county.county.code})
    assert taken.status_code == 403
    assert kiosk.post("/elder/", {"on": "1", "next": "/services/kiosk/"}).status_code == 302  # allowed
    for path in ["/api/v1/core/me", "/api/v1/cases/", "/api/v1/notify/messages"]:
        answer = kiosk.get(path)
        assert answer.status_code == 403, path
        assert answer.json()["code"] == "kiosk_only"
    assert QueueTicket.objects.count() == 0


def test_kiosk_sees_only_what_it_took_itself_in_the_last_hour(terminal):
    clerk, kiosk = signed_in(terminal.clerk), signed_in(terminal.kiosk)
    # The county's kiosk does not see what a clerk took at (another) kiosk…
    by_clerk = apply(clerk, terminal.item, "c-1")
    assert kiosk.get(reverse("onewindow:kiosk_application", args=[by_clerk.number])).status_code == 404
    assert kiosk.get(reverse("onewindow:notice_page", args=[by_clerk.number])).status_code == 404
    # …nor its own applications once an hour has passed (the next resident cannot page back).
    own = apply(kiosk, terminal.item, "k-2")
    assert kiosk.get(reverse("onewindow:kiosk_application", args=[own.number])).status_code == 200
    Application.objects.filter(pk=own.pk).update(created_at=own.created_at - dt.timedelta(minutes=61))
    assert kiosk.get(reverse("onewindow:kiosk_application", args=[own.number])).status_code == 404
    refused = kiosk.post(reverse("onewindow:kiosk_complete", args=[own.number]))
    assert refused.status_code == 404
    own.refresh_from_db()
    assert own.status == S.DRAFT


def test_clerk_keeps_the_window_and_the_kiosk(terminal):
    clerk = signed_in(terminal.clerk)
    for name in ["onewindow:kiosk", "onewindow:kiosk_ticket", "onewindow:window", "onewindow:intake"]:
        assert clerk.get(reverse(name)).status_code == 200, name
    home = clerk.get("/")
    assert home.status_code == 200 and "窗口受理" in home.content.decode()
    app = apply(clerk, terminal.item, "c-2")
    assert clerk.get(reverse("onewindow:application", args=[app.number])).status_code == 200


def test_kiosk_account_gets_no_api_token(terminal):
    with pytest.raises(ServiceError) as refused:
        token_create(actor=None, user=terminal.kiosk, name="终端")
    assert refused.value.code == "kiosk_no_token"
    # A token issued before the account became a kiosk stops working.
    _, plain = token_create(actor=None, user=terminal.clerk, name="旧令牌")
    assert token_authenticate(plain=plain) == terminal.clerk
    StaffRole.objects.create(staff=Staff.objects.get(user=terminal.clerk), role="kiosk")
    assert token_authenticate(plain=plain) is None


def test_demo_kiosk_account_signs_in_to_the_kiosk(county):
    others = [a for a in demo.ACCOUNTS if a[0] != "kiosk"]
    for username, *_ in others:  # the other demo accounts exist; only the kiosk is made here
        make_user(username=username, region=county.county, roles=["auditor"])
    demo._accounts(io.StringIO())
    user = get_user_model().objects.get(username="kiosk")
    staff = Staff.objects.get(user=user)
    assert staff.region == county.county and list(staff.roles.values_list("role", flat=True)) == ["kiosk"]
    assert demo.DEMO_PASSWORD == "shanzhi-demo"
    client = Client()
    signed = client.post("/login/", {"username": "kiosk", "password": demo.DEMO_PASSWORD}, follow=True)
    assert signed.redirect_chain[-1][0] == reverse("onewindow:kiosk")  # its home is the terminal
    assert signed.status_code == 200 and "自助服务终端" in signed.content.decode()


# --- in the browser: the terminal at 1080×1920, signed in as the kiosk ------------------------------


def tap_digits(page: Any, keypad: str, digits: str) -> None:
    pad = page.get_by_role("group", name=f"{keypad}数字键盘")
    for digit in digits:
        pad.locator(f"button[data-key='{digit}']").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_kiosk_terminal_in_portrait_signed_in_as_kiosk(live_server, terminal):
    from shanzhi.conftest import PASSWORD
    from shanzhi.web.elder import COOKIE
    from shanzhi.web.tests.browser import chromium
    from shanzhi.web.tests.test_a11y import AXE, AXE_RUN

    base = live_server.url
    with chromium() as browser:
        for elder in (False, True):
            context = browser.new_context(locale="zh-CN", viewport={"width": 1080, "height": 1920})
            if elder:
                context.add_cookies([{"name": COOKIE, "value": "1", "url": base}])
            page = context.new_page()
            page.goto(f"{base}/login/")
            page.get_by_label("用户名").fill("t-kiosk")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(f"{base}/services/kiosk/")  # the kiosk's home is the terminal
            where = f"elder={elder}"
            for url in ["/services/kiosk/", "/services/kiosk/ticket/", "/services/status/?kiosk=1"]:
                page.goto(base + url, wait_until="load")
                assert page.evaluate("document.scrollingElement.scrollWidth") <= 1080, (url, where)
                page.add_script_tag(path=str(AXE))
                assert page.evaluate(AXE_RUN) == [], (url, where)
            # Anything else answers 403, in the browser too.
            answer = page.goto(f"{base}/services/window/")
            assert answer is not None and answer.status == 403
            page.get_by_role("link", name="返回自助服务首页").click()
            page.wait_for_url(f"{base}/services/kiosk/")

            # 取号 by touch: the keypad fills the phone, a theme button takes the number.
            page.get_by_role("link", name="窗口取号").click()
            tap_digits(page, "手机号", PHONE)
            assert page.locator("#phone").input_value() == PHONE
            page.get_by_role("button", name="社会保障").click()
            number = page.locator(".ticket-big").inner_text()
            assert number.startswith("A"), number
            page.get_by_role("link", name="完成").click()
            page.wait_for_url(f"{base}/services/kiosk/")

            # Apply with the keypads, scan nothing, and get the one-time notice to print.
            page.get_by_role("link", name=terminal.item.name).click()
            page.get_by_label("姓名").fill("王秀英")
            tap_digits(page, "身份证号", ID_NUMBER)
            tap_digits(page, "手机号", PHONE)
            page.get_by_role("group", name="委托他人代为办理?").get_by_label("否").check()
            page.get_by_role("button", name="下一步:扫描材料").click()
            page.wait_for_url("**/services/kiosk/applications/**")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 1080
            page.get_by_role("button", name="完成并打印告知书").click()
            page.wait_for_url("**/notice/?kiosk=1")
            assert "一次性告知书" in page.content()
            page.get_by_role("link", name="返回首页").click()
            page.wait_for_url(f"{base}/services/kiosk/")
            context.close()
    assert Application.objects.filter(created_by=terminal.kiosk, status=S.NOT_ACCEPTED).count() == 2
