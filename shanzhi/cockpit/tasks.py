"""Periodic cockpit upkeep (Huey): delete rollup rows that net to zero, once a night."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from shanzhi.cockpit.rollups import rollups_prune


@db_periodic_task(crontab(minute="17", hour="3"))
@lock_task("cockpit-prune")
def cockpit_prune() -> int:
    return rollups_prune()
