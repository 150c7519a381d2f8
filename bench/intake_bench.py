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
import json
import os
import random
import re
import sqlite3
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # bench/_common.py (the bench dir is on the path above)
    NAMES,
    ROOT,
    Jobs,
    Request,
    Run,
    child_json,
    drive,
    gunicorn,
    load_average,
    manage,
    pg_unreachable,
    run_threads,
    served_database,
    served_demo,
    setup_django,
)

HELDOUT = ROOT / "shanzhi" / "triage" / "data" / "heldout.csv"


# --- the child: runs inside the benchmark database's Django settings -------------------------------


def child(what: str, threshold: float) -> None:
    """`--child setup|counts`: print JSON about the database named by DATABASE_URL."""
    setup_django()
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
    def request(n: int) -> Request:
        body, key = payloads.make(n)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        return "POST", "/api/v1/cases", body, headers

    return drive(port=port, clients=clients, count=count, duration=duration, make=request, ok=201)


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
    return run


# --- server CPU ----------------------------------------------------------------------------------------


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


# --- one database ------------------------------------------------------------------------------------


def bench(kind: str, *, url: str, workdir: Path, args: argparse.Namespace, texts: list[str]) -> None:
    print(f"\n== {kind}: {url}")
    start = time.perf_counter()
    env = served_demo(url=url, workdir=workdir)
    places = child_json(env, __file__, "setup", "--threshold", str(args.threshold))
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
        before = child_json(env, __file__, "counts")
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
        after = child_json(env, __file__, "counts")

    print(
        f"server: gunicorn {args.workers} sync workers; {args.clients} client threads, keep-alive "
        f"(sync workers close after each answer); {args.point_share:.0%} with a GPS point"
    )
    print(run.line("POST /api/v1/cases (201):", "cases"))
    statuses = Counter(answer["status"] for answer in run.answers)
    created = sum(statuses.values())
    shares = ", ".join(f"{s} {n / created:.1%}" for s, n in statuses.most_common()) if created else "-"
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
    print(f"{'end:':<34}{load_average()}")


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
    print(f"{len(texts)} held-out texts; client and server share the machine; {load_average()}")
    for kind in ("postgresql", "sqlite"):
        if args.db not in ("both", kind):
            continue
        if kind == "postgresql" and (why := pg_unreachable(args.pg_url)):
            if args.db == "postgresql":
                raise SystemExit(f"PostgreSQL at {args.pg_url} is not reachable: {why}")
            print(f"\n== postgresql skipped ({args.pg_url} not reachable: {why})")
            continue
        with served_database(kind, prefix="intake-bench", pg_url=args.pg_url) as (url, workdir):
            bench(kind, url=url, workdir=workdir, args=args, texts=texts)


if __name__ == "__main__":
    main()
