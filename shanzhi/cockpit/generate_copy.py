"""Writing generated rows fast: PostgreSQL `COPY … FROM STDIN` in chunks, SQLite `executemany` in
the load's one transaction. Columns arrive as numpy arrays; per-row Python is a join in C.

A column the generator does not give is filled from the model field: NULL where the field is
nullable, else its (non-callable) default, '' for text, '{}'/'[]' for JSON, the load's moment
for auto_now. A required column with none of these is an error, so a field added to Case later
cannot be silently skipped.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED

NULL = b"\\N"  # COPY's NULL; never a value the generator writes


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@functools.cache
def _day_text() -> np.ndarray:
    """'YYYY-MM-DD ' for every day 1970..2199, as a (days, 11) byte matrix."""
    days = np.arange(0, 230 * 366, dtype="datetime64[D]")
    text = np.char.add(np.datetime_as_string(days, unit="D"), " ").astype("S11")
    return np.frombuffer(text.tobytes(), dtype=np.uint8).reshape(len(days), 11)


@functools.cache
def _second_text(suffix: bytes) -> np.ndarray:
    """'HH:MM:SS' + suffix for every second of a day, as a byte matrix."""
    rows = b"".join(b"%02d:%02d:%02d%s" % (i // 3600, i // 60 % 60, i % 60, suffix) for i in range(86400))
    return np.frombuffer(rows, dtype=np.uint8).reshape(86400, 8 + len(suffix))


def _nulls(text: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    return text if valid is None else np.where(valid, text, NULL)


def timestamps(t: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Epoch seconds → the text a database stores for an aware datetime (UTC); NULL where invalid.

    PostgreSQL reads "2024-06-01 00:30:00+00"; Django's SQLite backend stores naive UTC text
    ("2024-06-01 00:30:00") and compares it as text. Built from two lookup tables, no per-row code."""
    seconds = _second_text(b"+00" if is_postgres() else b"")
    safe = np.clip(t, 0, len(_day_text()) * 86400 - 1)
    matrix = np.concatenate([_day_text()[safe // 86400], seconds[safe % 86400]], axis=1)
    text = np.ascontiguousarray(matrix).view(f"S{matrix.shape[1]}").ravel()
    return _nulls(text, valid)


def numbers(values: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    return _nulls(np.asarray(values, dtype=np.int64).astype("S20"), valid)


def choose(
    table: list[str] | list[bytes] | np.ndarray, index: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """table[index] as bytes (texts, statuses, pre-formatted floats)."""
    tab = np.asarray(
        [v.encode() if isinstance(v, str) else v for v in table] if isinstance(table, list) else table
    )
    return _nulls(tab[index], valid)


def float_text(values: np.ndarray) -> np.ndarray:
    """Floats as text with 6 decimals (for small tables that are then indexed)."""
    return np.array([b"%.6f" % v for v in np.asarray(values, dtype=float).ravel()]).reshape(np.shape(values))


def booleans(values: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    yes, no = (b"t", b"f") if is_postgres() else (b"1", b"0")
    return _nulls(np.where(values, yes, no), valid)


def constant(value: str, size: int) -> np.ndarray:
    return np.full(size, value.encode())


def _constant(field: models.Field[Any, Any], now_text: bytes) -> bytes:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now_text
    if field.null:
        return NULL
    default = field.default
    if default is not NOT_PROVIDED:
        if isinstance(field, models.JSONField):
            return json.dumps(default() if callable(default) else default).encode()
        if callable(default):
            raise ValueError(f"{field.model.__name__}.{field.name}: callable default, give the column")
        if isinstance(default, bool):
            return (b"t" if default else b"f") if is_postgres() else (b"1" if default else b"0")
        return str(default).encode()
    if isinstance(field, models.CharField | models.TextField):
        return b""
    raise ValueError(f"{field.model.__name__}.{field.name} is required: give the column")


def _for_sqlite(column: np.ndarray | list[bytes]) -> list[Any]:
    """Text for sqlite3 (bytes would be stored as BLOBs); None for NULL."""
    if isinstance(column, list):
        value = column[0].decode() if column else ""
        return [None if column and column[0] == NULL else value] * len(column)
    out = np.char.decode(column, "utf-8").astype(object)
    out[column == NULL] = None
    return list(out.tolist())


class TableWriter:
    """Appends rows to one model's table inside the caller's transaction."""

    def __init__(self, model: type[models.Model], *, now: dt.datetime) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.now_text = bytes(timestamps(np.array([int(now.timestamp())]))[0])
        self.rows = 0

    def write(self, columns: Mapping[str, np.ndarray], size: int) -> None:
        """`columns` maps field attnames (e.g. "case_id") to byte-string arrays (NULL = NULL)."""
        unknown = set(columns) - {f.attname for f in self.fields}
        if unknown:
            raise ValueError(f"{self.table}: no such columns {sorted(unknown)}")
        data: list[Any] = []
        for field in self.fields:
            given = columns.get(field.attname)
            if given is None:
                data.append([_constant(field, self.now_text)] * size)
            else:
                if len(given) != size:
                    raise ValueError(f"{self.table}.{field.attname}: {len(given)} values for {size} rows")
                data.append(given)
        if is_postgres():
            self._copy([c if isinstance(c, list) else c.tolist() for c in data])
        else:
            self._insert([_for_sqlite(c) for c in data])
        self.rows += size

    def _copy(self, data: list[list[bytes]]) -> None:
        payload = b"\n".join(map(b"\t".join, zip(*data, strict=True))) + b"\n"
        names = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {connection.ops.quote_name(self.table)} ({names}) FROM STDIN") as copy:
                copy.write(payload)

    def _insert(self, data: list[list[Any]]) -> None:
        names = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({names}) VALUES ({marks})"  # noqa: S608 (names are ours)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # executemany without Django's debug wrapper
            raw.executemany(sql, zip(*data, strict=True))


# --- a large load: secondary indexes and per-row checks off, rebuilt once at the end ---------------


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes that back no constraint."""
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL ORDER BY name",
                [table],
            )
        return [(str(name), str(sql)) for name, sql in cursor.fetchall()]


def indexes_drop(tables: list[str]) -> list[tuple[str, str]]:
    """Drop the tables' secondary indexes inside the load's transaction (a failed load rolls the
    drop back too); returns what `indexes_create` needs to build them again."""
    dropped: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        for table in tables:
            for name, sql in secondary_indexes(table):
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                dropped.append((name, sql))
    return dropped


def indexes_create(dropped: list[tuple[str, str]]) -> None:
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, sql in dropped:
            cursor.execute(sql)


def checks_off() -> None:
    """PostgreSQL: skip foreign-key and trigger work per row for the rest of the transaction. The
    generator writes only keys it read under the load's lock, so the checks could not fail; the
    cockpit's rollups are rebuilt by `bulk_load` on exit. Needs a superuser (session_replication_role);
    for anyone else the checks stay and the load is slower."""
    if not is_postgres():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def tables_analyze(tables: list[str]) -> None:
    """Fresh planner statistics: the cockpit's queries choose their plans from them."""
    with connection.cursor() as cursor:
        if not is_postgres():
            cursor.execute("PRAGMA analysis_limit = 2000")
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def tables_vacuum(tables: list[str]) -> None:
    """PostgreSQL, after a bulk load has committed: VACUUM sets the visibility maps, so the
    cockpit's counts over partial and covering indexes (open cases, open assignments, the rollup
    sums) stay index-only instead of visiting every fresh heap page. Outside any transaction."""
    if not is_postgres() or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
