"""Every cockpit tile and panel as a selector returning plain JSON-able dicts (work in progress:
signatures are final, bodies are being filled in)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from shanzhi.cockpit.filters import CockpitFilter


def kpis(*, user: Any, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    return {}


def intake_daily(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    return {"days": [], "series": []}


def intake_monthly(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    return {"months": [], "series": []}


def category_shares(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    return {"total": 0, "rows": []}


def hotspots(*, user: Any, f: CockpitFilter, now: dt.datetime, metric: str = "intake") -> dict[str, Any]:
    return {"metric": metric, "grids": []}


def handler_ranking(*, user: Any, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    return {"rows": []}


def township_ranking(*, user: Any, f: CockpitFilter, now: dt.datetime) -> dict[str, Any]:
    return {"rows": []}


def repeat_complaints(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    return {"rows": []}


def seasonal(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    return {"year": f.end.year, "months": [], "this_year": [], "last_year": []}


def seed_focus(*, user: Any, f: CockpitFilter) -> dict[str, Any]:
    return {"months": [], "totals": [], "series": []}


PANELS: dict[str, Callable[..., dict[str, Any]]] = {
    "intake_daily": intake_daily,
    "intake_monthly": intake_monthly,
    "category_shares": category_shares,
    "hotspots": hotspots,
    "handler_ranking": handler_ranking,
    "township_ranking": township_ranking,
    "repeat_complaints": repeat_complaints,
    "seasonal": seasonal,
    "seed_focus": seed_focus,
}
# Panels that also take `now` (current-state figures such as overdue).
NEEDS_NOW = frozenset({"hotspots", "handler_ranking", "township_ranking"})
