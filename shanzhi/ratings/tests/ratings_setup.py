"""A county with the case catalogue, one person per role that ratings involves, and closed cases
to rate.

A pytest plugin (root conftest): any test requests `ratings_world` by name (the ratings tests
call it `world`, see their conftest)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from shanzhi.cases import services as case_svc
from shanzhi.cases.catalogue import category_sync
from shanzhi.cases.models import Case, Category
from shanzhi.conftest import County, make_user
from shanzhi.core.catalogue import handler_types
from shanzhi.core.services import handler_type_upsert

TZ = dt.timezone(dt.timedelta(hours=8))
PHONE = "13812345678"


@dataclass
class World:
    county: County
    resident: Any
    resident_b: Any
    operator: Any
    operator_b: Any
    dispatcher: Any
    gridworker: Any
    urban_handler: Any
    urban_handler_2: Any
    urban_leader: Any
    town_b_handler: Any
    supervisor: Any
    supervisor_a: Any
    supervisor_b: Any
    leader_a: Any

    def closed_case(self, *, reporter: Any = None, phone: str = PHONE, village: Any = None) -> Case:
        """A case taken in, dispatched to the county's urban management, reported by
        urban_handler, verified and closed — ready to be rated."""
        village = village or self.county.village_a1
        township = village.parent
        case = case_svc.case_intake(
            actor=reporter or self.operator,
            channel="app" if reporter else "hotline",
            text="小区门口占道经营,流动摊贩很多",
            place=case_svc.Place(region=village, township=township, lon=119.8, lat=28.3),
            suggestion=case_svc.Suggestion(category=Category.objects.get(code="0102"), confidence=0.7),
            reporter_phone=phone,
        )
        case = case_svc.case_register(actor=self.dispatcher, case=case)
        case = case_svc.case_dispatch(actor=self.dispatcher, case=case, primary=self.county.dept)
        primary = case.assignments.get(role="primary")
        case_svc.assignment_accept(actor=self.urban_handler, assignment=primary)
        case_svc.assignment_report(actor=self.urban_handler, assignment=primary, text="已清理占道摊点")
        case = Case.objects.get(pk=case.pk)
        return case_svc.case_verify(actor=self.dispatcher, case=case, passed=True, note="已核实")


@pytest.fixture
def ratings_world(county: County) -> World:
    for row in handler_types():
        handler_type_upsert(
            actor=None, code=row.code, kind=row.kind, name_zh=row.name_zh, name_en=row.name_en
        )
    category_sync(actor=None)
    return World(
        county=county,
        resident=make_user(username="r-resident", region=county.village_a1, roles=["resident"]),
        resident_b=make_user(username="r-resident-b", region=county.village_a1, roles=["resident"]),
        operator=make_user(username="r-operator", region=county.county, roles=["operator"]),
        operator_b=make_user(username="r-operator-b", region=county.town_b, roles=["operator"]),
        dispatcher=make_user(username="r-dispatcher", region=county.county, roles=["dispatcher"]),
        gridworker=make_user(username="r-grid", region=county.village_a1, roles=["gridworker"]),
        urban_handler=make_user(
            username="r-urban", region=county.county, roles=["handler"], handler=county.dept
        ),
        urban_handler_2=make_user(
            username="r-urban-2", region=county.county, roles=["handler"], handler=county.dept
        ),
        urban_leader=make_user(
            username="r-urban-leader", region=county.county, roles=["leader"], handler=county.dept
        ),
        town_b_handler=make_user(
            username="r-town-b", region=county.town_b, roles=["handler"], handler=county.town_b_gov
        ),
        supervisor=make_user(username="r-supervisor", region=county.county, roles=["supervisor"]),
        supervisor_a=make_user(username="r-supervisor-a", region=county.town_a, roles=["supervisor"]),
        supervisor_b=make_user(username="r-supervisor-b", region=county.town_b, roles=["supervisor"]),
        leader_a=make_user(username="r-leader-a", region=county.town_a, roles=["leader"]),
    )
