"""Catalogue writes: validation, codes, rights, audit, and updates that keep material rows."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import IntegrityError, transaction

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.onewindow.catalog import BundleStepSpec
from shanzhi.onewindow.models import Bundle, BundleStep, Material, ServiceItem
from shanzhi.onewindow.services import (
    bundle_create,
    bundle_delete,
    service_item_create,
    service_item_delete,
    service_item_set_active,
    service_item_update,
)
from shanzhi.onewindow.tests.window_setup import bundle_spec, material, spec


def _last(field: str) -> str | None:
    """A field of the newest audit entry."""
    return AuditEntry.objects.order_by("-index").values_list(field, flat=True).first()


def _state() -> tuple[int, int, int, int]:
    return (
        ServiceItem.objects.count(),
        Material.objects.count(),
        Bundle.objects.count(),
        AuditEntry.objects.count(),
    )


def _refused(code: str, fn, **kwargs) -> ServiceError:
    before = _state()
    with pytest.raises(ServiceError) as exc:
        fn(**kwargs)
    assert exc.value.code == code
    assert _state() == before, "a refused write changed nothing"
    return exc.value


def test_create_writes_item_materials_search_columns_and_one_audit_entry(departments):
    before = AuditEntry.objects.count()
    item = service_item_create(
        actor=None, spec=spec(1, "城乡居民基本养老保险参保登记", keywords=("养老保险", "农保"))
    )
    assert [m.name for m in item.materials.order_by("order")] == [
        "申请人居民身份证",
        "居民户口簿",
        "授权委托书",
    ]
    kinds = {m.name: (m.requirement, m.shared, m.key) for m in item.materials.all()}
    assert kinds["居民户口簿"] == ("required", True, "居民户口簿")
    assert kinds["授权委托书"] == ("conditional", False, "授权委托书")
    assert item.search_text.startswith("城乡居民基本养老保险参保登记\n养老保险|农保\n社会保障|社保")
    assert item.pinyin_initials.split("\n") == ["cxjmjbylbxcbdj", "ylbx|nb"]
    entries = list(AuditEntry.objects.filter(index__gte=before))
    assert [(e.action, e.object_id) for e in entries] == [("service_item.create", str(item.pk))]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"promised_days": 21, "statutory_days": 20}, "承诺办结时限不能超过法定办结时限"),
        ({"basic_code": "XK00001000"}, "基本编码应以事项类型字母 GG 开头"),
        ({"code": "331199-GG00009000-01"}, "实施编码中的基本编码与事项基本编码不一致"),
        ({"code": "abc"}, "实施编码应为"),
        ({"visits": 0, "channels": ("window",)}, "零跑动的事项必须可以网上办理"),
        ({"channels": ("window", "fax")}, "办理渠道应从"),
        ({"window": "", "channels": ("window",)}, "须写明办理窗口"),
        ({"steps": ()}, "办理流程应有 2–12 个环节"),
        ({"materials": ()}, "至少列出一项申请材料"),
        ({"materials": (material("身份证"), material("身份证"))}, "材料“身份证”重复列出"),
        ({"materials": (material("身份证", form="scan"),)}, "材料“身份证”的形式"),
        ({"phone": "call us"}, "咨询电话格式不正确"),
        ({"fee_text": "不收费", "fee_amount": 20}, "收费金额大于 0 时"),
        ({"summary": " "}, "事项说明不能为空"),
    ],
)
def test_invalid_items_are_refused_with_the_reason(departments, overrides, message):
    error = _refused("invalid_item", service_item_create, actor=None, spec=spec(1, "测试事项", **overrides))
    assert message in error.message
    assert error.status == 422
    assert all({"field", "message"} <= set(d) for d in error.details)


def test_codes_are_unique(departments):
    service_item_create(actor=None, spec=spec(1, "甲事项"))
    error = _refused("duplicate_code", service_item_create, actor=None, spec=spec(1, "乙事项"))
    assert error.status == 409


def test_the_department_must_be_a_county_department(county, departments):
    _refused("unknown_department", service_item_create, actor=None, spec=spec(1, "甲", department="nowhere"))
    # A township government is a handler but not a county department.
    _refused(
        "unknown_department",
        service_item_create,
        actor=None,
        spec=spec(1, "甲", department=county.town_a_gov.code),
    )


def test_the_database_keeps_promised_within_statutory_and_materials_consistent(departments):
    item = service_item_create(actor=None, spec=spec(1, "甲事项", promised_days=5, statutory_days=20))
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceItem.objects.filter(pk=item.pk).update(promised_days=21)
    with pytest.raises(IntegrityError), transaction.atomic():
        Material.objects.create(item=item, order=9, name="x", key="x", form="copy", requirement="conditional")
    with pytest.raises(IntegrityError), transaction.atomic():
        Material.objects.create(item=item, order=9, name="x", key="x", form="copy", shared=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Material.objects.create(item=item, order=1, name="另一份", key="x", form="copy")


def test_only_administrators_edit_the_catalogue(county, departments, admin):
    clerk = make_user(username="ow-clerk", region=county.town_a, roles=["clerk"])
    before = _state()
    with pytest.raises(PermissionDenied):
        service_item_create(actor=clerk, spec=spec(1, "甲事项"))
    assert _state() == before
    item = service_item_create(actor=admin, spec=spec(1, "甲事项"))
    assert _last("actor") == "ow-admin"
    with pytest.raises(PermissionDenied):
        service_item_set_active(actor=clerk, item=item, active=False)


def test_update_keeps_rows_of_kept_materials_reorders_and_removes(departments):
    item = service_item_create(actor=None, spec=spec(1, "甲事项"))
    ids = {m.name: m.pk for m in item.materials.all()}
    new = spec(
        1,
        "甲事项(新)",
        materials=(
            material("授权委托书", when="委托他人办理"),
            material("申请人居民身份证"),
            material("银行账户信息"),
        ),
    )
    item = service_item_update(actor=None, item=item, spec=new)
    rows = list(item.materials.order_by("order").values_list("order", "name", "pk"))
    assert [(o, n) for o, n, _pk in rows] == [(1, "授权委托书"), (2, "申请人居民身份证"), (3, "银行账户信息")]
    assert rows[0][2] == ids["授权委托书"] and rows[1][2] == ids["申请人居民身份证"]
    assert not Material.objects.filter(pk=ids["居民户口簿"]).exists()
    assert item.name == "甲事项(新)" and "银行账户信息" in item.search_text
    assert _last("action") == "service_item.update"
    _refused(
        "code_immutable",
        service_item_update,
        actor=None,
        item=item,
        spec=replace(new, code="331199-GG00001000-02"),
    )


def test_withdrawn_items_and_deletes(departments, bundle):
    item = bundle.steps.get(order=3).item
    service_item_set_active(actor=None, item=item, active=False)
    item.refresh_from_db()
    assert item.active is False
    # An item in a bundle cannot be deleted; one outside can.
    _refused("item_in_use", service_item_delete, actor=None, item=item)
    other = service_item_create(actor=None, spec=spec(9, "无关事项"))
    service_item_delete(actor=None, item=other)
    assert not ServiceItem.objects.filter(code=other.code).exists()
    assert _last("action") == "service_item.delete"


def test_bundle_create_records_order_dependencies_and_audit(catalog, bundle):
    steps = list(bundle.steps.order_by("order"))
    assert [s.item.name for s in steps] == ["出生登记(户口)", "城乡居民基本养老保险参保登记", "高龄津贴申领"]
    assert [d.item.name for d in steps[1].depends_on.all()] == ["出生登记(户口)"]
    assert list(steps[0].depends_on.all()) == [] and list(steps[0].dependents.all()) == [steps[1]]
    assert bundle.form_fields[1] == {"key": "phone", "label": "联系电话", "kind": "phone", "required": True}
    assert _last("action") == "bundle.create"


def test_invalid_bundles_are_refused(catalog):
    birth, pension, elderly = catalog["birth"].code, catalog["resident_pension"].code, catalog["elderly"].code
    cases = [
        # depends on a later step (would allow cycles)
        ((BundleStepSpec(birth, depends_on=(pension,)), BundleStepSpec(pension)), "只能依赖它之前的环节"),
        ((BundleStepSpec(birth), BundleStepSpec(birth)), "重复出现"),
        ((BundleStepSpec(birth), BundleStepSpec("331199-GG09999000-01")), "不存在或未启用"),
        ((BundleStepSpec(birth),), "应包含 2–12 个事项"),
        # a result may only replace a material of a step that waits for it
        (
            (BundleStepSpec(birth, result_for=(elderly, "申请人居民身份证")), BundleStepSpec(elderly)),
            "只能替代依赖它的后续事项的材料",
        ),
        (
            (
                BundleStepSpec(birth, result_for=(pension, "出生医学证明")),
                BundleStepSpec(pension, depends_on=(birth,)),
            ),
            "的材料清单中没有“出生医学证明”",
        ),
    ]
    for steps, message in cases:
        error = _refused("invalid_bundle", bundle_create, actor=None, spec=bundle_spec(catalog, steps=steps))
        assert message in error.message
    _refused("invalid_bundle", bundle_create, actor=None, spec=bundle_spec(catalog, code="Bad Code"))


def test_a_material_a_bundle_relies_on_cannot_be_removed(catalog):
    birth, pension = catalog["birth"], catalog["resident_pension"]
    steps = (
        BundleStepSpec(birth.code, result_for=(pension.code, "申请人居民身份证")),
        BundleStepSpec(pension.code, depends_on=(birth.code,)),
    )
    bundle = bundle_create(actor=None, spec=bundle_spec(catalog, steps=steps))
    assert (
        bundle.steps.filter(order=1).values_list("result_material__name", flat=True).get()
        == "申请人居民身份证"
    )
    without = spec(1, pension.name, materials=(material("居民户口簿", shared="户籍信息(公安共享)"),))
    _refused("material_in_use", service_item_update, actor=None, item=pension, spec=without)
    bundle_delete(actor=None, bundle=bundle)
    assert not BundleStep.objects.exists()
    service_item_update(actor=None, item=pension, spec=without)
