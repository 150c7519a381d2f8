"""New trigger bodies for the place tables of 0003 (in their own migration: PostgreSQL creates
0003's unique constraints at the end of that migration, and the rebuild's upserts need them)."""

from typing import Any

from django.db import migrations, models


def reinstall(apps: Any, schema_editor: Any) -> None:
    """New trigger bodies (place sums, 30-day counts) and a recount of every rollup."""
    from shanzhi.cockpit import rollups

    rollups.uninstall(schema_editor.connection)
    rollups.install(schema_editor.connection)
    with schema_editor.connection.cursor() as cur:
        for sql in rollups.rebuild_statements(schema_editor.connection.vendor):
            cur.execute(sql)


def drop(apps: Any, schema_editor: Any) -> None:
    """Going back: drop the triggers (they write the place tables); re-run 0002's forwards to
    get the old ones."""
    from shanzhi.cockpit import rollups

    rollups.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cockpit", "0003_place_rollups")]

    operations = [migrations.RunPython(reinstall, drop)]
