"""Historical import benchmark: a generated 12345 export of N rows through `shanzhi cases import`.

    .venv/bin/python bench/import_bench.py                    # 1,000,000 rows, throwaway SQLite
    .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/import_bench.py --rows 100000 --encoding gb18030
    .venv/bin/python bench/import_bench.py --rows 100000 --format xlsx
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/import_bench .venv/bin/python bench/import_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and loads the demo)

The export is plausible hotline data for the demo county: texts from the triage corpus
(shanzhi/triage/data/corpus.csv) with small variations, addresses from the county's villages and
estates, a third of the rows with coordinates, times spread over two years in time order, most
rows closed and rated, and about 0.5 % bad rows (no text, unreadable time, a point outside the
county, a repeated 工单编号). Prints the rows per second, the peak RSS, the RSS over the run (it
should stay flat: the importer streams) and where the time went, triage's share included.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import os
import pstats
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SATISFACTION = ["非常满意", "满意", "基本满意", "不满意", "非常不满意", "一般", "满意"]
SATISFACTION_WEIGHTS = [30, 40, 12, 6, 2, 5, 5]
TAILS = ["", "", "", "已经持续{n}天了。", "反映多次未解决。", "希望尽快处理。", "来电人要求回电。"]


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class SampledStderr:
    """The progress stream: passes through to stderr and samples the RSS on every redraw."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, float]] = []
        self.rows = 0

    def write(self, text: str, /) -> None:
        sys.stderr.write(text)
        self.samples.append((len(self.samples), rss_mb()))

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


class _Sink:
    """Rows out to a CSV, or to an XLSX through openpyxl's write-only (streaming) workbook."""

    def __init__(self, path: Path, *, encoding: str) -> None:
        self.path, self.encoding = path, encoding

    def __enter__(self) -> _Sink:
        if self.path.suffix == ".xlsx":
            import openpyxl

            self.workbook = openpyxl.Workbook(write_only=True)
            self.sheet = self.workbook.create_sheet("工单")
            self.write: Callable[[list[Any]], object] = self.sheet.append
        else:
            self.handle = self.path.open("w", encoding=self.encoding, newline="")
            self.write = csv.writer(self.handle).writerow
        return self

    def writerow(self, row: list[Any]) -> None:
        self.write(row)

    def __exit__(self, *exc: object) -> None:
        if self.path.suffix == ".xlsx":
            self.workbook.save(self.path)
        else:
            self.handle.close()


def generate(path: Path, *, rows: int, seed: int, encoding: str) -> dict[str, int]:
    """Write the export row by row (constant memory); returns how many bad rows of each kind."""
    import shapely

    from shanzhi.core.models import Estate, Region, RegionLevel
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import RegionShape
    from shanzhi.triage.learn import shipped_corpus

    rng = random.Random(seed)
    texts = [item.text for item in shipped_corpus()]
    villages = list(Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent"))
    estates = list(Estate.objects.select_related("region__parent"))
    county = from_stored(RegionShape.objects.get(region__level=RegionLevel.COUNTY).geometry)
    minx, miny, maxx, maxy = shapely.bounds(county)
    shapely.prepare(county)

    def point() -> tuple[float, float]:
        while True:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(county, x, y):
                return round(x, 6), round(y, 6)

    def address() -> str:
        roll = rng.random()
        if roll < 0.15:
            return ""
        if roll < 0.35 and estates:
            estate = rng.choice(estates)
            town = estate.region.parent
            return f"{town.name if town else ''}{estate.region.name}{estate.name}{rng.randint(1, 30)}幢"
        village = rng.choice(villages)
        town = village.parent
        return f"{town.name if town else ''}{village.name}{rng.randint(1, 12)}组{rng.randint(1, 99)}号"

    end = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=1)
    start = end - dt.timedelta(days=730)
    span = (end - start).total_seconds()
    # Sorted times without holding them: the expected gaps of uniform points, drawn one by one.
    mean_gap = span / max(rows, 1)
    moment = start
    bad = {"no_text": 0, "bad_time": 0, "outside": 0, "duplicate": 0}
    header = [
        "序号",
        "工单编号",
        "来电时间",
        "诉求内容",
        "地址",
        "经度",
        "纬度",
        "办结时间",
        "满意度",
        "承办单位",
    ]
    previous_id = ""
    day_seq: dict[str, int] = {}
    with _Sink(path, encoding=encoding) as writer:
        writer.writerow(header)
        for n in range(1, rows + 1):
            moment = min(moment + dt.timedelta(seconds=rng.expovariate(1 / mean_gap)), end)
            day = f"{moment:%Y%m%d}"
            day_seq[day] = day_seq.get(day, 0) + 1
            if len(day_seq) > 2:
                day_seq = {day: day_seq[day]}
            source_id = f"{day}{day_seq[day]:06d}"
            text = rng.choice(texts)
            tail = rng.choice(TAILS)
            if tail:
                text = text.rstrip("。") + "," + tail.format(n=rng.randint(2, 30))
            received = f"{moment:%Y-%m-%d %H:%M:%S}" if rng.random() < 0.7 else f"{moment:%Y/%-m/%-d %-H:%M}"
            lon = lat = ""
            if rng.random() < 0.33:
                x, y = point()
                lon, lat = f"{x}", f"{y}"
            closed = satisfaction = ""
            if rng.random() < 0.9:
                done = moment + dt.timedelta(hours=rng.uniform(1, 24 * 15))
                if done < end:
                    closed = f"{done:%Y-%m-%d %H:%M:%S}"
                    if rng.random() < 0.7:
                        satisfaction = rng.choices(SATISFACTION, SATISFACTION_WEIGHTS)[0]
            roll = rng.random()
            if roll < 0.002:
                text, bad["no_text"] = "", bad["no_text"] + 1
            elif roll < 0.004:
                received, bad["bad_time"] = "2024-13-45 25:61", bad["bad_time"] + 1
            elif roll < 0.005:
                lon, lat, bad["outside"] = "121.5", "31.2", bad["outside"] + 1
            elif roll < 0.006 and previous_id:
                source_id, bad["duplicate"] = previous_id, bad["duplicate"] + 1
            previous_id = source_id
            writer.writerow([n, source_id, received, text, address(), lon, lat, closed, satisfaction, ""])
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated export")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument(
        "--encoding", choices=["utf-8-sig", "utf-8", "gb18030"], default="utf-8-sig", help="CSV only"
    )
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (export, database)")
    parser.add_argument("--profile", action="store_true", help="print the import's top functions (cProfile)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="import-bench-"))
    os.environ.setdefault("SHANZHI_VAR_DIR", str(workdir))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanzhi.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

    try:
        run(args, workdir)
    finally:
        if args.keep:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from shanzhi.audit.models import AuditEntry
    from shanzhi.cases.catalogue import category_sync
    from shanzhi.cases.imports import case_import
    from shanzhi.cases.models import Case
    from shanzhi.core.demo import load_demo as load_core
    from shanzhi.grid.demo import load_demo as load_grids
    from shanzhi.triage.demo import load_demo as load_triage

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    started = time.perf_counter()
    quiet = io.StringIO()
    load_core(stdout=quiet)
    load_grids(stdout=quiet)
    category_sync(actor=None)
    load_triage(stdout=quiet)
    print(f"demo load (regions, grids, catalogue, triage model): {time.perf_counter() - started:.1f} s")

    export = workdir / f"12345-export.{args.format}"
    started = time.perf_counter()
    bad = generate(export, rows=args.rows, seed=args.seed, encoding=args.encoding)
    size = export.stat().st_size
    print(
        f"export: {args.rows:,} rows, {size / 1e6:.0f} MB ({args.format}"
        f"{', ' + args.encoding if args.format == 'csv' else ''}), generated in "
        f"{time.perf_counter() - started:.1f} s; bad rows planted: {bad}"
    )

    sys.stdout.flush()
    before_rss = rss_mb()
    stream = SampledStderr()
    started = time.perf_counter()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    result = case_import(actor=None, path=export, batch_size=args.batch_size, progress=stream)
    total = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    seconds: dict[str, Any] = dict(result.seconds)
    print()
    print(
        f"imported {result.imported:,} of {result.read:,} rows, {result.errors:,} errors, "
        f"{result.skipped:,} skipped, in {total:.1f} s: {result.read / total:,.0f} rows/s"
    )
    print(f"cases in the database: {Case.objects.count():,}; audit entries: {AuditEntry.objects.count():,}")
    print("time by phase:")
    for name in ("inspect", "read", "parse", "known", "place", "triage", "write"):
        value = seconds.get(name, 0.0)
        print(f"  {name:<8} {value:8.1f} s  {value / total * 100:5.1f} %")
    print(f"triage share of the import time: {seconds.get('triage', 0.0) / total * 100:.1f} %")
    samples = [mb for _, mb in stream.samples] or [rss_mb()]
    print(
        f"RSS: {before_rss:.0f} MB before the import; during it min {min(samples):.0f} / "
        f"max {max(samples):.0f} MB over {len(samples)} samples; process peak {peak_rss_mb():.0f} MB"
    )
    planted = sum(bad.values())
    assert result.errors >= planted - bad["duplicate"], "planted bad rows were not all refused"


if __name__ == "__main__":
    main()
