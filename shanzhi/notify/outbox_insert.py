"""Bulk insertion into the outbox, below the ORM: a warning queues ~100 000 messages in one
transaction, and the ORM's per-value preparation costs more than the database for that many.

The ids are taken first, then the rows are inserted with them, so the caller gets the ids in its
own order without reading anything back: on PostgreSQL from the table's sequence (`nextval`, safe
beside other writers); on SQLite from the table's AUTOINCREMENT counter, which is safe because a
write transaction there holds the database's only write lock (settings: IMMEDIATE transactions)
and this runs inside one. PostgreSQL then takes every row in one INSERT … SELECT FROM unnest(…) of
arrays; SQLite an executemany (its loop is in C).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from shanzhi.notify.models import Message, MessageStatus

SQLITE_BATCH = 10_000


@dataclass(frozen=True)
class Row:
    """What varies between the messages of one batch."""

    recipient_id: int | None
    phone: str
    email: str
    subject: str
    body: str
    object_type: str
    object_id: str


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
    columns = ", ".join(qn(concrete[c]) for c in _COLUMNS)
    table = qn(Message._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The texts repeat (one warning, one body): sent once each and picked by index.
            texts: dict[str, int] = {}

            def code(value: str) -> int:
                return texts.setdefault(value, len(texts) + 1)

            idx = {
                name: [code(getattr(r, name)) for r in rows]
                for name in ("subject", "body", "object_type", "object_id")
            }
            sql = (
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (names are ours)
                "SELECT u.id, u.recipient, u.phone, u.email, t.v[u.s], t.v[u.b], t.v[u.ot], t.v[u.oi], "
                "%s, %s, %s, %s, %s, %s, 0, '', '' "
                "FROM (SELECT %s::text[] AS v) AS t, "
                "unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], "
                "%s::int[], %s::int[], %s::int[], %s::int[]) "
                "AS u(id, recipient, phone, email, s, b, ot, oi)"
            )
            cursor.execute(
                sql,
                [
                    channel, kind, status, created, delivered, next_attempt, list(texts),
                    ids, [r.recipient_id for r in rows], [r.phone for r in rows], [r.email for r in rows],
                    idx["subject"], idx["body"], idx["object_type"], idx["object_id"],
                ],
            )  # fmt: skip
            return ids
        marks = ", ".join(["%s"] * len(_COLUMNS))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (names are ours)
        values = [
            (
                pk, r.recipient_id, r.phone, r.email, r.subject, r.body, r.object_type, r.object_id,
                channel, kind, status, created, delivered, next_attempt, 0, "", "",
            )
            for pk, r in zip(ids, rows, strict=True)
        ]  # fmt: skip
        for start in range(0, len(values), SQLITE_BATCH):
            cursor.executemany(sql, values[start : start + SQLITE_BATCH])
    return ids
