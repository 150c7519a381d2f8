"""Set-up shared by the benchmarks: a scratch database, the demo county, households spread over
its grids, and a CAP polygon over most of the county. Import it before Django:

    from _common import scratch_database, setup_django
    db = scratch_database(prefix="emergency-bench", pg=args.pg)   # sets DATABASE_URL
    setup_django()
    ...
    db.drop()

A scratch database is either SQLite in a new temp dir (the default) or, with `pg=True`, a new
PostgreSQL database created beside the one DATABASE_URL names (or postgresql://postgres@127.0.0.1
when unset) and dropped by `drop()`. Without `pg`, a DATABASE_URL already set is used as it is
(an empty database you can throw away), as the older benches do.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Scratch:
    url: str
    pg_name: str = ""  # set when we created a PostgreSQL database that drop() removes

    def drop(self) -> None:
        if not self.pg_name:
            return
        from django.db import connections

        connections.close_all()
        _pg_admin(self.url, f'DROP DATABASE IF EXISTS "{self.pg_name}"')


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.encode())  # a name we made, not user input


def scratch_database(*, prefix: str, pg: bool = False) -> Scratch:
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    os.environ.setdefault("SHANZHI_VAR_DIR", str(workdir))
    if pg:
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith("postgres"):
            base = DEFAULT_PG
        name = f"{prefix.replace('-', '_')}_{os.getpid()}"
        _pg_admin(base, f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
        os.environ["DATABASE_URL"] = url
        return Scratch(url=url, pg_name=name)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    return Scratch(url=os.environ["DATABASE_URL"])


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def load_county() -> None:
    """Migrate and load the demo county's regions, staff and ≈ 450 grids."""
    from django.core.management import call_command

    from shanzhi.core.demo import load_demo as load_core
    from shanzhi.grid.demo import load_demo as load_grids

    call_command("migrate", verbosity=0)
    load_core(stdout=io.StringIO())
    load_grids(stdout=io.StringIO())


def add_households(*, total: int, seed: int = 2024, code_prefix: str = "B") -> int:
    """Top the county up to `total` households, spread evenly over the active grids (points inside
    each grid): one in ten without a phone, one in eight elderly living alone. Returns how many
    were added."""
    import numpy as np

    from shanzhi.grid.demo_households import points_in
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import Grid, Household

    grids = list(Grid.objects.filter(active=True).select_related("village").order_by("code"))
    rng = np.random.default_rng(seed)
    missing = max(total - Household.objects.count(), 0)
    per_grid = np.full(len(grids), missing // len(grids))
    per_grid[: missing % len(grids)] += 1
    batch: list[Household] = []
    n = 0
    for grid, count in zip(grids, per_grid.tolist(), strict=True):
        for k, (lon, lat) in enumerate(points_in(from_stored(grid.geometry), count, rng).tolist()):
            n += 1
            batch.append(
                Household(
                    code=f"{code_prefix}{grid.code}-{k:05d}", grid=grid, village=grid.village,
                    address="bench", head_name="bench", lon=lon, lat=lat,
                    phone="" if n % 10 == 0 else f"139{n:08d}", no_phone=n % 10 == 0,
                    elderly_alone=n % 8 == 0,
                )
            )  # fmt: skip
        if len(batch) >= 20_000:
            Household.objects.bulk_create(batch)
            batch = []
    Household.objects.bulk_create(batch)
    return missing


def county_polygon(scale: float = 0.95) -> Any:
    """The county shrunk towards its centroid by `scale` in each axis (≈ 90 % of it), simplified."""
    import shapely

    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import RegionShape

    county = from_stored(RegionShape.objects.get(region__level="county").geometry)
    big = shapely.affinity.scale(county, xfact=scale, yfact=scale, origin=county.centroid)
    return shapely.simplify(big, 0.0005)


def cap_alert_xml(polygon: Any, *, identifier: str = "BENCH-1") -> bytes:
    """A CAP 1.2 typhoon alert (Severe, Expected, 12 h) over `polygon` (written lat,lon)."""
    import datetime as dt

    from django.utils import timezone

    ring = " ".join(f"{y:.6f},{x:.6f}" for x, y in polygon.exterior.coords)
    now = timezone.localtime().replace(microsecond=0)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>{identifier}</identifier><sender>bench@example.cn</sender>
<sent>{now.isoformat()}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><language>zh-CN</language><category>Met</category><event>台风</event><urgency>Expected</urgency>
<severity>Severe</severity><certainty>Likely</certainty>
<expires>{(now + dt.timedelta(hours=12)).isoformat()}</expires>
<headline>台风橙色预警</headline><instruction>请关好门窗,不要外出。</instruction>
<area><areaDesc>全县大部</areaDesc><polygon>{ring}</polygon></area></info></alert>""".encode()
