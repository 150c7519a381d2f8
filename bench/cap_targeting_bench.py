"""CAP warning benchmark: a polygon over ~100 000 households — parse + validate, resolve the
targets (< 1 s is the target), and the whole fan-out (SMS queued, visit and defence tasks).

    .venv/bin/python bench/cap_targeting_bench.py                  # throwaway SQLite database in a temp dir
    .venv/bin/python bench/cap_targeting_bench.py --pg             # scratch PostgreSQL, dropped after
    .venv/bin/python bench/cap_targeting_bench.py --households 200000 --runs 10
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/cap_bench .venv/bin/python bench/cap_targeting_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and loads the demo)

Loads the demo county (≈ 450 grids) and spreads households evenly over the grids (one in ten
without a phone, one in eight care-flagged; bench/_common.py). The warning is a CAP 1.2 alert
whose polygon is the county shrunk by 5 % (lat,lon order, as CAP writes it). Timed: `parse_cap`
(defusedxml + XSD), `alert_area` + `area_resolve` (the targets), then one `warning_receive` that
stores the warning and queues every SMS in one transaction, and the same XML again (idempotent:
nothing written).
No SMS provider is configured, so the messages stay in the outbox: the time is the queueing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # bench/_common.py (the bench dir is on the path above)
    add_households,
    bench_parser,
    cap_alert_xml,
    county_polygon,
    load_county,
    run_on_scratch,
)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    run_on_scratch(prefix="cap-bench", pg=args.pg, run=lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model

    from shanzhi.emergency.cap import parse_cap
    from shanzhi.emergency.cap.targeting import alert_area
    from shanzhi.emergency.models import GridTask
    from shanzhi.emergency.warnings import warning_receive
    from shanzhi.grid.areas import area_resolve
    from shanzhi.notify.models import Message

    load_county()
    add_households(total=args.households, seed=args.seed, code_prefix="C")

    big = county_polygon()
    xml = cap_alert_xml(big)
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
