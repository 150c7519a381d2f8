"""The cockpit's charts in chromium, at desktop width and on a 360 px phone: a chart's legend and its
axis names ("件", "%") sit in separate bands above the plot, so the unit never covers a legend entry.

How it is measured: after the charts are drawn, the legend's box is the union of what ECharts drew
for the legend component (its view, `chart.getViewOfComponentModel`) and each axis name's box is
the drawn text of that axis's view, both in the chart's pixels (each element's box through its
computed transform). This reads what the canvas renderer really laid out, so the production
renderer stays as it is, and it does not depend on ECharts' option defaults. The test asserts that
every axis name lies wholly below the legend's bottom edge, not merely that the two boxes miss each
other: this test county's legend has two or three entries, which would not reach the axis name
sideways even with the old layout (legend and names in the same row), whereas the demo county's
fourteen categories fill the row and did cover "件". Separate bands hold for a legend of any length.
"""

from __future__ import annotations

from typing import Any

import pytest

from shanzhi.cockpit.tests.test_pages import build
from shanzhi.conftest import County
from shanzhi.web.tests.browser import chromium
from shanzhi.web.tests.test_a11y import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The charts that have both a legend and named value axes.
WITH_LEGEND = ("intake_daily", "intake_monthly", "seasonal", "seed_focus")

BOXES = """() => {
  function box(el) {
    const r = el.getBoundingRect().clone();
    r.applyTransform(el.getComputedTransform());
    return {left: r.x, top: r.y, right: r.x + r.width, bottom: r.y + r.height};
  }
  function drawn(group) {
    const out = [];
    group.traverse(el => { if (!el.isGroup && !el.invisible && !el.ignore) out.push(el); });
    return out;
  }
  const charts = {};
  document.querySelectorAll("[data-panel]").forEach(node => {
    const chart = echarts.getInstanceByDom(node);
    if (!chart) return;
    const model = chart.getModel();
    const legendModel = model.getComponent("legend");
    let legend = null;
    if (legendModel) {
      drawn(chart.getViewOfComponentModel(legendModel).group).map(box).forEach(b => {
        legend = legend ? {left: Math.min(legend.left, b.left), top: Math.min(legend.top, b.top),
          right: Math.max(legend.right, b.right), bottom: Math.max(legend.bottom, b.bottom)} : b;
      });
    }
    const names = [];
    ["xAxis", "yAxis"].forEach(kind => model.eachComponent(kind, axis => {
      const name = axis.get("name");
      if (!name) return;
      const text = drawn(chart.getViewOfComponentModel(axis).group)
        .filter(el => el.style && el.style.text === name)[0];
      names.push({name: name, box: text ? box(text) : null});
    }));
    charts[node.dataset.panel] = {legend: legend, names: names};
  });
  return charts;
}"""


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    across = a["left"] < b["right"] and b["left"] < a["right"]
    return across and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("width", [1366, 360])
def test_axis_names_sit_below_the_legend(live_server, county: County, width: int) -> None:
    data = build(county)
    with chromium() as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
        context.add_cookies([session_cookie(data.leader, live_server.url)])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        answer = page.goto(f"{live_server.url}/cockpit/", wait_until="load")
        assert answer is not None and answer.status == 200
        for name in WITH_LEGEND:
            page.locator(f"#chart-{name}[data-loaded] canvas").first.wait_for(timeout=15_000)
        charts: dict[str, Any] = page.evaluate(BOXES)
        context.close()
    assert not errors, errors
    for name in WITH_LEGEND:
        legend, names = charts[name]["legend"], charts[name]["names"]
        assert legend is not None, name
        assert names and all(n["box"] for n in names), (name, names)
        for axis in names:
            assert axis["box"]["top"] >= legend["bottom"], (name, width, axis, legend)
            assert not overlaps(axis["box"], legend), (name, width, axis, legend)
    # The units are the ones the page shows: 件 on every chart, % on the share chart's right axis.
    assert [n["name"] for n in charts["seed_focus"]["names"]] == ["件", "%"]
