"""The live tiles (open, due today, overdue) equal the raw rows under every kind of filter,
including when an open assignment belongs to a case that is no longer open (the kpis path joins
to the open cases only when no such assignment exists)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shanzhi.cases.models import OPEN_STATUSES, Assignment, Case, Category
from shanzhi.cockpit import panels
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.sums import local_start
from shanzhi.cockpit.tests.reference import SH, cases_in
from shanzhi.cockpit.tests.test_panels import bulk_history


def live_reference(now: dt.datetime, handler_id: int | None = None, **scope) -> dict[str, int]:
    case_ids = {c.pk for c in cases_in(dt.date(1970, 1, 1), dt.date(2999, 1, 1), **scope)}
    today = now.astimezone(SH).date()
    day_end = local_start(today) + dt.timedelta(days=1)
    primary = [
        a
        for a in Assignment.objects.all()
        if a.case_id in case_ids
        and a.role == "primary"
        and a.status in ("pending", "accepted")
        and (handler_id is None or a.handler_id == handler_id)
    ]
    if handler_id is not None:  # the handler's cases: a live primary assignment of theirs
        case_ids &= {
            a.case_id
            for a in Assignment.objects.filter(handler_id=handler_id, role="primary").exclude(
                status="cancelled"
            )
        }
    return {
        "open": Case.objects.filter(pk__in=case_ids, status__in=OPEN_STATUSES).count(),
        "overdue": sum(1 for a in primary if a.deadline < now),
        "due_today": sum(1 for a in primary if max(local_start(today), now) <= a.deadline < day_end),
    }


def live(loop, now: dt.datetime) -> None:
    today = now.astimezone(SH).date()
    start = today - dt.timedelta(days=400)
    group = Category.objects.get(code="0102").group
    ids = set(Category.objects.filter(group=group).values_list("pk", flat=True))
    town, village = loop.county.town_a, loop.county.village_a2
    handler = loop.county.dept
    filters = [
        (CockpitFilter(start=start, end=today), {}),
        (CockpitFilter(start=start, end=today, region_code=town.code), {"township_id": town.pk}),
        (CockpitFilter(start=start, end=today, region_code=village.code), {"village_id": village.pk}),
        (
            CockpitFilter(start=start, end=today, category_code=f"g:{group}", channel="app"),
            {"category_ids": ids, "channel": "app"},
        ),
        (
            CockpitFilter(start=start, end=today, region_code=town.code, handler_code=handler.code),
            {"township_id": town.pk, "handler_id": handler.pk},
        ),
    ]
    county: dict[str, int] = {}
    for f, scope in filters:
        got = panels.kpis(user=loop.dispatcher, f=f, now=now)
        want = live_reference(now, **scope)
        assert {k: got[k] for k in want} == want, (f, scope)
        county = county or want
        if "handler_id" in scope:
            assert want["open"], "the handler filter selects some open cases"
    assert all(county.values()), county  # every tile is non-zero county-wide


def test_live_tiles_equal_raw_rows(loop):
    bulk_history(loop)
    now = timezone.now()
    # a few primary assignments due later today, so due_today is not trivially zero
    day_end = local_start(now.astimezone(SH).date()) + dt.timedelta(days=1)
    soon = now + (day_end - now) / 2
    open_ids = list(
        Assignment.objects.filter(role="primary", status__in=["pending", "accepted"]).values_list(
            "pk", flat=True
        )[:6]
    )
    Assignment.objects.filter(pk__in=open_ids).update(deadline=soon)
    live(loop, now)


def test_live_tiles_count_open_assignments_of_closed_cases(loop):
    """A case closed while its primary assignment is still open (a data repair, an import): the
    assignment stays in overdue / due today under every filter."""
    bulk_history(loop)
    now = timezone.now()
    day_end = local_start(now.astimezone(SH).date()) + dt.timedelta(days=1)
    open_asg = list(
        Assignment.objects.filter(
            role="primary", status__in=["pending", "accepted"], case__township=loop.county.town_a
        )[:4]
    )
    assert len(open_asg) == 4
    Assignment.objects.filter(pk__in=[a.pk for a in open_asg[:2]]).update(
        deadline=now - dt.timedelta(hours=5)
    )
    Assignment.objects.filter(pk__in=[a.pk for a in open_asg[2:]]).update(deadline=now + (day_end - now) / 2)
    Case.objects.filter(pk__in=[a.case_id for a in open_asg]).update(status="closed", closed_at=now)
    live(loop, now)
