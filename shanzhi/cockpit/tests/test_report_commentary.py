"""The monthly commentary from a constructed month whose rises and falls are known."""

from __future__ import annotations

from shanzhi.cockpit import commentary
from shanzhi.cockpit.report import month_figures


def shares(rows: list[tuple[str, str, str, int]]) -> dict:
    total = sum(r[3] for r in rows)
    return {
        "total": total,
        "rows": [
            {"code": c, "name": n, "group": g, "count": k, "share": k / total if total else 0.0}
            for c, n, g, k in rows
        ],
    }


CURRENT = {
    "kpis": {"overdue": 7, "on_time_rate": 0.8125, "satisfaction_rate": 0.9},
    "category_shares": shares(
        [
            ("0101", "生活垃圾与暴露垃圾", "市容环卫", 40),
            ("0102", "占道经营与流动摊贩", "市容环卫", 20),
            ("0401", "建筑施工噪声", "噪声扰民", 30),
            ("0201", "物业服务", "物业住房", 10),
        ]
    ),
    "township_ranking": {
        "rows": [
            {"code": "331199101000", "name": "青石镇", "intake": 70},
            {"code": "331199102000", "name": "白沙镇", "intake": 30},
        ]
    },
    "hotspots": {
        "metric": "intake",
        "grids": [
            {
                "code": "G1",
                "name": "上溪一网格",
                "village": "上溪村",
                "township": "青石镇",
                "intake": 25,
                "overdue": 4,
            },
            {
                "code": "G2",
                "name": "沙湾二网格",
                "village": "沙湾村",
                "township": "白沙镇",
                "intake": 12,
                "overdue": 0,
            },
            {
                "code": "G3",
                "name": "青石三网格",
                "village": "青石社区",
                "township": "青石镇",
                "intake": 30,
                "overdue": 1,
            },
            {
                "code": "G4",
                "name": "空网格",
                "village": "沙湾村",
                "township": "白沙镇",
                "intake": 0,
                "overdue": 0,
            },
        ],
    },
    "handler_ranking": {
        "rows": [
            {"code": "urban_mgmt", "name": "县城管局", "dispatched": 50, "overdue": 5, "on_time_rate": 0.6},
            {"code": "police", "name": "县公安局", "dispatched": 20, "overdue": 2, "on_time_rate": 0.9},
            {"code": "tiny", "name": "小单位", "dispatched": 2, "overdue": 0, "on_time_rate": 0.0},
            {"code": "good", "name": "县水务局", "dispatched": 9, "overdue": 0, "on_time_rate": 1.0},
        ]
    },
    "repeat_complaints": {
        "rows": [
            {"place_name": "上溪一网格", "category_name": "生活垃圾与暴露垃圾", "count": 5},
            {"place_name": "沙湾村", "category_name": "建筑施工噪声", "count": 3},
        ]
    },
}
PREVIOUS = {
    "category_shares": shares(
        [
            ("0101", "生活垃圾与暴露垃圾", "市容环卫", 30),
            ("0401", "建筑施工噪声", "噪声扰民", 10),
            ("0201", "物业服务", "物业住房", 40),
        ]
    ),
    "township_ranking": {
        "rows": [
            {"code": "331199101000", "name": "青石镇", "intake": 50},
            {"code": "331199102000", "name": "白沙镇", "intake": 30},
        ]
    },
}


def text_of(sections: list[commentary.Section]) -> dict[str, str]:
    return {s.title: "".join(s.sentences) for s in sections}


def test_rises_falls_hotspots_late_handlers_and_repeats():
    figures = month_figures(label="2025年7月", current=CURRENT, previous=PREVIOUS)
    assert figures.total == 100 and figures.previous_total == 80
    assert figures.groups == {"市容环卫": 60, "噪声扰民": 30, "物业住房": 10}
    text = text_of(commentary.commentary(figures))

    assert "2025年7月共受理诉求 100 件,较上月增加 20 件(+25.0%)" in text["总体情况"]
    assert "按期结案率 81.2%" in text["总体情况"] and "7 件超期" in text["总体情况"]
    # 市容环卫 +30 and 噪声扰民 +20 rose (biggest first); 物业住房 -30 fell; 白沙镇 stayed level.
    rise = text["升降变化"]
    assert "上升的有:市容环卫(30→60 件,+30)、噪声扰民(10→30 件,+20)" in rise
    assert "下降的有:物业住房(40→10 件,-30)" in rise
    assert "青石镇(50→70 件,+20)" in rise and "白沙镇" not in rise
    # Busiest grids in order, with where they are; the overdue grid is named too.
    hot = text["热点区域"]
    assert hot.index("青石三网格") < hot.index("上溪一网格") < hot.index("沙湾二网格")
    assert "青石三网格(青石镇 青石社区,30 件)" in hot and "超期件最多的网格是:上溪一网格(4 件)" in hot
    assert "空网格" not in hot
    late = text["办理迟缓的单位"]
    assert "超期件最多的承办单位:县城管局(5 件)、县公安局(2 件)" in late
    # The on-time rate ignores units with too few cases and those at 100 %.
    assert "按期办结率最低的承办单位:县城管局(60.0%,派遣 50 件)、县公安局(90.0%" in late
    assert "小单位" not in late and "县水务局" not in late
    assert "共 2 处" in text["重复诉求"] and "上溪一网格的生活垃圾与暴露垃圾(5 次)" in text["重复诉求"]


def test_a_fall_and_an_empty_month():
    figures = month_figures(label="2025年8月", current={}, previous=CURRENT)
    text = text_of(commentary.commentary(figures))
    assert "共受理诉求 0 件,较上月减少 100 件(-100.0%)" in text["总体情况"]
    assert "上升的有" not in text["升降变化"]
    assert "下降的有:市容环卫(60→0 件,-60)" in text["升降变化"]
    assert text["热点区域"] == "本月没有落到网格的诉求。"
    assert "没有超期件" in text["办理迟缓的单位"]
    assert "没有同一地点同类诉求" in text["重复诉求"]


def test_rise_from_zero_has_no_percentage():
    figures = commentary.MonthFigures(label="本月", total=5, previous_total=0)
    assert commentary.overview(figures).sentences[0] == "本月共受理诉求 5 件,较上月增加 5 件。"
