"""Concurrent writers on PostgreSQL: threads on their own connections take cases through the
real services (intake … close … rating) on the same place and category, so every one of them
upserts the same rollup rows and 30-day keys. No deadlock, no lost count: rollups = rebuild =
raw rows.

All threads report from one spot, so the services link their cases as possible duplicates of
each other too (the case lock no longer blocks that link's foreign-key check: docs/cases.md,
"Locks")."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from shanzhi.cases import services as svc
from shanzhi.cases.models import Case
from shanzhi.cases.tests.test_loop import to_reported
from shanzhi.cockpit import panels
from shanzhi.cockpit.filters import CockpitFilter
from shanzhi.cockpit.tests.reference import SH, reference_repeats
from shanzhi.cockpit.tests.test_panels import check, repeats_of, rollups_equal_rebuild

THREADS = 4
CASES_EACH = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_and_closing_keep_rollups_exact(loop):
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(i: int) -> None:
        try:
            start.wait()
            for j in range(CASES_EACH):
                place = svc.Place(
                    region=loop.county.village_a1, township=loop.county.town_a, lon=119.8, lat=28.3
                )
                case = svc.case_intake(
                    actor=loop.resident,
                    channel="app",
                    text=f"噪声扰民第{i}-{j}次,夜间施工",
                    place=place,
                    suggestion=svc.Suggestion(category=loop.category("0102"), confidence=0.7),
                )
                if j % 2 == 0:
                    done = svc.case_verify(actor=loop.gridworker, case=to_reported(loop, case), passed=True)
                    svc.case_rate(actor=loop.resident, case=done, satisfaction="satisfied")
                elif j % 3 == 1:
                    svc.case_refuse(
                        actor=loop.dispatcher,
                        case=svc.case_register(actor=loop.dispatcher, case=case),
                        reason="重复",
                    )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, [str(e) for e in errors]
    assert Case.objects.count() == THREADS * CASES_EACH
    now = timezone.now()
    today = now.astimezone(SH).date()
    f = CockpitFilter(start=today - dt.timedelta(days=29), end=today)
    check(loop, loop.dispatcher, f, now)
    kpis = panels.kpis(user=loop.dispatcher, f=f, now=now)
    refused = Case.objects.filter(status="refused").count()
    assert kpis["intake"] == THREADS * CASES_EACH - refused
    repeats = repeats_of(loop.dispatcher, f)
    assert repeats == reference_repeats(f.start, f.end)
    # one place, all today: every categorised intake case is in its repeat row
    categorised = Case.objects.exclude(status="refused").exclude(category=None).count()
    assert categorised and sum(n for _, _, n in repeats.values()) == categorised
    rollups_equal_rebuild()
