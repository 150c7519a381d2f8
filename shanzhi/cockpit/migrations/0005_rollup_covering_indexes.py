"""Covering indexes on the case, handler and grid rollups, so a sum over a day or month range is
an index-only scan (PostgreSQL) or a covering-index scan (SQLite) instead of one heap page per
rollup row: day rows of one day are spread over the table once the triggers have updated them,
and `kpis` at 10 M cases spent 0.1-0.3 s reading them.

Plain `CREATE INDEX IF NOT EXISTS` (the tables are small beside the case tables: 1.8 M / 3.5 M
rows at 10 M cases build in seconds); on a live database create them first with
`CREATE INDEX CONCURRENTLY` (the same statements, see `index_sql`) and this migration is a no-op.
"""

from typing import Any

from django.db import migrations

CASE = "intake, closed, closed_secs, rated, satisfied"
HANDLER = "dispatched, responded, returned, rework, disposed, disposal_secs, rated, satisfied, due, on_time, suspended"
# name, table, key columns (the table's unique key), measures
COVERING = [
    ("cockpit_caseday_cover", "cockpit_caseday", "day, township_id, category_id, channel", CASE),
    ("cockpit_casemonth_cover", "cockpit_casemonth", "month, township_id, category_id, channel", CASE),
    (
        "cockpit_handlerday_cover",
        "cockpit_handlerday",
        "day, handler_id, township_id, category_id, channel",
        HANDLER,
    ),
    (
        "cockpit_handlermonth_cover",
        "cockpit_handlermonth",
        "month, handler_id, township_id, category_id, channel",
        HANDLER,
    ),
    ("cockpit_gridday_cover", "cockpit_gridday", "day, grid_id, township_id", "intake"),
    ("cockpit_gridmonth_cover", "cockpit_gridmonth", "month, grid_id, township_id", "intake"),
]


def index_sql(vendor: str, *, concurrently: bool = False) -> list[str]:
    """PostgreSQL keeps the measures as INCLUDE payload; SQLite has no INCLUDE, so they are
    trailing key columns there (its planner uses any index holding every column read)."""
    how = "CONCURRENTLY " if concurrently else ""
    if vendor == "postgresql":
        return [
            f"CREATE INDEX {how}IF NOT EXISTS {name} ON {table} ({keys}) INCLUDE ({measures})"
            for name, table, keys, measures in COVERING
        ]
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({keys}, {measures})"
        for name, table, keys, measures in COVERING
    ]


def create(apps: Any, schema_editor: Any) -> None:
    for sql in index_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql)


def drop(apps: Any, schema_editor: Any) -> None:
    for name, *_ in COVERING:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cockpit", "0004_place_triggers")]

    operations = [migrations.RunPython(create, drop)]
