"""What every workflow table is made of: transitions, and the one check that refuses a move the
table does not allow (409, nothing changed). Cases and applications each keep their own table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models

from shanzhi.core.errors import ServiceError


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: str


def transition_check(
    table: Mapping[str, Transition],
    *,
    action: str,
    status: str,
    statuses: type[models.TextChoices],
    noun: str,
) -> Transition:
    """The transition `action` from `status` in `table`, or a ServiceError saying why not."""
    transition = table.get(action)
    if transition is None:
        raise ServiceError("unknown_action", f"未知的操作:{action}")
    if status not in transition.sources:
        current = statuses(status).label if status in statuses.values else status
        raise ServiceError(
            "illegal_transition", f"{noun}当前状态为“{current}”,不能执行“{transition.label}”", status=409
        )
    return transition
