"""Demo households: inside their grids, 15–25 a grid, some cared for, deterministic, loaded once."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import numpy as np

from shanzhi.audit.models import AuditEntry
from shanzhi.grid.demo import load_demo
from shanzhi.grid.demo_households import grid_households
from shanzhi.grid.locate import locate_points
from shanzhi.grid.models import Grid, Household


def test_demo_households(county: Any) -> None:
    out = io.StringIO()
    load_demo(stdout=out)
    assert "住户:生成" in out.getvalue()
    grids = {g.pk: g for g in Grid.objects.filter(active=True)}
    households = list(Household.objects.select_related("grid"))
    per_grid = Counter(h.grid_id for h in households)
    assert set(per_grid) == set(grids)
    assert all(15 <= n <= 25 for n in per_grid.values())
    # Every point lies in its own grid (point → grid gives the household's grid back).
    located = locate_points(
        lon=np.array([h.lon for h in households]), lat=np.array([h.lat for h in households])
    )
    assert [loc.grid_id for loc in located] == [h.grid_id for h in households]
    cared = sum(h.elderly_alone or h.disabled or h.bedridden or h.left_behind_children for h in households)
    assert 0.03 < cared / len(households) < 0.15
    no_phone = [h for h in households if not h.phone]
    assert no_phone and all(h.no_phone for h in no_phone)
    assert all(len(h.phone) == 11 for h in households if h.phone)
    assert AuditEntry.objects.filter(action="grid.household.demo").count() == len(households)

    # Deterministic: the same grid gives the same register again.
    grid = households[0].grid
    again = grid_households(grid)
    stored = sorted(
        Household.objects.filter(grid=grid).values_list("code", "lon", "lat", "head_name", "phone")
    )
    assert sorted((h.code, h.lon, h.lat, h.head_name, h.phone) for h in again) == stored

    # A second load adds nothing.
    before = (Household.objects.count(), AuditEntry.objects.count())
    second = io.StringIO()
    load_demo(stdout=second)
    assert "不再生成" in second.getvalue()
    assert (Household.objects.count(), AuditEntry.objects.count()) == before
