"""Each panel equals the same aggregate computed from the raw rows, after every kind of write."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone

from shanzhi.cases import services as svc
from shanzhi.cases.models import Assignment, Case, Category, ClockPause
from shanzhi.cases.tests.test_loop import intake, to_reported
from shanzhi.cockpit import panels
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.models import (
    CaseDay,
    CaseHandler,
    CaseMonth,
    GridDay,
    GridMonth,
    HandlerCaseDay,
    HandlerCaseMonth,
    HandlerCasePlaceDay,
    HandlerCasePlaceMonth,
    HandlerDay,
    HandlerMonth,
    HandlerPlaceDay,
    HandlerPlaceMonth,
    PlaceChannelDay,
    PlaceChannelMonth,
    PlaceDay,
    PlaceMonth,
)
from shanzhi.cockpit.rollups import rollups_rebuild
from shanzhi.cockpit.tests.reference import SH, cases_in, local, reference_kpis

KEYS: tuple[str, ...] = ("intake", "closed", "rated", "satisfied", "dispatched", "responded", "due")
KEYS += ("on_time", "suspended", "open", "overdue", "resolution_rate", "response_rate", "on_time_rate")
KEYS += ("avg_disposal_hours",)


def bulk_history(loop, n=300, seed=7):
    """Varied rows written straight to the tables (the import/bulk path), over two years."""
    rng = random.Random(seed)
    now = timezone.now()
    cats = list(Category.objects.all())
    places = [
        (loop.county.village_a1, loop.county.town_a),
        (loop.county.village_a2, loop.county.town_a),
        (loop.county.village_b1, loop.county.town_b),
        (None, None),
    ]
    handlers = [loop.county.dept, loop.police, loop.county.town_a_gov]
    for i in range(n):
        received = now - dt.timedelta(
            days=rng.randint(0, 700), hours=rng.randint(0, 23), seconds=rng.randint(0, 3599)
        )
        village, town = rng.choice(places)
        status = rng.choice(
            ["received", "dispatched", "in_progress", "closed", "evaluated", "refused", "merged"]
        )
        closed_at = (
            received + dt.timedelta(hours=rng.randint(1, 200)) if status in ("closed", "evaluated") else None
        )
        case = Case.objects.create(
            number=f"BULK{i:06d}",
            channel=rng.choice(["hotline", "app", "grid"]),
            status=status,
            text="x",
            region=village,
            township=town,
            category=rng.choice([*cats, None]),
            received_at=received,
            closed_at=closed_at,
            satisfaction=rng.choice(["", "", "satisfied", "unsatisfied", "basic"]),
        )
        if status in ("dispatched", "in_progress", "closed", "evaluated"):
            started = received + dt.timedelta(hours=1)
            a = Assignment.objects.create(
                case=case,
                handler=rng.choice(handlers),
                role="primary",
                status="done" if closed_at else rng.choice(["pending", "accepted", "reported"]),
                clock_unit="natural_hours",
                sla_hours=72,
                started_at=started,
                warn_at=started,
                deadline=started + dt.timedelta(hours=rng.randint(-100, 200)),
                county_at=started,
                accepted_at=started if rng.random() < 0.8 else None,
                reported_at=started + dt.timedelta(hours=3) if closed_at else None,
                on_time=rng.choice([True, False, None]),
            )
            if rng.random() < 0.2:
                ClockPause.objects.create(assignment=a, started_at=started, reason="缓办")


def check(loop, user, f: CockpitFilter, now, **scope):
    got = panels.kpis(user=user, f=f, now=now)
    want = reference_kpis(f.start, f.end, now, **scope)
    assert {k: got[k] for k in KEYS} == want, (f, scope)
    cases = [c for c in cases_in(f.start, f.end, **scope) if c.status not in ("refused", "merged")]
    shares = {r["code"]: r["count"] for r in panels.category_shares(user=user, f=f)["rows"]}
    assert shares == dict(Counter(c.category.code if c.category else "" for c in cases))
    monthly = panels.intake_monthly(user=user, f=f)
    by_month = Counter(local(c.received_at).strftime("%Y-%m") for c in cases)
    assert dict(zip(monthly["months"], monthly["totals"], strict=True)) == {
        m: by_month.get(m, 0) for m in monthly["months"]
    }
    daily = panels.intake_daily(user=user, f=f)
    by_day = Counter(local(c.received_at).isoformat() for c in cases)
    assert dict(zip(daily["days"], daily["totals"], strict=True)) == {
        d: by_day.get(d, 0) for d in daily["days"]
    }
    towns = {r["code"]: r["intake"] for r in panels.township_ranking(user=user, f=f, now=now)["rows"]}
    assert {k: v for k, v in towns.items() if v} == dict(
        Counter(c.township.code for c in cases if c.township_id)
    )


def rollups_equal_rebuild():
    """The trigger-maintained tables equal a rebuild from raw rows (zero rows aside)."""
    models: tuple[Any, ...] = (CaseDay, CaseMonth, GridDay, GridMonth, HandlerDay, HandlerMonth)
    models += (PlaceDay, PlaceMonth, HandlerPlaceDay, HandlerPlaceMonth, HandlerCaseDay, HandlerCaseMonth)
    models += (PlaceChannelDay, PlaceChannelMonth, HandlerCasePlaceDay, HandlerCasePlaceMonth, CaseHandler)

    def snapshot():
        out = {}
        for model in models:
            fields = [f.name for f in model._meta.fields if f.name != "id"]
            keys = {"day", "month", "township_id", "category_id", "channel", "grid_id", "handler_id"}
            keys |= {"region_id", "n30", "max30", "max30_day"}  # (compared, but not sums)
            measures = [n for n in fields if n not in keys]
            out[model.__name__] = sorted(
                tuple(r.values()) for r in model.objects.values(*fields) if any(r[m] for m in measures)
            )
        return out

    before = snapshot()
    rollups_rebuild()
    assert snapshot() == before


@pytest.mark.parametrize("days", [30, 400, 730])
def test_panels_equal_raw_rows_over_bulk_history(loop, days):
    bulk_history(loop)
    now = timezone.now()
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=days - 1), end=today)
    check(loop, loop.dispatcher, f, now)
    town = loop.county.town_a
    check(
        loop,
        loop.dispatcher,
        CockpitFilter(start=f.start, end=f.end, region_code=town.code),
        now,
        township_id=town.pk,
    )
    v = loop.county.village_a2
    check(
        loop,
        loop.dispatcher,
        CockpitFilter(start=f.start, end=f.end, region_code=v.code),
        now,
        village_id=v.pk,
    )
    group = Category.objects.get(code="0102").group
    ids = set(Category.objects.filter(group=group).values_list("pk", flat=True))
    check(
        loop,
        loop.dispatcher,
        CockpitFilter(start=f.start, end=f.end, category_code=f"g:{group}", channel="app"),
        now,
        category_ids=ids,
        channel="app",
    )
    rollups_equal_rebuild()


def test_rollups_follow_every_write(loop):
    bulk_history(loop, n=80)
    now = timezone.now()
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=800), end=today)
    # through the services: a closed, rated case; a returned one; a refusal; an unsatisfied rating reopens
    done = svc.case_verify(
        actor=loop.gridworker, case=to_reported(loop, intake(loop, actor=loop.resident)), passed=True
    )
    svc.case_rate(actor=loop.resident, case=done, satisfaction="satisfied")
    returned = svc.case_dispatch(
        actor=loop.dispatcher,
        case=svc.case_register(actor=loop.dispatcher, case=intake(loop)),
        primary=loop.county.dept,
    )
    svc.assignment_return(actor=loop.urban_handler, assignment=returned.assignments.get(), reason="错派")
    svc.case_refuse(actor=loop.dispatcher, case=intake(loop, text="咨询天气"), reason="非政府职责")
    check(loop, loop.dispatcher, f, timezone.now())
    reopened = svc.case_verify(
        actor=loop.gridworker, case=to_reported(loop, intake(loop, actor=loop.resident)), passed=True
    )
    svc.case_rate(actor=loop.resident, case=reopened, satisfaction="unsatisfied")
    assert Case.objects.get(pk=reopened.pk).reopen_count == 1
    check(loop, loop.dispatcher, f, timezone.now())
    # raw updates (admin, scripts): recategorise, move township, close, re-rate, delete
    some = Case.objects.filter(number__startswith="BULK").order_by("id")
    cat = Category.objects.get(code="0201")
    Case.objects.filter(pk__in=list(some.values_list("pk", flat=True)[:10])).update(
        category=cat, channel="app"
    )
    Case.objects.filter(pk__in=list(some.values_list("pk", flat=True)[10:20])).update(
        township=loop.county.town_b
    )
    Case.objects.filter(pk__in=list(some.values_list("pk", flat=True)[20:30])).update(
        status="closed", closed_at=timezone.now()
    )
    Case.objects.filter(pk__in=list(some.values_list("pk", flat=True)[30:40])).update(
        satisfaction="very_satisfied"
    )
    Assignment.objects.filter(pk__in=list(Assignment.objects.values_list("pk", flat=True)[:5])).update(
        deadline=timezone.now() - dt.timedelta(days=3), on_time=True, status="reported"
    )
    ClockPause.objects.filter(pk__in=list(ClockPause.objects.values_list("pk", flat=True)[:3])).delete()
    Case.objects.filter(pk__in=list(some.values_list("pk", flat=True)[40:45])).delete()
    check(loop, loop.dispatcher, f, timezone.now())
    rollups_equal_rebuild()


def test_bulk_load_suspends_and_rebuilds(loop):
    from shanzhi.cockpit.rollups import bulk_load

    with bulk_load():
        bulk_history(loop, n=60)
        assert not CaseDay.objects.exclude(intake=0).exists()
    now = timezone.now()
    today = now.astimezone(SH).date()
    check(loop, loop.dispatcher, CockpitFilter(start=today - dt.timedelta(days=720), end=today), now)


def test_township_leader_sees_own_township_only(loop):
    from shanzhi.conftest import make_user
    from shanzhi.core.errors import NotFound

    bulk_history(loop, n=120)
    leader = make_user(username="leader-a", region=loop.county.town_a, roles=["leader"])
    now = timezone.now()
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=720), end=today)
    check(loop, leader, f, now, township_id=loop.county.town_a.pk)
    with pytest.raises(NotFound):
        panels.kpis(
            user=leader,
            f=CockpitFilter(start=f.start, end=f.end, region_code=loop.county.town_b.code),
            now=now,
        )


def test_every_panel_answers(loop):
    bulk_history(loop, n=150)
    now = timezone.now()
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=365), end=today)
    for name in panels.PANELS:
        data = panels.panel_call(name, user=loop.dispatcher, f=f, now=now)
        assert isinstance(data, dict)
    seed = panels.seed_focus(user=loop.dispatcher, f=f)
    assert sum(seed["totals"]) == panels.kpis(user=loop.dispatcher, f=f, now=now)["intake"]
    season = panels.seasonal(user=loop.dispatcher, f=f)
    year_cases = [
        c
        for c in cases_in(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
        if c.status not in ("refused", "merged")
    ]
    assert sum(v for v in season["this_year"] if v is not None) == len(year_cases)
    # Months still to come have no figure (a gap in the chart, not a fall to zero).
    assert season["this_year"][today.month :] == [None] * (12 - today.month)
    assert None not in season["this_year"][: today.month] and None not in season["last_year"]


def add_grids(loop, seed=11):
    """Two grids; part of the bulk cases located in them; a repeated complaint at each kind of
    place inside the last 60 days (grid × 0102, village without grid × 0201)."""
    from shanzhi.grid.models import Grid

    rng = random.Random(seed)
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    box = {"min_lon": 0, "min_lat": 0, "max_lon": 1, "max_lat": 1, "area_m2": 1.0}
    grids = {}
    for village in (loop.county.village_a1, loop.county.village_b1):
        grids[village.pk] = Grid.objects.create(
            code=f"{village.code}-01",
            name=f"{village.name}一网格",
            village=village,
            geometry=square,
            centroid_lon=0.5,
            centroid_lat=0.5,
            **box,
        )
    for case in Case.objects.filter(region_id__in=list(grids)):
        if rng.random() < 0.7:
            Case.objects.filter(pk=case.pk).update(grid=grids[case.region_id])
    now = timezone.now()
    a1, a2 = loop.county.village_a1, loop.county.village_a2
    spots = [(a1, grids[a1.pk], "0102", 12, 40), (a2, None, "0201", 5, 10)]
    for village, grid, code, n, spread in spots:
        for i in range(n):
            Case.objects.create(
                number=f"REP{code}{i:03d}",
                channel="hotline" if i % 3 else "app",
                status="closed" if i % 4 == 0 else "received",
                closed_at=now if i % 4 == 0 else None,
                text="又来了",
                region=village,
                township=village.parent,
                grid=grid,
                category=Category.objects.get(code=code),
                received_at=now - dt.timedelta(days=5 + rng.randint(0, spread), hours=rng.randint(0, 23)),
            )
    return grids


def repeats_of(user, f):
    rows = panels.repeat_complaints(user=user, f=f)["rows"]
    return {
        (r["place_code"], r["category_code"]): (r["max_in_30_days"], r["window_end"], r["in_range"])
        for r in rows
    }


def check_places(loop, f, now, grids):
    """kpis, hotspots and repeat complaints for every kind of filter against the raw rows."""
    from shanzhi.cockpit.tests.reference import reference_repeats

    user = loop.dispatcher
    town, village = loop.county.town_a, loop.county.village_a1
    grid = grids[village.pk]
    group = Category.objects.get(code="0102").group
    group_ids = set(Category.objects.filter(group=group).values_list("pk", flat=True))
    cases = [
        ({}, {}),
        ({"region_code": town.code}, {"township_id": town.pk}),
        ({"region_code": village.code}, {"village_id": village.pk}),
        ({"grid_code": grid.code}, {"grid_id": grid.pk}),
        (
            {"region_code": village.code, "grid_code": grid.code},
            {"village_id": village.pk, "grid_id": grid.pk},
        ),
        ({"category_code": f"g:{group}"}, {"category_ids": group_ids}),
        ({"channel": "hotline"}, {"channel": "hotline"}),
        ({"handler_code": loop.county.dept.code}, {"handler_id": loop.county.dept.pk}),
        (
            {"region_code": town.code, "handler_code": loop.county.dept.code},
            {"township_id": town.pk, "handler_id": loop.county.dept.pk},
        ),
        (
            {"region_code": village.code, "channel": "hotline"},
            {"village_id": village.pk, "channel": "hotline"},
        ),
        (
            {"grid_code": grid.code, "handler_code": loop.county.dept.code},
            {"grid_id": grid.pk, "handler_id": loop.county.dept.pk},
        ),
        (
            {"category_code": f"g:{group}", "channel": "app"},
            {"category_ids": group_ids, "channel": "app"},
        ),
        (  # a handler and a channel together: the raw rows
            {"handler_code": loop.county.dept.code, "channel": "hotline"},
            {"handler_id": loop.county.dept.pk, "channel": "hotline"},
        ),
    ]
    for params, scope in cases:
        ff = CockpitFilter(start=f.start, end=f.end, **params)
        check(loop, user, ff, now, **scope)
        assert repeats_of(user, ff) == reference_repeats(ff.start, ff.end, **scope), params
        spots = {g["code"]: g["intake"] for g in panels.hotspots(user=user, f=ff, now=now)["grids"]}
        want = Counter(
            c.grid.code
            for c in cases_in(ff.start, ff.end, **scope)
            if c.grid_id and c.status not in ("refused", "merged")
        )
        assert {k: v for k, v in spots.items() if v} == dict(want), params


@pytest.mark.parametrize("days", [30, 45, 400])
def test_place_filters_and_repeats_equal_raw_rows(loop, days):
    bulk_history(loop)
    grids = add_grids(loop)
    now = timezone.now()
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=days - 1), end=today)
    check_places(loop, f, now, grids)
    assert repeats_of(loop.dispatcher, f)  # the planted repeats are found
    rollups_equal_rebuild()


def test_place_rollups_follow_moves(loop):
    """Cases moved between grids, villages, categories and days, refused and deleted: the 30-day
    counts and monthly maxima follow (= the raw rows, = a rebuild)."""
    bulk_history(loop, n=120)
    grids = add_grids(loop)
    now = timezone.now()
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=44), end=today)
    reps = list(Case.objects.filter(number__startswith="REP0102").order_by("id").values_list("pk", flat=True))
    Case.objects.filter(pk__in=reps[:3]).update(grid=None)
    Case.objects.filter(pk__in=reps[3:5]).update(category=Category.objects.get(code="0201"))
    Case.objects.filter(pk__in=reps[5:7]).update(received_at=now - dt.timedelta(days=80))
    Case.objects.filter(pk__in=reps[7:8]).update(status="refused")
    Case.objects.filter(pk__in=reps[8:9]).delete()
    b1 = loop.county.village_b1
    Case.objects.filter(pk__in=reps[9:10]).update(region=b1, township=b1.parent, grid=grids[b1.pk])
    check_places(loop, f, now, grids)
    rollups_equal_rebuild()


def test_rows_that_net_to_zero_are_pruned(loop):
    from shanzhi.cockpit.rollups import rollups_prune

    bulk_history(loop, n=40)
    some = list(Case.objects.order_by("id").values_list("pk", flat=True)[:20])
    Case.objects.filter(pk__in=some).update(received_at=timezone.now() - dt.timedelta(days=900))
    zero = CaseDay.objects.filter(intake=0, closed=0, closed_secs=0, rated=0, satisfied=0)
    assert zero.exists()  # the days the cases left
    before = {m: m.objects.count() for m in (CaseDay, PlaceDay, HandlerDay)}
    assert rollups_prune() > 0
    assert not zero.exists()
    assert all(m.objects.count() <= n for m, n in before.items())
    rollups_equal_rebuild()
    rollups_rebuild()
    assert not zero.exists()
    assert not PlaceDay.objects.filter(intake=0, closed=0, closed_secs=0, rated=0, satisfied=0).exists()


def test_place_filters_read_no_raw_assignments(loop):
    """A village or grid filter takes the assignment figures from the handler place tables: kpis
    and the rankings read no assignment rows except the live open ones (overdue, due today)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk_history(loop, n=60)
    grids = add_grids(loop)
    now = timezone.now()
    today = now.astimezone(SH).date()
    village = loop.county.village_a1
    for params in ({"region_code": village.code}, {"grid_code": grids[village.pk].code}):
        f = CockpitFilter(start=today - dt.timedelta(days=399), end=today, **params)
        with CaptureQueriesContext(connection) as ctx:
            panels.handler_ranking(user=loop.dispatcher, f=f, now=now)
            panels.township_ranking(user=loop.dispatcher, f=f, now=now)
        sums = [q["sql"] for q in ctx.captured_queries if "cases_assignment" in q["sql"]]
        assert all("'pending'" in sql for sql in sums), sums  # only the open-assignment counts
        assert any("cockpit_handlerplace" in q["sql"] for q in ctx.captured_queries)


def test_handler_filter_counts_each_case_once_per_handler(loop):
    """The handler filter's case figures come from the handler case tables: a case counts once
    for each handler with a live primary assignment on it — twice to one handler is once, a
    returned one still counts, cancelling the last one takes it away, moving an assignment to
    another handler moves the case, deleting the case removes it. Each step equals the raw rows
    and a rebuild, and the figures are read without touching the case table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk_history(loop, n=60)
    now = timezone.now()
    today = now.astimezone(SH).date()
    dept, town_gov = loop.county.dept, loop.county.town_a_gov
    user = loop.dispatcher
    f_dept = CockpitFilter(start=today - dt.timedelta(days=729), end=today, handler_code=dept.code)
    f_town = CockpitFilter(start=f_dept.start, end=today, handler_code=town_gov.code)

    def same() -> None:
        for f, h in ((f_dept, dept), (f_town, town_gov)):
            got = panels.kpis(user=user, f=f, now=now)
            want = reference_kpis(f.start, f.end, now, handler_id=h.pk)
            assert {k: got[k] for k in ("intake", "closed", "rated", "satisfied")} == {
                k: want[k] for k in ("intake", "closed", "rated", "satisfied")
            }
        rollups_equal_rebuild()

    a = Assignment.objects.filter(handler=dept, role="primary", case__status="closed").first()
    assert a is not None
    intake = panels.kpis(user=user, f=f_dept, now=now)["intake"]
    twin = Assignment.objects.get(pk=a.pk)
    twin.pk = None
    twin.save()  # a second live primary assignment of the same case to the same handler
    same()
    assert panels.kpis(user=user, f=f_dept, now=now)["intake"] == intake
    Assignment.objects.filter(pk=a.pk).update(status="returned")
    same()
    assert panels.kpis(user=user, f=f_dept, now=now)["intake"] == intake
    Assignment.objects.filter(pk=twin.pk).update(status="cancelled")
    same()  # the returned one still counts
    assert panels.kpis(user=user, f=f_dept, now=now)["intake"] == intake
    Assignment.objects.filter(pk=a.pk).update(status="cancelled")
    same()
    assert panels.kpis(user=user, f=f_dept, now=now)["intake"] == intake - 1
    town_before = panels.kpis(user=user, f=f_town, now=now)["intake"]
    Assignment.objects.filter(pk=twin.pk).update(status="accepted", handler=town_gov)
    same()
    assert panels.kpis(user=user, f=f_town, now=now)["intake"] == town_before + 1
    Case.objects.filter(pk=a.case_id).update(category=Category.objects.get(code="0201"), status="refused")
    same()
    Case.objects.filter(pk=a.case_id).delete()
    same()
    with CaptureQueriesContext(connection) as ctx:
        panels.intake_monthly(user=user, f=f_dept)
        panels.category_shares(user=user, f=f_dept)
    assert not [q["sql"] for q in ctx.captured_queries if "cases_case" in q["sql"]]


def test_rebuild_command_recounts_a_suspended_switch(transactional_db, loop):
    """An interrupted bulk load leaves the triggers suspended and writes uncounted: `shanzhi
    cockpit rebuild` recounts from the raw rows, switches the triggers back on and audits it."""
    from io import StringIO

    from django.core.management import call_command

    from shanzhi.audit.models import AuditEntry
    from shanzhi.cockpit.models import RollupState
    from shanzhi.cockpit.rollups import set_suspended

    set_suspended(True)
    bulk_history(loop, n=50)
    assert not CaseDay.objects.exclude(intake=0).exists()
    out = StringIO()
    call_command("cockpit", "status", stdout=out)
    assert "已暂停" in out.getvalue()
    call_command("cockpit", "rebuild", stdout=out)
    assert "汇总表已重建" in out.getvalue()
    assert not RollupState.objects.get(pk=1).suspended
    assert AuditEntry.objects.filter(action="cockpit.rollups.rebuild").count() == 1
    now = timezone.now()
    today = now.astimezone(SH).date()
    check(loop, loop.dispatcher, CockpitFilter(start=today - dt.timedelta(days=720), end=today), now)
    intake(loop, text="小区门口垃圾堆积无人清运")  # counted by the triggers again
    check(loop, loop.dispatcher, CockpitFilter(start=today - dt.timedelta(days=720), end=today), now)


def test_migration_fill_waits_for_the_rebuild_of_a_suspended_load(loop):
    """A migration that adds rollup tables fills them from the raw rows, except while a bulk load
    has the triggers suspended: that load's rebuild fills every table, so filling twice at 10 M
    cases would only cost time."""
    from django.db import connection

    from shanzhi.cockpit.rollups import set_suspended, tables_fill

    bulk_history(loop, n=40)
    HandlerCaseDay.objects.all().delete()
    CaseHandler.objects.all().delete()
    set_suspended(True)
    assert tables_fill(connection, day_tables=("cockpit_handlercaseday",)) is False
    assert not HandlerCaseDay.objects.exists()
    set_suspended(False)
    assert tables_fill(connection, day_tables=("cockpit_handlercaseday",)) is True
    assert HandlerCaseDay.objects.exists() and CaseHandler.objects.exists()
    rollups_equal_rebuild()


def test_channel_and_handler_filters_read_rollups_not_cases(loop):
    """Under a channel or a handler filter the hotspot map, repeat complaints and the place
    filters' case figures come from the place × channel and handler × place tables: no case
    row is read (the open-assignment counts aside, which join live cases)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk_history(loop, n=60)
    grids = add_grids(loop)
    now = timezone.now()
    today = now.astimezone(SH).date()
    village = loop.county.village_a1
    dept = loop.county.dept.code
    for params in (
        {"channel": "hotline"},
        {"handler_code": dept},
        {"region_code": village.code, "channel": "app"},
        {"grid_code": grids[village.pk].code, "handler_code": dept},
    ):
        f = CockpitFilter(start=today - dt.timedelta(days=399), end=today, **params)
        with CaptureQueriesContext(connection) as ctx:
            panels.repeat_complaints(user=loop.dispatcher, f=f)
            panels.intake_monthly(user=loop.dispatcher, f=f)
            panels.category_shares(user=loop.dispatcher, f=f)
            panels.hotspots(user=loop.dispatcher, f=f, now=now)
        case_reads = [
            q["sql"] for q in ctx.captured_queries if "cases_case" in q["sql"] and "'pending'" not in q["sql"]
        ]
        assert not case_reads, (params, case_reads)
        family = "placechannel" if "channel" in params else "handlercaseplace"
        assert any(f"cockpit_{family}" in q["sql"] for q in ctx.captured_queries), params


def test_handler_repeats_follow_assignment_moves(loop):
    """The handler × place 30-day counts follow an assignment moved to another handler, cancelled
    and restored, and a case moved to another grid: the repeat panel under each handler equals
    the raw rows and the tables equal a rebuild."""
    from shanzhi.cockpit.tests.reference import reference_repeats

    bulk_history(loop, n=40)
    grids = add_grids(loop)
    now = timezone.now()
    today = now.astimezone(SH).date()
    dept, town_gov = loop.county.dept, loop.county.town_a_gov
    reps = list(Case.objects.filter(number__startswith="REP0102").order_by("id"))
    started = now - dt.timedelta(days=3)
    made = [
        Assignment.objects.create(
            case=c,
            handler=dept,
            role="primary",
            status="accepted",
            clock_unit="natural_hours",
            sla_hours=72,
            started_at=started,
            warn_at=started,
            deadline=started + dt.timedelta(hours=72),
            county_at=started,
        )
        for c in reps
    ]
    f = CockpitFilter(start=today - dt.timedelta(days=59), end=today)

    def same() -> None:
        for h in (dept, town_gov):
            hf = CockpitFilter(start=f.start, end=f.end, handler_code=h.code)
            assert repeats_of(loop.dispatcher, hf) == reference_repeats(f.start, f.end, handler_id=h.pk)
        rollups_equal_rebuild()

    same()
    code = grids[loop.county.village_a1.pk].code
    assert (code, "0102") in repeats_of(
        loop.dispatcher, CockpitFilter(start=f.start, end=f.end, handler_code=dept.code)
    )
    Assignment.objects.filter(pk__in=[a.pk for a in made[:6]]).update(handler=town_gov)
    same()
    Assignment.objects.filter(pk__in=[a.pk for a in made[6:9]]).update(status="cancelled")
    same()
    Assignment.objects.filter(pk__in=[a.pk for a in made[6:8]]).update(status="pending")
    same()
    Case.objects.filter(pk__in=[c.pk for c in reps[:4]]).update(grid=None)
    same()
    Assignment.objects.filter(pk=made[-1].pk).delete()
    same()


def test_repeat_complaints_top_rows_and_total(loop):
    """With a limit the panel lists the worst repeats first — the same rows, in the same order, as
    the head of the full list — and says how many there are in all."""
    bulk_history(loop, n=40)
    add_grids(loop)
    today = timezone.localdate()
    f = CockpitFilter(start=today - dt.timedelta(days=59), end=today)
    full = panels.repeat_complaints(user=loop.dispatcher, f=f)
    assert full["total"] == len(full["rows"]) >= 2
    top = panels.repeat_complaints(user=loop.dispatcher, f=f, limit=1)
    assert top["total"] == full["total"] and top["rows"] == full["rows"][:1]
    counts = [r["max_in_30_days"] for r in full["rows"]]
    assert counts == sorted(counts, reverse=True)
