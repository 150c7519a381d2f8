"""Fixtures for the catalogue: the county departments the items need, a spec builder, and a
small catalogue of real-looking items for search, notices and bundles."""

from __future__ import annotations

from typing import Any

import pytest

from shanzhi.conftest import County, make_user
from shanzhi.core.models import Handler, HandlerType
from shanzhi.core.services import handler_create, handler_type_upsert
from shanzhi.onewindow.catalog import (
    BundleSpec,
    BundleStepSpec,
    FormFieldSpec,
    ItemSpec,
    MaterialSpec,
    StepSpec,
)
from shanzhi.onewindow.models import Bundle, ServiceItem
from shanzhi.onewindow.services import bundle_create, service_item_create

# The county departments of core's handler catalogue that the demo catalogue uses.
DEPARTMENTS = [
    ("hrss", "县人力资源和社会保障局"),
    ("medical_insurance", "县医疗保障局"),
    ("civil_affairs", "县民政局"),
    ("police", "县公安局"),
    ("health", "县卫生健康局"),
    ("housing", "县住房和城乡建设局"),
    ("market", "县市场监督管理局"),
    ("environment", "县生态环境分局"),
    ("water", "县水利局(水务)"),
]


@pytest.fixture
def departments(county: County) -> dict[str, Handler]:
    out = {"urban_mgmt": county.dept}
    for code, name in DEPARTMENTS:
        if not HandlerType.objects.filter(code=code).exists():
            handler_type_upsert(actor=None, code=code, kind="department", name_zh=name, name_en=code)
        out[code] = handler_create(actor=None, code=code, type_code=code, name=name, region=county.county)
    return out


def material(
    name: str, *, when: str = "", shared: str = "", key: str = "", form: str = "original"
) -> MaterialSpec:
    return MaterialSpec(name=name, form=form, condition=when, shared_source=shared, key=key)


def spec(n: int, name: str, **overrides: Any) -> ItemSpec:
    """A valid public-service item numbered `n` (codes GG0000n000 / 331199-GG0000n000-01)."""
    basic = f"GG{n:05d}000"
    values: dict[str, Any] = {
        "code": f"331199-{basic}-01",
        "basic_code": basic,
        "name": name,
        "item_type": "public_service",
        "theme": "social_security",
        "summary": f"为居民办理{name}",
        "applicants": "本县居民",
        "legal_basis": "《中华人民共和国社会保险法》",
        "conditions": "本县户籍。",
        "steps": (StepSpec("申请", "提交材料"), StepSpec("受理"), StepSpec("办结", "当场办结")),
        "promised_days": 5,
        "statutory_days": 20,
        "department": "hrss",
        "window": "县政务服务中心 2 号窗口",
        "channels": ("window", "online"),
        "phone": "0578-8612333",
        "materials": (
            material("申请人居民身份证"),
            material("居民户口簿", shared="户籍信息(公安共享)"),
            material("授权委托书", when="委托他人代为办理"),
        ),
        "keywords": (),
    }
    values.update(overrides)
    return ItemSpec(**values)


@pytest.fixture
def catalog(departments: dict[str, Handler]) -> dict[str, ServiceItem]:
    """Six items across three themes, named as the demo names them."""
    specs = {
        "resident_pension": spec(
            1,
            "城乡居民基本养老保险参保登记",
            keywords=("养老保险", "农保"),
            application_form="《城乡居民基本养老保险参保登记表》",
        ),
        "worker_pension": spec(2, "职工基本养老保险待遇申领", keywords=("养老金", "退休工资")),
        "birth": spec(
            3,
            "出生登记(户口)",
            theme="household",
            department="police",
            promised_days=0,
            statutory_days=None,
            keywords=("上户口", "户口"),
            materials=(
                material("出生医学证明", shared="出生医学证明电子证照(卫健共享)"),
                material("父母双方居民身份证"),
                material("非婚生育说明", when="非婚生育"),
            ),
        ),
        "move_in": spec(
            4, "户口迁入(购房、投靠)", theme="household", department="police", keywords=("落户",)
        ),
        "remote": spec(
            5,
            "异地就医备案",
            theme="medical_insurance",
            department="medical_insurance",
            keywords=("外地看病",),
        ),
        "elderly": spec(
            6, "高龄津贴申领", theme="civil_affairs", department="civil_affairs", keywords=("老人补贴",)
        ),
    }
    return {key: service_item_create(actor=None, spec=s) for key, s in specs.items()}


@pytest.fixture
def admin(county: County) -> Any:
    return make_user(username="ow-admin", region=county.county, roles=["admin"])


def bundle_spec(catalog: dict[str, ServiceItem], **overrides: Any) -> BundleSpec:
    """Birth registration, then pension enrolment after it, elderly allowance in parallel."""
    values: dict[str, Any] = {
        "code": "test-bundle",
        "name": "测试一件事",
        "description": "几个事项一次办",
        "window": "县政务服务中心 1 号窗口",
        "steps": (
            BundleStepSpec(catalog["birth"].code),
            BundleStepSpec(catalog["resident_pension"].code, depends_on=(catalog["birth"].code,)),
            BundleStepSpec(catalog["elderly"].code),
        ),
        "form_fields": (FormFieldSpec("name", "姓名"), FormFieldSpec("phone", "联系电话", "phone")),
    }
    values.update(overrides)
    return BundleSpec(**values)


@pytest.fixture
def bundle(catalog: dict[str, ServiceItem]) -> Bundle:
    return bundle_create(actor=None, spec=bundle_spec(catalog))
