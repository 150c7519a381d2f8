"""Cockpit reads on the read replica (`DATABASE_URL_READ`, the settings' "read" alias) when there
is one; everything else, and every write, stays on the primary.

Panels and tiles run under `on_replica()` (the `replica_reads` decorator); while it is active the
router sends ORM reads to "read". Outside it — services, other pages, the exactness tests calling
`sums` directly — nothing changes. Without a "read" alias the router answers None (the primary).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connections

READ_ALIAS = "read"
_active: ContextVar[bool] = ContextVar("cockpit_replica", default=False)
F = TypeVar("F", bound=Callable[..., Any])


def read_db() -> str:
    """The alias cockpit reads use right now: "read" inside `on_replica()` when configured."""
    if _active.get() and READ_ALIAS in connections.settings:
        return READ_ALIAS
    return "default"


@contextmanager
def on_replica() -> Iterator[None]:
    token = _active.set(True)
    try:
        yield
    finally:
        _active.reset(token)


def replica_reads(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with on_replica():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class CockpitReadRouter:
    """Reads inside `on_replica()` go to the replica; writes, relations and migrations are left
    to the default (the replica is a copy of the primary, never migrated or written)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        alias = read_db()
        return alias if alias == READ_ALIAS else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == READ_ALIAS else None
