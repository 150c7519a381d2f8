"""Household pages: list/filters, detail, form, deactivate, import (errors or success), export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from shanzhi.audit.models import AuditEntry
from shanzhi.grid import household_excel as hx
from shanzhi.grid.models import Household
from shanzhi.grid.tests.households_setup import Homes, People
from shanzhi.grid.tests.mapped_setup import Mapped

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _snapshot() -> tuple[int, int]:
    return Household.objects.count(), AuditEntry.objects.count()


def test_list_filters_and_masking(people: People, homes: Homes) -> None:
    own = _client(people.gw_a1_01).get(reverse("grid:households")).content.decode()
    assert "13812345678" in own and homes.a1_02.code not in own
    lead = (
        _client(people.town_a_leader)
        .get(reverse("grid:households"), {"care": "elderly_alone"})
        .content.decode()
    )
    assert homes.a1_01_care.code in lead and homes.a1_01.code + "<" not in lead
    page = _client(people.town_a_leader).get(reverse("grid:households")).content.decode()
    assert "138****5678" in page and "13812345678" not in page and homes.b1_01.code not in page
    bad = _client(people.town_a_leader).get(reverse("grid:households"), {"care": "rich"})
    assert bad.status_code == 200 and "关爱类别不正确" in bad.content.decode()
    assert _client(people.town_a_handler).get(reverse("grid:households")).status_code == 403
    assert Client().get(reverse("grid:households")).status_code == 302


def test_detail_404_across_townships(people: People, homes: Homes) -> None:
    url = reverse("grid:household_detail", args=[homes.a1_01.code])
    assert _client(people.town_a_leader).get(url).status_code == 200
    assert _client(people.town_b_leader).get(url).status_code == 404
    assert _client(people.gw_a1_02).get(url).status_code == 404
    edit = reverse("grid:household_edit", args=[homes.a1_01.code])
    before = _snapshot()
    assert _client(people.town_b_leader).post(edit, {"address": "x"}).status_code == 404
    assert _snapshot() == before


def test_create_and_edit_through_the_form(mapped: Mapped, people: People) -> None:
    c = _client(people.gw_a1_01)
    form = {
        "head_name": "钱进",
        "address": "上溪村 40 号",
        "lon": "119.61",
        "lat": "28.40",
        "crs": "wgs84",
        "grid": "",
        "members": "2",
        "phone": "13600001111",
        "elderly_alone": "on",
        "note": "",
    }
    r = c.post(reverse("grid:household_new"), form)
    assert r.status_code == 302
    h = Household.objects.get(head_name="钱进")
    assert h.grid == mapped.a1_01 and h.elderly_alone and h.members == 2
    # A leader edits without seeing the number: a blank phone leaves it alone.
    lead = _client(people.village_a1_leader)
    page = lead.get(reverse("grid:household_edit", args=[h.code])).content.decode()
    assert "13600001111" not in page and "136****1111" in page
    form.update(phone="", members="3", grid=mapped.a1_01.code)
    assert lead.post(reverse("grid:household_edit", args=[h.code]), form).status_code == 302
    h.refresh_from_db()
    assert h.members == 3 and h.phone == "13600001111"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12"}, "手机号"),
        ({"lon": "东经"}, "经纬度必须是有限的数字"),
        ({"lon": "116.4", "lat": "39.9"}, "不在本县"),
        ({"members": "很多"}, "人口数"),
        ({"head_name": ""}, "户主姓名不能为空"),
        ({"grid": "331199101201-02"}, "不在网格"),
    ],
)
def test_form_errors_change_nothing(people: People, changes: dict[str, str], message: str) -> None:
    form = {
        "head_name": "钱进",
        "address": "上溪村 40 号",
        "lon": "119.61",
        "lat": "28.40",
        "crs": "wgs84",
        "grid": "",
        "members": "2",
        "phone": "",
    }
    form.update(changes)
    before = _snapshot()
    r = _client(people.gw_a1_01).post(reverse("grid:household_new"), form)
    assert r.status_code == 422 and message in r.content.decode()
    assert _snapshot() == before


def test_deactivate(people: People, homes: Homes) -> None:
    url = reverse("grid:household_deactivate", args=[homes.a1_01.code])
    assert _client(people.town_b_leader).post(url, {"reason": "x"}).status_code == 404
    assert _client(people.gw_a1_01).post(url, {"reason": "迁出"}).status_code == 302
    homes.a1_01.refresh_from_db()
    assert not homes.a1_01.active


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(hx.HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_page_shows_errors_or_success(mapped: Mapped, people: People) -> None:
    c = _client(people.gw_a1_01)
    url = reverse("grid:household_import")
    assert c.get(url).status_code == 200
    good = ["", "", "上溪村 50 号", "吴昊", 119.62, 28.41, 2, "13700002222", "", "", "", "", "", ""]
    bad = ["", "", "上溪村 51 号", "吴敏", 119.62, 28.41, 2, "123", "", "", "", "", "", ""]
    before = _snapshot()
    r = c.post(url, {"file": SimpleUploadedFile("h.xlsx", _xlsx([good, bad]))})
    page = r.content.decode()
    assert r.status_code == 422 and "错误明细" in page and "<td>3</td><td>H</td>" in page
    assert _snapshot() == before
    r = c.post(url, {"file": SimpleUploadedFile("h.xlsx", b"garbage")})
    assert r.status_code == 422 and "不是 Excel 文件" in r.content.decode()
    r = c.post(url, {})
    assert r.status_code == 422 and "请选择" in r.content.decode()
    r = c.post(url, {"file": SimpleUploadedFile("h.xlsx", _xlsx([good]))})
    assert r.status_code == 200 and "已导入 1 户" in r.content.decode()
    assert Household.objects.filter(head_name="吴昊", grid=mapped.a1_01).exists()


def test_export(people: People, homes: Homes) -> None:
    r = _client(people.town_a_leader).get(reverse("grid:household_export"), {"care": "any"})
    assert r.status_code == 200 and r["Content-Type"] == hx.XLSX_CONTENT_TYPE
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [homes.a1_01_care.code]
    r = _client(people.town_a_leader).get(reverse("grid:household_export"))
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 4 and all(row[7] in ("138****5678", None) for row in rows[1:])
