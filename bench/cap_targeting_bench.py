"""CAP warning benchmark: a polygon over ~100 000 households — parse + validate, resolve the
targets (< 1 s is the target), and the whole fan-out (SMS queued, visit and defence tasks).

    .venv/bin/python bench/cap_targeting_bench.py                  # throwaway SQLite database in a temp dir
    .venv/bin/python bench/cap_targeting_bench.py --households 200000 --runs 10
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/cap_bench .venv/bin/python bench/cap_targeting_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and loads the demo)

Loads the demo county (≈ 450 grids) and spreads households evenly over the grids (one in ten
without a phone, one in eight care-flagged). The warning is a CAP 1.2 alert whose polygon is the
county shrunk by 5 % (lat,lon order, as CAP writes it). Timed: `parse_cap` (defusedxml + XSD),
`alert_area` + `area_resolve` (the targets), then one `warning_receive` that stores the warning
and queues every SMS in one transaction, and the same XML again (idempotent: nothing written).
No SMS provider is configured, so the messages stay in the outbox: the time is the queueing.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cap-bench-"))
    os.environ.setdefault("SHANZHI_VAR_DIR", str(workdir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    import django

    django.setup()
    import datetime as dt

    import numpy as np
    import shapely
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from shanzhi.core.demo import load_demo as load_core
    from shanzhi.emergency.cap import parse_cap
    from shanzhi.emergency.cap.targeting import alert_area
    from shanzhi.emergency.models import GridTask
    from shanzhi.emergency.warnings import warning_receive
    from shanzhi.grid.areas import area_resolve
    from shanzhi.grid.demo import load_demo as load_grids
    from shanzhi.grid.demo_households import points_in
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import Grid, Household, RegionShape
    from shanzhi.notify.models import Message

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    load_core(stdout=io.StringIO())
    load_grids(stdout=io.StringIO())
    grids = list(Grid.objects.filter(active=True).select_related("village").order_by("code"))
    rng = np.random.default_rng(args.seed)
    missing = max(args.households - Household.objects.count(), 0)
    per_grid = np.full(len(grids), missing // len(grids))
    per_grid[: missing % len(grids)] += 1
    batch: list[Household] = []
    n = 0
    for grid, count in zip(grids, per_grid.tolist(), strict=True):
        for k, (lon, lat) in enumerate(points_in(from_stored(grid.geometry), count, rng).tolist()):
            n += 1
            batch.append(
                Household(
                    code=f"C{grid.code}-{k:05d}", grid=grid, village=grid.village, address="bench",
                    head_name="bench", lon=lon, lat=lat,
                    phone="" if n % 10 == 0 else f"139{n:08d}", no_phone=n % 10 == 0,
                    elderly_alone=n % 8 == 0,
                )
            )  # fmt: skip
        if len(batch) >= 20_000:
            Household.objects.bulk_create(batch)
            batch = []
    Household.objects.bulk_create(batch)
    print(f"households: {Household.objects.filter(active=True).count()} in {len(grids)} grids")

    county = from_stored(RegionShape.objects.get(region__level="county").geometry)
    big = shapely.simplify(
        shapely.affinity.scale(county, xfact=0.95, yfact=0.95, origin=county.centroid), 0.0005
    )
    ring = " ".join(f"{y:.6f},{x:.6f}" for x, y in big.exterior.coords)
    now = timezone.localtime().replace(microsecond=0)
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>BENCH-1</identifier><sender>bench@example.cn</sender>
<sent>{now.isoformat()}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-CN</language><category>Met</category><event>台风</event><urgency>Expected</urgency>
<severity>Severe</severity><certainty>Likely</certainty>
<expires>{(now + dt.timedelta(hours=12)).isoformat()}</expires>
<headline>台风橙色预警</headline><instruction>请关好门窗,不要外出。</instruction>
<area><areaDesc>全县大部</areaDesc><polygon>{ring}</polygon></area></info></alert>""".encode()
    print(f"CAP message: {len(xml)} bytes, polygon of {len(big.exterior.coords)} points")

    def timed(fn: Callable[[], Any], runs: int) -> tuple[Any, float, float]:
        times: list[float] = []
        out: Any = None
        for _ in range(runs):
            t0 = time.perf_counter()
            out = fn()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        return out, statistics.median(times), times[-1]

    alert, med, worst = timed(lambda: parse_cap(xml), args.runs)
    print(f"{'parse + XSD validate':38} median {med:8.1f} ms  max {worst:8.1f} ms")
    area = alert_area(alert)
    area_resolve(area=area)  # warm the grid index, as in a server
    targets, med, worst = timed(lambda: area_resolve(area=alert_area(alert)), args.runs)
    print(
        f"{'resolve targets (area + resolve)':38} median {med:8.1f} ms  max {worst:8.1f} ms  "
        f"→ {targets.grid_count} grids, {targets.household_count} households  (target < 1000 ms)"
    )
    dispatcher = get_user_model().objects.get(username="dispatcher")
    t0 = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        received = profile.runcall(warning_receive, actor=dispatcher, xml=xml, source="api")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    else:
        received = warning_receive(actor=dispatcher, xml=xml, source="api")
    full = time.perf_counter() - t0
    w = received.warning
    print(
        f"{'full fan-out (one transaction)':38} {full * 1000:8.0f} ms  → {w.sms_count} SMS queued, "
        f"{w.visit_count} visits in {GridTask.objects.filter(kind='warning_visit').count()} tasks, "
        f"{GridTask.objects.filter(kind='defence').count()} defence tasks, "
        f"{Message.objects.filter(channel='in_app').count()} in-app messages"
    )
    print(f"{'':38} {w.sms_count / full:8.0f} SMS queued per second")
    t0 = time.perf_counter()
    again = warning_receive(actor=dispatcher, xml=xml, source="api")
    took = (time.perf_counter() - t0) * 1000
    print(f"{'same XML again (idempotent)':38} {took:8.1f} ms  created={again.created}")


if __name__ == "__main__":
    main()
