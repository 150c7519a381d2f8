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
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # bench/_common.py (the bench dir is on the path above)
    DEFAULT_PG,
    NAMES,
    Request,
    child_json,
    drive,
    gunicorn,
    load_average,
    manage,
    pg_unreachable,
    served_database,
    served_demo,
    setup_django,
)

# --- the child: runs inside the benchmark database's settings -------------------------------------


def child() -> None:
    """Print the online items a resident can submit in one request: code, questions, needed keys."""
    setup_django()
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


# --- requests -------------------------------------------------------------------------------------


def small_pdf() -> bytes:
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

    def make(self, n: int) -> Request:
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


# --- one database ------------------------------------------------------------------------------


def bench(kind: str, *, url: str, workdir: Path, args: argparse.Namespace) -> None:
    print(f"\n== {kind}")
    start = time.perf_counter()
    env = served_demo(url=url, workdir=workdir)
    token = manage(env, "token", "create", "--user", "resident", "--name", "onewindow-bench").strip()
    items = child_json(env, __file__)
    print(
        f"setup (migrate, demo load, token): {time.perf_counter() - start:.1f} s; {len(items)} online items"
    )
    submissions = Submissions(items=items, token=token, seed=args.seed)
    with gunicorn(env=env, workers=args.workers, workdir=workdir) as (port, _):
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
        created = [answer["number"] for answer in submit.answers if answer.get("status") == "submitted"]
        # Look up each application with its own phone, read back through the resident's API.
        pairs = lookup_pairs(port=port, token=token, numbers=created)

        def lookup(n: int) -> Request:
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
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=2000, help="per phase")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase at most")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.child:
        child()
        return
    print(load_average())
    for kind, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if args.db not in ("both", kind):
            continue
        if kind == "postgres" and (why := pg_unreachable(args.pg_url)):
            print(f"\n== PostgreSQL skipped: {why}")
            continue
        with served_database(kind, prefix="onewindow-bench", pg_url=args.pg_url) as (url, workdir):
            bench(label, url=url, workdir=workdir, args=args)


if __name__ == "__main__":
    main()
