"""Trigger bodies that also keep the handler case tables of 0010 (and the case × handler counts
they rest on), and those tables filled from the raw rows; the other rollups are left as they
are. In its own migration for the reason 0004 gives."""

from typing import Any

from django.db import migrations


def reinstall(apps: Any, schema_editor: Any) -> None:
    from shanzhi.cockpit import rollups

    conn = schema_editor.connection
    rollups.uninstall(conn)
    rollups.install(conn)
    rollups.tables_fill(conn, day_tables=("cockpit_handlercaseday",))


def drop(apps: Any, schema_editor: Any) -> None:
    """Going back: drop the triggers (they write the tables 0010 made); re-run 0009's forwards to
    get the ones before."""
    from shanzhi.cockpit import rollups

    rollups.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cockpit", "0010_handler_case_rollups")]

    operations = [migrations.RunPython(reinstall, drop)]
