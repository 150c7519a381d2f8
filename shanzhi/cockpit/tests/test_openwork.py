"""The current-state figures (open, due today, overdue; overdue per grid, township and handler)
equal the raw rows under every filter after the writes that could make a shortcut miscount: an open
assignment of a case in another township than its handler's, a case re-opened and re-dispatched,
a closed case whose primary assignment is still open, a case moved to another grid and township,
co-handler, suspended, reported and cancelled assignments past their deadline. And the queries carry
the partial indexes' conditions as SQL text, which SQLite needs to use those indexes at all."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from shanzhi.cases import services as svc
from shanzhi.cases.models import Assignment, Case, Category
from shanzhi.cases.tests.test_loop import intake, to_reported
from shanzhi.cockpit import panels
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.openwork import Literal
from shanzhi.cockpit.tests.reference import SH, cases_in
from shanzhi.cockpit.tests.test_panels import add_grids, bulk_history
from shanzhi.cockpit.tests.test_panels_live import live_reference

EVER = (dt.date(1970, 1, 1), dt.date(2999, 1, 1))


def overdue_reference(now: dt.datetime, key: str, handler_id: int | None = None, **scope: Any) -> dict:
    """Open primary assignments past their deadline of the scope's cases, per grid, township or
    handler code (the handler filter narrows the assignments)."""
    cases = {c.pk: c for c in cases_in(*EVER, **scope)}
    out: Counter = Counter()
    for a in Assignment.objects.select_related("handler"):
        c = cases.get(a.case_id)
        if c is None or a.role != "primary" or a.status not in ("pending", "accepted") or a.deadline >= now:
            continue
        if handler_id is not None and a.handler_id != handler_id:
            continue
        k = {
            "grid": c.grid.code if c.grid_id else None,
            "township": c.township.code if c.township_id else None,
            "handler": a.handler.code,
        }[key]
        if k:
            out[k] += 1
    return dict(out)


def filters(loop: Any, grids: dict) -> list[tuple[dict[str, str], dict[str, Any]]]:
    c = loop.county
    group = Category.objects.get(code="0102").group
    ids = set(Category.objects.filter(group=group).values_list("pk", flat=True))
    grid = grids[c.village_a1.pk]
    return [
        ({}, {}),
        ({"region_code": c.town_a.code}, {"township_id": c.town_a.pk}),
        ({"region_code": c.town_b.code}, {"township_id": c.town_b.pk}),
        ({"region_code": c.village_a1.code}, {"village_id": c.village_a1.pk}),
        ({"grid_code": grid.code}, {"grid_id": grid.pk}),
        ({"category_code": f"g:{group}"}, {"category_ids": ids}),
        ({"channel": "hotline"}, {"channel": "hotline"}),
        ({"handler_code": c.town_a_gov.code}, {"handler_id": c.town_a_gov.pk}),
        (
            {"region_code": c.town_b.code, "handler_code": c.town_a_gov.code},
            {"township_id": c.town_b.pk, "handler_id": c.town_a_gov.pk},
        ),
    ]


def check(loop: Any, grids: dict, now: dt.datetime, user: Any = None) -> dict[str, int]:
    """Every filter: the tiles and the three overdue breakdowns equal the raw rows."""
    user = user or loop.dispatcher
    today = now.astimezone(SH).date()
    county: dict[str, int] = {}
    for params, scope in filters(loop, grids):
        f = CockpitFilter(start=today - dt.timedelta(days=399), end=today, **params)
        got = panels.kpis(user=user, f=f, now=now)
        want = live_reference(now, **scope)
        assert {k: got[k] for k in want} == want, params
        county = county or want
        spots = panels.hotspots(user=user, f=f, now=now, metric="overdue")["grids"]
        assert {g["code"]: g["overdue"] for g in spots if g["overdue"]} == overdue_reference(
            now, "grid", **scope
        ), params
        towns = panels.township_ranking(user=user, f=f, now=now)["rows"]
        assert {r["code"]: r["overdue"] for r in towns if r["overdue"]} == overdue_reference(
            now, "township", **scope
        ), params
        bodies = panels.handler_ranking(user=user, f=f, now=now)["rows"]
        assert {r["code"]: r["overdue"] for r in bodies if r["overdue"]} == overdue_reference(
            now, "handler", **scope
        ), params
    return county


def open_primary_of(**case_filter: Any) -> Assignment:
    a = (
        Assignment.objects.filter(role="primary", status__in=["pending", "accepted"], **case_filter)
        .order_by("id")
        .first()
    )
    assert a is not None
    return a


def test_current_state_follows_the_writes_that_could_miscount(loop):
    bulk_history(loop)
    grids = add_grids(loop)
    c = loop.county
    now = timezone.now()
    past = now - dt.timedelta(hours=30)
    before = check(loop, grids, now)
    assert before["open"] and before["overdue"]

    # An open case of town B whose overdue assignment is town A's government's: it counts under
    # town B and the town A body, never under town A.
    other = open_primary_of(case__township=c.town_b, case__status__in=["dispatched", "in_progress"])
    Assignment.objects.filter(pk=other.pk).update(handler=c.town_a_gov, deadline=past)
    # A case closed in a data repair with its primary assignment still open: still overdue.
    stale = open_primary_of(case__township=c.town_a, case__grid__isnull=False)
    Assignment.objects.filter(pk=stale.pk).update(deadline=past, handler=c.town_a_gov)
    Case.objects.filter(pk=stale.case_id).update(status="closed", closed_at=now)
    # Past their deadline but not open primary work: co-handler, suspended, reported, cancelled.
    for status, role in (("pending", "co"), ("suspended", "primary"), ("reported", "primary")):
        a = open_primary_of(case__township=c.town_a)
        Assignment.objects.filter(pk=a.pk).update(status=status, role=role, deadline=past)
    a = open_primary_of(case__township=c.town_b)
    Assignment.objects.filter(pk=a.pk).update(status="cancelled", deadline=past)
    moved_before = check(loop, grids, now)
    town_b_overdue = overdue_reference(now, "township", township_id=c.town_b.pk)
    assert town_b_overdue.get(c.town_b.code)
    assert overdue_reference(now, "handler", handler_id=c.town_a_gov.pk)[c.town_a_gov.code] >= 2
    assert moved_before["overdue"] == sum(overdue_reference(now, "handler").values())

    # A case moved (raw update) to another village, grid and township: its overdue follows it.
    moving = open_primary_of(case__region=c.village_a1, case__grid__isnull=False)
    Assignment.objects.filter(pk=moving.pk).update(deadline=past)
    b1 = c.village_b1
    Case.objects.filter(pk=moving.case_id).update(region=b1, township=b1.parent, grid=grids[b1.pk])
    check(loop, grids, now)
    spots = panels.hotspots(user=loop.dispatcher, f=CockpitFilter(start=now.date(), end=now.date()), now=now)
    assert {g["code"]: g["overdue"] for g in spots["grids"]}.get(grids[b1.pk].code)

    # A case closed and rated unsatisfied re-opens; re-dispatched, its new assignment is open work
    # (the old, done one is not) and counts once past its deadline.
    done = svc.case_verify(
        actor=loop.gridworker, case=to_reported(loop, intake(loop, actor=loop.resident)), passed=True
    )
    svc.case_rate(actor=loop.resident, case=done, satisfaction="unsatisfied")
    reopened = Case.objects.get(pk=done.pk)
    assert reopened.status == "registered" and reopened.reopen_count == 1
    svc.case_dispatch(actor=loop.dispatcher, case=reopened, primary=c.dept)
    fresh = Assignment.objects.get(case=reopened, status="pending")
    Assignment.objects.filter(pk=fresh.pk).update(deadline=past)
    after = check(loop, grids, now)
    assert after["open"] == moved_before["open"] + 1
    # the re-opened case's, and the moved case's unless it was overdue already
    assert after["overdue"] == moved_before["overdue"] + 1 + (moving.deadline >= now)

    # A township leader sees their township's figures whatever the rows elsewhere.
    from shanzhi.conftest import make_user

    leader = make_user(username="leader-b", region=c.town_b, roles=["leader"])
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=30), end=today)
    got = panels.kpis(user=leader, f=f, now=now)
    want = live_reference(now, township_id=c.town_b.pk)
    assert {k: got[k] for k in want} == want
    towns = panels.township_ranking(user=leader, f=f, now=now)["rows"]
    assert {r["code"] for r in towns if r["overdue"]} == {c.town_b.code}


class Sent:
    """An execute wrapper keeping each query's SQL and its bound values as sent to the driver."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, Any]] = []

    def __call__(self, execute: Any, sql: str, values: Any, many: bool, context: Any) -> Any:
        self.queries.append((sql, values))
        return execute(sql, values, many, context)


def test_open_conditions_are_sql_text(loop):
    """Each current-state query repeats a partial index's condition in its SQL text, not as bound
    values (SQLite matches a partial index by the text only); on SQLite, planned with its real
    parameters and no statistics, it reads only open assignments, never every past one."""
    bulk_history(loop, n=60)
    grids = add_grids(loop)
    now = timezone.now()
    today = now.astimezone(SH).date()
    open_work = """"role" = 'primary' AND "cases_assignment"."status" IN ('pending', 'accepted')"""
    open_case = """"status" IN ('received', 'registered', 'dispatched', 'in_progress', 'verifying')"""
    for params, _scope in filters(loop, grids):
        f = CockpitFilter(start=today - dt.timedelta(days=29), end=today, **params)
        sent = Sent()
        with connection.execute_wrapper(sent):
            panels.kpis(user=loop.dispatcher, f=f, now=now)
            for name in ("hotspots", "township_ranking", "handler_ranking"):
                panels.panel_call(name, user=loop.dispatcher, f=f, now=now)
        live = [(sql, v) for sql, v in sent.queries if re.search(r'FROM "cases_assignment"(?! U\d)', sql)]
        assert len(live) >= 5, params  # due today, overdue, and one per breakdown
        assert all(open_work in sql for sql, _v in live), params
        assert any(open_case in sql for sql, _v in sent.queries), params
        if connection.vendor == "sqlite":
            for sql, values in live:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN QUERY PLAN " + sql, values)
                    plan = " | ".join(str(r[3]) for r in cursor.fetchall())
                # the open rows: the partial index, or one handler's open rows by (handler, status)
                assert "cockpit_asg_open_deadline" in plan or "(handler_id=? AND status=?)" in plan, (
                    params,
                    plan,
                )


def test_literal_takes_fixed_codes_only():
    with pytest.raises(ValueError):
        Literal("status", ("pending', 'x",))
    with pytest.raises(ValueError):
        Literal("status", ())
