"""`shanzhi cockpit rebuild|prune|status`: the rollup tables' upkeep for operators.

The triggers keep the rollups exact on every write; a rebuild is for after a bulk load done
without `bulk_load()`, a restore, or a rollup switch left suspended by an interrupted load."""

from __future__ import annotations

import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from shanzhi.audit.services import audit_append
from shanzhi.cockpit.models import RollupState
from shanzhi.cockpit.rollups import (
    CASE_TABLES,
    HANDLER_CASE_TABLES,
    HANDLER_TABLES,
    rollups_prune,
    rollups_rebuild,
    set_suspended,
)

TABLES = (*CASE_TABLES, *HANDLER_TABLES, *HANDLER_CASE_TABLES, "cockpit_casehandler")


class Command(BaseCommand):
    help = "Rebuild the cockpit's rollup tables from the raw rows, prune empty rows, or show their state."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("rebuild", help="recount every rollup from the raw rows and switch the triggers on")
        sub.add_parser("prune", help="delete rollup rows whose sums are all zero")
        sub.add_parser("status", help="row counts, and whether the triggers are suspended")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rebuild":
            began = time.monotonic()
            with transaction.atomic():
                set_suspended(False)
                rows = rollups_rebuild()
                seconds = round(time.monotonic() - began, 1)
                audit_append(
                    actor=None,
                    action="cockpit.rollups.rebuild",
                    object_type="cockpit.rollups",
                    object_id="all",
                    state={"rows": rows, "seconds": seconds},
                )
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                # Fresh visibility maps, so the panels' sums stay index-only scans (VACUUM cannot
                # run inside a caller's transaction; then the caller vacuums).
                with connection.cursor() as cur:
                    for table in TABLES:
                        cur.execute(f"VACUUM ANALYZE {table}")
            self.stdout.write(f"汇总表已重建:{rows:,} 行,用时 {time.monotonic() - began:.1f} 秒")
        elif action == "prune":
            with transaction.atomic():
                deleted = rollups_prune()
                audit_append(
                    actor=None,
                    action="cockpit.rollups.prune",
                    object_type="cockpit.rollups",
                    object_id="all",
                    state={"deleted": deleted},
                )
            self.stdout.write(f"已删除 {deleted:,} 行全零汇总")
        else:
            state = RollupState.objects.filter(pk=1).first()
            suspended = bool(state and state.suspended)
            self.stdout.write(f"触发器:{'已暂停(请运行 rebuild)' if suspended else '运行中'}")
            self.stdout.write(f"上次重建:{state.rebuilt_at if state and state.rebuilt_at else '—'}")
            by_table = {m._meta.db_table: m for m in apps.get_app_config("cockpit").get_models()}
            for table in TABLES:
                self.stdout.write(f"  {table}: {by_table[table]._default_manager.count():,}")
