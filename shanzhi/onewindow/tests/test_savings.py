"""What a bundle saves, computed by hand for a small bundle and checked against the selector."""

from __future__ import annotations

from shanzhi.onewindow.catalog import BundleSpec, BundleStepSpec, FormFieldSpec
from shanzhi.onewindow.selectors import bundle_get, bundle_materials, bundle_savings
from shanzhi.onewindow.services import bundle_create, service_item_create
from shanzhi.onewindow.tests.window_setup import material, spec

ID = material("申请人居民身份证")


def test_savings_by_hand(departments):
    # I1 → I2 → I3 in a chain (I2 needs I1's result, I3 needs I2's), I4 in parallel.
    i1 = service_item_create(
        actor=None,
        spec=spec(
            1,
            "事项一",
            promised_days=0,
            visits=1,
            application_form="《表一》",
            materials=(
                ID,
                material("居民户口簿", shared="户籍信息(公安共享)"),
                material("委托书", when="委托代办"),
            ),
        ),
    )
    i2 = service_item_create(
        actor=None,
        spec=spec(
            2,
            "事项二",
            promised_days=3,
            visits=1,
            application_form="《表二》",
            materials=(ID, material("出生医学证明"), material("照片")),
        ),
    )
    i3 = service_item_create(
        actor=None,
        spec=spec(
            3,
            "事项三",
            promised_days=5,
            visits=0,
            application_form="",
            materials=(ID, material("居民户口簿"), material("银行卡")),
        ),
    )
    i4 = service_item_create(
        actor=None,
        spec=spec(
            4, "事项四", promised_days=2, visits=1, application_form="《表四》", materials=(material("照片"),)
        ),
    )
    bundle_create(
        actor=None,
        spec=BundleSpec(
            code="by-hand",
            name="手算一件事",
            description="用来手算节省",
            window="1 号窗口",
            visits=1,
            form_fields=(FormFieldSpec("name", "姓名"),),
            steps=(
                BundleStepSpec(i1.code, result_for=(i2.code, "出生医学证明")),
                BundleStepSpec(i2.code, depends_on=(i1.code,)),
                BundleStepSpec(i3.code, depends_on=(i2.code,)),
                BundleStepSpec(i4.code),
            ),
        ),
    )
    bundle = bundle_get(code="by-hand")
    s = bundle_savings(bundle)

    # Visits: 1 + 1 + 0 + 1 item by item; the bundle promises 1.
    assert (s.visits_separate, s.visits_bundle, s.visits_saved) == (3, 1, 2)
    # Forms: items one, two and four have a form; the bundle has one merged form.
    assert (s.forms_separate, s.forms_bundle, s.forms_saved) == (3, 1, 2)
    # Required materials: I1 {身份证, 户口簿*}, I2 {身份证, 出生医学证明, 照片}, I3 {身份证, 户口簿, 银行卡},
    # I4 {照片} = 9 lines (* = 免提交 for I1). Item by item the resident brings 1 + 3 + 3 + 1 = 8.
    # In the bundle 5 distinct documents: 户口簿 is fetched (I1 can fetch it, so the bundle can),
    # 出生医学证明 comes from step one's result, so 身份证, 照片 and 银行卡 are brought, once each.
    assert (s.materials_separate, s.materials_bundle, s.materials_saved) == (8, 3, 5)
    assert (s.materials_deduplicated, s.materials_fetched, s.materials_from_results) == (4, 1, 1)
    # Days: 0 + 3 + 5 + 2 one after another; in the bundle the chain takes 0 + 3 + 5 = 8 and
    # step four (2) runs alongside.
    assert (s.days_separate, s.days_bundle, s.days_saved) == (10, 8, 2)
    assert s.percent(s.materials_separate, s.materials_bundle) == 62

    rows = {m.name: (m.status, m.items) for m in bundle_materials(bundle)}
    assert rows == {
        "申请人居民身份证": ("bring", ("事项一", "事项二", "事项三")),
        "居民户口簿": ("fetched", ("事项一", "事项三")),
        "委托书": ("conditional", ("事项一",)),
        "出生医学证明": ("from_result", ("事项二",)),
        "照片": ("bring", ("事项二", "事项四")),
        "银行卡": ("bring", ("事项三",)),
    }


def test_parallel_steps_take_the_longest(departments):
    a = service_item_create(actor=None, spec=spec(1, "甲", promised_days=4))
    b = service_item_create(actor=None, spec=spec(2, "乙", promised_days=7))
    c = service_item_create(actor=None, spec=spec(3, "丙", promised_days=1))
    bundle_create(
        actor=None,
        spec=BundleSpec(
            code="parallel",
            name="并联",
            description="甲乙并行,丙在两者之后",
            window="1 号窗口",
            steps=(
                BundleStepSpec(a.code),
                BundleStepSpec(b.code),
                BundleStepSpec(c.code, depends_on=(a.code, b.code)),
            ),
        ),
    )
    s = bundle_savings(bundle_get(code="parallel"))
    assert (s.days_separate, s.days_bundle) == (12, 8)
    assert s.forms_bundle == 0  # no merged form fields declared
