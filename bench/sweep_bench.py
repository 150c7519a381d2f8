"""SLA sweep benchmark: the escalation ladder over a million open assignments.

    .venv/bin/python bench/sweep_bench.py                       # PostgreSQL (else SQLite), 1 000 000
    .venv/bin/python bench/sweep_bench.py --db sqlite           # a throwaway SQLite file instead
    .venv/bin/python bench/sweep_bench.py --n 200000 --warn 300 --escalate 200 --county 50
    .venv/bin/python bench/sweep_bench.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
        (a server where the script may CREATE and DROP a database; it makes sweep_bench_<pid>)

The script migrates a fresh database, loads the demo county (handlers, staff, leaders,
dispatchers and supervisors, who are the people the sweep tells), then bulk-loads `--n` cases
with one open assignment each (COPY on PostgreSQL, executemany on SQLite): rows consistent with
the schema, natural-hour clocks, thresholds at 80 % / 100 % / 200 % of the time limit, spread so
that 30 % of the assignments are past their warning, 15 % past the deadline and 5 % past twice
the deadline, as in a county where the sweep has been running. Every step that came due before
the last minute has fired already; in the last minute `--warn` warnings, `--escalate`
escalations and `--county` county escalations came due.

It EXPLAINs the sweep's three queries (and checks that each uses the index the model declares
on its threshold column), then times `sla_sweep()` with those steps due, again at once (nothing
due: the idle sweep of every other minute, which must change nothing) and the idle sweep's
queries alone. The target for a million assignments is a sweep of at most 2 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

TARGET_S = 2.0
CHUNK = 50_000
# Share of open assignments past each threshold (a running county; the rest are < 80 % used).
PAST_WARN, PAST_DEADLINE, PAST_COUNTY = 0.30, 0.15, 0.05


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"sweep_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db",
        choices=["postgresql", "sqlite"],
        help="default: PostgreSQL at --pg-url, or SQLite when that server is not reachable",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server where a database may be created and dropped",
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="open assignments (one case each)")
    parser.add_argument("--warn", type=int, default=300, help="warnings due in the last minute")
    parser.add_argument("--escalate", type=int, default=200, help="escalations due in the last minute")
    parser.add_argument("--county", type=int, default=50, help="county escalations due in the last minute")
    parser.add_argument("--idle-runs", type=int, default=5, help="idle sweeps to time")
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    os.environ["SHANZHI_VAR_DIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if args.db is None:
        import psycopg

        try:
            psycopg.connect(args.pg_url, connect_timeout=5).close()
            args.db = "postgresql"
        except psycopg.Error as exc:
            print(f"PostgreSQL at {args.pg_url} not reachable ({exc}); using SQLite")
            args.db = "sqlite"
    try:
        if args.db == "postgresql":
            with postgres_database(args.pg_url) as url:
                os.environ["DATABASE_URL"] = url
                run(args)
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
            run(args)
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from shanzhi.cases.models import Assignment, Supervision
    from shanzhi.cases.sweep import LADDER, sla_sweep

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); {load()}")
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("demo", "load", stdout=io.StringIO())
    print(f"migrate + demo load: {time.perf_counter() - start:.1f} s")

    now = timezone.now().replace(microsecond=0)
    start = time.perf_counter()
    due = bulk_load(n=args.n, now=now, due=(args.warn, args.escalate, args.county), seed=args.seed)
    loaded = time.perf_counter() - start
    open_count = Assignment.objects.filter(status__in=["pending", "accepted"]).count()
    print(
        f"bulk load: {args.n} cases + {args.n} assignments in {loaded:.1f} s; open assignments {open_count}"
    )
    print(
        f"due at {timezone.localtime(now):%H:%M:%S}: {due[0]} warnings, {due[1]} escalations, "
        f"{due[2]} county; past warn/deadline/county: {PAST_WARN:.0%}/{PAST_DEADLINE:.0%}/{PAST_COUNTY:.0%}"
    )

    explain(now)

    before = Supervision.objects.count()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = sla_sweep(now=now)
        busy = time.perf_counter() - start
    fired = result.total()
    print(
        f"sweep with steps due:   {busy:7.3f} s   warning {result.warning}, escalation {result.escalation}, "
        f"county {result.county}  ({busy / max(fired, 1) * 1000:.1f} ms per step fired)  "
        f"{verdict(busy)}"
    )
    print(f"  {len(queries)} queries ({len(queries) / max(fired, 1):.1f} per step fired)")
    assert (result.warning, result.escalation, result.county) == due, (result, due)
    assert Supervision.objects.count() - before == fired

    start = time.perf_counter()
    again = sla_sweep(now=now)
    second = time.perf_counter() - start
    print(
        f"second run, same minute: {second:6.3f} s   changes {again.total()} "
        f"(idempotent: {again.total() == 0})"
    )
    assert again.total() == 0

    idle = []
    for _ in range(args.idle_runs):
        start = time.perf_counter()
        assert sla_sweep(now=now).total() == 0
        idle.append(time.perf_counter() - start)
    print(
        f"idle sweep (nothing due): {statistics.median(idle) * 1000:6.1f} ms median of {args.idle_runs}, "
        f"max {max(idle) * 1000:.1f} ms  {verdict(statistics.median(idle))}"
    )
    from shanzhi.cases.sweep import due_assignments

    for _level, threshold, done_field, _note in LADDER:
        qs = due_assignments(threshold=threshold, done_field=done_field, now=now).only("pk")[:500]
        times = []
        for _ in range(5):
            start = time.perf_counter()
            list(qs.all())
            times.append(time.perf_counter() - start)
        print(f"  idle query on {threshold + ':':10s} {statistics.median(times) * 1000:8.2f} ms median of 5")
    print(f"end: {load()}")


def load() -> str:
    """Other work on the machine skews every figure; say how much there was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def verdict(seconds: float) -> str:
    return f"(target ≤ {TARGET_S:.0f} s: {'met' if seconds <= TARGET_S else 'MISSED'})"


def explain(now: Any) -> None:
    """Print the top of each ladder query's plan and check that it reads an index the model
    declares (a threshold's db_index, or a Meta.indexes entry holding the threshold column)."""
    from django.db import connection

    from shanzhi.cases.models import Assignment
    from shanzhi.cases.sweep import BATCH, LADDER, due_assignments

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Assignment._meta.db_table)
    declared = {index.name for index in Assignment._meta.indexes}
    for field in Assignment._meta.concrete_fields:
        if getattr(field, "db_index", False):  # Django names these <table>_<column>_<hash>
            declared |= {
                name for name, c in constraints.items() if c["index"] and c["columns"] == [field.column]
            }
    for _level, threshold, done_field, _note in LADDER:
        qs = due_assignments(threshold=threshold, done_field=done_field, now=now).only("pk")[:BATCH]
        # ANALYZE on PostgreSQL shows the rows each step really read.
        plan = qs.explain(analyze=True, buffers=True) if connection.vendor == "postgresql" else qs.explain()
        candidates = {
            name: c["columns"]
            for name, c in constraints.items()
            if c["index"] and not c["primary_key"] and threshold in c["columns"]
        }
        used = [name for name in candidates if re.search(rf"\b{re.escape(name)}\b", plan)]
        holding = ", ".join(f"{n} {c}" for n, c in candidates.items())
        print(f"EXPLAIN {threshold} (indexes holding it: {holding})")
        for line in plan.splitlines()[:5]:
            print(f"    {line.strip()[:150]}")
        if used:
            whose = "declared by" if used[0] in declared else "NOT declared by"
            print(f"    -> uses {used[0]} {candidates[used[0]]}, {whose} the model")
        else:
            print("    -> DOES NOT use an index on the threshold")


def bulk_load(*, n: int, now: Any, due: tuple[int, int, int], seed: int) -> tuple[int, int, int]:
    """`n` cases, each with one open assignment, written as rows the way the services write them."""
    import datetime as dt

    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from shanzhi.cases.models import Assignment, Case, Category
    from shanzhi.core.models import Handler, Region, RegionLevel

    rng = random.Random(seed)
    villages = list(Region.objects.filter(level=RegionLevel.VILLAGE).values_list("pk", "parent_id"))
    handlers = list(Handler.objects.filter(active=True).values_list("pk", flat=True))
    categories = list(Category.objects.values_list("pk", "sla_hours"))
    case_base = (Case.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    assign_base = (Assignment.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    minute = dt.timedelta(minutes=1)
    # Which rows have a step that came due in the last minute: (row → level index)
    picks = rng.sample(range(n), sum(due))
    due_level = {row: 0 for row in picks[: due[0]]}
    due_level.update({row: 1 for row in picks[due[0] : due[0] + due[1]]})
    due_level.update({row: 2 for row in picks[due[0] + due[1] :]})

    adapt = connection.ops.adapt_datetimefield_value
    case_cols, case_template = _template(Case)
    assign_cols, assign_template = _template(Assignment)
    ci = {c: i for i, c in enumerate(case_cols)}
    ai = {c: i for i, c in enumerate(assign_cols)}

    def rows(lo: int, hi: int) -> tuple[list[list[Any]], list[list[Any]]]:
        cases, assignments = [], []
        for row in range(lo, hi):
            cat_pk, sla = rng.choice(categories)
            hours = float(sla)
            level = due_level.get(row)
            if level is None:
                u = rng.random()
                if u < 1 - PAST_WARN:
                    progress = rng.uniform(0.0, 0.8)
                elif u < 1 - PAST_DEADLINE:
                    progress = rng.uniform(0.8, 1.0)
                elif u < 1 - PAST_COUNTY:
                    progress = rng.uniform(1.0, 2.0)
                else:
                    progress = rng.uniform(2.0, 4.0)
                started = now - dt.timedelta(hours=hours * progress) - minute
            else:
                share = (0.8, 1.0, 2.0)[level]
                started = now - dt.timedelta(hours=hours * share, seconds=rng.uniform(0, 59))
            warn_at = started + dt.timedelta(hours=hours * 0.8)
            deadline = started + dt.timedelta(hours=hours)
            county_at = started + dt.timedelta(hours=hours * 2)
            # Steps that came due have fired (within the minute); a picked row's step `level` waits.
            fired = [
                (at + dt.timedelta(seconds=30) if at <= now - minute else at)
                if (at <= now if level is None else i < level)
                else None
                for i, at in enumerate((warn_at, deadline, county_at))
            ]
            accepted = rng.random() < 0.5
            village, township = rng.choice(villages)
            case_pk = case_base + row
            case = list(case_template)
            case[ci["id"]] = case_pk
            case[ci["number"]] = f"SB{case_pk:012d}"
            case[ci["channel"]] = "hotline"
            case[ci["status"]] = "in_progress" if accepted else "dispatched"
            case[ci["text"]] = "基准测试诉求:路灯不亮,请尽快修复。"
            case[ci["region_id"]] = village
            case[ci["township_id"]] = township
            case[ci["category_id"]] = cat_pk
            case[ci["suggested_category_id"]] = cat_pk
            case[ci["received_at"]] = adapt(started - minute)
            case[ci["registered_at"]] = adapt(started)
            case[ci["dispatched_at"]] = adapt(started)
            case[ci["deadline"]] = adapt(deadline)
            case[ci["updated_at"]] = adapt(started)
            cases.append(case)
            a = list(assign_template)
            a[ai["id"]] = assign_base + row
            a[ai["case_id"]] = case_pk
            a[ai["handler_id"]] = rng.choice(handlers)
            a[ai["role"]] = "primary"
            a[ai["status"]] = "accepted" if accepted else "pending"
            a[ai["clock_unit"]] = "natural_hours"
            a[ai["sla_hours"]] = hours
            a[ai["started_at"]] = adapt(started)
            a[ai["warn_at"]] = adapt(warn_at)
            a[ai["deadline"]] = adapt(deadline)
            a[ai["county_at"]] = adapt(county_at)
            a[ai["warned_at"]] = adapt(fired[0]) if fired[0] else None
            a[ai["escalated_at"]] = adapt(fired[1]) if fired[1] else None
            a[ai["county_escalated_at"]] = adapt(fired[2]) if fired[2] else None
            a[ai["accepted_at"]] = adapt(started) if accepted else None
            assignments.append(a)
        return cases, assignments

    with transaction.atomic(), connection.cursor() as cursor:
        for lo in range(0, n, CHUNK):
            cases, assignments = rows(lo, min(n, lo + CHUNK))
            _write(cursor, Case._meta.db_table, case_cols, cases)
            _write(cursor, Assignment._meta.db_table, assign_cols, assignments)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Case, Assignment]):
            cursor.execute(sql)
    with connection.cursor() as cursor:  # what autovacuum would have done by now
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM (ANALYZE) {Case._meta.db_table}, {Assignment._meta.db_table}")
        else:
            cursor.execute("ANALYZE")
    return due


def _template(model: Any) -> tuple[list[str], list[Any]]:
    """Column names and default values of a model's table, as the database takes them."""
    columns, values = [], []
    for f in model._meta.concrete_fields:
        value = f.get_default() if f.has_default() or not f.null else None
        if isinstance(value, dict | list):
            value = json.dumps(value)
        columns.append(f.column)
        values.append(value)
    return columns, values


def _write(cursor: Any, table: str, columns: list[str], rows: list[list[Any]]) -> None:
    from django.db import connection

    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'  # noqa: S608 - our model's own columns
        cursor.cursor.executemany(sql, rows)


if __name__ == "__main__":
    main()
