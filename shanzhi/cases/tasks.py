from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from shanzhi.cases.sweep import sla_sweep


@db_periodic_task(crontab(minute="*"))
@lock_task("cases-sla-sweep")
def sla_sweep_task() -> int:
    """Every minute; the lock keeps two consumers from sweeping at once."""
    return sla_sweep().total()
