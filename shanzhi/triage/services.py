"""Writes for triage: labelled examples, training, activation, the auto-dispatch threshold.

Training fits outside the transaction (about a second) and stores the result inside it, under a
lock on the settings row; the first-use path (`triage_model_ensure`) fits inside the lock on
purpose, so two processes starting at once store one model, not two.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import sklearn
from django.db import transaction
from django.db.models import Max

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role
from shanzhi.triage import learn
from shanzhi.triage.categories import category_table
from shanzhi.triage.models import ExampleSource, TriageExample, TriageModel, TriageSettings
from shanzhi.triage.selectors import correction_rows

MAX_TEXT = 4000
EXAMPLE_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN})
MODEL_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})
SETTINGS_ROLES = frozenset({Role.ADMIN})


def _check_actor(actor: Any, roles: frozenset[str], what: str) -> None:
    """`actor=None` is the system (commands, the first-use path, demo loading)."""
    if actor is not None and not has_role(user=actor, roles=roles):
        raise PermissionDenied(f"您没有{what}的权限")


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ServiceError("text_required", "请填写诉求内容", status=422)
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise ServiceError(
            "text_too_long", f"诉求内容不能超过 {MAX_TEXT} 字(当前 {len(text)} 字)", status=422
        )
    if "\x00" in text:
        raise ServiceError("invalid_text", "诉求内容含有不可见的控制字符", status=422)
    return text


def _lock() -> TriageSettings:
    settings, _ = TriageSettings.objects.select_for_update().get_or_create(pk=1)
    return settings


def _clear_predictors() -> None:
    from shanzhi.triage.predict import predictor_cache_clear

    predictor_cache_clear()
    transaction.on_commit(predictor_cache_clear)


def triage_example_add(
    *, actor: Any, text: str, category: str, source: str = ExampleSource.CORRECTION
) -> TriageExample:
    """Keep a labelled request for the next training. The same text with the same label twice
    is stored once (and audited once)."""
    _check_actor(actor, EXAMPLE_ROLES, "添加分拨样本")
    text = clean_text(text)
    code = (category or "").strip() if isinstance(category, str) else ""
    if code not in category_table():
        raise ServiceError("unknown_category", f"未知的诉求类别代码:{code or '(空)'}", status=422)
    if source not in ExampleSource.values:
        raise ServiceError("invalid_source", f"未知的样本来源:{source}", status=422)
    with transaction.atomic():
        existing = TriageExample.objects.filter(text=text, category=code).first()
        if existing is not None:
            return existing
        example = TriageExample.objects.create(
            text=text, category=code, source=source, created_by=_user(actor)
        )
        audit_append(
            actor=actor,
            action="triage_example.add",
            obj=example,
            state={
                "category": code,
                "source": source,
                "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                "text_length": len(text),
            },
        )
    return example


def _primary_of() -> dict[str, str]:
    return {code: info.primary_handler for code, info in category_table().items()}


def _store(*, actor: Any, trained: learn.Trained, activate: bool) -> TriageModel:
    """Inside the caller's transaction and lock: the next version number, one active model."""
    version = (TriageModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    make_active = activate or not TriageModel.objects.filter(active=True).exists()
    if make_active:
        TriageModel.objects.filter(active=True).update(active=False)
    model = TriageModel.objects.create(
        version=version,
        created_by=_user(actor),
        blob=trained.blob,
        blob_sha256=trained.sha256,
        sklearn_version=sklearn.__version__,
        n_examples=trained.n_examples,
        n_corrections=trained.n_corrections,
        metrics=trained.metrics,
        active=make_active,
    )
    heldout = trained.metrics.get("heldout", {})
    audit_append(
        actor=actor,
        action="triage_model.train",
        obj=model,
        state={
            "version": version,
            "blob_sha256": trained.sha256,
            "active": make_active,
            "n_examples": trained.n_examples,
            "n_corrections": trained.n_corrections,
            "heldout_accuracy": heldout.get("accuracy"),
            "heldout_handler_accuracy": heldout.get("handler_accuracy"),
        },
    )
    if make_active:
        _clear_predictors()
    return model


def triage_model_train(*, actor: Any, activate: bool = False) -> TriageModel:
    """Train a new version from the shipped corpus and every labelled example.

    It becomes active when `activate` is set or when no model is active yet; otherwise a person
    compares its held-out scores and activates it (`triage_model_activate`)."""
    _check_actor(actor, MODEL_ROLES, "训练分拨模型")
    trained = learn.train(corrections=correction_rows(), primary_of=_primary_of())
    with transaction.atomic():
        _lock()
        return _store(actor=actor, trained=trained, activate=activate)


def triage_model_activate(*, actor: Any, version: int) -> TriageModel:
    """Make `version` the one model that answers (e.g. to roll back a worse retrain)."""
    _check_actor(actor, MODEL_ROLES, "启用分拨模型")
    with transaction.atomic():
        _lock()
        model = TriageModel.objects.defer("blob").filter(version=version).first()
        if model is None:
            raise NotFound(f"分拨模型 v{version} 不存在")
        if not model.active:
            TriageModel.objects.filter(active=True).update(active=False)
            TriageModel.objects.filter(pk=model.pk).update(active=True)
            model.active = True
        audit_append(
            actor=actor,
            action="triage_model.activate",
            obj=model,
            state={"version": model.version, "active": True},
        )
        _clear_predictors()
    return model


def triage_model_ensure() -> TriageModel:
    """The active model, training the first one from the shipped corpus if there is none.

    Fits while holding the lock: a second process waits here and then finds the model."""
    with transaction.atomic():
        _lock()
        model = TriageModel.objects.filter(active=True).defer("blob").first()
        if model is not None:
            return model
        trained = learn.train(corrections=correction_rows(), primary_of=_primary_of())
        return _store(actor=None, trained=trained, activate=True)


def triage_settings_update(*, actor: Any, auto_dispatch_threshold: float) -> TriageSettings:
    _check_actor(actor, SETTINGS_ROLES, "修改分拨设置")
    value = auto_dispatch_threshold
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ServiceError("invalid_threshold", "自动派遣阈值必须是数字", status=422)
    if not 0.0 < float(value) <= 1.0:
        raise ServiceError("invalid_threshold", "自动派遣阈值应大于 0 且不超过 1", status=422)
    with transaction.atomic():
        settings = _lock()
        settings.auto_dispatch_threshold = float(value)
        settings.save(update_fields=["auto_dispatch_threshold"])
        audit_append(
            actor=actor,
            action="triage_settings.update",
            obj=settings,
            state={"auto_dispatch_threshold": float(value)},
        )
    return settings
