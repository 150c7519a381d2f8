"""The demo warning and feed: issued through the real service over part of 青石镇, once."""

from __future__ import annotations

import io

import pytest

from shanzhi.conftest import make_user
from shanzhi.emergency import demo, demo_warnings
from shanzhi.emergency.models_warnings import (
    Warning,
    WarningDelivery,
    WarningFeed,
    WarningSource,
    WarningTask,
)
from shanzhi.emergency.tests.world_setup import World

pytestmark = pytest.mark.django_db


def test_demo_warning_reaches_two_villages_once(world: World) -> None:
    out = io.StringIO()
    demo_warnings.load(stdout=out)
    assert "跳过演示预警" in out.getvalue() and not Warning.objects.exists()  # no demo leader yet

    make_user(username=demo_warnings.LEADER, region=world.county.county, roles=["leader"])
    demo.load_demo(stdout=out)
    w = Warning.objects.get()
    assert w.source == WarningSource.COUNTY and w.event_kind == "typhoon" and w.severity == "Severe"
    # 上溪村 first, then the next village of 青石镇 with households (青石社区); not 白沙镇.
    assert sorted(w.grids.values_list("grid__code", flat=True)) == sorted(
        [world.a1_01.code, world.a1_02.code, world.a2_01.code]
    )
    assert w.household_count == 4 and w.care_household_count == 2
    assert WarningDelivery.objects.filter(warning=w).count() == 4
    assert WarningTask.objects.filter(warning=w).exists()
    feed = WarningFeed.objects.get()
    assert not feed.enabled and feed.url == demo_warnings.FEED_URL

    demo.load_demo(stdout=out)
    assert Warning.objects.count() == 1 and WarningFeed.objects.count() == 1
    assert "演示台风预警已存在" in out.getvalue()
