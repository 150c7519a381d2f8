"""Writes to the service catalogue and the bundles. Each runs in one transaction, checks that the
actor may edit the catalogue (administrators; actor=None is the system), and writes one audit
entry whose state is the whole item with its materials, or the whole bundle with its steps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from shanzhi.audit.services import audit_append
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.core.models import Handler, HandlerKind, Role
from shanzhi.core.selectors import has_role
from shanzhi.onewindow.catalog import (
    BundleSpec,
    FieldError,
    ItemSpec,
    MaterialSpec,
    bundle_errors,
    errors_message,
    item_errors,
)
from shanzhi.onewindow.models import (
    Bundle,
    BundleStep,
    ItemType,
    Material,
    Requirement,
    ServiceItem,
    Theme,
)
from shanzhi.onewindow.search import THEME_WORDS, index_columns

CATALOG_ROLES = frozenset({Role.ADMIN})


def _require_catalog_admin(actor: Any) -> None:
    if actor is None:
        return
    if not has_role(user=actor, roles=CATALOG_ROLES):
        raise PermissionDenied("只有系统管理员可以维护事项目录")


def _invalid(errors: list[FieldError], code: str = "invalid_item") -> ServiceError:
    return ServiceError(
        code,
        errors_message(errors),
        details=[{"field": f, "message": m} for f, m in errors],
        status=422,
    )


@contextmanager
def _conflicts_as_errors() -> Iterator[None]:
    """A unique code taken by a concurrent request becomes a clear refusal, not a 500."""
    try:
        yield
    except IntegrityError as exc:
        raise ServiceError("conflict", "编码已被使用或数据刚被他人修改,请刷新后重试", status=409) from exc


def department_for(code: str) -> Handler:
    """An active county department by its handler code."""
    handler = (
        Handler.objects.select_related("type", "region")
        .filter(code=code, active=True, type__kind=HandlerKind.DEPARTMENT, region__parent__isnull=True)
        .first()
    )
    if handler is None:
        raise ServiceError(
            "unknown_department",
            f"实施部门 {code} 不存在或不是县直部门",
            details=[{"field": "department", "message": "请选择县直部门"}],
            status=422,
        )
    return handler


# ---- state for the audit log -----------------------------------------------------------------


def material_state(m: Material) -> dict[str, Any]:
    return {
        "order": m.order,
        "name": m.name,
        "key": m.key,
        "form": m.form,
        "copies": m.copies,
        "requirement": m.requirement,
        "condition": m.condition,
        "shared": m.shared,
        "shared_source": m.shared_source,
        "notes": m.notes,
    }


def item_state(item: ServiceItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "basic_code": item.basic_code,
        "name": item.name,
        "item_type": item.item_type,
        "theme": item.theme,
        "summary": item.summary,
        "applicants": item.applicants,
        "legal_basis": item.legal_basis,
        "conditions": item.conditions,
        "steps": list(item.steps),
        "statutory_days": item.statutory_days,
        "promised_days": item.promised_days,
        "time_limit_note": item.time_limit_note,
        "fee_text": item.fee_text,
        "fee_amount": str(item.fee_amount),
        "visits": item.visits,
        "department": item.department.code,
        "window": item.window,
        "channels": list(item.channels),
        "phone": item.phone,
        "keywords": list(item.keywords),
        "application_form": item.application_form,
        "active": item.active,
        "materials": [material_state(m) for m in item.materials.order_by("order")],
    }


def bundle_state(bundle: Bundle) -> dict[str, Any]:
    steps = bundle.steps.select_related("item", "result_material__item").prefetch_related("depends_on__item")
    return {
        "code": bundle.code,
        "name": bundle.name,
        "description": bundle.description,
        "window": bundle.window,
        "visits": bundle.visits,
        "form_fields": list(bundle.form_fields),
        "sort_order": bundle.sort_order,
        "active": bundle.active,
        "steps": [
            {
                "order": s.order,
                "item": s.item.code,
                "depends_on": sorted(d.item.code for d in s.depends_on.all()),
                "result_for": [s.result_material.item.code, s.result_material.name]
                if s.result_material
                else None,
            }
            for s in steps.order_by("order")
        ],
    }


# ---- service items ---------------------------------------------------------------------------


def reindex_item(item: ServiceItem) -> None:
    """Rebuild the search columns from the item, its department and its materials."""
    labels = [
        str(Theme(item.theme).label) if item.theme in Theme.values else "",
        *THEME_WORDS.get(item.theme, ()),
        str(ItemType(item.item_type).label) if item.item_type in ItemType.values else "",
        item.department.name,
    ]
    columns = index_columns(
        name=item.name,
        keywords=[str(k) for k in item.keywords],
        labels=[x for x in labels if x],
        materials=[m.name for m in item.materials.order_by("order")],
    )
    item.search_text = columns.search_text
    item.pinyin_full = columns.pinyin_full
    item.pinyin_initials = columns.pinyin_initials
    item.save(update_fields=["search_text", "pinyin_full", "pinyin_initials"])


def _item_values(spec: ItemSpec, department: Handler) -> dict[str, Any]:
    return {
        "basic_code": spec.basic_code,
        "name": spec.name.strip(),
        "item_type": spec.item_type,
        "theme": spec.theme,
        "summary": spec.summary.strip(),
        "applicants": spec.applicants.strip(),
        "legal_basis": spec.legal_basis.strip(),
        "conditions": spec.conditions.strip(),
        "steps": [{"name": s.name.strip(), "detail": s.detail.strip()} for s in spec.steps],
        "statutory_days": spec.statutory_days,
        "promised_days": spec.promised_days,
        "time_limit_note": spec.time_limit_note.strip(),
        "fee_text": spec.fee_text.strip(),
        "fee_amount": spec.fee_amount,
        "visits": spec.visits,
        "department": department,
        "window": spec.window.strip(),
        "channels": list(spec.channels),
        "phone": spec.phone.strip(),
        "keywords": [k.strip() for k in spec.keywords],
        "application_form": spec.application_form.strip(),
        "active": spec.active,
    }


def _material_values(spec: MaterialSpec, order: int) -> dict[str, Any]:
    return {
        "order": order,
        "key": spec.material_key.strip(),
        "form": spec.form,
        "copies": spec.copies,
        "requirement": Requirement.CONDITIONAL if spec.conditional else Requirement.REQUIRED,
        "condition": spec.condition.strip(),
        "shared": spec.shared,
        "shared_source": spec.shared_source.strip(),
        "notes": spec.notes.strip(),
    }


def _apply_materials(item: ServiceItem, specs: tuple[MaterialSpec, ...]) -> None:
    """Make the item's materials equal `specs`, keeping the row of every material whose name
    stays (applications and bundles point at material rows)."""
    existing = {m.name: m for m in item.materials.all()}
    wanted = {s.name.strip() for s in specs}
    removed = [m for name, m in existing.items() if name not in wanted]
    try:
        for m in removed:
            m.delete()
    except ProtectedError as exc:
        raise ServiceError(
            "material_in_use",
            "要删除的材料已被一件事引用(作为前一环节结果可替代的材料),请先修改该一件事",
            status=409,
        ) from exc
    # Move kept rows out of the way first, so reordering never trips the unique order.
    for n, m in enumerate(existing[name] for name in existing if name in wanted):
        m.order = 1000 + n
        m.save(update_fields=["order"])
    for order, spec in enumerate(specs, start=1):
        values = _material_values(spec, order)
        current = existing.get(spec.name.strip())
        if current is None:
            Material.objects.create(item=item, name=spec.name.strip(), **values)
        else:
            for k, v in values.items():
                setattr(current, k, v)
            current.save()


def service_item_create(*, actor: Any, spec: ItemSpec) -> ServiceItem:
    """Add an item with its materials to the catalogue."""
    _require_catalog_admin(actor)
    errors = item_errors(spec)
    if errors:
        raise _invalid(errors)
    department = department_for(spec.department)
    with transaction.atomic(), _conflicts_as_errors():
        if ServiceItem.objects.filter(code=spec.code).exists():
            raise ServiceError("duplicate_code", f"实施编码 {spec.code} 已存在", status=409)
        item = ServiceItem.objects.create(code=spec.code, **_item_values(spec, department))
        _apply_materials(item, spec.materials)
        reindex_item(item)
        audit_append(actor=actor, action="service_item.create", obj=item, state=item_state(item))
    return item


def service_item_update(*, actor: Any, item: ServiceItem, spec: ItemSpec) -> ServiceItem:
    """Replace an item's fields and material list; the implementation code does not change."""
    _require_catalog_admin(actor)
    if spec.code != item.code:
        raise ServiceError("code_immutable", "实施编码不能修改;请新建事项并停用旧事项", status=422)
    errors = item_errors(spec)
    if errors:
        raise _invalid(errors)
    department = department_for(spec.department)
    with transaction.atomic(), _conflicts_as_errors():
        item = ServiceItem.objects.select_for_update().get(pk=item.pk)
        for k, v in _item_values(spec, department).items():
            setattr(item, k, v)
        item.save()
        _apply_materials(item, spec.materials)
        reindex_item(item)
        audit_append(actor=actor, action="service_item.update", obj=item, state=item_state(item))
    return item


def service_item_set_active(*, actor: Any, item: ServiceItem, active: bool) -> ServiceItem:
    """Publish or withdraw an item; withdrawn items leave search and the public pages."""
    _require_catalog_admin(actor)
    with transaction.atomic():
        item = ServiceItem.objects.select_for_update().get(pk=item.pk)
        item.active = active
        item.save(update_fields=["active", "updated_at"])
        audit_append(actor=actor, action="service_item.set_active", obj=item, state=item_state(item))
    return item


def service_item_delete(*, actor: Any, item: ServiceItem) -> None:
    _require_catalog_admin(actor)
    with transaction.atomic():
        state = item_state(item)
        pk = item.pk
        try:
            item.delete()
        except ProtectedError as exc:
            raise ServiceError(
                "item_in_use", "该事项已被一件事或办件引用,不能删除;可以停用", status=409
            ) from exc
        audit_append(
            actor=actor,
            action="service_item.delete",
            object_type=ServiceItem._meta.label_lower,
            object_id=str(pk),
            state=state,
        )


def service_item_admin_saved(*, actor: Any, item: ServiceItem, created: bool) -> ServiceItem:
    """The back office saved an item and its material inline through Django's forms (inside the
    admin's transaction, after the forms validated it): fill blank material keys, rebuild the
    search columns, and record the new state."""
    _require_catalog_admin(actor)
    with transaction.atomic():
        for m in item.materials.filter(key=""):
            m.key = m.name
            m.save(update_fields=["key"])
        reindex_item(item)
        action = "service_item.create" if created else "service_item.update"
        audit_append(actor=actor, action=action, obj=item, state=item_state(item))
    return item


# ---- bundles ---------------------------------------------------------------------------------


def _materials_of(codes: list[str]) -> dict[str, list[str]]:
    """Item code -> material names, for the active items among `codes`."""
    result: dict[str, list[str]] = {}
    for code, name in Material.objects.filter(item__code__in=codes, item__active=True).values_list(
        "item__code", "name"
    ):
        result.setdefault(code, []).append(name)
    for code in ServiceItem.objects.filter(code__in=codes, active=True).values_list("code", flat=True):
        result.setdefault(code, [])
    return result


def _validate_bundle(spec: BundleSpec) -> None:
    errors = bundle_errors(spec, materials_of=_materials_of([s.item_code for s in spec.steps]))
    if errors:
        raise _invalid(errors, "invalid_bundle")


def _bundle_values(spec: BundleSpec) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "description": spec.description.strip(),
        "window": spec.window.strip(),
        "visits": spec.visits,
        "form_fields": [
            {"key": f.key, "label": f.label.strip(), "kind": f.kind, "required": f.required}
            for f in spec.form_fields
        ],
        "sort_order": spec.sort_order,
        "active": spec.active,
    }


def _apply_steps(bundle: Bundle, spec: BundleSpec) -> None:
    """Make the bundle's steps equal the spec's, keeping the row of every item that stays."""
    existing = {s.item.code: s for s in bundle.steps.select_related("item")}
    wanted = [s.item_code for s in spec.steps]
    for code, step in existing.items():
        if code not in wanted:
            try:
                step.delete()
            except ProtectedError as exc:
                raise ServiceError("step_in_use", "该环节已有办件,不能从一件事中移除", status=409) from exc
    for n, code in enumerate(c for c in existing if c in wanted):
        existing[code].order = 1000 + n
        existing[code].save(update_fields=["order"])
    items = {i.code: i for i in ServiceItem.objects.filter(code__in=wanted)}
    steps: dict[str, BundleStep] = {}
    for order, s in enumerate(spec.steps, start=1):
        step = existing.get(s.item_code) or BundleStep(bundle=bundle, item=items[s.item_code])
        step.order = order
        step.result_material = None
        if s.result_for is not None:
            later, material = s.result_for
            step.result_material = Material.objects.get(item__code=later, name=material)
        step.save()
        step.depends_on.set([steps[d] for d in s.depends_on])
        steps[s.item_code] = step


def bundle_create(*, actor: Any, spec: BundleSpec) -> Bundle:
    """Add a 一件事 of existing items, with its order, dependencies and merged form."""
    _require_catalog_admin(actor)
    _validate_bundle(spec)
    with transaction.atomic(), _conflicts_as_errors():
        if Bundle.objects.filter(code=spec.code).exists():
            raise ServiceError("duplicate_code", f"一件事代码 {spec.code} 已存在", status=409)
        bundle = Bundle.objects.create(code=spec.code, **_bundle_values(spec))
        _apply_steps(bundle, spec)
        audit_append(actor=actor, action="bundle.create", obj=bundle, state=bundle_state(bundle))
    return bundle


def bundle_update(*, actor: Any, bundle: Bundle, spec: BundleSpec) -> Bundle:
    _require_catalog_admin(actor)
    if spec.code != bundle.code:
        raise ServiceError("code_immutable", "一件事代码不能修改", status=422)
    _validate_bundle(spec)
    with transaction.atomic(), _conflicts_as_errors():
        bundle = Bundle.objects.select_for_update().get(pk=bundle.pk)
        for k, v in _bundle_values(spec).items():
            setattr(bundle, k, v)
        bundle.save()
        _apply_steps(bundle, spec)
        audit_append(actor=actor, action="bundle.update", obj=bundle, state=bundle_state(bundle))
    return bundle


def bundle_delete(*, actor: Any, bundle: Bundle) -> None:
    _require_catalog_admin(actor)
    with transaction.atomic():
        state = bundle_state(bundle)
        pk = bundle.pk
        try:
            bundle.delete()
        except ProtectedError as exc:
            raise ServiceError("bundle_in_use", "该一件事已有办件,不能删除;可以停用", status=409) from exc
        audit_append(
            actor=actor,
            action="bundle.delete",
            object_type=Bundle._meta.label_lower,
            object_id=str(pk),
            state=state,
        )


def bundle_admin_saved(*, actor: Any, bundle: Bundle, created: bool) -> Bundle:
    """The back office saved a bundle and its steps through Django's forms (validated there):
    record the new state."""
    _require_catalog_admin(actor)
    with transaction.atomic():
        action = "bundle.create" if created else "bundle.update"
        audit_append(actor=actor, action=action, obj=bundle, state=bundle_state(bundle))
    return bundle
