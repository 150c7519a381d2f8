"""The one-window tests' own fixtures; the shared set-up (departments, catalogue, people,
applications) is the `shanzhi.onewindow.tests.window_setup` plugin."""

from __future__ import annotations

from typing import Any

import pytest

from shanzhi.conftest import County, make_user
from shanzhi.core.models import Handler
from shanzhi.onewindow.catalog import BundleSpec, BundleStepSpec, FormFieldSpec
from shanzhi.onewindow.models import Bundle, ServiceItem
from shanzhi.onewindow.services import bundle_create, service_item_create
from shanzhi.onewindow.tests.window_setup import People, bundle_spec, material, spec


@pytest.fixture
def people(window_people: People) -> People:
    """Here `people` are the window's (the households' `people` fixture is the grid's)."""
    return window_people


@pytest.fixture
def admin(county: County) -> Any:
    return make_user(username="ow-admin", region=county.county, roles=["admin"])


@pytest.fixture
def bundle(catalog: dict[str, ServiceItem]) -> Bundle:
    return bundle_create(actor=None, spec=bundle_spec(catalog))


@pytest.fixture
def newborn(departments: dict[str, Handler]) -> Bundle:
    """出生医学证明 (health) → 出生登记 (police, whose 出生医学证明 the first result replaces), with
    预防接种证 (health) in parallel; both parents' IDs asked by two items, brought once."""
    cert = service_item_create(
        actor=None,
        spec=spec(
            21,
            "出生医学证明签发",
            theme="health",
            department="health",
            promised_days=3,
            materials=(material("父母双方居民身份证"), material("分娩记录", shared="住院分娩信息(卫健共享)")),
        ),
    )
    hukou = service_item_create(
        actor=None,
        spec=spec(
            22,
            "出生登记",
            theme="household",
            department="police",
            promised_days=2,
            materials=(
                material("出生医学证明"),
                material("父母双方居民身份证"),
                material("居民户口簿", shared="户籍信息(公安共享)"),
                material("非婚生育说明", when="非婚生育"),
            ),
        ),
    )
    vaccine = service_item_create(
        actor=None,
        spec=spec(
            23,
            "预防接种证办理",
            theme="health",
            department="health",
            promised_days=1,
            materials=(material("父母双方居民身份证"),),
        ),
    )
    return bundle_create(
        actor=None,
        spec=BundleSpec(
            code="newborn-test",
            name="新生儿出生一件事(测试)",
            description="出生医学证明、预防接种证、出生登记一次申请",
            window="县政务服务中心 1 号窗口",
            steps=(
                BundleStepSpec(cert.code, result_for=(hukou.code, "出生医学证明")),
                BundleStepSpec(vaccine.code),
                BundleStepSpec(hukou.code, depends_on=(cert.code,)),
            ),
            form_fields=(
                FormFieldSpec("child_name", "新生儿姓名"),
                FormFieldSpec("birth_date", "出生日期", "date"),
                FormFieldSpec("mother_id", "母亲身份证号", "id_number"),
            ),
        ),
    )


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Any) -> None:
    """Uploaded materials go to a temp dir, not the checkout's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
