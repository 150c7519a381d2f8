"""The one-window set-up: the county departments the items need, a spec builder, a small catalogue
of real-looking items for search, notices and bundles, the people at the windows and behind them,
and applications at each stage.

A pytest plugin (root conftest): any test requests `departments`, `catalog` and `window_people` by
name (the one-window and web tests call the last one `people`, see their conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shanzhi.conftest import County
from shanzhi.core.models import Handler, HandlerType
from shanzhi.core.services import handler_create, handler_type_upsert, staff_create
from shanzhi.core.validators import id_check_digit
from shanzhi.onewindow import applications as app_svc
from shanzhi.onewindow.catalog import (
    BundleSpec,
    BundleStepSpec,
    FormFieldSpec,
    ItemSpec,
    MaterialSpec,
    StepSpec,
)
from shanzhi.onewindow.models import ServiceItem
from shanzhi.onewindow.models_applications import Application
from shanzhi.onewindow.services import service_item_create

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


# ---- applications ------------------------------------------------------------------------------


def id_number(body: str = "33112519800101123") -> str:
    """A valid resident ID: 17 digits and the GB 11643 check character."""
    return body + id_check_digit(body)


ID_A = id_number("33112519800101123")
ID_B = id_number("33112519560315004")
PHONE_A = "13812345678"


@dataclass
class People:
    clerk_a: Any
    clerk_b: Any
    county_clerk: Any
    approver: Any  # 县人社局 (hrss)
    approver_police: Any
    approver_health: Any
    resident: Any
    resident_b: Any
    supervisor: Any
    gridworker: Any


@pytest.fixture
def window_people(county: County, departments: dict[str, Handler]) -> People:
    def user(name: str, region: Any, roles: list[str], handler: Any = None, phone: str = "") -> Any:
        return staff_create(
            actor=None,
            username=name,
            password="test-password-123",
            name=name,
            region=region,
            roles=roles,
            handler=handler,
            phone=phone,
        ).user

    return People(
        clerk_a=user("clerk-a", county.town_a, ["clerk"], county.town_a_gov),
        clerk_b=user("clerk-b", county.town_b, ["clerk"], county.town_b_gov),
        county_clerk=user("clerk-county", county.county, ["clerk"]),
        approver=user("approver-hrss", county.county, ["approver"], departments["hrss"]),
        approver_police=user("approver-police", county.county, ["approver"], departments["police"]),
        approver_health=user("approver-health", county.county, ["approver"], departments["health"]),
        resident=user("resident-a", county.village_a1, ["resident"], phone=PHONE_A),
        resident_b=user("resident-b", county.village_b1, ["resident"], phone="13900001111"),
        supervisor=user("supervisor", county.county, ["supervisor"]),
        gridworker=user("grid-a", county.village_a1, ["gridworker"]),
    )


APPLICANT = app_svc.Applicant(name="王秀英", id_number=ID_A, phone=PHONE_A)
NO_PROXY = {"委托他人代为办理": "no"}


def pension_draft(people: People, catalog: dict[str, Any], *, actor: Any = None, **kw: Any) -> Application:
    """A window draft for 城乡居民基本养老保险参保登记 (hrss) taken in by township A's clerk."""
    values: dict[str, Any] = {
        "actor": actor or people.clerk_a,
        "channel": "window",
        "applicant": APPLICANT,
        "item": catalog["resident_pension"],
        "answers": NO_PROXY,
    }
    values.update(kw)
    return app_svc.application_create(**values)


def accepted(people: People, catalog: dict[str, Any], **kw: Any) -> Application:
    """A pension application with its one needed material seen on paper, accepted by clerk A."""
    app = pension_draft(people, catalog, **kw)
    app_svc.application_mark_paper(actor=people.clerk_a, application=app, key="申请人居民身份证")
    return app_svc.application_accept(actor=people.clerk_a, application=app)


def in_review(people: People, catalog: dict[str, Any], **kw: Any) -> Application:
    app = accepted(people, catalog, **kw)
    return app_svc.application_start_review(actor=people.approver, application=app)


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


def pdf_bytes(text: str = "scan") -> bytes:
    """A small real PDF (reportlab), as a scanner would produce."""
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, invariant=1)  # the same bytes every time
    c.drawString(100, 750, text)
    c.save()
    return buffer.getvalue()


def sms_bodies_of(app: Application) -> list[str]:
    from shanzhi.notify.models import Message

    return list(
        Message.objects.filter(channel="sms", object_id=str(app.pk), phone=app.applicant_phone)
        .order_by("id")
        .values_list("body", flat=True)
    )
