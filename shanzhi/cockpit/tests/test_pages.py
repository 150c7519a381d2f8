"""Cockpit pages: who may open them, what a township leader sees, tiles ↔ drill-down lists, and
refusals of bad filters."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from shanzhi.cases.catalogue import category_sync
from shanzhi.cases.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Case,
    CaseStatus,
    Category,
    Channel,
    ClockUnit,
)
from shanzhi.cockpit import panels
from shanzhi.cockpit.filters import filter_parse
from shanzhi.conftest import County, make_user
from shanzhi.core.catalogue import handler_types
from shanzhi.core.models import Handler, Region
from shanzhi.core.services import handler_type_upsert
from shanzhi.grid.models import Grid

SH = ZoneInfo("Asia/Shanghai")


@dataclass
class Data:
    county: County
    leader: Any  # county leader
    leader_a: Any  # township A's leader
    grid_a: Grid
    grid_b: Grid
    cases_a: list[Case]
    cases_b: list[Case]


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def make_grid(code: str, name: str, village: Region, lon: float, lat: float) -> Grid:
    return Grid.objects.create(
        code=code,
        name=name,
        village=village,
        geometry=square(lon, lat),
        centroid_lon=lon + 0.005,
        centroid_lat=lat + 0.005,
        min_lon=lon,
        min_lat=lat,
        max_lon=lon + 0.01,
        max_lat=lat + 0.01,
        area_m2=1_000_000.0,
    )


_numbers = iter(range(1, 1_000_000))


def make_case(
    *,
    village: Region,
    grid: Grid | None,
    category: str,
    received: dt.datetime,
    status: str = CaseStatus.DISPATCHED,
    deadline: dt.datetime | None = None,
    closed: dt.datetime | None = None,
    satisfaction: str = "",
    channel: str = Channel.HOTLINE,
    handler: Handler | None = None,
) -> Case:
    case = Case.objects.create(
        number=f"SZT{next(_numbers):08d}",
        channel=channel,
        status=status,
        text="测试诉求",
        region=village,
        township=village.parent,
        grid=grid,
        category=Category.objects.get(code=category),
        received_at=received,
        registered_at=received,
        dispatched_at=received if status != CaseStatus.RECEIVED else None,
        deadline=deadline,
        closed_at=closed,
        satisfaction=satisfaction,
        rated_at=closed if satisfaction else None,
    )
    if handler is not None and deadline is not None:
        # The primary assignment whose clock the overdue / due-today tiles count.
        Assignment.objects.create(
            case=case,
            handler=handler,
            role=AssignmentRole.PRIMARY,
            status=AssignmentStatus.ACCEPTED,
            clock_unit=ClockUnit.NATURAL_HOURS,
            sla_hours=24,
            started_at=received,
            accepted_at=received,
            warn_at=deadline - dt.timedelta(hours=4),
            deadline=deadline,
            county_at=deadline + dt.timedelta(hours=24),
        )
    return case


def local(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SH)


def build(county: County) -> Data:
    for row in handler_types():
        handler_type_upsert(
            actor=None, code=row.code, kind=row.kind, name_zh=row.name_zh, name_en=row.name_en
        )
    category_sync(actor=None)
    grid_a = make_grid(f"{county.village_a1.code}-01", "上溪一网格", county.village_a1, 119.80, 28.30)
    grid_b = make_grid(f"{county.village_b1.code}-01", "沙湾一网格", county.village_b1, 119.90, 28.40)
    today = timezone.localdate()
    now = timezone.now()
    a, b = county.village_a1, county.village_b1
    cases_a = [
        make_case(
            village=a, grid=grid_a, category="0101", received=local(today, 0) + dt.timedelta(minutes=5)
        ),
        make_case(
            village=a,
            grid=grid_a,
            category="0101",
            received=local(today - dt.timedelta(days=3)),
            deadline=now - dt.timedelta(hours=5),
            handler=county.dept,
        ),
        make_case(
            village=a,
            grid=grid_a,
            category="0401",
            received=local(today - dt.timedelta(days=2)),
            deadline=max(now + dt.timedelta(minutes=1), min(now + dt.timedelta(hours=3), local(today, 23))),
            handler=county.town_a_gov,
        ),
        make_case(
            village=county.village_a2,
            grid=None,
            category="0201",
            received=local(today - dt.timedelta(days=5)),
            status=CaseStatus.CLOSED,
            closed=local(today - dt.timedelta(days=4)),
            satisfaction="satisfied",
            channel=Channel.APP,
        ),
    ]
    cases_b = [
        make_case(village=b, grid=grid_b, category="0402", received=local(today - dt.timedelta(days=1))),
        make_case(
            village=b,
            grid=grid_b,
            category="0402",
            received=local(today - dt.timedelta(days=6)),
            deadline=now - dt.timedelta(days=1),
            handler=county.town_b_gov,
        ),
    ]
    return Data(
        county=county,
        leader=make_user(username="c-leader", region=county.county, roles=["leader"]),
        leader_a=make_user(username="c-leader-a", region=county.town_a, roles=["leader"]),
        grid_a=grid_a,
        grid_b=grid_b,
        cases_a=cases_a,
        cases_b=cases_b,
    )


@pytest.fixture
def data(county: County) -> Data:
    return build(county)


def kpis_for(user: Any, **params: str) -> dict[str, Any]:
    f = filter_parse(user=user, params=params, today=timezone.localdate())
    return panels.kpis(user=user, f=f, now=timezone.now())


def tile_number(html: str, key: str) -> str:
    found = re.search(rf'tile-{key}".*?class="tile-value">([^<]+)<', html, re.S)
    assert found, key
    return found.group(1).strip()


def test_leader_sees_tiles_panels_and_filters(client, data):
    client.force_login(data.leader)
    response = client.get(reverse("cockpit:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "数据驾驶舱" in html and "快捷时间" in html
    for label in ("今日", "近7天", "近30天", "本月", "本年"):
        assert f">{label}</a>" in html
    # Both townships in the county leader's filter; every panel has a chart and an export link.
    assert "青石镇" in html and "白沙镇" in html
    for name in panels.PANELS:
        assert f'data-panel="{name}"' in html
        assert reverse("cockpit:export", args=[name]) in html
    kpis = kpis_for(data.leader)
    for key in ("today_intake", "open", "overdue"):
        if key in kpis:
            assert tile_number(html, key) == f"{kpis[key]:,}"
    # The config the charts read points at the cockpit API and the grid GeoJSON.
    assert "/api/v1/cockpit/intake_daily?" in html and reverse("api:grid_list") in html
    assert "驾驶舱" in client.get(reverse("web:home")).content.decode()


def test_leaders_home_starts_with_the_cockpit(client, data):
    client.force_login(data.leader)
    html = client.get(reverse("web:home")).content.decode()
    cards = re.findall(r'class="card-link" href="([^"]+)"', html)
    assert cards[0] == reverse("cockpit:home")


def test_township_leader_sees_only_their_township(client, data):
    client.force_login(data.leader_a)
    html = client.get(reverse("cockpit:home")).content.decode()
    assert "青石镇" in html and "白沙镇" not in html
    county_kpis, own = kpis_for(data.leader), kpis_for(data.leader_a)
    if "intake" in own:
        assert own["intake"] < county_kpis["intake"]
    # Another township's region is a 404, as everywhere else.
    response = client.get(reverse("cockpit:home"), {"region": data.county.town_b.code})
    assert response.status_code == 404
    response = client.get(reverse("cockpit:drill", args=["intake"]), {"grid": data.grid_b.code})
    assert response.status_code == 404
    # The drill-down list holds township A's cases only.
    html = client.get(reverse("cockpit:drill", args=["intake"])).content.decode()
    for case in data.cases_a:
        assert case.number in html
    for case in data.cases_b:
        assert case.number not in html


@pytest.mark.parametrize("role", ["handler", "operator", "gridworker", "resident", "clerk"])
def test_other_roles_are_refused(client, county, role):
    user = make_user(username=f"c-{role}", region=county.town_a, roles=[role])
    client.force_login(user)
    for url in (
        reverse("cockpit:home"),
        reverse("cockpit:drill", args=["open"]),
        reverse("cockpit:export", args=["category_shares"]),
        reverse("cockpit:report", args=["2025-01"]),
    ):
        assert client.get(url).status_code == 403


def test_anonymous_goes_to_login(client, county):
    response = client.get(reverse("cockpit:home"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.get(reverse("cockpit:tiles"), HTTP_HX_REQUEST="true")
    assert "/login/" in response["HX-Redirect"]


@pytest.mark.parametrize("role", ["supervisor", "dispatcher", "admin"])
def test_other_cockpit_roles_open_it(client, county, role):
    client.force_login(make_user(username=f"c-{role}", region=county.county, roles=[role]))
    assert client.get(reverse("cockpit:home")).status_code == 200
    nav = client.get(reverse("web:home")).content.decode()
    assert f'href="{reverse("cockpit:home")}"' in nav


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-13-01"}, "日期格式应为 YYYY-MM-DD"),
        ({"start": "2025-03-01", "end": "2025-02-01"}, "开始日期不能晚于结束日期"),
        ({"start": "2000-01-01", "end": "2025-01-01"}, "时间范围不能超过十年"),
        ({"category": "9999"}, "未知的类别代码"),
        ({"category": "g:没有这个大类"}, "未知的类别大类"),
        ({"channel": "pigeon"}, "未知的来源渠道"),
        ({"handler": "nobody"}, "未知的承办单位"),
        ({"region": "12ab"}, "区域代码应为 12 位数字"),
    ],
)
def test_bad_filters_get_a_clear_message(client, data, params, message):
    client.force_login(data.leader)
    for url in (reverse("cockpit:home"), reverse("cockpit:drill", args=["intake"])):
        response = client.get(url, params)
        assert response.status_code == 422
        assert message in response.content.decode()
    response = client.get(reverse("cockpit:export", args=["kpis"]), params)
    assert response.status_code == 422 and message in response.content.decode()
    response = client.get(reverse("cockpit:tiles"), params)
    assert response.status_code == 422 and message in response.content.decode()


def test_unknown_tile_and_panel_are_404(client, data):
    client.force_login(data.leader)
    assert client.get(reverse("cockpit:drill", args=["nonsense"])).status_code == 404
    assert client.get(reverse("cockpit:export", args=["nonsense"])).status_code == 404


@pytest.mark.parametrize(
    "tile", ["today_intake", "intake", "open", "due_today", "overdue", "closed", "rated"]
)
def test_drill_lists_match_the_tiles(client, data, tile):
    client.force_login(data.leader)
    kpis = kpis_for(data.leader)
    response = client.get(reverse("cockpit:drill", args=[tile]))
    assert response.status_code == 200
    found = re.search(r'id="drill-count">(\d+)<', response.content.decode())
    assert found is not None
    count = int(found.group(1))
    if tile in kpis:
        assert count == kpis[tile]
    # Each row links to the case page.
    html = response.content.decode()
    assert html.count(reverse("cases:detail", args=["X"])[:-2]) >= count


def test_tile_links_carry_the_filter(client, data):
    client.force_login(data.leader)
    html = client.get(
        reverse("cockpit:home"), {"channel": "app", "township": data.county.town_a.code}
    ).content.decode()
    links = re.findall(r'href="(/cockpit/drill/[^"]+)"', html)
    assert links and all(
        "channel=app" in link and f"region={data.county.town_a.code}" in link for link in links
    )
    # The chosen township's villages are in the cascade already.
    assert data.county.village_a1.name in html


def test_cascade_options(client, data):
    client.force_login(data.leader)
    html = client.get(reverse("cockpit:options"), {"township": data.county.town_a.code}).content.decode()
    assert data.county.village_a1.code in html and data.county.village_b1.code not in html
    html = client.get(reverse("cockpit:options"), {"village": data.county.village_a1.code}).content.decode()
    assert data.grid_a.code in html and data.grid_b.code not in html
    # A township leader asking for another township's villages gets none.
    client.force_login(data.leader_a)
    html = client.get(reverse("cockpit:options"), {"township": data.county.town_b.code}).content.decode()
    assert data.county.village_b1.code not in html


def test_tiles_partial_for_the_minutely_refresh(client, data):
    client.force_login(data.leader)
    response = client.get(reverse("cockpit:tiles"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="tiles"' in html and "<html" not in html


def test_tiles_show_the_known_figures(client, data):
    """Four cases in township A (one overdue, one due today), two in B (one overdue)."""
    client.force_login(data.leader)
    html = client.get(reverse("cockpit:home")).content.decode()
    assert tile_number(html, "intake") == "6" and tile_number(html, "overdue") == "2"
    assert tile_number(html, "today_intake") == "1"
    client.force_login(data.leader_a)
    html = client.get(reverse("cockpit:home")).content.decode()
    assert tile_number(html, "intake") == "4" and tile_number(html, "overdue") == "1"
    assert tile_number(html, "due_today") == "1"
    drill = client.get(reverse("cockpit:drill", args=["overdue"])).content.decode()
    assert data.cases_a[1].number in drill and data.cases_b[1].number not in drill
