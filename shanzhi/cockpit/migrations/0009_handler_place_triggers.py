"""Trigger bodies that also keep the handler place tables of 0008, and those tables filled from
the raw rows (the other rollups are left as they are). In its own migration for the reason 0004
gives: PostgreSQL creates 0008's unique constraints at the end of that migration.

At 10 M cases the fill reads every assignment with its case once (minutes); the triggers are
replaced in the same transaction, so no write is lost or counted twice."""

from typing import Any

from django.db import migrations


def reinstall(apps: Any, schema_editor: Any) -> None:
    from shanzhi.cockpit import rollups

    conn = schema_editor.connection
    rollups.uninstall(conn)
    rollups.install(conn)
    rollups.tables_fill(conn, day_tables=("cockpit_handlerplaceday",))


def drop(apps: Any, schema_editor: Any) -> None:
    """Going back: drop the triggers (they write the tables 0008 made); re-run 0004's forwards to
    get the ones before."""
    from shanzhi.cockpit import rollups

    rollups.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cockpit", "0008_handler_place_rollups")]

    operations = [migrations.RunPython(reinstall, drop)]
