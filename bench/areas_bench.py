"""Area → targets benchmark: a polygon over ~100 000 households resolves in under one second.

    .venv/bin/python bench/areas_bench.py                      # throwaway SQLite database in a temp dir
    .venv/bin/python bench/areas_bench.py --pg                 # scratch PostgreSQL database, dropped after
    .venv/bin/python bench/areas_bench.py --households 200000 --runs 30
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/areas_bench .venv/bin/python bench/areas_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and loads the demo)

Loads the demo county (≈ 450 grids), adds households spread evenly over the grids (points
inside each grid; bench/_common.py) until there are `--households`, then times `area_resolve`
for: a polygon covering ~90 % of the county (alone, for the county leader, for a township
leader), a 3 km circle, a township code and a small polygon. Prints the median and p99 wall
time and the median CPU time of this process (less moved by a busy machine; excludes
PostgreSQL's own CPU), index warm.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # bench/_common.py (the bench dir is on the path above)
    add_households,
    bench_parser,
    county_polygon,
    load_county,
    run_on_scratch,
)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    run_on_scratch(prefix="areas-bench", pg=args.pg, run=lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    import shapely
    from django.contrib.auth import get_user_model

    from shanzhi.core.models import Region, RegionLevel
    from shanzhi.grid.areas import Area, Circle, area_resolve
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import RegionShape

    load_county()
    add_households(total=args.households, seed=args.seed)

    county = from_stored(RegionShape.objects.get(region__level="county").geometry)
    c = county.centroid
    big = county_polygon()  # ~90 % of the county
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
