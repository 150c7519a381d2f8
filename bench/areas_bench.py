"""Area → targets benchmark: a polygon over ~100 000 households resolves in under one second.

    .venv/bin/python bench/areas_bench.py                      # throwaway SQLite database in a temp dir
    .venv/bin/python bench/areas_bench.py --households 200000 --runs 30
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/areas_bench .venv/bin/python bench/areas_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and loads the demo)

Loads the demo county (≈ 450 grids), adds households spread evenly over the grids (points
inside each grid) until there are `--households`, then times `area_resolve` for: a polygon
covering ~90 % of the county (alone, for the county leader, for a township leader), a 3 km
circle, a township code and a small polygon. Prints the median and p99 wall time and the median
CPU time of this process (less moved by a busy machine; excludes PostgreSQL's own CPU), index warm.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="areas-bench-"))
    os.environ.setdefault("SHANZHI_VAR_DIR", str(workdir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    import django

    django.setup()
    import numpy as np
    import shapely
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from shanzhi.core.demo import load_demo as load_core
    from shanzhi.core.models import Region, RegionLevel
    from shanzhi.grid.areas import Area, Circle, area_resolve
    from shanzhi.grid.demo import load_demo as load_grids
    from shanzhi.grid.demo_households import points_in
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import Grid, Household, RegionShape

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    load_core(stdout=io.StringIO())
    load_grids(stdout=io.StringIO())
    grids = list(Grid.objects.filter(active=True).select_related("village").order_by("code"))
    have = Household.objects.count()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    missing = max(args.households - have, 0)
    per_grid = np.full(len(grids), missing // len(grids))
    per_grid[: missing % len(grids)] += 1
    batch: list[Household] = []
    for grid, n in zip(grids, per_grid.tolist(), strict=True):
        for k, (lon, lat) in enumerate(points_in(from_stored(grid.geometry), n, rng).tolist()):
            batch.append(
                Household(
                    code=f"B{grid.code}-{k:05d}",
                    grid=grid,
                    village=grid.village,
                    address="bench",
                    head_name="bench",
                    lon=lon,
                    lat=lat,
                    phone="13800000000",
                )
            )
        if len(batch) >= 20_000:
            Household.objects.bulk_create(batch)
            batch = []
    Household.objects.bulk_create(batch)
    total = Household.objects.filter(active=True).count()
    print(
        f"households: {total} active in {len(grids)} grids "
        f"(generated {missing} in {time.perf_counter() - started:.1f} s)"
    )

    county = from_stored(RegionShape.objects.get(region__level="county").geometry)
    # ~90 % of the county: the county shrunk towards its centroid by a factor of 0.95 in each axis.
    c = county.centroid
    big = shapely.affinity.scale(county, xfact=0.95, yfact=0.95, origin=c)
    big = shapely.simplify(big, 0.0005)
    town = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code").first()
    assert town is not None
    leader = get_user_model().objects.get(username="leader")
    township_leader = get_user_model().objects.filter(
        staff__region=town, staff__roles__role="leader"
    ).first() or _township_leader(town)
    minx, miny, maxx, maxy = county.bounds
    small = shapely.box(c.x - 0.01, c.y - 0.01, c.x + 0.01, c.y + 0.01)
    cases = [
        ("polygon over ~90% of the county", Area(polygons=(big,)), None),
        ("the same, limited to the county leader", Area(polygons=(big,)), leader),
        ("circle r = 3 km", Area(circles=(Circle(lon=c.x, lat=c.y, radius_m=3000),)), None),
        (f"township code ({town.name})", Area(region_codes=(town.code,)), None),
        ("polygon, limited to that township's leader", Area(polygons=(big,)), township_leader),
        ("small polygon (2 × 2 km)", Area(polygons=(small,)), None),
    ]
    print(f"{'case':44} {'grids':>6} {'households':>10} {'median ms':>10} {'p99 ms':>8} {'CPU ms':>7}")
    for label, area, user in cases:
        area_resolve(area=area, user=user)  # warm the grid index
        times, cpu = [], []
        targets = None
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            targets = area_resolve(area=area, user=user)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        assert targets is not None
        times.sort()
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        print(
            f"{label:44} {targets.grid_count:>6} {targets.household_count:>10} "
            f"{statistics.median(times):>10.1f} {p99:>8.1f} {statistics.median(cpu):>7.1f}"
        )
    print(f"county bounds: {minx:.3f},{miny:.3f} – {maxx:.3f},{maxy:.3f}; runs per case: {args.runs}")


def _township_leader(town: Any) -> Any:
    from shanzhi.core.services import staff_create

    return staff_create(
        actor=None, username="bench-town-leader", password=None, name="镇领导", region=town, roles=["leader"]
    ).user


if __name__ == "__main__":
    main()
