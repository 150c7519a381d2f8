"""The county's adopted catalogues, shipped with the code: handler types and case categories.

Sources: the county's spec files (handlers.csv, case-taxonomy.csv), copied into core/data/ so an
installed package carries them. They are loaded into the database as the default catalogue and
edited in the back office from then on.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class HandlerTypeRow:
    code: str
    kind: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class CategoryRow:
    code: str
    group_zh: str
    name_zh: str
    primary_handler: str
    co_handlers: tuple[str, ...]
    sla_hours: int
    scope_zh: str


@cache
def handler_types() -> tuple[HandlerTypeRow, ...]:
    with (DATA_DIR / "handlers.csv").open(encoding="utf-8") as fh:
        return tuple(HandlerTypeRow(**row) for row in csv.DictReader(fh))


@cache
def case_categories() -> tuple[CategoryRow, ...]:
    with (DATA_DIR / "case-taxonomy.csv").open(encoding="utf-8") as fh:
        return tuple(
            CategoryRow(
                code=row["code"],
                group_zh=row["group_zh"],
                name_zh=row["name_zh"],
                primary_handler=row["primary_handler"],
                co_handlers=tuple(c for c in row["co_handlers"].split(";") if c),
                sla_hours=int(row["sla_hours"]),
                scope_zh=row["scope_zh"],
            )
            for row in csv.DictReader(fh)
        )


def case_category_codes() -> frozenset[str]:
    return frozenset(row.code for row in case_categories())
