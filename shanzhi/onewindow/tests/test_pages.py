"""Resident pages: open without login, search with a theme filter, bundles with savings."""

from __future__ import annotations

from django.urls import reverse


def test_catalog_page_searches_and_filters(client, catalog, bundle):
    response = client.get(reverse("onewindow:catalog"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="q">要办什么事</label>' in html and '<label for="theme">按主题筛选</label>' in html
    assert "全部 6 个事项" in html and "测试一件事" in html
    html = client.get(reverse("onewindow:catalog"), {"q": "hk"}).content.decode()
    assert "找到 2 个事项" in html
    assert html.index("户口迁入(购房、投靠)") < html.index("出生登记(户口)")
    html = client.get(reverse("onewindow:catalog"), {"theme": "medical_insurance"}).content.decode()
    assert "找到 1 个事项" in html and "异地就医备案" in html and "出生登记" not in html
    assert '<option value="medical_insurance" selected>' in html


def test_catalog_page_pages(client, departments):
    from shanzhi.onewindow.services import service_item_create
    from shanzhi.onewindow.tests.window_setup import spec

    for n in range(1, 23):
        service_item_create(actor=None, spec=spec(n, f"事项{n:02d}"))
    html = client.get(reverse("onewindow:catalog")).content.decode()
    assert "第 1 / 2 页" in html and "下一页" in html and "上一页" not in html
    html = client.get(reverse("onewindow:catalog"), {"page": "2"}).content.decode()
    assert "事项21" in html and "事项01" not in html and "上一页" in html
    assert client.get(reverse("onewindow:catalog"), {"page": "x"}).status_code == 200


def test_catalog_page_bad_input_says_why(client, catalog):
    response = client.get(reverse("onewindow:catalog"), {"theme": "weather"})
    assert response.status_code == 422
    assert "未知的主题分类:weather" in response.content.decode()


def test_bundle_pages_show_the_savings_table(client, bundle):
    html = client.get(reverse("onewindow:bundles")).content.decode()
    assert "测试一件事" in html and "快 5 个工作日" in html
    response = client.get(reverse("onewindow:bundle", args=["test-bundle"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "一次办能省多少" in html
    row = html[html.index("承诺办结时间") :]
    row = row[: row.index("</tr>")]
    assert "10 个工作日" in row and "5 个工作日" in row and "50%" in row
    assert "同步办理" in html and "出生登记(户口)" in html
    assert "联系电话" in html  # merged form field
    assert client.get(reverse("onewindow:bundle", args=["nothing"])).status_code == 404
