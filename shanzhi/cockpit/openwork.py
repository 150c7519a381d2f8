"""Current-state figures — open cases, overdue and due-today primary assignments — counted exactly
from the live tables through the partial indexes on the open rows (`cockpit_case_open`,
`cockpit_case_open_ids`, `cockpit_asg_open_deadline`: a few thousand rows whatever the history).

Two things make SQLite (1 M cases) take 0.6-5 s where PostgreSQL takes milliseconds:

* SQLite uses a partial index only when the query's WHERE repeats the index's condition as SQL
  text; a bound parameter never matches it, and Django binds every `status__in` value. SQLite
  then read every past assignment through the plain deadline index. So the open conditions are
  written into the SQL as literals (`Literal`), in the indexes' own order. (PostgreSQL matches
  bound values too; psycopg binds client-side, so its SQL is the same as before.)
* SQLite joins in the order its sampled statistics suggest: under a place filter it walked a
  township's cases (≈ 125 k) and probed each one's assignments. On SQLite the case conditions are
  therefore a correlated scalar subquery per open assignment (`SELECT … FROM cases_case WHERE id =
  case_id AND …`, one rowid probe), which SQLite never turns into a join, so the plan starts from
  the open assignments whatever the statistics. PostgreSQL keeps its joins (hash joins over both
  partial indexes, docs/cockpit.md).

An open assignment counts whatever its case's status (a closed case with a stale open assignment
stays overdue, docs/cockpit.md), so the case side only narrows by place, category and channel.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.db import connections, router
from django.db.models import BooleanField, Count, Exists, Expression, F, OuterRef, QuerySet, Subquery

from shanzhi.cases.models import Assignment, Case
from shanzhi.cockpit.rollups import OPEN_CASE
from shanzhi.cockpit.sums import Scope, _assignment_queryset, case_queryset

OPEN_WORK = ("pending", "accepted")  # open primary assignments (the index's condition, in its order)
_WORD = re.compile(r"[a-z_]+")


class Literal(Expression):
    """`column = 'v'` or `column IN ('a', 'b')` with the values in the SQL text, so that SQLite can
    match a partial index's WHERE. Only fixed lower-case codes are accepted (no quoting needed)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str | Expression, values: tuple[str, ...]) -> None:
        super().__init__()
        if not values or not all(_WORD.fullmatch(v) for v in values):
            raise ValueError(f"not fixed codes: {values!r}")
        self.column = F(column) if isinstance(column, str) else column
        self.values = tuple(values)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.column)
        if len(self.values) == 1:
            return f"{sql} = '{self.values[0]}'", list(params)
        quoted = ", ".join(f"'{v}'" for v in self.values)
        return f"{sql} IN ({quoted})", list(params)


def _sqlite() -> bool:
    return connections[router.db_for_read(Assignment)].vendor == "sqlite"


def _case_scope(s: Scope) -> QuerySet[Case] | None:
    """The cases an open assignment must belong to under the filter's place, category and channel
    (a handler filter narrows the assignments themselves); None when any case will do."""
    places = (s.township_id, s.village_id, s.grid_id, s.category_ids)
    if all(p is None for p in places) and not s.channel:
        return None
    return case_queryset(replace(s, handler_id=None))


def _open(qs: QuerySet[Assignment]) -> QuerySet[Assignment]:
    return qs.filter(Literal("role", ("primary",)), Literal("status", OPEN_WORK))


def _in_scope(qs: QuerySet[Any], cases: QuerySet[Case], case_ref: str = "case_id") -> QuerySet[Any]:
    """SQLite: keep the rows whose case (`case_ref`) is in `cases`, by a scalar subquery per row."""
    of_case = cases.filter(pk=OuterRef(case_ref)).order_by().values("pk")
    return qs.alias(in_scope=Subquery(of_case)).filter(in_scope__isnull=False)


def open_primary(s: Scope) -> QuerySet[Assignment]:
    """Open primary assignments (pending or accepted) of the scope, in the shape the database
    plans best: on SQLite driven from the open assignments; on PostgreSQL joined to their cases."""
    if not _sqlite():
        return _open(_assignment_queryset(s))
    qs = _open(Assignment.objects.all())
    if s.handler_id is not None:
        qs = qs.filter(handler_id=s.handler_id)
    cases = _case_scope(s)
    return qs if cases is None else _in_scope(qs, cases)


def open_cases_count(s: Scope) -> int:
    """Cases now in an open status under the filter (any receive date)."""
    if _sqlite() and (s.village_id is not None or s.grid_id is not None):
        # SQLite would walk the village's cases (≈ 50 k) by its place index and read each row;
        # start from the open ones (a few thousand) and probe each one's place instead.
        return _in_scope(Case.objects.filter(Literal("status", OPEN_CASE)), case_queryset(s), "pk").count()
    return case_queryset(s).filter(Literal("status", OPEN_CASE)).count()


def open_primary_count(s: Scope, **deadline: Any) -> int:
    """How many open primary assignments of the scope match the `deadline` lookups, exactly."""
    qs = open_primary(s).filter(**deadline)
    if _sqlite() or _case_scope(s) is None:
        return qs.count()
    # PostgreSQL under a case filter: when none of the matching assignments county-wide belongs
    # to a case that is no longer open (one anti-join, index-only on both sides), join to the open
    # cases only, which `cockpit_case_open_ids` answers by hash; otherwise to every case.
    every = _open(Assignment.objects.filter(**deadline))
    if s.handler_id is not None:
        every = every.filter(handler_id=s.handler_id)
    open_case = Case.objects.filter(Literal("status", OPEN_CASE), pk=OuterRef("case_id"))
    if every.filter(~Exists(open_case)).exists():
        return qs.count()
    return qs.filter(Literal("case__status", OPEN_CASE)).count()


def overdue_by(s: Scope, key: str, *, now: Any) -> dict[int, int]:
    """Open primary assignments past their deadline under the filter, per `key`: the case's
    `grid_id` or `township_id`, or the assignment's `handler_id`; keys without a value left out."""
    if key not in ("grid_id", "township_id", "handler_id"):
        raise ValueError(key)
    qs = open_primary(s).filter(deadline__lt=now)
    if key == "handler_id" and _sqlite():
        # Counted here: GROUP BY handler_id lets SQLite (without statistics) prefer walking the
        # whole handler index in order over reading the few open rows and sorting them.
        return dict(Counter(qs.values_list("handler_id", flat=True)))
    if key == "handler_id":
        rows = qs.values_list("handler_id")
    elif _sqlite():
        # The key read from the case by one rowid probe per assignment (never a join).
        rows = qs.values_list(Subquery(Case.objects.filter(pk=OuterRef("case_id")).order_by().values(key)))
    else:
        rows = qs.filter(**{f"case__{key}__isnull": False}).values_list(f"case__{key}")
    return {k: n for k, n in rows.annotate(n=Count("id")).order_by() if k is not None}
