"""Time every cockpit panel and the tiles under the filters a leader uses (docs/cockpit.md,
"Performance"). Run against a generated history:

    DATABASE_URL=postgresql://…/shanzhi_perf10m .venv/bin/python bench/cockpit_filters.py [repeats]

Prints one line per filter × panel: median and max milliseconds over `repeats` calls (after one
warm-up call), reading the primary database as the user `leader` (county).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.utils import timezone

    from shanzhi.cases.models import Case, Category
    from shanzhi.cockpit import panels
    from shanzhi.cockpit.filters import CockpitFilter
    from shanzhi.core.models import Handler, Region, RegionLevel

    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    only = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else None
    user = get_user_model().objects.get(username="leader")
    now = timezone.now()
    last = Case.objects.order_by("-received_at").values_list("received_at", flat=True).first()
    end = timezone.localtime(last).date() if last else timezone.localdate()
    year = end - dt.timedelta(days=364)
    town = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code").first()
    # the busiest village, grid, category group and handler (the hardest cases)
    village_id = Case.objects.values("region_id").annotate(n=Count("id")).order_by("-n")[0]["region_id"]
    grid_id = (
        Case.objects.exclude(grid=None).values("grid_id").annotate(n=Count("id")).order_by("-n")[0]["grid_id"]
    )
    from shanzhi.grid.models import Grid

    village = Region.objects.get(pk=village_id)
    grid = Grid.objects.get(pk=grid_id)
    group = Category.objects.get(code="0102").group
    handler = (
        Handler.objects.filter(code__isnull=False).annotate(n=Count("assignments")).order_by("-n").first()
    )
    filters = {
        "county 30 d": CockpitFilter(start=end - dt.timedelta(days=29), end=end),
        "county 1 y": CockpitFilter(start=year, end=end),
        "township 1 y": CockpitFilter(start=year, end=end, region_code=town.code if town else ""),
        "village 1 y": CockpitFilter(start=year, end=end, region_code=village.code),
        "grid 1 y": CockpitFilter(start=year, end=end, grid_code=grid.code),
        "category group 1 y": CockpitFilter(start=year, end=end, category_code=f"g:{group}"),
        "channel 1 y": CockpitFilter(start=year, end=end, channel="app"),
        "handler 1 y": CockpitFilter(start=year, end=end, handler_code=handler.code if handler else ""),
    }
    names = ["kpis", *panels.PANELS]
    print(f"end day {end}; village {village.code}, grid {grid.code}, group {group}, handler {handler}")
    for label, f in filters.items():
        if only and label not in only:
            continue
        for name in names:

            def call(name: str = name, f: CockpitFilter = f) -> None:
                if name == "kpis":
                    panels.kpis(user=user, f=f, now=now)
                else:
                    panels.panel_call(name, user=user, f=f, now=now)

            call()
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            print(
                f"{label:20s} {name:18s} median {statistics.median(times):8.1f} ms  max {max(times):8.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
