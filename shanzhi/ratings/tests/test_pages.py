"""The 好差评 pages: the widget, the unit's rectification page, the supervisor's pages, the public form."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shanzhi.ratings.models import AppealStatus, CannotGetDoneReport, Rating, RectificationStatus
from shanzhi.ratings.services import cannot_get_done_report, rating_submit
from shanzhi.ratings.tests.ratings_setup import PHONE


def test_rating_widget(world, client):
    case = world.closed_case(reporter=world.resident)
    url = reverse("ratings:rate", args=["case", case.number])
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(world.resident_b)
    assert client.get(url).status_code == 404  # not their case
    client.force_login(world.resident)
    page = client.get(url).content.decode()
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert f"<span>{label}</span>" in page
    assert 'name="level" value="very_unsatisfied"' in page and '<label for="comment">' in page
    bad = client.post(url, {"level": "great", "comment": "保留我的意见"})
    assert bad.status_code == 400 and "评价等级应为" in bad.content.decode()
    assert "保留我的意见" in bad.content.decode() and not Rating.objects.exists()
    done = client.post(url, {"level": "unsatisfied", "comment": "还是有摊贩"}, follow=True)
    html = done.content.decode()
    assert "感谢您的评价" in html and "您已评价" in html and "正在整改" in html
    rating = Rating.objects.get()
    assert rating.channel == "web" and rating.level == "unsatisfied"
    again = client.post(url, {"level": "satisfied"})
    assert again.status_code == 400 and "只能评价一次" in again.content.decode()


def test_rectification_page_for_the_unit(world, client):
    case = world.closed_case(reporter=world.resident)
    rating = rating_submit(
        actor=world.resident, obj_type="case", obj_id=case.number, level="very_unsatisfied"
    )
    rect = rating.rectification
    url = reverse("ratings:rectification", args=[rect.pk])
    client.force_login(world.town_b_handler)
    assert client.get(url).status_code == 404
    assert client.get(reverse("ratings:rectifications")).status_code == 200
    client.force_login(world.urban_handler)
    listed = client.get(reverse("ratings:rectifications")).content.decode()
    assert rating.object_title in listed
    page = client.get(url).content.decode()
    assert PHONE in page and "登记回访" in page and "申诉" in page and "登记整改结果" not in page
    refused = client.post(
        reverse("ratings:rectification_act", args=[rect.pk, "callback"]), {"rater_said": ""}
    )
    assert refused.status_code == 400 and "请填写" in refused.content.decode()
    ok = client.post(
        reverse("ratings:rectification_act", args=[rect.pk, "callback"]),
        {"rater_said": "居民同意再观察一周", "called_at": ""},
    )
    assert ok.status_code == 302
    client.post(reverse("ratings:rectification_act", args=[rect.pk, "fix"]), {"result": "已增设巡查点"})
    rect.refresh_from_db()
    assert rect.status == RectificationStatus.FIXED and rect.result == "已增设巡查点"
    client.post(reverse("ratings:rectification_act", args=[rect.pk, "appeal"]), {"reason": "评价人非当事人"})
    assert rating.appeal.status == AppealStatus.PENDING
    assert client.post(reverse("ratings:rectification_act", args=[rect.pk, "nope"])).status_code == 404
    # the rater sees the result on the widget page
    client.force_login(world.resident)
    widget = client.get(reverse("ratings:rate", args=["case", case.number])).content.decode()
    assert "已增设巡查点" in widget


def test_supervisor_pages_and_404_for_others(world, client):
    case = world.closed_case(reporter=world.resident)
    rating = rating_submit(actor=world.resident, obj_type="case", obj_id=case.number, level="unsatisfied")
    from shanzhi.ratings.services import rating_appeal

    appeal = rating_appeal(actor=world.urban_handler, rating=rating, reason="恶意差评")
    cannot_get_done_report(
        actor=None, what="开证明被推来推去", phone=PHONE, region_code=world.county.town_a.code
    )
    supervisor_only = ["ratings:appeals", "ratings:rankings", "ratings:reports"]
    client.force_login(world.urban_handler)
    for name in supervisor_only:
        assert client.get(reverse(name)).status_code == 404, name
    client.force_login(world.supervisor)
    for name in ["ratings:list", "ratings:rectifications", *supervisor_only]:
        page = client.get(reverse(name))
        assert page.status_code == 200, name
    assert "开证明被推来推去" in client.get(reverse("ratings:reports")).content.decode()
    assert client.get(reverse("ratings:rankings") + "?month=2026-99").status_code == 400
    decided = client.post(reverse("ratings:appeal_decide", args=[appeal.pk]), {"uphold": "1", "note": "属实"})
    assert decided.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD
    report = CannotGetDoneReport.objects.get()
    client.post(reverse("ratings:report_act", args=[report.pk, "resolve"]), {"text": "已协调开具"})
    report.refresh_from_db()
    assert report.status == "resolved"
    client.force_login(world.supervisor_b)
    assert client.get(reverse("ratings:report", args=[report.pk])).status_code == 404


@pytest.mark.parametrize("signed_in", [False, True])
def test_public_report_form(world, signed_in):
    client = Client(enforce_csrf_checks=False)
    if signed_in:
        client.force_login(world.resident)
    url = reverse("ratings:report_form")
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "青石镇" in html and '<label for="phone">' in html
    bad = client.post(url, {"what": "想办事", "phone": "123" if not signed_in else "456"})
    assert bad.status_code == 400 and "手机号" in bad.content.decode() and "想办事" in bad.content.decode()
    assert not CannotGetDoneReport.objects.exists()
    done = client.post(
        url,
        {"what": "想办残疾证,窗口说要去县里", "phone": "13905781234", "region": world.county.town_a.code},
        follow=True,
    )
    report = CannotGetDoneReport.objects.get()
    assert report.number in done.content.decode()
    assert report.reporter == (world.resident if signed_in else None)
