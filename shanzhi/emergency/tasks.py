"""Background work of the emergency app (Huey discovers this module): warning feeds and expiry."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from shanzhi.emergency.warning_feeds import feeds_poll_due
from shanzhi.emergency.warnings import warning_expire_due


@db_periodic_task(crontab(minute="*"))
@lock_task("emergency-warning-feeds")
def warning_feeds_task() -> int:
    """Every minute: each enabled feed whose own interval has passed is polled."""
    return feeds_poll_due()


@db_periodic_task(crontab(minute="*/5"))
@lock_task("emergency-warning-expiry")
def warning_expiry_task() -> int:
    """Every five minutes: warnings past their expiry are marked expired and their tasks closed."""
    return warning_expire_due()
