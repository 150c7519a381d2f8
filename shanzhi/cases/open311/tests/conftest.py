"""The cases loop (catalogue, bodies, people) on the small mapped county, and one Open311 client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from shanzhi.cases import services as svc
from shanzhi.cases.models import Case
from shanzhi.cases.open311.models import Open311Client
from shanzhi.cases.open311.services import open311_client_create
from shanzhi.cases.tests.loop_setup import Loop

BASE = "/open311/v2/"
# Inside grid 上溪村第1网格 (township A, village a1) of the mapped county.
LAT, LON = 28.4, 119.65


@dataclass
class O311:
    loop: Loop
    client: Open311Client
    key: str
    http: Any

    def post(self, fmt: str = "json", *, headers: dict[str, str] | None = None, **fields: Any) -> Any:
        data = {"api_key": self.key, **fields}
        data = {k: v for k, v in data.items() if v is not None}
        return self.http.post(
            f"{BASE}requests.{fmt}",
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
            headers=headers or {},
        )

    def get(self, path: str, **query: Any) -> Any:
        return self.http.get(BASE + path, query)

    def case(self, *, text: str = "小区门口占道经营,流动摊贩很多", category: str = "0102", **kw: Any) -> Case:
        """A case from another channel, straight through the cases service (no triage)."""
        place = svc.Place(
            region=self.loop.county.village_a1, township=self.loop.county.town_a, lon=LON, lat=LAT
        )
        return svc.case_intake(
            actor=None,
            channel=kw.pop("channel", "hotline"),
            text=text,
            place=place,
            suggestion=svc.Suggestion(category=self.loop.category(category), confidence=0.7),
            **kw,
        )


@pytest.fixture
def o311(loop: Loop, mapped: Any, client: Any) -> O311:
    app, key = open311_client_create(actor=None, name="test-app")
    return O311(loop=loop, client=app, key=key, http=client)
