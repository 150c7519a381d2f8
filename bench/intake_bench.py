"""Intake benchmark: `POST /api/v1/cases` through a production server, with triage and auto-dispatch,
against the ceiling of a plain one-row INSERT + COMMIT loop on the same database.

    .venv/bin/python bench/intake_bench.py                      # PostgreSQL, then SQLite
    .venv/bin/python bench/intake_bench.py --db sqlite          # SQLite only
    .venv/bin/python bench/intake_bench.py --requests 5000 --duration 120 --workers 4 --clients 16
    .venv/bin/python bench/intake_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
        (a server where the script may CREATE and DROP a database; it makes intake_bench_<pid>)

For each database the script makes a throwaway one (a fresh PostgreSQL database, or a SQLite
file in a temp dir), migrates it, runs `shanzhi demo load`, lowers the auto-dispatch threshold
(default 0.5) through the triage service, creates an operator token with `shanzhi token create`,
and starts gunicorn (`--workers` sync workers) on a free 127.0.0.1 port. `--clients` threads
then post hotline requests: texts from the triage held-out set (403 requests in five voices),
addresses from the demo villages, a share with a GPS point inside a grid, a reporter phone, and
an Idempotency-Key each — until `--requests` are done or `--duration` seconds pass.

It prints cases/s, p50/p99 latency, the share auto-dispatched (status `dispatched` in the
answer), errors, and the rows each case wrote. Then the ceiling: the same number of threads
doing single-row INSERT + COMMIT into a scratch table with a text column of the same texts, on
the same database (psycopg, or sqlite3 with the project's pragmas), and the ratio between them.
Traffic goes to 127.0.0.1 only. The database and temp dir are removed at the end.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn and shanzhi live beside python
HELDOUT = ROOT / "shanzhi" / "triage" / "data" / "heldout.csv"
NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周强", "吴敏"]


# --- the child: runs inside the benchmark database's Django settings -------------------------------


def child(what: str, threshold: float) -> None:
    """`--child setup|counts`: print JSON about the database named by DATABASE_URL."""
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    django.setup()
    if what == "setup":
        print(json.dumps(_setup(threshold)))
    else:
        print(json.dumps(_counts()))


def _setup(threshold: float) -> dict[str, Any]:
    import shapely

    from shanzhi.core.models import Region, RegionLevel
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import Grid
    from shanzhi.triage.services import triage_settings_update

    triage_settings_update(actor=None, auto_dispatch_threshold=threshold)
    villages = Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent").order_by("code")
    addresses = [f"{v.parent.name if v.parent else ''}{v.name}" for v in villages]
    # Points strictly inside grids (rejection sampling in each grid's box), with the grid's village.
    rng = random.Random(12345)
    points: list[tuple[str, float, float]] = []
    grids = list(Grid.objects.filter(active=True).select_related("village__parent").order_by("code"))
    for grid in rng.sample(grids, min(len(grids), 300)):
        shape = from_stored(grid.geometry)
        village = grid.village
        address = f"{village.parent.name if village.parent else ''}{village.name}"
        for _ in range(50):
            lon = rng.uniform(grid.min_lon, grid.max_lon)
            lat = rng.uniform(grid.min_lat, grid.max_lat)
            if shapely.contains_xy(shape, lon, lat):
                points.append((address, lon, lat))
                break
    return {"addresses": addresses, "points": points}


def _counts() -> dict[str, int]:
    from shanzhi.audit.models import AuditEntry
    from shanzhi.cases.models import Assignment, Case, IdempotencyRecord, Supervision, TimelineEvent
    from shanzhi.notify.models import Message

    return {
        "cases": Case.objects.count(),
        "assignments": Assignment.objects.count(),
        "timeline": TimelineEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "messages": Message.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
        "supervisions": Supervision.objects.count(),
    }


# --- figures -----------------------------------------------------------------------------------------


def load() -> str:
    """Other work on the machine skews every figure; say how much there was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..1)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


@dataclass
class Run:
    done: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def line(self, what: str, unit: str) -> str:
        return (
            f"{what:<34}{self.rate:9.1f} {unit}/s   p50 {percentile(self.latencies, 0.5) * 1000:8.2f} ms   "
            f"p99 {percentile(self.latencies, 0.99) * 1000:8.2f} ms   ({self.done} in {self.seconds:.1f} s)"
        )


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
    pool = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


# --- the HTTP load -----------------------------------------------------------------------------------


def load_texts() -> list[str]:
    with HELDOUT.open(encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


class Payloads:
    def __init__(self, *, texts: list[str], places: dict[str, Any], point_share: float, seed: int) -> None:
        self.texts = texts
        self.addresses: list[str] = places["addresses"]
        self.points: list[list[Any]] = places["points"]
        self.point_share = point_share
        self.seed = seed
        self.run_id = uuid.uuid4().hex[:8]  # a fresh Idempotency-Key prefix per timed batch

    def make(self, n: int) -> tuple[bytes, str]:
        rng = random.Random(self.seed * 1_000_003 + n)
        body: dict[str, Any] = {
            "channel": "hotline",
            "text": rng.choice(self.texts),
            "reporter_name": rng.choice(NAMES),
            "reporter_phone": f"139{rng.randrange(10**8):08d}",
        }
        if self.points and rng.random() < self.point_share:
            address, lon, lat = rng.choice(self.points)
            body.update(address=address, lon=lon, lat=lat)
        else:
            body["address"] = rng.choice(self.addresses)
        return json.dumps(body, ensure_ascii=False).encode(), f"bench-{self.run_id}-{n}"


def post_cases(
    *, port: int, token: str, payloads: Payloads, clients: int, count: int, duration: float
) -> Run:
    run = Run()
    jobs = Jobs(count=count, duration=duration)
    lock = threading.Lock()

    def client(_: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        lat: list[float] = []
        statuses: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        while (n := jobs.take()) is not None:
            body, key = payloads.make(n)
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            }
            start = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/cases", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            lat.append(time.perf_counter() - start)
            if response.status == 201:
                statuses[json.loads(data)["status"]] += 1
            else:
                try:
                    code = json.loads(data).get("code", "")
                except ValueError:
                    code = data[:60].decode(errors="replace")
                errors[f"HTTP {response.status} {code}"] += 1
        conn.close()
        with lock:
            run.latencies += lat
            run.statuses += statuses
            run.errors += errors

    run_threads(clients, client)
    run.seconds = time.perf_counter() - jobs.started
    run.done = len(run.latencies)
    return run


# --- the ceiling: one row per transaction, no application --------------------------------------------


def ceiling_postgres(*, url: str, texts: list[str], threads: int, count: int, duration: float) -> Run:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, body text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
    run = Run()
    jobs = Jobs(count=count, duration=duration)
    lock = threading.Lock()

    def writer(n: int) -> None:
        lat: list[float] = []
        with psycopg.connect(url) as conn:
            while (i := jobs.take()) is not None:
                start = time.perf_counter()
                conn.execute("INSERT INTO bench_ceiling (body) VALUES (%s)", (texts[i % len(texts)],))
                conn.commit()
                lat.append(time.perf_counter() - start)
        with lock:
            run.latencies += lat

    run_threads(threads, writer)
    run.seconds = time.perf_counter() - jobs.started
    run.done = len(run.latencies)
    return run


def ceiling_sqlite(*, path: Path, texts: list[str], threads: int, count: int, duration: float) -> Run:
    """The project's SQLite settings: WAL, synchronous=NORMAL, busy timeout, BEGIN IMMEDIATE."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=20, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=20000")
        return conn

    setup = connect()
    setup.execute(
        "CREATE TABLE bench_ceiling (id integer PRIMARY KEY AUTOINCREMENT, body text NOT NULL, "
        "created_at text NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    setup.close()
    run = Run()
    jobs = Jobs(count=count, duration=duration)
    lock = threading.Lock()

    def writer(n: int) -> None:
        lat: list[float] = []
        conn = connect()
        while (i := jobs.take()) is not None:
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_ceiling (body) VALUES (?)", (texts[i % len(texts)],))
            conn.execute("COMMIT")
            lat.append(time.perf_counter() - start)
        conn.close()
        with lock:
            run.latencies += lat

    run_threads(threads, writer)
    run.seconds = time.perf_counter() - jobs.started
    run.done = len(run.latencies)
    return run


# --- databases, server -------------------------------------------------------------------------------


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"intake_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def server_cpu(*, master: int, url: str) -> dict[str, dict[int, float]]:
    """CPU used so far by the gunicorn workers and, on PostgreSQL, by the database's backends:
    a per-request figure that other work on the machine does not inflate as much as wall time."""
    workers = [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    backends: list[int] = []
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        backends = [int(r[0]) for r in rows]
    return {"app": cpu_seconds(workers), "db": cpu_seconds(backends)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(*, env: dict[str, str], workers: int, workdir: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    log = workdir / "gunicorn.log"
    errors = log.open("ab")  # Django's own log lines (e.g. a 409's warning) go beside gunicorn's
    proc = subprocess.Popen(  # noqa: S603 - our own venv binaries, fixed arguments
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


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own venv binaries, fixed arguments
        [str(BIN / "shanzhi"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"shanzhi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def child_json(env: dict[str, str], what: str, threshold: float) -> Any:
    done = subprocess.run(  # noqa: S603 - our own venv binaries, fixed arguments
        [sys.executable, __file__, "--child", what, "--threshold", str(threshold)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"child {what} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- one database ------------------------------------------------------------------------------------


def bench(kind: str, *, url: str, workdir: Path, args: argparse.Namespace, texts: list[str]) -> None:
    print(f"\n== {kind}: {url}")
    env = {k: v for k, v in os.environ.items() if k not in ("SHANZHI_TESTING", "DEBUG", "REDIS_URL")}
    env.update(
        SHANZHI_VAR_DIR=str(workdir),
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="shanzhi.config.settings",
        LOG_LEVEL="WARNING",
    )
    start = time.perf_counter()
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "demo", "load")
    places = child_json(env, "setup", args.threshold)
    token = manage(env, "token", "create", "--user", "operator", "--name", "intake-bench").strip()
    print(
        f"setup (migrate, demo load, threshold {args.threshold}, token): "
        f"{time.perf_counter() - start:.1f} s; "
        f"{len(places['addresses'])} village addresses, {len(places['points'])} grid points"
    )
    payloads = Payloads(texts=texts, places=places, point_share=args.point_share, seed=args.seed)

    with gunicorn(env=env, workers=args.workers, workdir=workdir) as (port, master):
        # Warm every worker (Django import, first triage model load) before timing.
        warm = post_cases(
            port=port,
            token=token,
            payloads=payloads,
            clients=args.clients,
            count=args.clients * 3,
            duration=120,
        )
        if warm.errors:
            print(f"warm-up errors: {dict(warm.errors)}")
        before = child_json(env, "counts", args.threshold)
        cpu_before = server_cpu(master=master, url=url)
        client_before = time.process_time()
        payloads.seed += 1  # new bodies, and so new keys, for the timed run
        payloads.run_id = uuid.uuid4().hex[:8]
        run = post_cases(
            port=port,
            token=token,
            payloads=payloads,
            clients=args.clients,
            count=args.requests,
            duration=args.duration,
        )
        client_cpu = time.process_time() - client_before
        cpu_after = server_cpu(master=master, url=url)
        after = child_json(env, "counts", args.threshold)

    print(
        f"server: gunicorn {args.workers} sync workers; {args.clients} client threads, keep-alive "
        f"(sync workers close after each answer); {args.point_share:.0%} with a GPS point"
    )
    print(run.line("POST /api/v1/cases (201):", "cases"))
    created = sum(run.statuses.values())
    shares = ", ".join(f"{s} {n / created:.1%}" for s, n in run.statuses.most_common()) if created else "-"
    print(f"{'outcome:':<34}{shares}")
    print(f"{'errors:':<34}{sum(run.errors.values())} {dict(run.errors) if run.errors else ''}")
    server_log = (workdir / "gunicorn.log").read_text(errors="replace")
    if "Traceback" in server_log:
        kinds = Counter(re.findall(r"^([\w.]+(?:Error|Exception)\b.*)$", server_log, flags=re.M))
        print(f"{'server tracebacks:':<34}{server_log.count('Traceback')} {dict(kinds.most_common(3))}")
    if run.done:
        spent = {
            k: sum(v - cpu_before[k].get(pid, 0.0) for pid, v in cpu_after[k].items()) for k in cpu_after
        }
        where = f"{spent['app'] / run.done * 1000:.1f} ms in the gunicorn workers"
        if kind == "postgresql":
            where += f", {spent['db'] / run.done * 1000:.1f} ms in PostgreSQL backends"
        print(f"{'CPU per request:':<34}{where}, {client_cpu / run.done * 1000:.1f} ms in the client")
    new_cases = after["cases"] - before["cases"]
    if new_cases:
        per = ", ".join(
            f"{k} {(after[k] - before[k]) / new_cases:.2f}"
            for k in after
            if k != "cases" and after[k] != before[k]
        )
        print(f"{'rows written per case:':<34}case 1, {per}")

    if kind == "postgresql":
        ceiling = ceiling_postgres(
            url=url,
            texts=texts,
            threads=args.clients,
            count=args.ceiling_rows,
            duration=args.ceiling_duration,
        )
        how = "INSERT+COMMIT (psycopg):"
    else:
        ceiling = ceiling_sqlite(
            path=Path(urlsplit(url).path),
            texts=texts,
            threads=args.clients,
            count=args.ceiling_rows,
            duration=args.ceiling_duration,
        )
        how = "INSERT+COMMIT (sqlite3):"
    print(ceiling.line(f"ceiling, {how}", "rows"))
    if ceiling.rate:
        print(
            f"{'intake / ceiling:':<34}{run.rate / ceiling.rate:9.2%} of the rows/s "
            f"({ceiling.rate / run.rate:.0f}× fewer per second)"
        )
    print(f"{'end:':<34}{load()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server where a database may be created and dropped",
    )
    parser.add_argument("--requests", type=int, default=2000, help="timed requests (at most)")
    parser.add_argument("--duration", type=float, default=60.0, help="timed seconds (at most)")
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--threshold", type=float, default=0.5, help="auto-dispatch threshold")
    parser.add_argument("--point-share", type=float, default=0.3, help="share of requests with a GPS point")
    parser.add_argument("--ceiling-rows", type=int, default=20_000)
    parser.add_argument("--ceiling-duration", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--child", choices=["setup", "counts"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.threshold)
        return

    texts = load_texts()
    print(f"{len(texts)} held-out texts; client and server share the machine; {load()}")
    if args.db in ("both", "postgresql"):
        import psycopg

        try:
            psycopg.connect(args.pg_url, connect_timeout=5).close()
        except psycopg.Error as exc:
            if args.db == "postgresql":
                raise SystemExit(f"PostgreSQL at {args.pg_url} is not reachable: {exc}") from exc
            print(f"\n== postgresql skipped ({args.pg_url} not reachable: {exc})")
        else:
            with postgres_database(args.pg_url) as url:
                workdir = Path(tempfile.mkdtemp(prefix="intake-bench-pg-"))
                try:
                    bench("postgresql", url=url, workdir=workdir, args=args, texts=texts)
                finally:
                    shutil.rmtree(workdir, ignore_errors=True)
    if args.db in ("both", "sqlite"):
        workdir = Path(tempfile.mkdtemp(prefix="intake-bench-sqlite-"))
        try:
            bench(
                "sqlite",
                url=f"sqlite:///{workdir / 'bench.sqlite3'}",
                workdir=workdir,
                args=args,
                texts=texts,
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
