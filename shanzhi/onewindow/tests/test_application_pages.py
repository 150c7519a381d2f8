"""The application pages through Django's test client: who sees what, forms that refuse bad input
without writing, a second submit of the same form, files behind a permission check."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shanzhi.onewindow import applications as svc
from shanzhi.onewindow import queue
from shanzhi.onewindow.models_applications import Application, HomeVisit, ProxyConsent
from shanzhi.onewindow.models_applications import ApplicationStatus as S
from shanzhi.onewindow.models_queue import QueueTicket
from shanzhi.onewindow.tests.window_setup import ID_A, PHONE_A, accepted, pdf_bytes, pension_draft, png_bytes


def _apply_form(token: str = "t-1", **overrides) -> dict:
    values = {
        "form_token": token,
        "applicant_name": "王秀英",
        "applicant_id_number": ID_A,
        "applicant_phone": PHONE_A,
        "q0": "no",
    }
    values.update(overrides)
    return values


def test_resident_applies_online_and_a_double_submit_makes_one_application(client, people, catalog):
    item = catalog["resident_pension"]
    client.force_login(people.resident)
    page = client.get(reverse("onewindow:item", args=[item.code]))
    assert "在线申请" in page.content.decode()
    url = reverse("onewindow:apply", args=[item.code])
    form = client.get(url)
    assert form.status_code == 200 and "委托他人代为办理" in form.content.decode()
    first = client.post(url, _apply_form())
    second = client.post(url, _apply_form())
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]
    assert Application.objects.count() == 1
    app = Application.objects.get()
    detail = client.get(first["Location"]).content.decode()
    assert "还缺 1 项" in detail and "上传申请人居民身份证" in detail
    upload = client.post(
        reverse("onewindow:upload", args=[app.number]),
        {"key": "申请人居民身份证", "file": SimpleUploadedFile("id.pdf", pdf_bytes(), "application/pdf")},
    )
    assert upload.status_code == 302
    submit = client.post(reverse("onewindow:act", args=[app.number, "submit"]), {"form_token": "s-1"})
    assert submit.status_code == 302
    again = client.post(reverse("onewindow:act", args=[app.number, "submit"]), {"form_token": "s-1"})
    assert again.status_code == 302
    app.refresh_from_db()
    assert app.status == S.SUBMITTED and app.events.filter(action="submit").count() == 1
    assert "已提交" in client.get(reverse("onewindow:application", args=[app.number])).content.decode()
    assert client.get(reverse("onewindow:mine")).content.decode().count(app.number) >= 1


def test_bad_input_is_shown_on_the_form_and_nothing_is_written(client, people, catalog):
    client.force_login(people.resident)
    url = reverse("onewindow:apply", args=[catalog["resident_pension"].code])
    bad = client.post(url, _apply_form(applicant_id_number="331125198001011230"))
    assert bad.status_code == 422 and "校验码不正确" in bad.content.decode()
    assert 'aria-invalid="true"' in bad.content.decode()
    unanswered = client.post(url, _apply_form(token="t-2", q0=""))
    assert unanswered.status_code == 422 and "请回答以下情形" in unanswered.content.decode()
    assert Application.objects.count() == 0
    # A wrong file type is refused by its content, whatever its name says.
    app = pension_draft(people, catalog, actor=people.clerk_a)
    client.force_login(people.clerk_a)
    client.post(
        reverse("onewindow:upload", args=[app.number]),
        {
            "key": "申请人居民身份证",
            "file": SimpleUploadedFile("id.pdf", b"<html>hello</html>", "application/pdf"),
        },
    )
    page = client.get(reverse("onewindow:application", args=[app.number])).content.decode()
    assert "不是 PDF、JPEG、PNG 或 WebP 文件" in page and app.files.count() == 0


def test_clerk_intake_notice_and_receipt_pages(client, people, catalog):
    client.force_login(people.clerk_a)
    search = client.get(reverse("onewindow:intake"), {"q": "养老"}).content.decode()
    assert "城乡居民基本养老保险参保登记" in search
    item = catalog["resident_pension"]
    created = client.post(
        f"{reverse('onewindow:intake')}?item={item.code}", _apply_form(item=item.code, q0="yes")
    )
    assert created.status_code == 302
    app = Application.objects.get()
    assert app.channel == "window" and app.region.code == "331199101000"
    notice = client.post(
        reverse("onewindow:act", args=[app.number, "not_accept"]), {"form_token": "n-1", "print": "1"}
    )
    assert notice["Location"] == reverse("onewindow:notice_page", args=[app.number])
    text = client.get(notice["Location"]).content.decode()
    assert (
        "一次性告知书" in text
        and "申请人居民身份证" in text
        and "授权委托书" in text
        and "window.print()" in text
    )
    pdf = client.get(reverse("onewindow:missing_notice", args=[app.number]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    for key in ("申请人居民身份证", "授权委托书"):
        client.post(reverse("onewindow:paper", args=[app.number]), {"key": key, "received": "1"})
    client.post(reverse("onewindow:act", args=[app.number, "accept"]), {"form_token": "a-1"})
    app.refresh_from_db()
    assert app.status == S.ACCEPTED
    receipt = client.get(reverse("onewindow:receipt_page", args=[app.number])).content.decode()
    assert app.number in receipt and "<svg" in receipt and "受理回执" in receipt
    assert ID_A not in receipt  # masked on the paper
    assert client.get(reverse("onewindow:receipt", args=[app.number])).content.startswith(b"%PDF-")
    # Township B's clerk gets the 404 page for the application, its papers and its files.
    client.force_login(people.clerk_b)
    for name in ("application", "receipt_page", "receipt"):
        assert client.get(reverse(f"onewindow:{name}", args=[app.number])).status_code == 404


def test_files_are_served_only_to_those_who_may_see_the_application(client, people, catalog):
    app = pension_draft(people, catalog)
    upload = svc.application_upload(
        actor=people.clerk_a,
        application=app,
        key="申请人居民身份证",
        name="id.png",
        checked=svc.materials.check_upload(name="id.png", content=png_bytes()),
    )
    url = reverse("onewindow:application_file", args=[app.number, upload.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(people.clerk_b)
    assert client.get(url).status_code == 404
    client.force_login(people.clerk_a)
    served = client.get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content) == png_bytes()
    assert served["X-Content-Type-Options"] == "nosniff" and "no-store" in served["Cache-Control"]


def test_window_queue_page_calls_and_finishes(client, people, county):
    window = queue.window_create(actor=None, hall=county.town_a, code="1", name="综合窗口", themes=[])
    client.force_login(people.clerk_a)
    client.post(reverse("onewindow:ticket_take"), {"hall": county.town_a.code, "w": window.pk})
    page = client.get(reverse("onewindow:window")).content.decode()
    assert "A001" in page and "叫下一个号" in page
    client.post(reverse("onewindow:window_call", args=[window.pk]))
    ticket = QueueTicket.objects.get()
    assert (
        ticket.status == "called" and "开始办理" in client.get(reverse("onewindow:window")).content.decode()
    )
    client.post(reverse("onewindow:ticket_act", args=[ticket.pk, "start"]))
    client.post(reverse("onewindow:ticket_act", args=[ticket.pk, "finish"]))
    ticket.refresh_from_db()
    assert ticket.status == "done"
    stats = client.get(reverse("onewindow:queue_stats")).content.decode()
    assert "平均等候" in stats and "45 分钟" in stats
    client.force_login(people.clerk_b)
    assert client.post(reverse("onewindow:window_call", args=[window.pk])).status_code == 404


def test_back_office_and_overdue_pages(client, people, catalog):
    app = accepted(people, catalog)
    client.force_login(people.approver)
    page = client.get(reverse("onewindow:back_office")).content.decode()
    assert app.number in page
    client.force_login(people.approver_police)
    assert app.number not in client.get(reverse("onewindow:back_office")).content.decode()
    client.force_login(people.supervisor)
    assert app.number not in client.get(reverse("onewindow:overdue")).content.decode()
    assert app.accepted_at is not None
    Application.objects.filter(pk=app.pk).update(deadline=app.accepted_at - dt.timedelta(hours=1))
    assert app.number in client.get(reverse("onewindow:overdue")).content.decode()
    client.force_login(people.resident)
    assert client.get(reverse("onewindow:overdue")).status_code == 403


def test_kiosk_flow_prints_the_notice_or_the_receipt(client, people, catalog):
    item = catalog["resident_pension"]
    item.channels = ["window", "online", "kiosk"]
    item.save(update_fields=["channels"])
    client.force_login(people.clerk_a)
    home = client.get(reverse("onewindow:kiosk")).content.decode()
    assert item.name in home and "窗口取号" in home
    form = client.get(reverse("onewindow:kiosk_item", args=[item.code])).content.decode()
    assert "身份证号数字键盘" in form
    created = client.post(reverse("onewindow:kiosk_item", args=[item.code]), _apply_form(token="k-1"))
    app = Application.objects.get()
    assert (
        created["Location"] == reverse("onewindow:kiosk_application", args=[app.number])
        and app.channel == "kiosk"
    )
    done = client.post(reverse("onewindow:kiosk_complete", args=[app.number]))
    assert reverse("onewindow:notice_page", args=[app.number]) in done["Location"]
    client.post(
        reverse("onewindow:kiosk_upload", args=[app.number]),
        {"key": "申请人居民身份证", "file": SimpleUploadedFile("scan.png", png_bytes(), "image/png")},
    )
    done = client.post(reverse("onewindow:kiosk_complete", args=[app.number]))
    assert reverse("onewindow:receipt_page", args=[app.number]) in done["Location"]
    app.refresh_from_db()
    assert app.status == S.ACCEPTED
    ticket = client.post(reverse("onewindow:kiosk_ticket"), {"theme": "social_security", "phone": ""})
    assert "A001" in ticket.content.decode()


def test_assisted_application_records_consent_and_home_visits(client, people, catalog, county):
    client.force_login(people.gridworker)
    item = catalog["resident_pension"]
    item.channels = ["window", "assisted"]
    item.save(update_fields=["channels"])
    url = f"{reverse('onewindow:assisted')}?item={item.code}"
    missing = client.post(url, _apply_form(token="as-1", item=item.code, reason="elderly", method="verbal"))
    assert missing.status_code == 422 and "口头同意须有见证人" in missing.content.decode()
    assert Application.objects.count() == 0
    ok = client.post(
        url,
        _apply_form(
            token="as-2",
            item=item.code,
            reason="elderly",
            consenter_name="王秀英",
            relation="本人",
            method="verbal",
            witness="村委会主任 李明",
            region=county.village_a1.code,
        ),
    )
    assert ok.status_code == 302
    consent = ProxyConsent.objects.get()
    assert consent.application.channel == "assisted" and consent.witness == "村委会主任 李明"
    assert consent.recorded_by == people.gridworker and consent.application.region == county.village_a1
    from shanzhi.core.models import Staff

    visit = client.post(
        reverse("onewindow:visits"),
        {
            "resident_name": "张大爷",
            "resident_phone": "13700001234",
            "region": county.village_a1.code,
            "address": "上溪村 12 号",
            "reason": "disabled",
            "visit_date": (dt.date.today() + dt.timedelta(days=2)).isoformat(),
            "staff": Staff.objects.get(user=people.gridworker).pk,
        },
    )
    assert visit.status_code == 302
    booked = HomeVisit.objects.get()
    assert booked.staff.user == people.gridworker
    client.post(reverse("onewindow:visit_done", args=[booked.pk]))
    booked.refresh_from_db()
    assert booked.status == "done"


def test_public_status_lookup_and_rating(client, people, catalog):
    app = accepted(people, catalog)
    svc.application_start_review(actor=people.approver, application=app)
    svc.application_approve(actor=people.approver, application=app)
    url = reverse("onewindow:status")
    assert client.get(url, {"n": app.number}).status_code == 200  # from the QR code: asks for the phone
    wrong = client.get(url, {"n": app.number, "phone": "13900000000"})
    assert wrong.status_code == 404 and "没有找到该办件" in wrong.content.decode()
    found = client.get(url, {"n": app.number, "phone": PHONE_A}).content.decode()
    assert "已批准" in found and "评价本次服务" in found and "王**" in found
    rated = client.post(url, {"n": app.number, "phone": PHONE_A, "level": "satisfied"})
    assert "感谢您的评价" in rated.content.decode()
    app.refresh_from_db()
    assert app.satisfaction == "satisfied"
