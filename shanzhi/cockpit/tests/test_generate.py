"""The history generator: exact counts, the same rows for the same seed, the rhythms it promises
(summer noise, weekdays, hotspots), points inside their grids, consistent clocks and statuses,
numbers that never meet the real intake's, and clear refusals of bad arguments."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from typing import Any

import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F

from shanzhi.audit.models import AuditEntry
from shanzhi.cases import services as svc
from shanzhi.cases.catalogue import category_sync
from shanzhi.cases.clocks import set_thresholds
from shanzhi.cases.models import OPEN_STATUSES, Assignment, AssignmentRole, Case, CaseStatus
from shanzhi.cockpit.generate import history_generate
from shanzhi.conftest import County
from shanzhi.core.catalogue import handler_types
from shanzhi.core.models import Region
from shanzhi.core.services import estate_create, handler_create, handler_type_upsert, region_create
from shanzhi.core.workcal import TZ
from shanzhi.grid.models import Grid
from shanzhi.grid.services import GridSpec, grid_import
from shanzhi.onewindow.models_applications import Application

END = dt.date(2025, 12, 31)


def _square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def world(county: County) -> County:
    """The catalogue's handler types and categories, every county department, the place bodies,
    an estate with its property company, and three grids in each of four villages."""
    for row in handler_types():
        handler_type_upsert(
            actor=None, code=row.code, kind=row.kind, name_zh=row.name_zh, name_en=row.name_en
        )
        if row.kind == "department" and row.code != "urban_mgmt":
            handler_create(
                actor=None, code=row.code, type_code=row.code, name=row.name_zh, region=county.county
            )
    community_b2 = region_create(
        actor=None, code="331199102001", name="沙湾社区", parent=county.town_b, kind="社区"
    )
    villages = [county.village_a1, county.village_a2, county.village_b1, community_b2]
    for village in villages:
        handler_create(
            actor=None,
            code=f"community-{village.code}",
            type_code="community",
            name=f"{village.name}委员会",
            region=village,
        )
    company = handler_create(
        actor=None, code="property-1", type_code="property", name="安居物业", region=county.county
    )
    estate_create(actor=None, name="锦绣花园", region=county.village_a2, property_company=company)
    estate_create(actor=None, name="江滨花苑", region=community_b2, property_company=company)
    category_sync(actor=None)
    specs = [
        GridSpec(
            code=f"{village.code}-{k + 1:02d}",
            name=f"{village.name}第{k + 1}网格",
            village=village,
            geometry=_square(119.7 + 0.05 * vi + 0.012 * k, 28.3),
        )
        for vi, village in enumerate(villages)
        for k in range(3)
    ]
    grid_import(actor=None, shapes={}, grids=specs)
    return county


def _generate(cases: int = 5000, years: int = 2, seed: int = 3) -> Any:
    return history_generate(cases=cases, years=years, seed=seed, end=END)


def _fingerprint() -> list[tuple[Any, ...]]:
    return list(
        Case.objects.order_by("number").values_list(
            "number", "channel", "status", "category__code", "grid__code", "lon", "lat", "received_at",
            "closed_at", "satisfaction",
        )
    )  # fmt: skip


def test_counts_are_exact_and_the_run_is_audited(world: County) -> None:
    summary = _generate()
    assert Case.objects.count() == summary.cases == 5000
    assert Assignment.objects.count() == summary.assignments
    assert Application.objects.count() == summary.applications == 0  # no service items here
    assert sum(summary.by_status.values()) == 5000
    assert Case.objects.filter(received_at__date__gt=END).count() == 0
    first = Case.objects.order_by("received_at").first()
    assert first is not None and first.received_at.astimezone(TZ).date() >= summary.start
    entry = AuditEntry.objects.get(action="cockpit.history.generate")
    assert entry.object_id == "run-00"
    assert AuditEntry.objects.filter(object_type="cases.case").count() == 0  # one entry, not one per case


def test_the_same_seed_gives_the_same_history(world: County) -> None:
    _generate(cases=2000, seed=9)
    first = _fingerprint()
    Assignment.objects.all().delete()
    Case.objects.all().delete()
    _generate(cases=2000, seed=9)
    again = [(n.replace("G01", "G00", 1), *rest) for n, *rest in _fingerprint()]
    assert again == first
    Assignment.objects.all().delete()
    Case.objects.all().delete()
    _generate(cases=2000, seed=10)
    assert [r[1:] for r in _fingerprint()] != [r[1:] for r in first]


def test_rhythms_seasons_weekdays_and_hotspots(world: County) -> None:
    summary = _generate(cases=20000, years=2)
    cases = list(Case.objects.values_list("received_at", "category__group", "channel", "grid__code"))
    local = [(at.astimezone(TZ), group, channel, grid) for at, group, channel, grid in cases]
    summer = [g for at, g, _c, _g in local if at.month in (6, 7, 8)]
    winter = [g for at, g, _c, _g in local if at.month in (12, 1, 2)]
    assert summer.count("噪声扰民") / len(summer) > 1.5 * winter.count("噪声扰民") / len(winter)
    rainy = [at for at, g, _c, _g in local if g == "市政设施"]
    assert len(rainy) > 0
    drainage = Counter(
        c.received_at.astimezone(TZ).month
        for c in Case.objects.filter(category__code="0604").only("received_at")
    )
    assert drainage[6] + drainage[7] > 2 * (drainage[1] + drainage[2])
    per_weekday = Counter(at.weekday() for at, _g, _c, _gr in local)
    assert min(per_weekday[d] for d in range(5)) > max(per_weekday[5], per_weekday[6])
    hotline_hours = Counter(at.hour for at, _g, c, _gr in local if c == "hotline")
    assert hotline_hours[10] > 3 * hotline_hours[3] and hotline_hours[15] > 2 * hotline_hours[20]
    per_grid = Counter(grid for _a, _g, _c, grid in local)
    kind = {g.code: g.village.kind for g in Grid.objects.select_related("village")}
    hot = set(summary.hotspot_grids)
    assert hot
    for code in hot:  # against grids of the same kind (communities carry more than villages anyway)
        peers = [n for c, n in per_grid.items() if c not in hot and kind[c] == kind[code]]
        assert per_grid[code] > 2 * sum(peers) / len(peers), (code, per_grid)


def test_every_point_is_inside_its_grid_and_its_village(world: County) -> None:
    _generate(cases=3000)
    shapes = {g.pk: shapely.geometry.shape(g.geometry) for g in Grid.objects.all()}
    rows = Case.objects.values_list("grid_id", "lon", "lat", "region_id", "grid__village_id", "township_id")
    for grid_id, lon, lat, region_id, village_id, township_id in rows:
        assert shapes[grid_id].contains(shapely.Point(lon, lat))
        assert region_id == village_id
        assert Region.objects.get(pk=region_id).parent_id == township_id


def test_statuses_timestamps_and_clocks_are_consistent(world: County) -> None:
    summary = _generate(cases=5000)
    now = dt.datetime.combine(END, dt.time(23, 59, 59), tzinfo=TZ)
    assert set(summary.by_status) <= set(CaseStatus.values)
    assert Case.objects.filter(closed_at__lt=F("received_at")).count() == 0
    assert Case.objects.filter(dispatched_at__lt=F("received_at")).count() == 0
    closed = Case.objects.filter(status__in=[CaseStatus.CLOSED, CaseStatus.EVALUATED])
    assert closed.filter(closed_at__isnull=True).count() == 0
    assert closed.filter(closed_at__gt=now).count() == 0
    assert Case.objects.filter(status=CaseStatus.EVALUATED, satisfaction="").count() == 0
    assert Case.objects.exclude(status=CaseStatus.EVALUATED).exclude(satisfaction="").count() == 0
    assert Case.objects.filter(status__in=OPEN_STATUSES).exists()
    overdue_open = Assignment.objects.filter(
        role=AssignmentRole.PRIMARY, status__in=["pending", "accepted"], deadline__lt=now
    )
    assert overdue_open.exists()
    # one primary per dispatched case, none before dispatch; co-handlers for some
    dispatched = Case.objects.filter(dispatched_at__isnull=False)
    primaries = Assignment.objects.filter(role=AssignmentRole.PRIMARY)
    assert primaries.count() == dispatched.count()
    assert primaries.values("case").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert Assignment.objects.filter(role=AssignmentRole.CO).exists()
    assert Case.objects.filter(dispatched_at__isnull=True, assignments__isnull=False).count() == 0
    # the case's deadline is its primary's, and the thresholds are the category's time limit
    sample = primaries.select_related("case__category", "handler__type").order_by("id")[::37]
    for a in sample:
        case = a.case
        assert case.deadline == a.deadline
        assert case.category is not None and a.sla_hours == case.category.sla_hours
        assert a.clock_unit == case.category.clock_unit
        expected = Assignment(started_at=a.started_at, sla_hours=a.sla_hours, clock_unit=a.clock_unit)
        set_thresholds(assignment=expected)
        assert (a.warn_at, a.deadline, a.county_at) == (
            expected.warn_at,
            expected.deadline,
            expected.county_at,
        )
        assert a.handler.type_id == case.category.primary_handler_id
        if a.status in ("reported", "done"):
            assert a.reported_at is not None and a.on_time == (a.reported_at <= a.deadline)
        if a.status == "done":
            assert case.status in (CaseStatus.CLOSED, CaseStatus.EVALUATED)
        if a.handler.type.code in ("township", "community"):
            assert a.handler.region_id in (case.region_id, case.township_id)
    # the sweep will not fire again for history: every threshold passed while open is marked
    assert (
        Assignment.objects.filter(
            status__in=["pending", "accepted"], warn_at__lt=now, warned_at__isnull=True
        ).count()
        == 0
    )


def test_numbers_never_collide_with_the_real_intake(world: County) -> None:
    _generate(cases=3000)
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 3000
    assert all(n.startswith("G00") and len(n) == 18 for n in numbers)
    case = svc.case_intake(
        actor=None,
        channel="hotline",
        text="市民反映路灯不亮",
        place=svc.Place(region=world.village_a1, township=world.town_a),
        suggestion=svc.Suggestion(),
    )
    assert case.number.startswith("SZ") and case.pk > max(
        Case.objects.exclude(pk=case.pk).values_list("pk", flat=True)
    )
    again = _generate(cases=1000)  # a second run takes the next run number
    assert again.run == 1
    assert Case.objects.filter(number__startswith="G01").count() == 1000
    assert Case.objects.values("number").distinct().count() == 4001


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cases", "-5"], "案卷数"),
        (["--cases", "0"], "案卷数"),
        (["--cases", "100", "--years", "0"], "年数"),
        (["--cases", "100", "--end", "2025-13-01"], "--end"),
        (["--cases", "100", "--end", "2999-01-01"], "结束日期"),
        (["--cases", "100", "--seed", "-1"], "种子"),
        (["--cases", "100", "--applications", "2"], "办件比例"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(world: County, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("demo", "generate", *args, stdout=StringIO())
    assert Case.objects.count() == 0
    assert not AuditEntry.objects.filter(action="cockpit.history.generate").exists()


def test_without_the_demo_county_the_command_says_what_to_run(db: Any) -> None:
    with pytest.raises(CommandError, match="demo load"):
        call_command("demo", "generate", "--cases", "10", stdout=StringIO())


def test_the_command_prints_what_it_made(world: County) -> None:
    out = StringIO()
    call_command("demo", "generate", "--cases", "500", "--years", "1", "--end", "2025-06-30", stdout=out)
    assert "生成 500 件案卷" in out.getvalue()
    assert Case.objects.count() == 500


@pytest.mark.postgres
def test_vacuum_after_a_big_load_sets_visibility(transactional_db):
    """After a big load commits, the generator vacuums (PostgreSQL) so index-only counts stay so."""
    from django.db import connection

    from shanzhi.cockpit.generate_copy import tables_vacuum

    with connection.cursor() as cur:
        cur.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'cockpit_caseday'")
        before = cur.fetchone()[0]
        tables_vacuum(["cockpit_caseday"])
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'cockpit_caseday'")
        assert cur.fetchone()[0] == before + 1
