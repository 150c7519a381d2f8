"""The applications' clock: the escalation ladder every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from shanzhi.onewindow.escalation import application_sweep


@db_periodic_task(crontab(minute="*"))
@lock_task("onewindow-sweep")
def application_sweep_task() -> int:
    """Every minute; the lock keeps two consumers from sweeping at once (a second sweep would
    find nothing to do anyway: each step fires once)."""
    return application_sweep().total()
