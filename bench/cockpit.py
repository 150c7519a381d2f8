"""Cockpit benchmark: history generation, every panel at 1 M and 10 M cases, the seed's pandas
approach beside it, panels under concurrent intake, and a server's memory under repeated requests.

    .venv/bin/python bench/cockpit.py                                  # PostgreSQL, 1 M and 10 M
    .venv/bin/python bench/cockpit.py --sizes 1m --db sqlite           # SQLite file under var/bench/
    .venv/bin/python bench/cockpit.py --sizes 10m --runs 30 --http-requests 2000
    .venv/bin/python bench/cockpit.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
        (a server where the script may CREATE the bench databases)

Datasets: PostgreSQL databases `shanzhi_bench1m` / `shanzhi_bench10m` (SQLite: var/bench/cockpit-1m.sqlite3,
…), made by `shanzhi migrate`, `shanzhi demo load` and `shanzhi demo generate --cases N --years 5
--seed 7`, and reused when they already hold at least N generated cases (the generation rate is
then the one recorded on the first run, read back from the audit entry's run and printed as such).

Panels: every entry of `shanzhi.cockpit.panels.PANELS` plus `kpis`, called as the county leader,
`--runs` times for each of eight filters over the last 30 days (county) or the last year (county,
a township, the busiest village, a grid, a category group, the hotline channel, the busiest
handler); median and p99 per panel. Then the same while a
background process takes cases in through the real intake service (`--intake-rate` per second).
The seed's approach: the rows of the same range loaded into pandas and grouped for the same
figures (daily and monthly intake by group, shares, hotspots, township ranking); the ratio to the
cockpit's median. Memory: gunicorn with one sync worker serves `/api/v1/cockpit/<panel>` for
`--http-requests` requests (a leader's API token); the worker's RSS every 100 requests.
"""

# ruff: noqa: S603, S607, S608 - runs our own venv binaries and psql with fixed arguments
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SIZES = {"1m": 1_000_000, "10m": 10_000_000, "100k": 100_000}
YEARS = 5
SEED = 7


# --- inside Django (child processes) ----------------------------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    import django

    django.setup()


def _filters(today: Any) -> list[tuple[str, dict[str, str]]]:
    import datetime as dt

    from django.db.models import Sum

    from shanzhi.cases.models import Category
    from shanzhi.cockpit.models import HandlerMonth, PlaceMonth
    from shanzhi.core.models import Handler, Region, RegionLevel
    from shanzhi.grid.models import Grid

    year_ago = (today - dt.timedelta(days=364)).isoformat()
    town = Region.objects.filter(level=RegionLevel.TOWNSHIP).order_by("code").first()
    grid = Grid.objects.order_by("code").first()
    group = Category.objects.filter(group="噪声扰民").values_list("group", flat=True).first() or ""
    # The busiest village and handler (from the rollups: the worst case for their filters).
    village_id = (
        PlaceMonth.objects.exclude(region_id=0).values("region_id").annotate(n=Sum("intake")).order_by("-n")
    ).first()
    by_handler = HandlerMonth.objects.values("handler_id").annotate(n=Sum("dispatched"))
    handler_id = by_handler.order_by("-n").first()
    assert town is not None and grid is not None and village_id and handler_id
    village = Region.objects.get(pk=village_id["region_id"])
    handler = Handler.objects.get(pk=handler_id["handler_id"])
    return [
        ("county 30 days", {}),
        ("county 1 year", {"start": year_ago}),
        ("township 1 year", {"start": year_ago, "region": town.code}),
        ("village 1 year", {"start": year_ago, "region": village.code}),
        ("grid 1 year", {"start": year_ago, "grid": grid.code}),
        ("category group 1 year", {"start": year_ago, "category": f"g:{group}"}),
        ("channel 1 year", {"start": year_ago, "channel": "hotline"}),
        ("handler 1 year", {"start": year_ago, "handler": handler.code}),
    ]


def child_panels(runs: int) -> None:
    """Time every panel and kpis; print JSON {panel: [ms, ...]} and per filter medians."""
    _django()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from shanzhi.cockpit.filters import filter_parse
    from shanzhi.cockpit.panels import PANELS, kpis, panel_call

    user = get_user_model().objects.get(username="leader")
    now = timezone.now()
    today = timezone.localdate(now)
    times: dict[str, list[float]] = {name: [] for name in ["kpis", *PANELS]}
    by_filter: dict[str, dict[str, list[float]]] = {}
    for label, params in _filters(today):
        f = filter_parse(user=user, params=params, today=today)
        mine: dict[str, list[float]] = {name: [] for name in times}
        for _ in range(runs):
            for name in times:
                t = time.perf_counter()
                if name == "kpis":
                    kpis(user=user, f=f, now=now)
                else:
                    panel_call(name, user=user, f=f, now=now)
                ms = (time.perf_counter() - t) * 1000
                times[name].append(ms)
                mine[name].append(ms)
        by_filter[label] = {k: [statistics.median(v), _pctl(v, 0.99)] for k, v in mine.items()}
    print(json.dumps({"times": times, "by_filter": by_filter}))


def child_pandas(runs: int) -> None:
    """The seed's approach for one year of the whole county: load the rows, group in pandas."""
    _django()
    import datetime as dt

    import pandas as pd
    from django.db import connection
    from django.utils import timezone

    today = timezone.localdate()
    start = dt.datetime.combine(today - dt.timedelta(days=364), dt.time(0), tzinfo=dt.UTC) - dt.timedelta(
        hours=8
    )
    sql = (
        "SELECT c.received_at, c.status, c.channel, c.grid_id, c.township_id, k.code AS category, "
        'k."group" AS grp, c.closed_at, c.satisfaction FROM cases_case c '
        "LEFT JOIN cases_category k ON k.id = c.category_id WHERE c.received_at >= %s"
    )
    out: dict[str, list[float]] = {"load": [], "group": [], "total": []}
    rows = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, [start])
            data = cursor.fetchall()
            columns = [c[0] for c in cursor.description]  # (gone once the cursor is closed)
        frame = pd.DataFrame(data, columns=columns)
        t1 = time.perf_counter()
        when = pd.to_datetime(frame["received_at"], utc=True).dt.tz_convert("Asia/Shanghai")
        frame["day"] = when.dt.date
        frame["month"] = when.dt.to_period("M")
        frame.groupby(["day", "grp"]).size()
        frame.groupby(["month", "grp"]).size()
        shares = frame.groupby("category").size()
        (shares / shares.sum()).sort_values()
        frame.groupby("grid_id").size()
        closed = frame["status"].isin(["closed", "evaluated"])
        frame.assign(closed=closed).groupby("township_id").agg(
            intake=("status", "size"), closed=("closed", "sum")
        )
        t2 = time.perf_counter()
        out["load"].append((t1 - t0) * 1000)
        out["group"].append((t2 - t1) * 1000)
        out["total"].append((t2 - t0) * 1000)
        rows = len(frame)
        del frame, data
    print(json.dumps({"rows": rows, **{k: statistics.median(v) for k, v in out.items()}}))


def child_intake(rate: float, seconds: float) -> None:
    """Take cases in through the real intake service at a steady rate until told to stop."""
    _django()
    from django.contrib.auth import get_user_model

    from shanzhi.cases.intake import IntakeRequest, intake_request

    operator = get_user_model().objects.get(username="operator")
    texts = ["市民来电反映:城中社区锦绣花园垃圾桶满溢无人清运。", "来电反映:青石镇上溪村路灯不亮一周。"]
    done, began = 0, time.monotonic()
    while time.monotonic() - began < seconds:
        intake_request(
            actor=operator,
            request=IntakeRequest(channel="hotline", text=texts[done % 2], address="城关街道城中社区"),
        )
        done += 1
        pause = began + done / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    print(json.dumps({"cases": done, "seconds": time.monotonic() - began}))


def child_count() -> None:
    _django()
    from shanzhi.audit.models import AuditEntry
    from shanzhi.cases.models import Case

    entries = AuditEntry.objects.filter(action="cockpit.history.generate").count()
    print(json.dumps({"generated": Case.objects.filter(number__startswith="G").count(), "runs": entries}))


# --- the driver ---------------------------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str], timeout: float | None = None) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _child(kind: str, env: dict[str, str], *extra: str) -> Any:
    out = _run([sys.executable, __file__, "--child", kind, *extra], env)
    return json.loads(out.strip().splitlines()[-1])


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=url)
    env.pop("DATABASE_URL_READ", None)
    return env


def dataset(base: str, size: str, db: str) -> tuple[str, dict[str, Any]]:
    """The database URL for `size`, generated when missing; and the generation figures."""
    n = SIZES[size]
    if db == "postgres":
        parts = urlsplit(base)
        url = urlunsplit(parts._replace(path=f"/shanzhi_bench{size}"))
        admin = dict(os.environ)
        exists = subprocess.run(
            ["psql", base, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = 'shanzhi_bench{size}'"],
            capture_output=True, text=True, env=admin, check=False,
        ).stdout.strip() == "1"  # fmt: skip
        if not exists:
            _run(["createdb", "-h", parts.hostname or "127.0.0.1", "-U", parts.username or "postgres",
                  f"shanzhi_bench{size}"], admin)  # fmt: skip
    else:
        path = ROOT / "var" / "bench" / f"cockpit-{size}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    env = _env(url)
    _run([str(BIN / "shanzhi"), "migrate", "--noinput", "-v0"], env)
    have = 0
    try:
        have = int(_child("count", env)["generated"])
    except SystemExit:
        have = 0
    if have >= n:
        return url, {"cases": n, "reused": True}
    _run([str(BIN / "shanzhi"), "demo", "load"], env)
    t = time.monotonic()
    out = _run([str(BIN / "shanzhi"), "demo", "generate", "--cases", str(n), "--years", str(YEARS),
                "--seed", str(SEED)], env)  # fmt: skip
    seconds = time.monotonic() - t
    line = out.strip().splitlines()[-1]
    return url, {
        "cases": n,
        "reused": False,
        "seconds": round(seconds, 1),
        "rate": round(n / seconds),
        "line": line,
    }


def _pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _print_panels(title: str, result: dict[str, Any]) -> dict[str, tuple[float, float]]:
    print(f"\n{title}")
    print(f"  {'panel':<20}{'median ms':>11}{'p99 ms':>10}")
    table = {}
    for name, values in result["times"].items():
        med, p99 = statistics.median(values), _pctl(values, 0.99)
        table[name] = (med, p99)
        print(f"  {name:<20}{med:>11.1f}{p99:>10.1f}")
    labels = list(result["by_filter"])
    print("  median / p99 ms per filter:")
    print(f"  {'panel':<20}" + "".join(f"{label[:16]:>18}" for label in labels))
    for name in result["times"]:
        cells = [result["by_filter"][label][name] for label in labels]
        print(f"  {name:<20}" + "".join(f"{f'{m:.0f} / {p:.0f}':>18}" for m, p in cells))
    return table


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory(env: dict[str, str], requests: int) -> list[int]:
    """RSS (MB) of a gunicorn worker every 100 panel requests over HTTP."""
    token = _run([str(BIN / "shanzhi"), "token", "create", "--user", "leader"], env).strip().splitlines()[-1]
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "shanzhi.config.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--timeout", "120"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1)
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        server.terminate()
        raise
    names = ["kpis", "intake_daily", "intake_monthly", "category_shares", "hotspots", "handler_ranking",
             "township_ranking", "repeat_complaints", "seasonal", "seed_focus"]  # fmt: skip
    queries = ["", "?region=331199101000", "?category=g:%E5%99%AA%E5%A3%B0%E6%89%B0%E6%B0%91"]
    series: list[int] = []
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(requests):
            path = f"/api/v1/cockpit/{names[i % len(names)]}{queries[(i // len(names)) % len(queries)]}"
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit(f"{path}: HTTP {resp.status}")
            if i % 100 == 0 or i == requests - 1:
                series.append(_rss_kb(worker) // 1024)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return series


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", default="")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", default="1m,10m")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pandas-runs", type=int, default=3)
    parser.add_argument("--intake-rate", type=float, default=5.0)
    parser.add_argument("--http-requests", type=int, default=2000)
    parser.add_argument("--skip", default="", help="comma list of: intake,pandas,memory")
    args = parser.parse_args()
    if args.child == "panels":
        return child_panels(args.runs)
    if args.child == "pandas":
        return child_pandas(args.pandas_runs)
    if args.child == "intake":
        return child_intake(args.intake_rate, float(args.runs))
    if args.child == "count":
        return child_count()
    skip = set(filter(None, args.skip.split(",")))
    for size in args.sizes.split(","):
        url, gen = dataset(args.pg_url, size, args.db)
        env = _env(url)
        print(f"\n=== {args.db} {size}: {url}")
        if gen["reused"]:
            print(f"  dataset reused ({gen['cases']:,} generated cases present)")
        else:
            print(
                f"  generated {gen['cases']:,} cases in {gen['seconds']} s = {gen['rate']:,} rows/s\n"
                f"  {gen['line']}"
            )
        panels = _child("panels", env, "--runs", str(args.runs))
        filters = len(panels["by_filter"])
        quiet = _print_panels(f"panels, {args.runs} runs × {filters} filters, no other load", panels)
        if "intake" not in skip:
            stop = subprocess.Popen(
                [sys.executable, __file__, "--child", "intake", "--runs", "100000",
                 "--intake-rate", str(args.intake_rate)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            time.sleep(3)
            busy = _print_panels(
                f"panels under concurrent intake ({args.intake_rate}/s through intake_request)",
                _child("panels", env, "--runs", str(max(5, args.runs // 3))),
            )
            stop.terminate()
            stop.wait(timeout=30)
            worst = max(busy[k][0] / max(quiet[k][0], 0.01) for k in busy)
            print(f"  worst median slowdown under intake: ×{worst:.2f}")
        if "pandas" not in skip:
            pd = _child("pandas", env, "--pandas-runs", str(args.pandas_runs))
            five = ("intake_daily", "intake_monthly", "category_shares", "hotspots", "township_ranking")
            ours = sum(panels["by_filter"]["county 1 year"][k][0] for k in five)
            print(
                f"\npandas (seed's approach), county 1 year, {pd['rows']:,} rows: "
                f"load {pd['load']:.0f} ms + group "
                f"{pd['group']:.0f} ms = {pd['total']:.0f} ms; the same five panels (medians, county 1 year) "
                f"{ours:.0f} ms; ratio ×{pd['total'] / max(ours, 0.01):.0f}"
            )
        if "memory" not in skip:
            series = memory(env, args.http_requests)
            print(f"\nmemory: gunicorn worker RSS MB every 100 of {args.http_requests} requests: {series}")


if __name__ == "__main__":
    main()
