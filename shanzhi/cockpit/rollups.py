"""Rollup maintenance: the triggers that keep the rollup tables exact on every write, and the
rebuild from raw rows. One set of contribution expressions serves both, so they cannot drift.

A row's contribution is a tuple of 0/1 (or seconds) per measure at a key (day, township, category,
channel [, handler]). An INSERT adds the new row's contribution, a DELETE subtracts the old one,
an UPDATE does both; the sums are upserted (`ON CONFLICT … DO UPDATE SET m = m + excluded.m`,
which SQLite and PostgreSQL both speak). Assignments carry their case's township, category,
channel and satisfaction, so a change of those on the case re-files the case's assignments.
Definitions follow shanzhi.cases.kpis (docs/cases.md).
"""
# ruff: noqa: S608  (SQL is assembled from this module's constant table and column names only)

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

TZ_HOURS = 8  # Asia/Shanghai, no daylight saving since 1991
OPEN_CASE = ("received", "registered", "dispatched", "in_progress", "verifying")
CLOSED = ("closed", "evaluated")
NOT_RECEIVED = ("refused", "merged")
SATISFIED = ("very_satisfied", "satisfied", "basic")

CASE_TABLES = (
    "cockpit_caseday",
    "cockpit_casemonth",
    "cockpit_gridday",
    "cockpit_gridmonth",
    "cockpit_placeday",
    "cockpit_placemonth",
    "cockpit_placechannelday",
    "cockpit_placechannelmonth",
)
PLACE_KEYS = ("township_id", "region_id", "grid_id", "category_id")
REPEAT_DAYS = 30
HANDLER_CASE_TABLES = (
    "cockpit_handlercaseday",
    "cockpit_handlercasemonth",
    "cockpit_handlercaseplaceday",
    "cockpit_handlercaseplacemonth",
)
# The day tables that carry each key's 30-day count (n30; their month tables max30), and the key
# the count runs over.
N30_KEYS = {
    "cockpit_placeday": PLACE_KEYS,
    "cockpit_placechannelday": (*PLACE_KEYS, "channel"),
    "cockpit_handlercaseplaceday": ("handler_id", *PLACE_KEYS),
}
HANDLER_TABLES = (
    "cockpit_handlerday",
    "cockpit_handlermonth",
    "cockpit_handlerplaceday",
    "cockpit_handlerplacemonth",
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


@dataclass(frozen=True)
class Dialect:
    vendor: str

    def day(self, x: str) -> str:
        if self.vendor == "postgresql":
            return f"(({x}) AT TIME ZONE 'Asia/Shanghai')::date"
        return f"date({x}, '+{TZ_HOURS} hours')"

    def month(self, x: str) -> str:
        if self.vendor == "postgresql":
            return f"date_trunc('month', ({x}) AT TIME ZONE 'Asia/Shanghai')::date"
        return f"date({x}, '+{TZ_HOURS} hours', 'start of month')"

    def secs(self, a: str, b: str) -> str:
        """Whole seconds from a to b."""
        if self.vendor == "postgresql":
            return f"round(extract(epoch from ({b}) - ({a})))::bigint"
        return f"CAST(round((julianday({b}) - julianday({a})) * 86400) AS INTEGER)"

    def plus_days(self, x: str, n: int) -> str:
        if self.vendor == "postgresql":
            return f"(({x}) + {n})"
        return f"date({x}, '{n:+d} days')"

    def month_of_date(self, x: str) -> str:
        if self.vendor == "postgresql":
            return f"date_trunc('month', {x})::date"
        return f"date({x}, 'start of month')"

    def next_month(self, x: str) -> str:
        if self.vendor == "postgresql":
            return f"(({x}) + interval '1 month')::date"
        return f"date({x}, '+1 month')"

    def window_30(self, keys: str) -> str:
        """Σ intake over the 30 days ending on each row's day, per key (a window function)."""
        if self.vendor == "postgresql":
            order = f"day RANGE BETWEEN '{REPEAT_DAYS - 1} days'::interval PRECEDING AND CURRENT ROW"
        else:
            order = f"julianday(day) RANGE BETWEEN {REPEAT_DAYS - 1} PRECEDING AND CURRENT ROW"
        return f"SUM(intake) OVER (PARTITION BY {keys} ORDER BY {order})"

    def changed(self, cols: tuple[str, ...]) -> str:
        op = "IS DISTINCT FROM" if self.vendor == "postgresql" else "IS NOT"
        return "(" + " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in cols) + ")"


def _when(cond: str) -> str:
    return f"CASE WHEN {cond} THEN 1 ELSE 0 END"


Cols = list[tuple[str, str]]


def case_contribution(d: Dialect, r: str, grain: str) -> tuple[Cols, Cols]:
    """Keys and measures of one case row `r` ("NEW", "OLD" or a table alias)."""
    when = d.day if grain.endswith("day") else d.month
    period = "day" if grain.endswith("day") else "month"
    township = f"COALESCE({r}.township_id, 0)"
    intake = _when(f"{r}.status NOT IN {_in(NOT_RECEIVED)}")
    closed = f"{r}.status IN {_in(CLOSED)}"
    measures = [
        ("intake", intake),
        ("closed", _when(closed)),
        (
            "closed_secs",
            f"CASE WHEN {closed} AND {r}.closed_at IS NOT NULL "
            f"THEN {d.secs(f'{r}.received_at', f'{r}.closed_at')} ELSE 0 END",
        ),
        ("rated", _when(f"{r}.satisfaction <> ''")),
        ("satisfied", _when(f"{r}.satisfaction IN {_in(SATISFIED)}")),
    ]
    if grain.startswith("placechannel"):
        return [(period, when(f"{r}.received_at")), *place_key(r), ("channel", f"{r}.channel")], measures
    if grain.startswith("place"):
        return [(period, when(f"{r}.received_at")), *place_key(r)], measures
    if grain.startswith("grid"):
        keys = [
            (period, when(f"{r}.received_at")),
            ("grid_id", f"COALESCE({r}.grid_id, 0)"),
            ("township_id", township),
        ]
        return keys, [("intake", intake)]
    keys = [
        (period, when(f"{r}.received_at")),
        ("township_id", township),
        ("category_id", f"COALESCE({r}.category_id, 0)"),
        ("channel", f"{r}.channel"),
    ]
    return keys, measures


def place_key(r: str) -> Cols:
    """Township × village × grid × category of case row `r` (the place tables and RepeatKey)."""
    return [(k, f"COALESCE({r}.{k}, 0)") for k in PLACE_KEYS]


def assignment_contribution(d: Dialect, a: str, c: str, grain: str, part: str) -> tuple[Cols, Cols]:
    """Keys and measures of assignment `a` of case `c`; part "start" (by started_at) or "due"
    (by deadline). Definitions: shanzhi.cases.kpis._assignment_aggregates."""
    when = d.day if grain.endswith("day") else d.month
    period = "day" if grain.endswith("day") else "month"
    at = f"{a}.started_at" if part == "start" else f"{a}.deadline"
    if grain.startswith("handlerplace"):
        keys = [(period, when(at)), ("handler_id", f"{a}.handler_id"), *place_key(c)]
    else:
        keys = [
            (period, when(at)),
            ("handler_id", f"{a}.handler_id"),
            ("township_id", f"COALESCE({c}.township_id, 0)"),
            ("category_id", f"COALESCE({c}.category_id, 0)"),
            ("channel", f"{c}.channel"),
        ]
    live = f"{a}.status <> 'cancelled'"
    primary = f"{a}.role = 'primary'"
    if part == "start":
        disposed = (
            f"{live} AND {primary} AND {a}.status IN ('reported', 'done') AND {a}.reported_at IS NOT NULL"
        )
        done = f"{primary} AND {a}.status = 'done'"
        measures = [
            ("dispatched", _when(live)),
            ("responded", _when(f"{live} AND ({a}.accepted_at IS NOT NULL OR {a}.status = 'returned')")),
            ("returned", _when(f"{a}.status = 'returned'")),
            ("rework", f"CASE WHEN {live} THEN {a}.rework_count ELSE 0 END"),
            ("disposed", _when(disposed)),
            (
                "disposal_secs",
                f"CASE WHEN {disposed} THEN {d.secs(f'{a}.started_at', f'{a}.reported_at')} ELSE 0 END",
            ),
            ("rated", _when(f"{done} AND {c}.satisfaction <> ''")),
            ("satisfied", _when(f"{done} AND {c}.satisfaction IN {_in(SATISFIED)}")),
        ]
    else:
        due = f"{primary} AND {live}"
        measures = [
            ("due", _when(due)),
            ("on_time", _when(f"{due} AND {a}.on_time IS TRUE AND {a}.status IN ('reported', 'done')")),
            ("suspended", _when(f"{due} AND {_paused(a)}")),
        ]
    return keys, measures


def _paused(a: str) -> str:
    return f"EXISTS (SELECT 1 FROM cases_clockpause p WHERE p.assignment_id = {a}.id)"


def upsert(
    table: str, keys: Cols, measures: Cols, *, sign: int, source: str = "", group: bool = False
) -> str:
    """INSERT … SELECT the signed contribution, adding to the row with the same key."""
    names = [k for k, _ in keys] + [m for m, _ in measures]
    if group:
        values = [e for _, e in keys] + [f"SUM({sign} * ({e}))" for _, e in measures]
        tail = f" {source} GROUP BY " + ", ".join(e for _, e in keys)
    else:
        values = [e for _, e in keys] + [f"{sign} * ({e})" for _, e in measures]
        tail = f" {source}" if source else " WHERE true"
    sets = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m, _ in measures)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)}{tail} "
        f"ON CONFLICT ({', '.join(k for k, _ in keys)}) DO UPDATE SET {sets}"
    )


CASE_MEASURE_NAMES = ("intake", "closed", "closed_secs", "rated", "satisfied")
HANDLER_MEASURE_NAMES = (
    "dispatched",
    "responded",
    "returned",
    "rework",
    "disposed",
    "disposal_secs",
    "rated",
    "satisfied",
    "due",
    "on_time",
    "suspended",
)


def case_statements(d: Dialect, r: str, sign: int) -> list[str]:
    return [upsert(t, *case_contribution(d, r, GRAINS[t]), sign=sign) for t in CASE_TABLES]


def _lock(townships: str, source: str = "") -> str:
    names = ", ".join(PLACE_KEYS)
    return (
        f"INSERT INTO cockpit_repeatkey ({names}, writes) SELECT DISTINCT t, 0, 0, 0, 1 "
        f"FROM {townships} {source} WHERE true ORDER BY t "
        f"ON CONFLICT ({names}) DO UPDATE SET writes = cockpit_repeatkey.writes + 1"
    )


def repeat_lock(rows: tuple[str, ...]) -> str:
    """Lock the township rows (RepeatKey (township, 0, 0, 0)) of case rows `rows` (NEW/OLD), in
    order, before any rollup row: writers in one township take turns, so the 30-day recount sees
    the previous writer's committed rows, and since every writer takes its township first and
    rollup rows after, no two single-case transactions wait on each other in a cycle (moving
    a case between townships takes both, in order). A township, not a place × category key,
    because a case changes category (and sometimes grid or village) after intake."""
    values = ", ".join(f"(COALESCE({r}.township_id, 0))" for r in rows)
    return _lock(f"(SELECT column1 AS t FROM (VALUES {values}) AS vv) AS v")


def case_lock(case_id: str) -> str:
    """The township lock of a case, before an assignment or pause writes handler rows."""
    return _lock("(SELECT COALESCE(c.township_id, 0) AS t FROM cases_case c", f"WHERE c.id = {case_id}) AS v")


def recount_statements(
    d: Dialect, *, day_table: str, keys: Cols, day: str, when: str = "true", handlers: str = ""
) -> list[str]:
    """Recount n30 on a key's days `day` … `day`+29 in `day_table`, then the max of the months
    they touch in its month table (only `when`). `keys` are (column, value) of the key; with
    `handlers` (a subquery of handler ids) the key's handler is any of them. Recounting (not
    adding a delta) keeps the rows right however the case moved."""
    dt_, mt = day_table, MONTH_OF[day_table]
    cols = [k for k, _ in keys] + (["handler_id"] if handlers else [])

    def own(t: str) -> str:
        conds = [f"{t}.{k} = {e}" for k, e in keys]
        if handlers:
            conds.append(f"{t}.handler_id IN ({handlers})")
        return " AND ".join(conds)

    def same(t: str, q: str = "q") -> str:
        return " AND ".join(f"{q}.{k} = {t}.{k}" for k in cols)

    recount = (
        f"UPDATE {dt_} SET n30 = (SELECT COALESCE(SUM(q.intake), 0) FROM {dt_} q WHERE {same(dt_)}"
        f" AND q.day >= {d.plus_days(f'{dt_}.day', -(REPEAT_DAYS - 1))} AND q.day <= {dt_}.day) "
        f"WHERE {own(dt_)} AND {dt_}.day >= {day} AND {dt_}.day <= {d.plus_days(day, REPEAT_DAYS - 1)}"
        f" AND {when}"
    )

    def in_month(q: str) -> str:
        return (
            f"{same(mt, q)} AND {q}.day >= {mt}.month AND {q}.day < {d.next_month(f'{mt}.month')} "
            f"AND {q}.intake > 0"
        )

    best = f"(SELECT MAX(q.n30) FROM {dt_} q WHERE {in_month('q')})"
    months = (
        f"UPDATE {mt} SET max30 = COALESCE({best}, 0), "
        f"max30_day = (SELECT MIN(q2.day) FROM {dt_} q2 WHERE {in_month('q2')} AND q2.n30 = {best}) "
        f"WHERE {own(mt)} AND {mt}.month >= {d.month_of_date(day)}"
        f" AND {mt}.month <= {d.month_of_date(d.plus_days(day, REPEAT_DAYS - 1))} AND {when}"
    )
    return [recount, months]


def repeat_statements(d: Dialect, r: str, when: str = "true", channel_when: str = "true") -> list[str]:
    """The 30-day counts of case row `r`'s place key, and of its place × channel key."""
    day = d.day(f"{r}.received_at")
    return recount_statements(
        d, day_table="cockpit_placeday", keys=place_key(r), day=day, when=when
    ) + recount_statements(
        d,
        day_table="cockpit_placechannelday",
        keys=[*place_key(r), ("channel", f"{r}.channel")],
        day=day,
        when=channel_when,
    )


def handler_repeat_statements(d: Dialect, r: str, when: str = "true") -> list[str]:
    """The 30-day counts of case row `r`'s place key under every handler it counts for."""
    return recount_statements(
        d,
        day_table="cockpit_handlercaseplaceday",
        keys=place_key(r),
        day=d.day(f"{r}.received_at"),
        when=when,
        handlers=f"SELECT m.handler_id FROM cockpit_casehandler m WHERE m.case_id = {r}.id",
    )


def repeat_moved(d: Dialect) -> str:
    """An update that moves a case between 30-day windows: place, category, day or intake."""
    moved = d.changed(("received_at", *PLACE_KEYS))
    flip = f"((OLD.status IN {_in(NOT_RECEIVED)}) <> (NEW.status IN {_in(NOT_RECEIVED)}))"
    return f"({moved} OR {flip})"


def case_change_statements(d: Dialect, op: str) -> list[str]:
    """The case trigger's body for INSERT, UPDATE (of CASE_COLS) or DELETE. (A new case counts for
    no handler yet: its assignments come after it.)"""
    if op == "INSERT":
        return [repeat_lock(("NEW",)), *case_statements(d, "NEW", 1), *repeat_statements(d, "NEW")]
    if op == "DELETE":
        return [
            repeat_lock(("OLD",)),
            *case_statements(d, "OLD", -1),
            *repeat_statements(d, "OLD"),
            *member_refile_statements(d, "OLD", -1),
            *handler_repeat_statements(d, "OLD"),
            "DELETE FROM cockpit_casehandler WHERE case_id = OLD.id",
        ]
    moved = repeat_moved(d)
    moved_channel = f"({moved} OR {d.changed(('channel',))})"
    return [
        repeat_lock(("OLD", "NEW")),
        *case_statements(d, "OLD", -1),
        *case_statements(d, "NEW", 1),
        *repeat_statements(d, "OLD", moved, moved_channel),
        *repeat_statements(d, "NEW", moved, moved_channel),
        *member_refile_statements(d, "OLD", -1),
        *member_refile_statements(d, "NEW", 1),
        *handler_repeat_statements(d, "OLD", moved),
        *handler_repeat_statements(d, "NEW", moved),
    ]


def assignment_statements(d: Dialect, a: str, case_id: str, sign: int, *, members: bool = True) -> list[str]:
    """One assignment row (NEW/OLD) with its case read from cases_case; with `members`, its part
    in the case × handler counts too (an update that keeps case, handler, role and cancelled-ness
    leaves those alone, see `member_changed`)."""
    source = f"FROM cases_case c WHERE c.id = {case_id}"
    return (
        [case_lock(case_id)]
        + [
            upsert(t, *assignment_contribution(d, a, "c", GRAINS[t], part), sign=sign, source=source)
            for t in HANDLER_TABLES
            for part in ("start", "due")
        ]
        + (member_statements(d, a, sign) if members else [])
    )


def member_changed(d: Dialect) -> str:
    """An assignment update that can change its case's handler counts."""
    cancelled = "((OLD.status = 'cancelled') <> (NEW.status = 'cancelled'))"
    return f"({d.changed(('case_id', 'handler_id', 'role'))} OR {cancelled})"


def handler_case_contribution(d: Dialect, r: str, grain: str, handler: str) -> tuple[Cols, Cols]:
    """Case row `r`'s sums filed under `handler` (an SQL expression)."""
    base = "place" if grain.startswith("handlercaseplace") else "case"
    keys, measures = case_contribution(d, r, base + ("day" if grain.endswith("day") else "month"))
    return [keys[0], ("handler_id", handler), *keys[1:]], measures


def member_statements(d: Dialect, a: str, sign: int) -> list[str]:
    """Assignment `a` joins (+1) or leaves (-1) its case's count for its handler; the case's sums
    are added to that handler's case tables when the count turns 1 and taken away when it turns 0
    (a case returned by one handler and given to another counts for both; twice to the same
    handler, once)."""
    live = f"{a}.role = 'primary' AND {a}.status <> 'cancelled'"
    key = f"case_id = {a}.case_id AND handler_id = {a}.handler_id"
    n = f"(SELECT n FROM cockpit_casehandler WHERE {key})"
    if sign > 0:
        out = [
            f"INSERT INTO cockpit_casehandler (case_id, handler_id, n) SELECT {a}.case_id, {a}.handler_id, 1 "
            f"WHERE {live} ON CONFLICT (case_id, handler_id) DO UPDATE SET n = cockpit_casehandler.n + 1"
        ]
        turned = f"{n} = 1"
    else:
        out = [f"UPDATE cockpit_casehandler SET n = n - 1 WHERE {key} AND {live}"]
        turned = f"{n} = 0"
    source = f"FROM cases_case c WHERE c.id = {a}.case_id AND {live} AND {turned}"
    out += [
        upsert(t, *handler_case_contribution(d, "c", GRAINS[t], f"{a}.handler_id"), sign=sign, source=source)
        for t in HANDLER_CASE_TABLES
    ]
    # The handler's 30-day counts at the case's place key, when its sums came or went.
    case = f"FROM cases_case c WHERE c.id = {a}.case_id"
    out += recount_statements(
        d,
        day_table="cockpit_handlercaseplaceday",
        keys=[(k, f"(SELECT {e} {case})") for k, e in place_key("c")] + [("handler_id", f"{a}.handler_id")],
        day=f"(SELECT {d.day('c.received_at')} {case})",
        when=f"{live} AND {turned}",
    )
    if sign < 0:
        out.append(f"DELETE FROM cockpit_casehandler WHERE {key} AND n = 0")
    return out


def member_refile_statements(d: Dialect, r: str, sign: int) -> list[str]:
    """Case row `r` (OLD/NEW) filed under (or taken from) every handler it counts for."""
    source = f"FROM cockpit_casehandler m WHERE m.case_id = {r}.id"
    return [
        upsert(t, *handler_case_contribution(d, r, GRAINS[t], "m.handler_id"), sign=sign, source=source)
        for t in HANDLER_CASE_TABLES
    ]


def refile_statements(d: Dialect, c: str, case_id: str, sign: int) -> list[str]:
    """Every assignment of a case, with the case's columns taken from `c` (NEW/OLD)."""
    source = f"FROM cases_assignment a WHERE a.case_id = {case_id}"
    return [
        upsert(t, *assignment_contribution(d, "a", c, GRAINS[t], part), sign=sign, source=source, group=True)
        for t in HANDLER_TABLES
        for part in ("start", "due")
    ]


def pause_statements(d: Dialect, assignment_id: str, sign: int) -> list[str]:
    """The first pause of an assignment turns its `suspended` on; removing the last turns it off.
    Only the suspended measure moves (the assignment's own triggers handle the rest)."""
    source = f"FROM cases_assignment a JOIN cases_case c ON c.id = a.case_id WHERE a.id = {assignment_id}"
    out = [case_lock(f"(SELECT case_id FROM cases_assignment WHERE id = {assignment_id})")]
    for t in HANDLER_TABLES:
        keys, _ = assignment_contribution(d, "a", "c", GRAINS[t], "due")
        due = "a.role = 'primary' AND a.status <> 'cancelled'"
        out.append(upsert(t, keys, [("suspended", _when(due))], sign=sign, source=source))
    return out


CASE_COLS = (
    "received_at",
    "region_id",
    "township_id",
    "category_id",
    "channel",
    "status",
    "closed_at",
    "satisfaction",
    "grid_id",
)
REFILE_COLS = ("township_id", "region_id", "grid_id", "category_id", "channel", "satisfaction")
ASSIGNMENT_COLS = (
    "case_id",
    "handler_id",
    "role",
    "status",
    "started_at",
    "deadline",
    "accepted_at",
    "reported_at",
    "rework_count",
    "on_time",
)
OFF = "EXISTS (SELECT 1 FROM cockpit_rollupstate WHERE suspended)"
# PostgreSQL: the audit chain's head row is every service transaction's global lock (audit_append
# holds it to commit). A service that audits before its case write would hold the head and wait
# for a rollup row another writer holds while that writer waits for the head: take the head
# first, then the township row, then rollup rows, the same order for everyone. (SQLite writers
# are serialised by the database lock already.)
AUDIT_FIRST = "PERFORM 1 FROM audit_auditloghead WHERE id = 1 FOR UPDATE"
TRIGGERS = ("cockpit_case", "cockpit_assignment", "cockpit_pause")


def trigger_sql(vendor: str) -> list[str]:
    """CREATE statements of every trigger, for the migration."""
    d = Dialect(vendor)
    if vendor == "postgresql":
        return _pg_triggers(d)
    return _sqlite_triggers(d)


def _sqlite_triggers(d: Dialect) -> list[str]:
    on = f"NOT {OFF}"

    def trig(name: str, event: str, table: str, when: str, body: list[str]) -> str:
        stmts = "".join(f"  {s};\n" for s in body)
        return (
            f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} FOR EACH ROW WHEN {when}\n"
            f"BEGIN\n{stmts}END"
        )

    return [
        trig("cockpit_case_ins", "INSERT", "cases_case", on, case_change_statements(d, "INSERT")),
        trig(
            "cockpit_case_upd",
            "UPDATE",
            "cases_case",
            f"{on} AND {d.changed(CASE_COLS)}",
            case_change_statements(d, "UPDATE"),
        ),
        trig(
            "cockpit_case_refile",
            "UPDATE",
            "cases_case",
            f"{on} AND {d.changed(REFILE_COLS)}",
            refile_statements(d, "OLD", "OLD.id", -1) + refile_statements(d, "NEW", "NEW.id", 1),
        ),
        trig("cockpit_case_del", "DELETE", "cases_case", on, case_change_statements(d, "DELETE")),
        trig(
            "cockpit_asg_ins",
            "INSERT",
            "cases_assignment",
            on,
            assignment_statements(d, "NEW", "NEW.case_id", 1),
        ),
        trig(
            "cockpit_asg_upd",
            "UPDATE",
            "cases_assignment",
            f"{on} AND {d.changed(ASSIGNMENT_COLS)}",
            assignment_statements(d, "OLD", "OLD.case_id", -1, members=False)
            + assignment_statements(d, "NEW", "NEW.case_id", 1, members=False),
        ),
        trig(
            "cockpit_asg_member",
            "UPDATE",
            "cases_assignment",
            f"{on} AND {member_changed(d)}",
            member_statements(d, "OLD", -1) + member_statements(d, "NEW", 1),
        ),
        trig(
            "cockpit_asg_del",
            "DELETE",
            "cases_assignment",
            on,
            assignment_statements(d, "OLD", "OLD.case_id", -1),
        ),
        trig(
            "cockpit_pause_ins",
            "INSERT",
            "cases_clockpause",
            f"{on} AND (SELECT COUNT(*) FROM cases_clockpause WHERE assignment_id = NEW.assignment_id) = 1",
            pause_statements(d, "NEW.assignment_id", 1),
        ),
        trig(
            "cockpit_pause_del",
            "DELETE",
            "cases_clockpause",
            f"{on} AND NOT EXISTS (SELECT 1 FROM cases_clockpause WHERE assignment_id = OLD.assignment_id)",
            pause_statements(d, "OLD.assignment_id", -1),
        ),
    ]


def _pg_triggers(d: Dialect) -> list[str]:
    def block(stmts: list[str]) -> str:
        return "".join(f"    {s};\n" for s in stmts)

    def func(name: str, body: str) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n"
            f"  IF {OFF} THEN RETURN NULL; END IF;\n  {AUDIT_FIRST};\n{body}  RETURN NULL;\nEND\n$fn$"
        )

    case_body = (
        "  IF TG_OP = 'INSERT' THEN\n"
        + block(case_change_statements(d, "INSERT"))
        + "  ELSIF TG_OP = 'DELETE' THEN\n"
        + block(case_change_statements(d, "DELETE"))
        + "  ELSE\n"
        + f"    IF {d.changed(CASE_COLS)} THEN\n"
        + block(case_change_statements(d, "UPDATE"))
        + "    END IF;\n"
        + f"    IF {d.changed(REFILE_COLS)} THEN\n"
        + block(refile_statements(d, "OLD", "OLD.id", -1) + refile_statements(d, "NEW", "NEW.id", 1))
        + "    END IF;\n  END IF;\n"
    )
    asg_body = (
        "  IF TG_OP = 'INSERT' THEN\n"
        + block(assignment_statements(d, "NEW", "NEW.case_id", 1))
        + "  ELSIF TG_OP = 'DELETE' THEN\n"
        + block(assignment_statements(d, "OLD", "OLD.case_id", -1))
        + f"  ELSIF {d.changed(ASSIGNMENT_COLS)} THEN\n"
        + block(
            assignment_statements(d, "OLD", "OLD.case_id", -1, members=False)
            + assignment_statements(d, "NEW", "NEW.case_id", 1, members=False)
        )
        + f"    IF {member_changed(d)} THEN\n"
        + block(member_statements(d, "OLD", -1) + member_statements(d, "NEW", 1))
        + "    END IF;\n  END IF;\n"
    )
    pause_body = (
        "  IF TG_OP = 'INSERT' THEN\n"
        "    IF (SELECT COUNT(*) FROM cases_clockpause WHERE assignment_id = NEW.assignment_id) = 1 THEN\n"
        + block(pause_statements(d, "NEW.assignment_id", 1))
        + "    END IF;\n  ELSE\n"
        "    IF NOT EXISTS (SELECT 1 FROM cases_clockpause WHERE assignment_id = OLD.assignment_id) THEN\n"
        + block(pause_statements(d, "OLD.assignment_id", -1))
        + "    END IF;\n  END IF;\n"
    )
    out = []
    for name, table, body, events in (
        ("cockpit_case", "cases_case", case_body, "INSERT OR UPDATE OR DELETE"),
        ("cockpit_assignment", "cases_assignment", asg_body, "INSERT OR UPDATE OR DELETE"),
        ("cockpit_pause", "cases_clockpause", pause_body, "INSERT OR DELETE"),
    ):
        out.append(func(name, body))
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        out.append(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()"
        )
    return out


def drop_trigger_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS cockpit_case ON cases_case",
            "DROP TRIGGER IF EXISTS cockpit_assignment ON cases_assignment",
            "DROP TRIGGER IF EXISTS cockpit_pause ON cases_clockpause",
        ] + [f"DROP FUNCTION IF EXISTS {n}_fn()" for n in TRIGGERS]
    names = [
        "case_ins",
        "case_upd",
        "case_refile",
        "case_del",
        "asg_ins",
        "asg_upd",
        "asg_member",
        "asg_del",
        "pause_ins",
        "pause_del",
    ]
    return [f"DROP TRIGGER IF EXISTS cockpit_{n}" for n in names]


# Each day table and the month table summed from it (a local month is a set of local days).
MONTH_OF = {
    "cockpit_caseday": "cockpit_casemonth",
    "cockpit_gridday": "cockpit_gridmonth",
    "cockpit_placeday": "cockpit_placemonth",
    "cockpit_handlerday": "cockpit_handlermonth",
    "cockpit_handlerplaceday": "cockpit_handlerplacemonth",
    "cockpit_handlercaseday": "cockpit_handlercasemonth",
    "cockpit_placechannelday": "cockpit_placechannelmonth",
    "cockpit_handlercaseplaceday": "cockpit_handlercaseplacemonth",
}
PAUSED_JOIN = "LEFT JOIN (SELECT DISTINCT assignment_id FROM cases_clockpause) p ON p.assignment_id = a.id"


def _grouped(keys: Cols, measures: Cols, source: str) -> str:
    """SELECT keys, Σ measures FROM source, grouped by position (a key's alias may shadow a source
    column), leaving out groups that sum to nothing (what `prune_statements` would delete)."""
    cols = [f"{e} AS {n}" for n, e in keys] + [f"SUM({e}) AS {n}" for n, e in measures]
    by = ", ".join(str(i + 1) for i in range(len(keys)))
    nonzero = " OR ".join(f"SUM({e}) <> 0" for _, e in measures)
    return f"SELECT {', '.join(cols)} {source} GROUP BY {by} HAVING {nonzero}"


def _insert(table: str, names: list[str], select: str) -> str:
    return f"INSERT INTO {table} ({', '.join(names)}) {select}"


def _day_from_rows(d: Dialect, table: str) -> str:
    """A day table from the raw rows: one grouped INSERT into the emptied table."""
    grain = GRAINS[table]
    if grain.startswith("handlerday") or grain.startswith("handlerplace"):
        # Both parts of every assignment side by side (UNION ALL), then one GROUP BY: no upserts.
        # Pauses by one hash join instead of an EXISTS probe per assignment.
        parts = []
        for part in ("start", "due"):
            keys, measures = assignment_contribution(d, "a", "c", grain, part)
            given = dict(measures)
            cols = [f"{e} AS {n}" for n, e in keys]
            cols += [f"{given.get(m, '0').replace(_paused('a'), '(p.assignment_id IS NOT NULL)')} AS {m}"
                     for m in HANDLER_MEASURE_NAMES]  # fmt: skip
            parts.append(
                f"SELECT {', '.join(cols)} FROM cases_assignment a "
                f"JOIN cases_case c ON c.id = a.case_id {PAUSED_JOIN}"
            )
        names = [n for n, _ in keys]
        select = _grouped(
            [(n, f"u.{n}") for n in names],
            [(m, f"u.{m}") for m in HANDLER_MEASURE_NAMES],
            f"FROM ({' UNION ALL '.join(parts)}) u",
        )
        return _insert(table, names + list(HANDLER_MEASURE_NAMES), select)
    if grain.startswith("handlercase"):
        keys, measures = handler_case_contribution(d, "c", grain, "m.handler_id")
        source = "FROM cockpit_casehandler m JOIN cases_case c ON c.id = m.case_id"
    else:
        keys, measures = case_contribution(d, "c", grain)
        source = "FROM cases_case c"
    names = [n for n, _ in keys] + [m for m, _ in measures]
    select = _grouped(keys, measures, source)
    if table not in N30_KEYS:
        return _insert(table, names, select)
    # The 30-day counts with a window over the grouped days (the triggers recount them per write).
    window = d.window_30(", ".join(N30_KEYS[table]))
    return _insert(table, [*names, "n30"], f"SELECT g.*, {window} AS n30 FROM ({select}) g")


def _month_from_days(d: Dialect, day_table: str) -> str:
    month_table = MONTH_OF[day_table]
    measures = MEASURES[day_table]
    keys = [("month", d.month_of_date("day")), *[(k, k) for k in MONTH_KEYS[day_table]]]
    names = [n for n, _ in keys] + list(measures)
    if day_table not in N30_KEYS:
        return _insert(month_table, names, _grouped(keys, [(m, m) for m in measures], f"FROM {day_table}"))
    # Each month's largest 30-day count over its days with intake, and the first day reaching it.
    part = ", ".join(N30_KEYS[day_table])
    month = d.month_of_date("day")
    first = (
        f"CASE WHEN intake > 0 THEN FIRST_VALUE(day) OVER (PARTITION BY {part}, {month}, intake > 0 "
        f"ORDER BY n30 DESC, day) END AS best_day"
    )
    select = (
        f"SELECT {month} AS month, {part}, "
        + ", ".join(f"SUM({m})" for m in measures)
        + ", COALESCE(MAX(CASE WHEN intake > 0 THEN n30 END), 0), MIN(best_day) "
        f"FROM (SELECT *, {first} FROM {day_table}) x GROUP BY {month}, {part}"
    )
    return _insert(month_table, [*names, "max30", "max30_day"], select)


MONTH_KEYS = {
    "cockpit_caseday": ("township_id", "category_id", "channel"),
    "cockpit_gridday": ("grid_id", "township_id"),
    "cockpit_placeday": PLACE_KEYS,
    "cockpit_handlerday": ("handler_id", "township_id", "category_id", "channel"),
    "cockpit_handlerplaceday": ("handler_id", *PLACE_KEYS),
    "cockpit_handlercaseday": ("handler_id", "township_id", "category_id", "channel"),
    "cockpit_placechannelday": N30_KEYS["cockpit_placechannelday"],
    "cockpit_handlercaseplaceday": N30_KEYS["cockpit_handlercaseplaceday"],
}


def rebuild_statements(vendor: str, *, day_tables: tuple[str, ...] = tuple(MONTH_OF)) -> list[str]:
    """Empty the rollups of `day_tables` (and their month tables) and fill them from the raw rows:
    the day tables by one grouped INSERT each, the month tables from the day tables."""
    d = Dialect(vendor)
    # Early migrations rebuild before later ones have created their tables: leave out what is missing.
    existing = set(connection.introspection.table_names())
    days = [t for t in day_tables if t in existing]
    tables = [*days, *(MONTH_OF[t] for t in days)]
    members = "cockpit_handlercaseday" in days  # the handler case tables sum the membership table
    if members:
        tables.append("cockpit_casehandler")
    if vendor == "postgresql":
        out = [f"TRUNCATE {', '.join(tables)}"] if tables else []
    else:
        out = [f"DELETE FROM {t}" for t in tables]
    if members:
        out.append(
            "INSERT INTO cockpit_casehandler (case_id, handler_id, n) SELECT case_id, handler_id, COUNT(*) "
            "FROM cases_assignment WHERE role = 'primary' AND status <> 'cancelled' GROUP BY 1, 2"
        )
    out += [_day_from_rows(d, t) for t in days]
    return out + [_month_from_days(d, t) for t in days]


MEASURES = {
    "cockpit_caseday": CASE_MEASURE_NAMES,
    "cockpit_casemonth": CASE_MEASURE_NAMES,
    "cockpit_gridday": ("intake",),
    "cockpit_gridmonth": ("intake",),
    "cockpit_placeday": CASE_MEASURE_NAMES,
    "cockpit_placemonth": CASE_MEASURE_NAMES,
    "cockpit_handlerday": HANDLER_MEASURE_NAMES,
    "cockpit_handlermonth": HANDLER_MEASURE_NAMES,
    "cockpit_handlerplaceday": HANDLER_MEASURE_NAMES,
    "cockpit_handlerplacemonth": HANDLER_MEASURE_NAMES,
    "cockpit_handlercaseday": CASE_MEASURE_NAMES,
    "cockpit_handlercasemonth": CASE_MEASURE_NAMES,
    "cockpit_placechannelday": CASE_MEASURE_NAMES,
    "cockpit_placechannelmonth": CASE_MEASURE_NAMES,
    "cockpit_handlercaseplaceday": CASE_MEASURE_NAMES,
    "cockpit_handlercaseplacemonth": CASE_MEASURE_NAMES,
}


# Each rollup table's grain: its name without the app prefix (what the contribution functions read).
GRAINS = {t: t.removeprefix("cockpit_") for t in MEASURES}


def prune_statements() -> list[str]:
    """Rows whose every sum is zero (a case moved away, refused, deleted) count for nothing. A
    place day's n30 may be non-zero on such a row but only days with intake are window ends, and
    a writer that needs the row again re-creates it and recounts."""
    return [
        f"DELETE FROM {t} WHERE " + " AND ".join(f"{m} = 0" for m in measures)
        for t, measures in MEASURES.items()
    ]


def rollups_prune() -> int:
    """Delete rollup rows that net to zero (cheap: run it after rebuilds or now and then).
    Safe beside writers: a row a writer has just brought back above zero is not deleted (the
    DELETE re-checks the row it waited for), and an upsert after the delete inserts afresh."""
    deleted = 0
    with connection.cursor() as cur:
        for sql in prune_statements():
            cur.execute(sql)
            deleted += max(cur.rowcount, 0)
    return deleted


# The groupings hash millions of keys at 10 M cases: in memory, not spilled to disk (a one-off
# maintenance statement on a server with GBs to spare; 256 MB spilled 2.4 GB and ran 3× longer).
# JIT back on for them (the app turns it off, settings.py): compiling pays back over millions of rows.
REBUILD_WORK_MEM = "SET LOCAL work_mem = '1GB'; SET LOCAL jit = on"


def tables_fill(conn: Any, *, day_tables: tuple[str, ...]) -> bool:
    """Fill new rollup tables from the raw rows inside a migration — unless the triggers are
    suspended (an unfinished bulk load), whose rebuild fills every table anyway. True if filled."""
    with conn.cursor() as cur:
        cur.execute("SELECT suspended FROM cockpit_rollupstate WHERE id = 1")
        row = cur.fetchone()
        if row and row[0]:
            return False
        if conn.vendor == "postgresql":
            cur.execute(REBUILD_WORK_MEM)
        for sql in rebuild_statements(conn.vendor, day_tables=day_tables):
            cur.execute(sql)
    return True


@transaction.atomic
def rollups_rebuild() -> int:
    """Recompute every rollup from the raw rows (exact); returns the number of rollup rows."""
    from shanzhi.cockpit.models import RollupState

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(REBUILD_WORK_MEM)
        for sql in rebuild_statements(connection.vendor):
            cur.execute(sql)
        total = 0
        for t in (*CASE_TABLES, *HANDLER_TABLES, *HANDLER_CASE_TABLES, "cockpit_casehandler"):
            if connection.vendor == "postgresql":
                cur.execute(f"ANALYZE {t}")  # fresh statistics, or the planner guesses on new rows
            cur.execute(f"SELECT COUNT(*) FROM {t}")
            total += cur.fetchone()[0]
    RollupState.objects.update_or_create(pk=1, defaults={"rebuilt_at": timezone.now()})
    return total


def set_suspended(value: bool) -> None:
    from shanzhi.cockpit.models import RollupState

    RollupState.objects.update_or_create(pk=1, defaults={"suspended": value})


@contextmanager
def bulk_load() -> Iterator[None]:
    """Suspend per-row maintenance for a bulk load (COPY, batched inserts), rebuild on exit.

    The switch is a committed row the triggers read, so it holds for every connection (a COPY
    on its own connection too); writes that land meanwhile are counted by the rebuild."""
    set_suspended(True)
    try:
        yield
    finally:
        with transaction.atomic():
            set_suspended(False)
            rollups_rebuild()


def index_sql() -> list[str]:
    """Indexes on the live tables for current-state tiles and the raw-row paths (same SQL on both)."""
    return [
        f"CREATE INDEX IF NOT EXISTS cockpit_case_open ON cases_case (township_id, category_id) "
        f"WHERE status IN {_in(OPEN_CASE)}",
        "CREATE INDEX IF NOT EXISTS cockpit_asg_open_deadline "
        "ON cases_assignment (deadline, case_id, handler_id) "
        "WHERE role = 'primary' AND status IN ('pending', 'accepted')",
        "CREATE INDEX IF NOT EXISTS cockpit_case_region_received ON cases_case (region_id, received_at)",
        "CREATE INDEX IF NOT EXISTS cockpit_case_grid_received ON cases_case (grid_id, received_at)",
        "CREATE INDEX IF NOT EXISTS cockpit_case_received_place "
        "ON cases_case (received_at, category_id, grid_id, region_id, township_id, channel, status)",
    ]


def triggers_present(conn: Any) -> bool:
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname = ANY(%s)", [list(TRIGGERS)])
            return bool(cur.fetchone()[0] == len(TRIGGERS))
        cur.execute(
            "SELECT COUNT(*) FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE 'cockpit\\_%' ESCAPE '\\'"
        )
        return bool(cur.fetchone()[0] == 10)


def install(conn: Any) -> None:
    """Create the triggers and indexes (idempotent)."""
    with conn.cursor() as cur:
        for sql in trigger_sql(conn.vendor) + index_sql():
            cur.execute(sql)


def uninstall(conn: Any) -> None:
    with conn.cursor() as cur:
        for sql in drop_trigger_sql(conn.vendor):
            cur.execute(sql)


def ensure_installed(conn: Any) -> bool:
    """After migrations: SQLite drops a table's triggers when a migration rebuilds the table, so
    put them back and recount from raw rows. Returns True when something had to be restored."""
    if triggers_present(conn):
        clear_orphans(conn)
        return False
    install(conn)
    rollups_rebuild()
    return True


def clear_orphans(conn: Any) -> int:
    """Empty the rollups when there are no cases at all. `flush` (and a test database's reset)
    deletes the rollup tables before the case tables, so the case triggers then write the
    deleted rows back as negative counts; every rollup comes from cases, so with none left any
    row is wrong. Runs after every migrate and flush (post_migrate); one EXISTS when cases exist."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM cases_case)")
        if cursor.fetchone()[0]:
            return 0
        cleared = 0
        for table in (*CASE_TABLES, *HANDLER_TABLES, *HANDLER_CASE_TABLES, "cockpit_casehandler"):
            cursor.execute(f"DELETE FROM {table}")  # fixed table names
            cleared += max(cursor.rowcount, 0)
    return cleared
