"""Clocks of 好差评: overdue rectifications and the 办不成事 escalation ladder."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from shanzhi.ratings.services import cannot_get_done_sweep, rectification_sweep


@db_periodic_task(crontab(minute="*/5"))
@lock_task("ratings-sweep")
def ratings_sweep_task() -> int:
    """Every five minutes: the deadlines here are in working days, so minutes do not matter."""
    return rectification_sweep() + cannot_get_done_sweep().total()
