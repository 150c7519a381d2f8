"""Concurrent intakes at one spot (PostgreSQL): reporters at the same place about the same matter,
each through POST /api/v1/cases with auto-dispatch on, on its own connection. Every intake is
linked as a possible duplicate of one before it while that earlier case is being registered and
dispatched; all must succeed, and the links must be the ones duplicate detection promises."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import shapely
from django.db import connections
from django.test import Client

from shanzhi.cases.models import Case, CaseStatus
from shanzhi.cockpit.models import RollupState
from shanzhi.conftest import make_user
from shanzhi.grid.geometry import to_geojson
from shanzhi.grid.services import grid_create, region_shape_set
from shanzhi.triage.models import TriageSettings
from shanzhi.triage.services import triage_model_ensure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPORTERS = 6
EACH = 5
SPOT = {"lon": 119.65, "lat": 28.42}  # inside 上溪村's grid
# Triage is sure (threshold 0) and routes food safety to the county's market regulator, so every
# intake is registered and dispatched at once: its case is locked while later intakes link to it.
TEXT = "饭店卖的熟食过期变质了,吃了拉肚子"


@pytest.fixture
def spot(loop: Any) -> Any:
    county = loop.county
    region_shape_set(
        actor=None, region=county.county, geometry=to_geojson(shapely.box(119.6, 28.2, 120.0, 28.5))
    )
    grid_create(
        actor=None,
        code="331199101201-01",
        name="上溪村第1网格",
        village=county.village_a1,
        geometry=to_geojson(shapely.box(119.6, 28.35, 119.7, 28.5)),
    )
    TriageSettings.objects.update_or_create(pk=1, defaults={"auto_dispatch_threshold": 0.0})
    triage_model_ensure()  # trained once, before the threads
    return make_user(username="l-operator", region=county.county, roles=["operator"])


@pytest.mark.parametrize("rollups", ["live", "suspended"])
def test_intakes_at_one_spot_succeed_and_link_to_earlier_cases(loop: Any, spot: Any, rollups: str) -> None:
    # The deadlock this guards against needed no help from the cockpit's triggers (which take the
    # audit head at the first case write): run with them and with them switched off.
    RollupState.objects.update_or_create(pk=1, defaults={"suspended": rollups == "suspended"})
    start = threading.Barrier(REPORTERS)
    answers: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def report(n: int) -> None:
        try:
            client = Client()
            client.force_login(spot)
            start.wait()
            for i in range(EACH):
                resp = client.post(
                    "/api/v1/cases",
                    data={"channel": "hotline", "text": f"{TEXT}({n}-{i})", **SPOT},
                    content_type="application/json",
                )
                answers.append((resp.status_code, resp.content.decode()[:300]))
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report, args=(n,)) for n in range(REPORTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, [repr(e) for e in errors]
    assert [status for status, _ in answers] == [201] * (REPORTERS * EACH), answers

    cases = list(Case.objects.order_by("number"))
    assert len(cases) == REPORTERS * EACH
    assert {c.status for c in cases} == {CaseStatus.DISPATCHED}
    assert len({c.suggested_category_id for c in cases}) == 1
    # Intakes take turns on the day's number, so a case sees every lower-numbered case. It links
    # to one received no later than itself, and finds none only when no such case exists.
    for k, case in enumerate(cases):
        earlier = [c for c in cases[:k] if c.received_at <= case.received_at]
        if earlier:
            assert case.possible_duplicate_of_id in {c.pk for c in earlier}, case.number
        else:
            assert case.possible_duplicate_of_id is None, case.number
    assert cases[0].possible_duplicate_of_id is None
    assert sum(c.possible_duplicate_of_id is not None for c in cases) >= len(cases) - REPORTERS
