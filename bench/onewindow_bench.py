"""One-window benchmark: application submission and status lookup at 16 concurrent clients, over
HTTP, through gunicorn on 127.0.0.1.

    .venv/bin/python bench/onewindow_bench.py                    # SQLite, then PostgreSQL if reachable
    .venv/bin/python bench/onewindow_bench.py --db sqlite --requests 1000 --duration 30
    .venv/bin/python bench/onewindow_bench.py --db postgres --pg-url postgresql://postgres@127.0.0.1:5432/postgres
        (a server where the script may CREATE and DROP a database; it makes onewindow_bench_<pid>)

For each database the script makes a throwaway one (a SQLite file in a temp dir, or a fresh
PostgreSQL database), migrates it, runs `shanzhi demo load`, creates a token for the demo
resident with `shanzhi token create`, and starts gunicorn (`--workers` sync workers) on a free
127.0.0.1 port. Then, each phase bounded by `--requests` and `--duration`:

- submit: `--clients` threads post online applications for the demo catalogue's online items
  (answers all "no", every needed material as a small real PDF in the same request, `submit:
  true`, an Idempotency-Key each): one request creates the application, checks and stores the
  files and submits it (three services, three audit entries, an SMS queued);
- lookup: the same threads look up those applications by number and phone, without signing in.

It prints requests/s, p50 and p99 latency and errors per phase. Traffic goes to 127.0.0.1 only;
the temp dir and the database are removed at the end.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import random
import shutil
import socket
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
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周强", "吴敏"]


# --- the child: runs inside the benchmark database's settings -------------------------------------


def child() -> None:
    """Print the online items a resident can submit in one request: code, questions, needed keys."""
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    django.setup()
    from shanzhi.onewindow.materials import item_checklist, item_questions
    from shanzhi.onewindow.models import ServiceItem
    from shanzhi.onewindow.models_applications import LineStatus

    items = []
    for item in ServiceItem.objects.filter(active=True).prefetch_related("materials").order_by("code"):
        if "online" not in item.channels:
            continue
        questions = item_questions(item)
        answers = {q: False for q in questions}
        needed = [s.key for s in item_checklist(item=item, answers=answers) if s.status == LineStatus.NEEDED]
        if len(needed) <= 3:
            items.append({"code": item.code, "questions": questions, "needed": needed})
    print(json.dumps(items[:40], ensure_ascii=False))


# --- figures --------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


@dataclass
class Run:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    results: list[tuple[str, str]] = field(default_factory=list)

    def line(self, what: str) -> str:
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        p50, p99 = percentile(self.latencies, 0.5) * 1000, percentile(self.latencies, 0.99) * 1000
        return (
            f"{what:<30}{rate:9.1f} req/s   p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   "
            f"({len(self.latencies)} in {self.seconds:.1f} s)"
        )


class Jobs:
    def __init__(self, *, count: int, duration: float) -> None:
        self._next, self._count = 0, count
        self._lock = threading.Lock()
        self.started = time.perf_counter()
        self._deadline = self.started + duration

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._count or time.perf_counter() >= self._deadline:
                return None
            self._next += 1
            return self._next - 1


Request = Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]


def drive(*, port: int, clients: int, count: int, duration: float, make: Request, ok: int) -> Run:
    """`clients` threads with keep-alive connections send `make(n)` until the count or the time is up."""
    run = Run()
    jobs = Jobs(count=count, duration=duration)
    lock = threading.Lock()

    def client(_: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        lat: list[float] = []
        errors: Counter[str] = Counter()
        results: list[tuple[str, str]] = []
        while (n := jobs.take()) is not None:
            method, path, body, headers = make(n)
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            lat.append(time.perf_counter() - start)
            if response.status == ok:
                answer = json.loads(data)
                results.append((answer.get("number", ""), answer.get("status", "")))
            else:
                try:
                    code = json.loads(data).get("code", "")
                except ValueError:
                    code = data[:60].decode(errors="replace")
                errors[f"HTTP {response.status} {code}"] += 1
        conn.close()
        with lock:
            run.latencies += lat
            run.errors += errors
            run.results += results

    pool = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    run.seconds = time.perf_counter() - jobs.started
    return run


# --- requests -------------------------------------------------------------------------------------


def small_pdf() -> bytes:
    sys.path.insert(0, str(ROOT))
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, invariant=1)
    c.drawString(72, 760, "scan")
    c.save()
    return buffer.getvalue()


class Submissions:
    def __init__(self, *, items: list[dict[str, Any]], token: str, seed: int) -> None:
        self.items, self.token, self.seed = items, token, seed
        self.pdf = base64.b64encode(small_pdf()).decode()
        self.run_id = uuid.uuid4().hex[:8]
        self.phones: dict[str, str] = {}

    def make(self, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        from shanzhi.core.validators import id_check_digit

        rng = random.Random(self.seed * 1_000_003 + n)
        item = rng.choice(self.items)
        birth = f"{rng.randint(1940, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body17 = f"331199{birth}{rng.randrange(1000):03d}"
        phone = f"139{rng.randrange(10**8):08d}"
        payload = {
            "item": item["code"],
            "channel": "online",
            "applicant_name": rng.choice(NAMES),
            "applicant_id_number": body17 + id_check_digit(body17),
            "applicant_phone": phone,
            "answers": {q: "否" for q in item["questions"]},
            "files": [
                {"key": key, "filename": "scan.pdf", "content_base64": self.pdf} for key in item["needed"]
            ],
            "submit": True,
        }
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"bench-{self.run_id}-{n}",
        }
        return "POST", "/api/v1/applications", json.dumps(payload, ensure_ascii=False).encode(), headers


# --- databases, server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"onewindow_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def gunicorn(*, env: dict[str, str], workers: int, workdir: Path) -> Iterator[int]:
    port = free_port()
    log = workdir / "gunicorn.log"
    errors = log.open("ab")
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
        yield port
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


def bench(kind: str, *, url: str, workdir: Path, args: argparse.Namespace) -> None:
    print(f"\n== {kind}")
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
    token = manage(env, "token", "create", "--user", "resident", "--name", "onewindow-bench").strip()
    listing = subprocess.run(  # noqa: S603 - this script, fixed arguments
        [sys.executable, __file__, "--child"], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    items = json.loads(listing.stdout.strip().splitlines()[-1])
    print(
        f"setup (migrate, demo load, token): {time.perf_counter() - start:.1f} s; {len(items)} online items"
    )
    sys.path.insert(0, str(ROOT))
    submissions = Submissions(items=items, token=token, seed=args.seed)
    with gunicorn(env=env, workers=args.workers, workdir=workdir) as port:
        warm = drive(
            port=port,
            clients=args.clients,
            count=args.clients * 2,
            duration=60,
            make=submissions.make,
            ok=201,
        )
        if warm.errors:
            print(f"warm-up errors: {dict(warm.errors)}")
        submissions.seed += 1
        submissions.run_id = uuid.uuid4().hex[:8]
        submit = drive(
            port=port,
            clients=args.clients,
            count=args.requests,
            duration=args.duration,
            make=submissions.make,
            ok=201,
        )
        created = [number for number, status in submit.results if status == "submitted"]
        # Look up each application with its own phone, read back through the resident's API.
        pairs = lookup_pairs(port=port, token=token, numbers=created)

        def lookup(n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
            number, phone = pairs[n % len(pairs)]
            return (
                "GET",
                "/api/v1/applications/lookup?" + urlencode({"number": number, "phone": phone}),
                None,
                {},
            )

        status = drive(
            port=port, clients=args.clients, count=args.requests, duration=args.duration, make=lookup, ok=200
        )
    print(f"gunicorn {args.workers} sync workers, {args.clients} client threads (keep-alive), 127.0.0.1")
    print(submit.line("submit (create+files+submit)"))
    print(status.line("status lookup"))
    for name, run in (("submit", submit), ("lookup", status)):
        if run.errors:
            print(f"  {name} errors: {dict(run.errors)}")
    print(f"  submitted applications: {len(created)}")


def lookup_pairs(*, port: int, token: str, numbers: list[str]) -> list[tuple[str, str]]:
    """(number, phone) of the submitted applications, read back through the resident's API."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    pairs: list[tuple[str, str]] = []
    wanted = set(numbers)
    offset = 0
    while True:
        conn.request(
            "GET",
            f"/api/v1/applications?status=submitted&limit=200&offset={offset}",
            headers={"Authorization": f"Bearer {token}"},
        )
        page = json.loads(conn.getresponse().read())
        for row in page["items"]:
            if row["number"] in wanted:
                pairs.append((row["number"], row["applicant"]["phone"]))
        offset += 200
        if offset >= page["total"]:
            break
    conn.close()
    if not pairs:
        raise SystemExit("no submitted applications to look up")
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000, help="per phase")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase at most")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.child:
        child()
        return
    one, five, _ = os.getloadavg()
    print(f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs")
    if args.db in ("sqlite", "both"):
        workdir = Path(tempfile.mkdtemp(prefix="onewindow-bench-"))
        try:
            bench("SQLite", url=f"sqlite:///{workdir / 'bench.sqlite3'}", workdir=workdir, args=args)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.db in ("postgres", "both"):
        try:
            import psycopg

            psycopg.connect(args.pg_url, connect_timeout=3).close()
        except Exception as exc:  # any failure means "no PostgreSQL here"
            print(f"\n== PostgreSQL skipped: {type(exc).__name__}: {exc}")
            return
        workdir = Path(tempfile.mkdtemp(prefix="onewindow-bench-"))
        try:
            with postgres_database(args.pg_url) as url:
                bench("PostgreSQL", url=url, workdir=workdir, args=args)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
