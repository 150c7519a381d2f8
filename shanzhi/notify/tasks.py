"""Delivery in the background: one task per message on commit, and a sweep for retries."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from shanzhi.notify.services import message_deliver, message_deliver_due


@db_task()
def deliver_message_task(message_id: int) -> str:
    """Queued by message_queue on commit; a failure is recorded and retried by the sweep."""
    return message_deliver(message_id=message_id)


@db_task()
def deliver_messages_task(message_ids: list[int]) -> int:
    """Queued by message_queue_many on commit: one attempt for each message of a chunk, in order."""
    return sum(message_deliver(message_id=pk) != "skipped" for pk in message_ids)


@db_periodic_task(crontab(minute="*"))
@lock_task("notify-deliver-due")
def deliver_due_task() -> int:
    """Every minute: retries whose backoff has passed, and messages left behind by a dead worker."""
    return message_deliver_due()
