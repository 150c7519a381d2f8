"""The ratings tests' `world` (the `ratings_world` plugin fixture; the root conftest's `world` is
the emergency one), and a clock the tests can set (for deadlines in working days across
holidays)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shanzhi.ratings.tests.ratings_setup import World


@pytest.fixture
def world(ratings_world: World) -> World:
    return ratings_world


class Clock:
    """timezone.now() for the whole process, set by the test (the ORM's auto_now fields too)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment: dt.datetime) -> None:
        self.now = moment

    def advance(self, delta: dt.timedelta) -> None:
        self.now = self.now + delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)
