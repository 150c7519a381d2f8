"""Canonical bytes for audit entries and state digests: the same input always gives the same bytes."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not serializable for the audit log: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: stable across processes and databases."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode()


def state_digest(state: Any) -> str:
    return hashlib.sha256(canonical_json(state)).hexdigest()
