"""Excel exports: every panel and list opens with openpyxl, carries its filters, and holds the
panel's numbers (counts as numbers, rates as percentages)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shanzhi.cockpit import excel, panels
from shanzhi.cockpit.filters import filter_parse
from shanzhi.cockpit.tests.test_pages import Data, build
from shanzhi.cockpit.views import CASE_COLUMNS, DRILL_TITLES, PANEL_TITLES


@pytest.fixture
def data(county: Any) -> Data:
    return build(county)


def workbook(response: Any) -> Any:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == excel.XLSX
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def header_row(ws: Any) -> int:
    """The row after the blank line that ends the title, time and filter lines."""
    for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if all(v is None for v in values):
            return i + 1
    raise AssertionError("no header row")


def table(ws: Any) -> tuple[list[str], list[list[Any]], list[list[Any]]]:
    """(headers, values, cells) of the sheet's table."""
    first = header_row(ws)
    rows = list(ws.iter_rows(min_row=first))
    headers = [c.value for c in rows[0]]
    return headers, [[c.value for c in r] for r in rows[1:]], [list(r) for r in rows[1:]]


def cells_of(ws: Any) -> list[list[Any]]:
    return table(ws)[2]


def panel_for(user: Any, name: str, **params: str) -> dict[str, Any]:
    f = filter_parse(user=user, params=params, today=timezone.localdate())
    now = timezone.now()
    if name == "kpis":
        return panels.kpis(user=user, f=f, now=now)
    fn = panels.PANELS[name]
    return fn(user=user, f=f, now=now) if name in panels.NEEDS_NOW else fn(user=user, f=f)


def check_rows(ws: Any, rows: list[dict[str, Any]]) -> None:
    headers, values, cells = table(ws)
    assert len(values) == len(rows)
    for panel_row, sheet_row, cell_row in zip(rows, values, cells, strict=True):
        flat = excel._flat(panel_row)
        for key, value in flat.items():
            column = headers.index(excel.label(key))
            value = excel.WORDS.get(key, {}).get(value, value)  # codes shown as words
            expected = pytest.approx(value) if isinstance(value, float) else value
            assert sheet_row[column] == expected, (key, value, sheet_row[column])
            if excel.kind_of(key) == "rate" and isinstance(value, (int, float)):
                assert cell_row[column].number_format == "0.0%"


def test_every_panel_export_matches_the_panel(client, data):
    client.force_login(data.leader)
    for name in PANEL_TITLES:
        if name != "kpis" and name not in panels.PANELS:
            continue
        wb = workbook(client.get(reverse("cockpit:export", args=[name]), {"channel": "hotline"}))
        ws = wb.worksheets[0]
        # Title, then the filters it was computed under.
        assert ws["A1"].value == PANEL_TITLES[name]
        lines = {r[0]: r[1] for r in ws.iter_rows(min_row=2, max_row=6, values_only=True) if r and r[0]}
        assert "时间范围" in lines and lines.get("渠道") == "12345 热线"
        panel = panel_for(data.leader, name, channel="hotline")
        if name == "kpis":
            headers, values, cells = table(ws)
            assert headers[:2] == ["指标", "数值"]
            by_label = {v[0]: (v[1], c[1]) for v, c in zip(values, cells, strict=True)}
            for key, value in panel.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    got, cell = by_label[excel.label(key)]
                    assert got == value
                    if excel.kind_of(key) == "rate":
                        assert cell.number_format == "0.0%"
            continue
        for axis in ("days", "months"):
            if isinstance(panel.get(axis), list) and panel[axis]:
                headers, values, _ = table(ws)
                assert [str(v[0]) for v in values] == [str(d) for d in panel[axis]]
                for key, column_values in panel.items():
                    parallel = (
                        isinstance(column_values, list) and key != axis and len(column_values) == len(values)
                    )
                    if parallel and all(not isinstance(v, (dict, list)) for v in column_values):
                        column = headers.index(excel.label(key))
                        assert [v[column] for v in values] == column_values
                for s in panel.get("series") or []:
                    for part, suffix, _kind in excel.SERIES_PARTS:
                        if isinstance(s.get(part), list):
                            column = headers.index(str(s.get("group")) + suffix)
                            assert [v[column] for v in values] == s[part]
        for key in ("rows", "grids"):
            if isinstance(panel.get(key), list) and panel[key]:
                sheet = next(w for w in wb.worksheets if w.title.startswith(PANEL_TITLES[name][:20]))
                check_rows(sheet, panel[key])


def test_drill_list_export(client, data):
    client.force_login(data.leader)
    response = client.get(reverse("cockpit:drill", args=["intake"]), {"format": "xlsx"})
    ws = workbook(response).worksheets[0]
    assert ws["A1"].value == DRILL_TITLES["intake"]
    headers, values, _ = table(ws)
    assert headers == [c[1] for c in CASE_COLUMNS]
    numbers = {v[0] for v in values}
    expected = {c.number for c in data.cases_a + data.cases_b}
    kpis = panel_for(data.leader, "kpis")
    if "intake" in kpis:
        assert len(values) == kpis["intake"]
    assert numbers <= expected
    received = values[0][headers.index("受理时间")]
    assert received is not None and not isinstance(received, str)  # a real date cell
    assert any(v[headers.index("来源渠道")] == "12345 热线" for v in values)


def test_township_leader_exports_only_their_township(client, data):
    client.force_login(data.leader_a)
    ws = workbook(client.get(reverse("cockpit:drill", args=["intake"]), {"format": "xlsx"})).worksheets[0]
    _, values, _ = table(ws)
    numbers = {v[0] for v in values}
    assert not numbers & {c.number for c in data.cases_b}


def test_long_lists_stop_at_the_limit_and_say_so(client, data, monkeypatch):
    monkeypatch.setattr(excel, "LIST_LIMIT", 2)
    client.force_login(data.leader)
    response = client.get(reverse("cockpit:drill", args=["intake"]), {"format": "xlsx"})
    assert response["X-Export-Truncated"] == "2"
    ws = workbook(response).worksheets[0]
    notes = [r[0] for r in ws.iter_rows(max_row=8, values_only=True) if r and isinstance(r[0], str)]
    assert any("超过单次导出上限" in n and "只含前 2 条" in n for n in notes)
    _, values, _ = table(ws)
    assert len(values) == 2


def test_panel_sheets_from_known_dicts(tmp_path):
    """The writer on its own: series pivot, row tables with rates, the figures sheet."""
    export = excel.Export(
        title="测试",
        filters=[("时间范围", "2025-01-01 至 2025-01-31")],
        sheets=excel.panel_sheets(
            "每日",
            {
                "days": ["2025-01-01", "2025-01-02"],
                "totals": [4, 4],
                "series": [
                    {"group": "市容环卫", "values": [3, 4]},
                    {"group": "噪声扰民", "shares": [0.25, 0.0]},
                ],
            },
        )
        + excel.panel_sheets(
            "排名",
            {"rows": [{"code": "a", "name": "甲", "dispatched": 10, "on_time_rate": 0.75}], "total": 10},
        ),
    )
    path = tmp_path / "x.xlsx"
    excel.write(export, str(path))
    wb = load_workbook(path)
    headers, values, _ = table(wb.worksheets[0])
    assert headers == ["日期", "合计", "市容环卫", "噪声扰民占比"]
    assert values == [["2025-01-01", 4, 3, 0.25], ["2025-01-02", 4, 4, 0.0]]
    assert cells_of(wb.worksheets[0])[0][3].number_format == "0.0%"
    headers, values, cells = table(wb.worksheets[1])
    assert headers == ["代码", "名称", "派遣数", "按期结案率"]
    assert values == [["a", "甲", 10, 0.75]] and cells[0][3].number_format == "0.0%"
    headers, values, _ = table(wb.worksheets[2])
    assert values == [["合计", 10]]


def test_repeat_export_names_the_kind_of_place(client, loop):
    """Repeat complaints in Excel: every row, with 网格 / 村(社区) instead of the API's codes."""
    import datetime as dt

    from django.utils import timezone

    from shanzhi.cockpit.filters import CockpitFilter
    from shanzhi.cockpit.tests.test_panels import add_grids, bulk_history

    bulk_history(loop, n=40)
    add_grids(loop)
    start = timezone.localdate() - dt.timedelta(days=59)
    client.force_login(loop.dispatcher)
    wb = workbook(
        client.get(reverse("cockpit:export", args=["repeat_complaints"]), {"start": start.isoformat()})
    )
    headers, values, _ = table(wb.worksheets[0])
    kinds = [v[headers.index("地点类型")] for v in values]
    panel = panels.repeat_complaints(
        user=loop.dispatcher, f=CockpitFilter(start=start, end=timezone.localdate())
    )
    assert len(values) == panel["total"] == len(panel["rows"])
    assert set(kinds) == {"网格", "村(社区)"}  # the planted repeats: one in a grid, one in a village
