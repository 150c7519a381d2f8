"""Emergency benchmark: declaring and closing incidents over large areas, and a CAP warning's whole
fan-out over ~100 000 households.

    .venv/bin/python bench/emergency_bench.py                 # scratch SQLite database in a temp dir
    .venv/bin/python bench/emergency_bench.py --pg            # scratch PostgreSQL database, dropped after
    .venv/bin/python bench/emergency_bench.py --households 200000 --runs 5 --warnings 3
    .venv/bin/python bench/emergency_bench.py --pg --profile warning   # cProfile of one fan-out

Loads the demo county (≈ 450 grids) and spreads `--households` over its grids (one in ten without
a phone, one in eight elderly living alone; bench/_common.py). Timed, each in its own transaction
as the pages and API run them:

- `incident_declare` by the county leader over (a) one township (by code) and (b) a polygon over
  ~90 % of the county, then `incident_close` of it — `--runs` times each, median and max;
- `warning_receive` of a CAP 1.2 typhoon alert (Severe, Expected) over the same polygon:
  targets, SMS to every household with a phone (care-flagged first), a visit task per grid for
  households without one, a defence task per grid, cadre notices and the leader's offer —
  `--warnings` times with new identifiers.

No SMS provider is configured, so the messages stay in the outbox: the time is the queueing.
"""

from __future__ import annotations

import argparse
import functools
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


def _timed(fn: Callable[[], Any], runs: int) -> tuple[Any, float, float, float]:
    """(last result, median wall ms, max wall ms, median CPU ms of this process)."""
    times, cpu, out = [], [], None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return out, statistics.median(times), max(times), statistics.median(cpu)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="declare + close rounds per area")
    parser.add_argument("--warnings", type=int, default=2, help="warnings received (new identifiers)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--profile", choices=["declare", "warning"], default="")
    args = parser.parse_args()

    run_on_scratch(prefix="emergency-bench", pg=args.pg, run=lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from shanzhi.core.models import Region, RegionLevel
    from shanzhi.emergency.demo import load as load_emergency
    from shanzhi.emergency.incidents import incident_close, incident_declare
    from shanzhi.emergency.models import GridTask, Incident
    from shanzhi.emergency.warnings import warning_receive
    from shanzhi.grid.areas import Area
    from shanzhi.notify.models import Message

    load_county()
    load_emergency()
    add_households(total=args.households, seed=args.seed)
    reverse("emergency:task", kwargs={"pk": 1})  # import the URLconf once, as a server has
    print(f"load average before timing: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    users = get_user_model().objects
    leader, dispatcher = users.get(username="leader"), users.get(username="dispatcher")
    polygon = county_polygon()
    town = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code").first()
    assert town is not None
    areas = [
        (f"township by code ({town.name})", Area(region_codes=(town.code,))),
        ("polygon over ~90 % of the county", Area(polygons=(polygon,))),
    ]

    print(f"{'':44} {'grids':>6} {'households':>10} {'median ms':>10} {'max ms':>8} {'CPU ms':>7}")
    for label, area in areas:
        declared: list[Incident] = []

        def declare(area: Area = area, declared: list[Incident] = declared) -> Incident:
            incident = incident_declare(actor=leader, type_code="typhoon", title="台风应急", area=area)
            declared.append(incident)
            return incident

        if args.profile == "declare":
            _profile(declare)
        incident, med, worst, cpu = _timed(declare, args.runs)
        print(
            f"{'declare: ' + label:44} {incident.grid_count:>6} {incident.household_count:>10} "
            f"{med:>10.0f} {worst:>8.0f} {cpu:>7.0f}"
        )
        pending = list(declared)

        def close(pending: list[Incident] = pending) -> Incident:
            return incident_close(actor=leader, incident=pending.pop(0), reason="台风已过境")

        while len(pending) > args.runs:
            close()  # the profiled one
        _, med, worst, cpu = _timed(close, args.runs)
        print(f"{'close:   ' + label:44} {'':>6} {'':>10} {med:>10.0f} {worst:>8.0f} {cpu:>7.0f}")

    print(f"CAP polygon of {len(polygon.exterior.coords)} points")
    for n in range(max(args.warnings, 1)):
        xml = cap_alert_xml(polygon, identifier=f"BENCH-{n + 1}")
        before_tasks = GridTask.objects.count()
        before_msgs = Message.objects.count()
        t0, c0 = time.perf_counter(), time.process_time()
        if args.profile == "warning" and n == 0:
            received = _profile(functools.partial(warning_receive, actor=dispatcher, xml=xml, source="api"))
        else:
            received = warning_receive(actor=dispatcher, xml=xml, source="api")
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        w = received.warning
        in_app = Message.objects.filter(channel="in_app").count()
        print(
            f"warning fan-out #{n + 1}: {took * 1000:6.0f} ms (CPU {cpu * 1000:5.0f} ms) → "
            f"{w.household_count} households in "
            f"{w.grid_count} grids, {w.sms_count} SMS, {w.visit_count} visits, "
            f"{GridTask.objects.count() - before_tasks} tasks, "
            f"{Message.objects.count() - before_msgs} messages in all ({in_app} in-app so far)"
        )


def _profile(fn: Callable[[], Any]) -> Any:
    import cProfile
    import pstats

    profile = cProfile.Profile()
    out = profile.runcall(fn)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    return out


if __name__ == "__main__":
    main()
