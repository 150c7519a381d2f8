"""Pages: jurisdiction on every URL, confirmations, CSRF, import errors shown, compare highlighted."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from shanzhi.audit.models import AuditEntry
from shanzhi.duties.models import DutyList
from shanzhi.duties.services import duty_list_create, duty_list_revise, duty_remove

from .conftest import THIS_YEAR, duty
from .test_excel import sheet, town_row, xlsx


@pytest.fixture
def page_a(client, user_a):
    client.force_login(user_a)
    return client


def test_list_page_shows_jurisdiction_only(page_a, town_list, village_list, town_b_list):
    resp = page_a.get(reverse("duties:list"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "<h1>权责清单</h1>" in html and "青石镇" in html and "上溪村" in html
    assert "白沙镇" not in html
    assert 'action="/duties/new/"' in html  # a leader may start a list
    assert "白沙镇" not in page_a.get(reverse("duties:list") + "?status=published").content.decode()


def test_anonymous_is_sent_to_login(client, town_list):
    resp = client.get(reverse("duties:detail", args=[town_list.pk]))
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_detail_page(page_a, town_list):
    html = page_a.get(reverse("duties:detail", args=[town_list.pk])).content.decode()
    assert "XZCF-001" in html and "对违法建设的日常巡查" in html and "行政检查" in html
    assert "发起年度修订" in html and "导出 Excel" in html
    assert "发布…" not in html  # already published


def test_reader_sees_no_edit_buttons_and_gets_403(client, handler_a, county):
    draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1)])
    client.force_login(handler_a)
    html = client.get(reverse("duties:detail", args=[draft.pk])).content.decode()
    assert "XZCF-001" in html and "发布…" not in html and "添加事项" not in html
    assert 'action="/duties/new/"' not in client.get(reverse("duties:list")).content.decode()
    for name in ("publish", "import", "delete", "revise"):
        assert client.get(reverse(f"duties:{name}", args=[draft.pk])).status_code == 403
        assert (
            client.post(reverse(f"duties:{name}", args=[draft.pk]), {"year": THIS_YEAR + 1}).status_code
            == 403
        )
    assert client.post(reverse("duties:item_add", args=[draft.pk]), {"code": "X-1"}).status_code == 403
    assert client.post(reverse("duties:item_remove", args=[draft.pk, "XZCF-001"])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.duties.count() == 1


def test_other_township_gets_404_on_every_url(client, user_b, county, town_list):
    draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR + 1, items=[duty(1)])
    client.force_login(user_b)
    before = (AuditEntry.objects.count(), DutyList.objects.count())
    pk, d = town_list.pk, draft.pk
    gets = [
        reverse("duties:detail", args=[pk]),
        reverse("duties:export", args=[pk]),
        reverse("duties:compare") + f"?old={pk}&new={d}",
        reverse("duties:import", args=[d]),
        reverse("duties:publish", args=[d]),
        reverse("duties:revise", args=[pk]),
        reverse("duties:delete", args=[d]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (reverse("duties:import", args=[d]), {"file": io.BytesIO(xlsx([town_row(1)]))}),
        (reverse("duties:publish", args=[d]), {}),
        (reverse("duties:revise", args=[pk]), {"year": THIS_YEAR + 2}),
        (reverse("duties:delete", args=[d]), {}),
        (reverse("duties:item_add", args=[d]), {"code": "XZCF-009", "name": "x"}),
        (reverse("duties:item_remove", args=[d, "XZCF-001"]), {}),
        (reverse("duties:create"), {"region": "331199101000", "year": THIS_YEAR + 3}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert (AuditEntry.objects.count(), DutyList.objects.count()) == before
    assert "青石镇" not in client.get(reverse("duties:list")).content.decode()


def test_create_add_remove_publish_flow(page_a, county):
    resp = page_a.post(reverse("duties:create"), {"region": "331199101201", "year": THIS_YEAR})
    dl = DutyList.objects.get(region=county.village_a1)
    assert resp.status_code == 302 and resp["Location"] == reverse("duties:detail", args=[dl.pk])
    html = page_a.get(resp["Location"]).content.decode()
    assert "添加事项" in html and 'for="i-assists"' in html
    item = {
        "code": "cxz-001",
        "name": "协助排查欠薪线索",
        "assists": "hrss",
        "basis": "《保障农民工工资支付条例》",
        "category_codes": "0901",
    }
    page_a.post(reverse("duties:item_add", args=[dl.pk]), item)
    page_a.post(reverse("duties:item_add", args=[dl.pk]), {**item, "code": "CXZ-002"})
    bad = page_a.post(
        reverse("duties:item_add", args=[dl.pk]),
        {**item, "code": "CXZ-003", "category_codes": "88"},
        follow=True,
    )
    assert "未知的诉求类别代码" in bad.content.decode()
    page_a.post(reverse("duties:item_remove", args=[dl.pk, "CXZ-002"]))
    assert list(dl.assist_items.values_list("code", "category_codes")) == [("CXZ-001", ["0901"])]
    confirm = page_a.get(reverse("duties:publish", args=[dl.pk])).content.decode()
    assert "确认发布" in confirm and "csrfmiddlewaretoken" in confirm
    resp = page_a.post(reverse("duties:publish", args=[dl.pk]), follow=True)
    dl.refresh_from_db()
    assert dl.status == "published" and "已发布" in resp.content.decode()


def test_revise_and_delete_pages(page_a, county, town_list):
    assert "修订年度" in page_a.get(reverse("duties:revise", args=[town_list.pk])).content.decode()
    resp = page_a.post(reverse("duties:revise", args=[town_list.pk]), {"year": THIS_YEAR + 1})
    draft = DutyList.objects.get(region=county.town_a, status="draft")
    assert resp["Location"] == reverse("duties:detail", args=[draft.pk])
    again = page_a.post(reverse("duties:revise", args=[town_list.pk]), {"year": THIS_YEAR + 1}, follow=True)
    assert "已有一份草稿" in again.content.decode()
    assert "确认删除" in page_a.get(reverse("duties:delete", args=[draft.pk])).content.decode()
    page_a.post(reverse("duties:delete", args=[draft.pk]))
    assert not DutyList.objects.filter(pk=draft.pk).exists()


def test_posts_need_csrf(user_a, county):
    draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1)])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_a)
    assert client.post(reverse("duties:publish", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_compare_page_highlights_changes(page_a, county, town_list):
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    duty_remove(actor=None, duty=draft.duties.get(code="XZCF-002"))
    page_a.post(
        reverse("duties:item_add", args=[draft.pk]),
        {
            "code": "XZCF-010",
            "name": "新增的事项",
            "type": "penalty",
            "legal_basis": "《法》",
            "lead_handler": "执法队",
        },
    )
    html = page_a.get(reverse("duties:compare") + f"?old={town_list.pk}&new={draft.pk}").content.decode()
    assert '<tr class="added">' in html and "新增的事项" in html
    assert '<tr class="removed">' in html and "对擅自占用城市道路摆摊设点的处罚" in html
    assert "新增 <strong>1</strong> 项" in html and "删除 <strong>1</strong> 项" in html
    assert page_a.get(reverse("duties:compare")).status_code == 404


def test_import_page_shows_row_errors_and_writes_nothing(page_a, county):
    draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1)])
    url = reverse("duties:import", args=[draft.pk])
    assert "事项编码 | 事项名称" in page_a.get(url).content.decode()
    bad = xlsx([town_row(1), town_row(2, type="行政审批")], title="青石镇")
    resp = page_a.post(url, {"file": io.BytesIO(bad)})
    html = resp.content.decode()
    assert resp.status_code == 400
    assert "导入文件有 1 处错误" in html
    assert "<td>青石镇</td><td>3</td><td>C</td><td>职权类型</td>" in html
    assert list(draft.duties.values_list("code", flat=True)) == ["XZCF-001"]
    assert "请选择要导入" in page_a.post(url, {}).content.decode()
    good = xlsx([town_row(5), town_row(6)])
    resp = page_a.post(url, {"file": io.BytesIO(good)})
    assert resp.status_code == 302
    assert list(draft.duties.values_list("code", flat=True)) == ["XZCF-005", "XZCF-006"]


def test_export_download(page_a, village_list):
    resp = page_a.get(reverse("duties:export", args=[village_list.pk]))
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    assert sheet(resp.content)["A2"].value == "CXZ-001"


def test_back_office_is_read_only(client, admin_user, town_list):
    client.force_login(admin_user)
    assert client.get("/admin/duties/dutylist/").status_code == 200
    page = client.get(f"/admin/duties/dutylist/{town_list.pk}/change/")
    assert page.status_code == 200 and "XZCF-001" in page.content.decode()
    assert client.get("/admin/duties/dutylist/add/").status_code == 403
