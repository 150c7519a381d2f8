"""Trigger bodies that also keep the place × channel and handler × place tables of 0013 (with
their 30-day counts), and those tables filled from the raw rows. The assignment update trigger
now leaves the case × handler counts alone unless case, handler, role or cancelled-ness change
(SQLite: a trigger of its own). In its own migration for the reason 0004 gives."""

from typing import Any

from django.db import migrations


def reinstall(apps: Any, schema_editor: Any) -> None:
    from shanzhi.cockpit import rollups

    conn = schema_editor.connection
    rollups.uninstall(conn)
    rollups.install(conn)
    rollups.tables_fill(conn, day_tables=("cockpit_placechannelday", "cockpit_handlercaseplaceday"))


def drop(apps: Any, schema_editor: Any) -> None:
    """Going back: drop the triggers (they write the tables 0013 made); re-run 0011's forwards to
    get the ones before."""
    from shanzhi.cockpit import rollups

    rollups.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("cockpit", "0013_channel_handler_place_rollups")]

    operations = [migrations.RunPython(reinstall, drop)]
