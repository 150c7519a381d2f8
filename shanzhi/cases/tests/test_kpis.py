"""KPIs equal what the raw rows say."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shanzhi.cases import services as svc
from shanzhi.cases.kpis import kpis_by_handler, kpis_by_township
from shanzhi.cases.models import Assignment
from shanzhi.cases.tests.test_loop import intake, to_reported


def test_kpis_by_handler_and_township(loop):
    now = timezone.now()
    # 1: closed on time and rated satisfied
    done = svc.case_verify(
        actor=loop.gridworker, case=to_reported(loop, intake(loop, actor=loop.resident)), passed=True
    )
    svc.case_rate(actor=loop.resident, case=done, satisfaction="satisfied")
    # 2: returned by the body
    returned = svc.case_register(actor=loop.dispatcher, case=intake(loop, text="井盖坏了"))
    returned = svc.case_dispatch(actor=loop.dispatcher, case=returned, primary=loop.county.dept)
    svc.assignment_return(actor=loop.urban_handler, assignment=returned.assignments.get(), reason="错派")
    # 3: dispatched and overdue
    late = svc.case_register(actor=loop.dispatcher, case=intake(loop, text="摊贩又来了"))
    late = svc.case_dispatch(actor=loop.dispatcher, case=late, primary=loop.county.dept)
    Assignment.objects.filter(case=late).update(deadline=now - dt.timedelta(hours=1))
    # 4: refused — not counted as received
    svc.case_refuse(actor=loop.dispatcher, case=intake(loop, text="咨询天气"), reason="非政府职责")

    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    [urban] = [
        k
        for k in kpis_by_handler(user=loop.dispatcher, start=start, end=end, now=timezone.now())
        if k.key == "urban_mgmt"
    ]
    assert (urban.dispatched, urban.responded, urban.returned, urban.overdue) == (3, 2, 1, 1)
    assert urban.response_rate == round(2 / 3, 4)
    assert urban.on_time == 1

    [town] = kpis_by_township(user=loop.dispatcher, start=start, end=end, now=timezone.now())
    assert town.key == "331199101000"
    assert (town.received, town.closed, town.rated, town.satisfied) == (3, 1, 1, 1)
    assert town.satisfaction_rate == 1.0 and town.resolution_rate == round(1 / 3, 4)


def test_kpis_follow_jurisdiction(loop):
    to_reported(loop, intake(loop))
    now = timezone.now()
    args = {"start": now - dt.timedelta(days=1), "end": now + dt.timedelta(days=30), "now": now}
    assert kpis_by_township(user=loop.dispatcher_b, **args) == []
    assert kpis_by_handler(user=loop.dispatcher_b, **args) == []
