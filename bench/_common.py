"""Set-up shared by the benchmarks. Two kinds of bench use it.

In-process benches (Django set up in the bench's own process): a scratch database, the demo
county, households spread over its grids, and a CAP polygon over most of the county. Import it
before Django:

    from _common import bench_parser, run_on_scratch
    parser = bench_parser(__doc__)                 # the docstring as --help, and --pg
    args = parser.parse_args()
    run_on_scratch(prefix="emergency-bench", pg=args.pg, run=lambda: _run(args))

A scratch database is either SQLite in a new temp dir (the default) or, with `pg=True`, a new
PostgreSQL database created beside the one DATABASE_URL names (or postgresql://postgres@127.0.0.1
when unset) and dropped by `drop()`. Without `pg`, a DATABASE_URL already set is used as it is
(an empty database you can throw away), as the older benches do.

Served benches (HTTP through gunicorn on 127.0.0.1, the database prepared by the `shanzhi`
command in child processes): a throwaway database with its temp dir (`served_database`), the
demo loaded into it (`served_demo`), a gunicorn on a free port (`gunicorn`), client threads
sending requests to it (`drive`, giving a `Run`), and `load_average`.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn and shanzhi live beside python
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周强", "吴敏"]


@dataclass
class Scratch:
    url: str
    workdir: Path  # the temp dir (SQLite file, SHANZHI_VAR_DIR) that drop() removes
    pg_name: str = ""  # set when we created a PostgreSQL database that drop() removes

    def drop(self) -> None:
        from django.db import connections

        connections.close_all()
        if self.pg_name:
            _pg_admin(self.url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        shutil.rmtree(self.workdir, ignore_errors=True)


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.encode())  # a name we made, not user input


def _pg_name(prefix: str) -> str:
    return f"{prefix.replace('-', '_')}_{os.getpid()}"


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def scratch_database(*, prefix: str, pg: bool = False) -> Scratch:
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    os.environ.setdefault("SHANZHI_VAR_DIR", str(workdir))
    if pg:
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith("postgres"):
            base = DEFAULT_PG
        name = _pg_name(prefix)
        _pg_admin(base, f'CREATE DATABASE "{name}"')
        url = _with_database(base, name)
        os.environ["DATABASE_URL"] = url
        return Scratch(url=url, workdir=workdir, pg_name=name)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    return Scratch(url=os.environ["DATABASE_URL"], workdir=workdir)


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """An in-process bench's parser: its docstring as the help, and `--pg`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", action="store_true", help="a scratch PostgreSQL database, dropped after")
    return parser


def run_on_scratch(*, prefix: str, pg: bool, run: Callable[[], None]) -> None:
    """`run()` with Django set up on a scratch database (`scratch_database`), dropped after."""
    db = scratch_database(prefix=prefix, pg=pg)
    try:
        setup_django()
        from django.db import connection

        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        run()
    finally:
        db.drop()


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
    each grid): one in ten without a phone, one in eight elderly living alone. Prints how many
    there are and how long it took; returns how many were added."""
    import numpy as np

    from shanzhi.grid.demo_households import points_in
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import Grid, Household

    started = time.perf_counter()
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
    print(
        f"households: {Household.objects.filter(active=True).count()} active in {len(grids)} grids "
        f"(generated {missing} in {time.perf_counter() - started:.1f} s)"
    )
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


# --- served benches: gunicorn on 127.0.0.1 over a throwaway database ------------------------------


def pg_unreachable(url: str) -> str:
    """Why PostgreSQL at `url` cannot be used, or "" when it answers."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


@contextmanager
def served_database(kind: str, *, prefix: str, pg_url: str) -> Iterator[tuple[str, Path]]:
    """(database URL, temp dir) for a server: a SQLite file in the temp dir, or (`kind`
    "postgresql") a new database `<prefix>_<pid>` on the server at `pg_url`. Both are removed
    after, the database even while a server still holds connections to it."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    name = _pg_name(prefix)
    try:
        if kind == "sqlite":
            yield f"sqlite:///{workdir / 'bench.sqlite3'}", workdir
        else:
            _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _pg_admin(pg_url, f'CREATE DATABASE "{name}"')
            try:
                yield _with_database(pg_url, name), workdir
            finally:
                _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def manage(env: dict[str, str], *args: str) -> str:
    """Run `shanzhi <args>` with `env`; its output, or exit with its errors."""
    done = subprocess.run(  # noqa: S603 - our own venv binary, arguments from this file
        [str(BIN / "shanzhi"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"shanzhi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def child_json(env: dict[str, str], script: str, *args: str) -> Any:
    """Run `python <script> --child <args>` with `env` (a bench's code that needs Django in the
    served database's settings); the JSON on the last line it prints, or exit with its errors."""
    done = subprocess.run(  # noqa: S603 - this interpreter and a bench script, arguments from it
        [sys.executable, script, "--child", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{Path(script).name} --child {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def served_demo(*, url: str, workdir: Path) -> dict[str, str]:
    """Migrate the database at `url` and load the demo county into it; returns the environment
    for `manage`, `gunicorn` and child processes: production settings (no testing or debug flags,
    no Redis), files under `workdir`."""
    env = {k: v for k, v in os.environ.items() if k not in ("SHANZHI_TESTING", "DEBUG", "REDIS_URL")}
    env.update(
        SHANZHI_VAR_DIR=str(workdir),
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="shanzhi.config.settings",
        LOG_LEVEL="WARNING",
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "demo", "load")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(*, env: dict[str, str], workers: int, workdir: Path) -> Iterator[tuple[int, int]]:
    """(port, master pid) of gunicorn with `workers` sync workers on a free 127.0.0.1 port, once it
    answers; its log (and Django's, e.g. a 409's warning) is `workdir`/gunicorn.log."""
    port = free_port()
    log = workdir / "gunicorn.log"
    errors = log.open("ab")
    proc = subprocess.Popen(  # noqa: S603 - our own venv binary, arguments from this file
        [
            str(BIN / "gunicorn"),
            "shanzhi.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "--error-logfile",
            str(log),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{log.read_text()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors.close()


def load_average() -> str:
    """Other work on the machine skews every figure; say how much there was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..1)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


class Jobs:
    """Hands out request numbers until the count or the deadline is reached."""

    def __init__(self, *, count: int, duration: float) -> None:
        self._next = 0
        self._count = count
        self._lock = threading.Lock()
        self.started = time.perf_counter()
        self._deadline = self.started + duration

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._count or time.perf_counter() >= self._deadline:
                return None
            self._next += 1
            return self._next - 1


def run_threads(threads: int, work: Callable[[int], None]) -> None:
    """`work(n)` in `threads` threads, n = 0 … threads - 1; returns when all are done."""
    pool = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


@dataclass
class Run:
    """One timed batch: latencies, errors by kind, and the JSON answers that had the expected status."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    answers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def line(self, what: str, unit: str = "req") -> str:
        p50, p99 = percentile(self.latencies, 0.5) * 1000, percentile(self.latencies, 0.99) * 1000
        return (
            f"{what:<34}{self.rate:9.1f} {unit}/s   p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   "
            f"({self.done} in {self.seconds:.1f} s)"
        )


Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


def drive(
    *, port: int, clients: int, count: int, duration: float, make: Callable[[int], Request], ok: int
) -> Run:
    """`clients` threads with keep-alive connections to 127.0.0.1:`port` send `make(n)` until the
    count or the time is up; an answer other than `ok` counts as an error by status and code."""
    run = Run()
    jobs = Jobs(count=count, duration=duration)
    lock = threading.Lock()

    def client(_: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = Run()
        while (n := jobs.take()) is not None:
            method, path, body, headers = make(n)
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                mine.errors[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            mine.latencies.append(time.perf_counter() - start)
            if response.status == ok:
                mine.answers.append(json.loads(data))
            else:
                try:
                    code = json.loads(data).get("code", "")
                except ValueError:
                    code = data[:60].decode(errors="replace")
                mine.errors[f"HTTP {response.status} {code}"] += 1
        conn.close()
        with lock:
            run.latencies += mine.latencies
            run.errors += mine.errors
            run.answers += mine.answers

    run_threads(clients, client)
    run.seconds = time.perf_counter() - jobs.started
    return run
