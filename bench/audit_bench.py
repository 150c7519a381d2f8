"""Audit log benchmark: append rate, root time and proof time at N entries (default 100 000).

    .venv/bin/python bench/audit_bench.py                 # throwaway SQLite database in a temp dir
    .venv/bin/python bench/audit_bench.py --n 1000000     # a million entries
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/audit_bench .venv/bin/python bench/audit_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and fills it)

Appends go through the real `audit_append`. Most of the log is written in batches of 1 000
appends per transaction to keep the run short; a sample of one-append-per-transaction writes
gives the rate a service sees.
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Median seconds per call."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="entries in the log")
    parser.add_argument("--sample", type=int, default=2_000, help="single-transaction appends to time")
    parser.add_argument("--proofs", type=int, default=200, help="proofs to time")
    parser.add_argument("--verify", action="store_true", help="also time a full `audit verify`")
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="write entries after the sample with bulk inserts (same format; fast)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # the throwaway SQLite file and key
    os.environ.setdefault("SHANZHI_VAR_DIR", str(workdir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from shanzhi.audit import merkle
    from shanzhi.audit.canonical import canonical_json, state_digest
    from shanzhi.audit.models import AuditEntry, AuditLogHead, AuditNode
    from shanzhi.audit.services import audit_append, tree_head_sign
    from shanzhi.audit.tree import log_size, tree_consistency_path, tree_inclusion_path, tree_root

    call_command("migrate", verbosity=0)
    if log_size():
        sys.exit("the benchmark database must be empty")
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")

    def append(i: int) -> None:
        audit_append(
            actor=None, action="bench.touch", object_type="bench.thing", object_id=str(i), state={"i": i}
        )

    def bulk_append(start: int, end: int) -> None:
        """Rows exactly as audit_append writes them (verify checks this), without the ORM per row."""
        now = timezone.now()
        rows = []
        for i in range(start, end):
            digest = state_digest({"i": i})
            record = {
                "index": i,
                "timestamp": now.isoformat(),
                "actor": "system",
                "action": "bench.touch",
                "object_type": "bench.thing",
                "object_id": str(i),
                "state_digest": digest,
            }
            data = canonical_json(record)
            rows.append(
                AuditEntry(
                    index=i,
                    timestamp=now,
                    actor="system",
                    action="bench.touch",
                    object_type="bench.thing",
                    object_id=str(i),
                    state_digest=digest,
                    entry_bytes=data,
                    leaf_hash=merkle.leaf_hash(data),
                )
            )
        AuditEntry.objects.bulk_create(rows)
        AuditLogHead.objects.filter(pk=1).update(next_index=end)

    sample = min(args.sample, args.n)
    start = time.perf_counter()
    for i in range(sample):
        with transaction.atomic():
            append(i)
    single = time.perf_counter() - start
    print(f"append, one per transaction:   {sample / single:10.0f} entries/s  ({sample} entries)")

    start = time.perf_counter()
    done = sample
    while done < args.n:
        end = min(done + 1000, args.n)
        with transaction.atomic():
            if args.bulk:
                bulk_append(done, end)
            else:
                for i in range(done, end):
                    append(i)
        done = end
    batched = time.perf_counter() - start
    if args.n > sample:
        how = "bulk insert" if args.bulk else "append, 1000 per transaction"
        print(f"{how + ':':31s}{(args.n - sample) / batched:10.0f} entries/s")

    n = log_size()
    cold = timed(lambda: tree_root(size=n))
    nodes = AuditNode.objects.count()
    print(f"root at {n}, empty cache:     {cold * 1000:10.1f} ms  (builds {nodes} cached nodes)")
    warm = timed(lambda: tree_root(size=n), repeat=20)
    print(f"root at {n}, warm cache:      {warm * 1000:10.2f} ms")
    sign = timed(lambda: tree_head_sign(actor=None, force=True), repeat=20)
    print(f"sign tree head (root + Ed25519): {sign * 1000:8.2f} ms")

    rng = random.Random(9162)
    root = tree_root(size=n)
    indexes = [rng.randrange(n) for _ in range(args.proofs)]
    leaves = dict(AuditEntry.objects.filter(index__in=indexes).values_list("index", "leaf_hash"))
    times = []
    for index in indexes:
        start = time.perf_counter()
        path, got = tree_inclusion_path(index=index, size=n)
        times.append(time.perf_counter() - start)
        ok = merkle.verify_inclusion(
            leaf=bytes(leaves[index]), index=index, tree_size=n, path=path, root_hash=got
        )
        assert ok and got == root, index
    print(
        f"inclusion proof at {n}:       {statistics.median(times) * 1000:10.2f} ms median, "
        f"{max(times) * 1000:.2f} ms max"
    )

    times = []
    for _ in range(args.proofs):
        first = rng.randrange(1, n + 1)
        start = time.perf_counter()
        path = tree_consistency_path(first=first, second=n)
        times.append(time.perf_counter() - start)
    print(
        f"consistency proof at {n}:     {statistics.median(times) * 1000:10.2f} ms median, "
        f"{max(times) * 1000:.2f} ms max"
    )

    if args.verify:
        from shanzhi.audit.verify import audit_verify

        start = time.perf_counter()
        report = audit_verify()
        elapsed = time.perf_counter() - start
        print(
            f"full verify:                   {elapsed:10.1f} s  ok={report.ok} ({n / elapsed:.0f} entries/s)"
        )


if __name__ == "__main__":
    main()
