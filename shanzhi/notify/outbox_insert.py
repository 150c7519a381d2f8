"""Bulk insertion into the outbox, below the ORM: a warning queues ~100 000 messages in one
transaction, and the ORM's per-value preparation costs more than the database for that many.

The ids are taken first, then the rows are inserted with them, so the caller gets the ids in its
own order without reading anything back: on PostgreSQL from the table's sequence (`nextval`, safe
beside other writers); on SQLite from the table's AUTOINCREMENT counter, which is safe because a
write transaction there holds the database's only write lock (settings: IMMEDIATE transactions)
and this runs inside one. PostgreSQL then takes the rows by COPY; SQLite by executemany (both
loops are in C).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from shanzhi.notify.models import Message, MessageStatus

SQLITE_BATCH = 10_000


# What varies between the messages of one batch, as a plain tuple (a frozen dataclass per row
# costs more than the insert): recipient id, phone, email, subject, body, object type, object id.
Row = tuple[int | None, str, str, str, str, str, str]


def pg_copy(cursor: Any, *, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY rows into a PostgreSQL table (quoted names given): psycopg formats each row in C, the
    fastest way in for tens of thousands of rows, and one statement."""
    quoted = ", ".join(columns)
    with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def reserve_ids(n: int) -> list[int]:
    """`n` new Message ids, ascending. Call inside the transaction that inserts them."""
    if n <= 0:
        return []
    connection = transaction.get_connection()
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"bulk outbox insert on {connection.vendor}")
        # AUTOINCREMENT never reuses an id, even of a deleted row: start above both.
        cursor.execute(f'SELECT MAX("id") FROM "{table}"')  # noqa: S608 (our table name)
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        start = max(top, found[0] if found else 0) + 1
    return list(range(start, start + n))


# Columns in the order both inserts write them; recipient and the texts vary per row.
_COLUMNS = (
    "id", "recipient", "phone", "email", "subject", "body", "object_type", "object_id",
    "channel", "kind", "status", "created_at", "delivered_at", "next_attempt_at", "attempts",
    "last_error", "provider_id",
)  # fmt: skip


def insert_messages(*, channel: str, kind: str, status: str, now: dt.datetime, rows: list[Row]) -> list[int]:
    """Insert `rows` (in-app ones delivered at `now`, the others due at `now`); their ids in order."""
    if not rows:
        return []
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("insert_messages must run inside a transaction")
    ids = reserve_ids(len(rows))
    in_app = status == MessageStatus.DELIVERED
    created = Message._meta.get_field("created_at").get_db_prep_save(now, connection)
    delivered = created if in_app else None
    next_attempt = None if in_app else created
    qn = connection.ops.quote_name
    concrete = {f.name: f.column for f in Message._meta.concrete_fields}
    names = [qn(concrete[c]) for c in _COLUMNS]
    table = qn(Message._meta.db_table)
    tail = (channel, kind, status, created, delivered, next_attempt, 0, "", "")
    values = ((pk, *r, *tail) for pk, r in zip(ids, rows, strict=True))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pg_copy(cursor, table=table, columns=names, rows=values)
            return ids
        marks = ", ".join(["%s"] * len(_COLUMNS))
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608 (names are ours)
        batch = list(values)
        for start in range(0, len(batch), SQLITE_BATCH):
            cursor.executemany(sql, batch[start : start + SQLITE_BATCH])
    return ids
