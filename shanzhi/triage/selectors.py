"""Reads for triage. Models, examples and the setting are county-wide data (not tied to a region),
so they are filtered by role, not by jurisdiction."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from shanzhi.core.errors import NotFound, PermissionDenied
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role
from shanzhi.triage.models import TriageExample, TriageModel, TriageSettings

DEFAULT_THRESHOLD = 0.85
# Who may read the model list and the labelled examples (the people who correct and retrain).
READ_ROLES = frozenset({Role.DISPATCHER, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})

ModelStamp = tuple[int, int, str]  # (pk, version, blob sha256)


def triage_settings() -> TriageSettings:
    """The one settings row; an unsaved default if a flushed database lost it."""
    return TriageSettings.objects.filter(pk=1).first() or TriageSettings(pk=1)


def auto_dispatch_threshold() -> float:
    value = TriageSettings.objects.filter(pk=1).values_list("auto_dispatch_threshold", flat=True).first()
    return float(value) if value is not None else DEFAULT_THRESHOLD


def active_model_stamp() -> ModelStamp | None:
    row = TriageModel.objects.filter(active=True).values_list("pk", "version", "blob_sha256").first()
    return (int(row[0]), int(row[1]), str(row[2])) if row else None


def active_model() -> TriageModel | None:
    return TriageModel.objects.filter(active=True).defer("blob").first()


def correction_rows() -> list[tuple[str, str]]:
    """Every labelled example, oldest first (training lets later ones win for the same text)."""
    return list(TriageExample.objects.order_by("created_at", "id").values_list("text", "category"))


def _check_reader(user: Any) -> None:
    if user is not None and not has_role(user=user, roles=READ_ROLES):
        raise PermissionDenied("只有调度、话务、督查人员或管理员可以查看分拨模型与样本")


def triage_model_list(*, user: Any) -> QuerySet[TriageModel]:
    _check_reader(user)
    return TriageModel.objects.defer("blob").select_related("created_by")


def triage_model_get(*, user: Any, version: int) -> TriageModel:
    _check_reader(user)
    model = TriageModel.objects.defer("blob").filter(version=version).first()
    if model is None:
        raise NotFound(f"分拨模型 v{version} 不存在")
    return model


def triage_example_list(*, user: Any) -> QuerySet[TriageExample]:
    _check_reader(user)
    return TriageExample.objects.select_related("created_by")
