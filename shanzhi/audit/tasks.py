"""Periodic work for the audit log."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from shanzhi.audit.services import tree_head_sign


@db_periodic_task(crontab(minute="*"))
def audit_tree_head_sign() -> None:
    """Sign a tree head every minute the log has grown; this also keeps the Merkle cache warm."""
    tree_head_sign(actor=None)
