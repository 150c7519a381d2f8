"""Point → grid benchmark over the demo county's grids (≈ 450 grids, 100 villages).

    .venv/bin/python bench/grid_bench.py                  # throwaway SQLite database in a temp dir
    .venv/bin/python bench/grid_bench.py --points 1000000
    .venv/bin/python bench/grid_bench.py --pg             # scratch PostgreSQL database, dropped after
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/grid_bench .venv/bin/python bench/grid_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and loads the demo)

Prints the index build time, single lookups per second through `locate_point` (which checks the
grid index version in the database on every call) and through the index alone, and batch
lookups per second through `locate_points` (one vectorised STRtree query), in WGS-84 and GCJ-02.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_parser, run_on_scratch  # bench/_common.py


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--points", type=int, default=100_000, help="random points per run")
    parser.add_argument("--single", type=int, default=100_000, help="points for the one-at-a-time runs")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    run_on_scratch(prefix="grid-bench", pg=args.pg, run=lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    import numpy as np
    from django.core.management import call_command

    from shanzhi.core.demo import load_demo as load_core
    from shanzhi.grid.coords import wgs84_to_gcj02
    from shanzhi.grid.demo import load_demo as load_grids
    from shanzhi.grid.locate import IndexCache, build_index, current_stamp, locate_point, locate_points
    from shanzhi.grid.models import Grid, RegionShape

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    load_core(stdout=io.StringIO())
    core_s = time.perf_counter() - start
    start = time.perf_counter()
    load_grids(stdout=io.StringIO())
    print(f"demo load: core {core_s:.2f} s, grids {time.perf_counter() - start:.2f} s")
    county = RegionShape.objects.get(region__level="county")
    print(f"grids: {Grid.objects.filter(active=True).count()}, county area {county.area_m2 / 1e6:.0f} km²")

    builds = []
    for _ in range(5):
        builds.append(build_index().build_seconds)
    print(f"index build (from the database): {statistics.median(builds) * 1000:8.1f} ms (median of 5)")

    rng = np.random.default_rng(args.seed)
    # Points in the county's bounding box plus a margin, so some fall outside.
    minx, miny, maxx, maxy = _bounds(county.geometry)
    lon = rng.uniform(minx - 0.02, maxx + 0.02, args.points)
    lat = rng.uniform(miny - 0.02, maxy + 0.02, args.points)

    cache = IndexCache()
    index = cache.get()
    n = min(args.single, args.points)
    start = time.perf_counter()
    for x, y in zip(lon[:n].tolist(), lat[:n].tolist(), strict=True):
        index.locate(x, y)
    index_only = time.perf_counter() - start
    start = time.perf_counter()
    for x, y in zip(lon[:n].tolist(), lat[:n].tolist(), strict=True):
        locate_point(lon=x, lat=y, cache=cache)
    single = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(n):
        current_stamp()
    stamp = time.perf_counter() - start
    print(f"single, locate_point (version check each call): {n / single:10.0f} lookups/s")
    print(f"single, index only (no version check):          {n / index_only:10.0f} lookups/s")
    print(f"version check alone:                            {stamp / n * 1e6:10.1f} µs/call")

    runs = []
    for _ in range(3):
        start = time.perf_counter()
        found = locate_points(lon=lon, lat=lat, cache=cache)
        runs.append(time.perf_counter() - start)
    batch = statistics.median(runs)
    inside = sum(1 for loc in found if loc.grid is not None)
    print(
        f"batch, locate_points ({args.points} points):       {args.points / batch:10.0f} lookups/s "
        f"({batch * 1000:.0f} ms; {inside} in a grid)"
    )
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    start = time.perf_counter()
    locate_points(lon=g_lon, lat=g_lat, crs="gcj02", cache=cache)
    gcj = time.perf_counter() - start
    print(f"batch, locate_points crs=gcj02:                 {args.points / gcj:10.0f} lookups/s")
    assert cache.builds == 1, "the index was rebuilt although no grid changed"


def _bounds(geometry: dict[str, object]) -> tuple[float, float, float, float]:
    import shapely

    from shanzhi.grid.geometry import from_stored

    minx, miny, maxx, maxy = shapely.bounds(from_stored(geometry))
    return float(minx), float(miny), float(maxx), float(maxy)


if __name__ == "__main__":
    main()
