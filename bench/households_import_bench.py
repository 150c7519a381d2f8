"""Household Excel import benchmark: rows per second for a full file (20 000 rows by default).

    .venv/bin/python bench/households_import_bench.py                 # throwaway SQLite database
    .venv/bin/python bench/households_import_bench.py --rows 5000
    .venv/bin/python bench/households_import_bench.py --pg         # scratch PostgreSQL, dropped after
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/hh_bench \
        .venv/bin/python bench/households_import_bench.py
        (an empty PostgreSQL database you can throw away)

Loads the demo county, writes an .xlsx of households spread over the grids (half name their
grid, half are placed by their point; codes left blank so the importer numbers them), then
imports it as the demo admin: once with one bad phone in the last row (everything is read and
checked, nothing written) and once clean. Prints rows/s for both and the file size.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_parser, load_county, run_on_scratch  # bench/_common.py


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    run_on_scratch(prefix="hh-import-bench", pg=args.pg, run=lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    import numpy as np
    from django.contrib.auth import get_user_model
    from openpyxl import Workbook

    from shanzhi.core.errors import ServiceError
    from shanzhi.grid import household_excel as hx
    from shanzhi.grid.demo_households import points_in
    from shanzhi.grid.geometry import from_stored
    from shanzhi.grid.models import Grid, Household

    load_county()
    admin = get_user_model().objects.get(username="admin")
    grids = list(Grid.objects.filter(active=True).order_by("code"))
    rng = np.random.default_rng(args.seed)
    per_grid = -(-args.rows // len(grids))
    rows: list[list[object]] = []
    for grid in grids:
        for lon, lat in points_in(from_stored(grid.geometry), per_grid, rng).tolist():
            named = len(rows) % 2 == 0
            rows.append(
                [
                    "",
                    grid.code if named else "",
                    f"测试地址 {len(rows) + 1} 号",
                    "张三",
                    round(lon, 6),
                    round(lat, 6),
                    int(rng.integers(1, 6)),
                    f"139{int(rng.integers(0, 10**8)):08d}",
                    "是" if len(rows) % 13 == 0 else "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    rows = rows[: args.rows]

    def xlsx(data: list[list[object]]) -> bytes:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("住户")
        ws.append(hx.HEADERS)
        for row in data:
            ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    clean = xlsx(rows)
    bad_rows = [*rows[:-1], [*rows[-1][:7], "12345", *rows[-1][8:]]]
    bad = xlsx(bad_rows)
    print(f"file: {len(rows)} rows, {len(clean) / 1024:.0f} KiB")
    before = Household.objects.count()

    t0 = time.perf_counter()
    try:
        hx.import_xlsx(actor=admin, content=bad)
        raise SystemExit("the bad file was accepted")
    except ServiceError as exc:
        assert exc.code == "import_invalid" and len(exc.details) == 1, exc.details[:3]
    check_s = time.perf_counter() - t0
    assert Household.objects.count() == before
    print(f"read + check, refused (1 bad row): {check_s:6.2f} s  {len(rows) / check_s:8.0f} rows/s")

    t0 = time.perf_counter()
    result = hx.import_xlsx(actor=admin, content=clean)
    total_s = time.perf_counter() - t0
    assert result.created == len(rows)
    print(f"full import (read, check, insert, audit): {total_s:6.2f} s  {len(rows) / total_s:8.0f} rows/s")
    print(f"households now: {Household.objects.count()} (demo {before} + imported {result.created})")


if __name__ == "__main__":
    main()
