"""Demo warnings: one typhoon warning (严重) issued by the county leader over two villages of 青石镇,
through the same `warning_issue` service as the page, so the warning list, the detail page, the
grid tasks and the deliveries (SMS wait in the outbox without a provider) have something to show;
and one disabled feed at an example address, to show the back office what a feed looks like.

Idempotent: a second run finds the demo warning (by its headline) and the feed (by its URL).
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TextIO

from django.contrib.auth import get_user_model
from django.utils import timezone

from shanzhi.core.models import Region
from shanzhi.emergency.models_warnings import FeedFormat, Warning, WarningFeed, WarningSource
from shanzhi.emergency.warning_feeds import warning_feed_save
from shanzhi.emergency.warnings import IssueForm, warning_issue
from shanzhi.grid.areas import Area
from shanzhi.grid.models import Household

LEADER = "leader"  # the demo county leader (core/demo.py ACCOUNTS)
TOWNSHIP = "331199101000"  # 青石镇
FIRST_VILLAGE = "331199101201"  # 上溪村, where the demo grid worker works
VILLAGES = 2
HEADLINE = "善水县防汛防台指挥部发布台风橙色预警"
FEED_URL = "https://example.com/cap/zhejiang-province.atom"


def _villages() -> list[str]:
    """上溪村 and the next village of 青石镇 (by code) that has households: part of the township."""
    township = Region.objects.filter(code=TOWNSHIP).first()
    if township is None:
        return []
    homes = Household.objects.filter(active=True, village__parent=township)
    with_homes = set(homes.values_list("village__code", flat=True))
    ordered = sorted(with_homes, key=lambda code: (code != FIRST_VILLAGE, code))
    return ordered[:VILLAGES]


def _warning(out: TextIO) -> None:
    if Warning.objects.filter(source=WarningSource.COUNTY, headline=HEADLINE).exists():
        out.write("  预警:演示台风预警已存在\n")
        return
    leader = get_user_model().objects.filter(username=LEADER).first()
    villages = _villages()
    if leader is None or not villages:
        out.write("  预警:缺少县领导账号或青石镇住户,跳过演示预警\n")
        return
    received = warning_issue(
        actor=leader,
        form=IssueForm(
            event="台风",
            severity="Severe",
            urgency="Expected",
            certainty="Likely",
            headline=HEADLINE,
            description="今年第 9 号台风预计明天下午在我县沿海登陆,登陆时中心附近最大风力 12 级,"
            "青石镇沿溪各村将有 100 毫米以上的强降雨。",
            instruction="请关好门窗、收好阳台花盆,不要到溪边和危旧房附近;独居老人请留在家中等候村干部上门。",
            area=Area(region_codes=tuple(villages)),
            area_desc="青石镇沿溪各村",
            expires=timezone.now() + dt.timedelta(days=3),
        ),
    )
    w = received.warning
    out.write(
        f"  预警:演示台风预警 {w.grid_count} 个网格、{w.household_count} 户,"
        f"短信 {w.sms_count} 条,上门告知 {w.visit_count} 户,网格任务 {w.task_count} 个\n"
    )


def _feed(out: TextIO) -> None:
    if WarningFeed.objects.filter(url=FEED_URL).exists():
        return
    warning_feed_save(
        actor=None,
        feed=WarningFeed(
            name="省级预警发布平台(示例,未启用)",
            url=FEED_URL,
            format=FeedFormat.ATOM,
            enabled=False,
            interval_minutes=5,
        ),
    )
    out.write("  预警订阅源:示例订阅源 1 个(未启用)\n")


def load(*, stdout: TextIO | None = None) -> None:
    out = stdout or sys.stdout
    _warning(out)
    _feed(out)
