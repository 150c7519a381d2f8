"""Catalogue API: public reads of service items and bundles (residents browse without logging in;
nothing in the catalogue is personal). Mounted at /api/v1/ by config/api.py."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema

from shanzhi.onewindow import selectors
from shanzhi.onewindow.models import Bundle, BundleStep, ItemType, Material, MaterialForm, ServiceItem, Theme
from shanzhi.onewindow.notice import build_notice

router = Router(tags=["onewindow"])


class DepartmentOut(Schema):
    code: str
    name: str


class ServiceItemOut(Schema):
    code: str
    basic_code: str
    name: str
    item_type: str
    item_type_label: str
    theme: str
    theme_label: str
    department: DepartmentOut
    promised_days: int
    statutory_days: int | None
    visits: int
    at_most_once: bool
    channels: list[str]
    channel_labels: list[str]
    fee_text: str
    url: str


class MaterialOut(Schema):
    order: int
    name: str
    key: str
    form: str
    form_label: str
    copies: int
    required: bool
    condition: str
    shared: bool
    shared_source: str
    notes: str


class StepOut(Schema):
    name: str
    detail: str


class NoticeOut(Schema):
    sentence: str
    sms: str
    pdf_url: str


class BundleRefOut(Schema):
    code: str
    name: str


class ServiceItemDetailOut(ServiceItemOut):
    summary: str
    applicants: str
    legal_basis: str
    conditions: str
    steps: list[StepOut]
    time_limit_note: str
    fee_amount: str
    window: str
    phone: str
    keywords: list[str]
    application_form: str
    materials: list[MaterialOut]
    notice: NoticeOut
    bundles: list[BundleRefOut]


class SearchOut(Schema):
    total: int
    limit: int
    offset: int
    items: list[ServiceItemOut]


class CompareOut(Schema):
    separate: int
    bundle: int
    saved: int


class MaterialBreakdownOut(CompareOut):
    deduplicated: int
    fetched: int
    from_results: int


class SavingsOut(Schema):
    items: int
    visits: CompareOut
    forms: CompareOut
    materials: MaterialBreakdownOut
    promised_days: CompareOut


class ReplacesOut(Schema):
    item_code: str
    material: str


class BundleStepOut(Schema):
    order: int
    item: ServiceItemOut
    depends_on: list[str]
    result_replaces: ReplacesOut | None


class FormFieldOut(Schema):
    key: str
    label: str
    kind: str
    required: bool


class BundleOut(Schema):
    code: str
    name: str
    description: str
    window: str
    visits: int
    steps: list[BundleStepOut]
    form_fields: list[FormFieldOut]
    savings: SavingsOut
    url: str


class BundleListOut(Schema):
    total: int
    items: list[BundleOut]


def item_out(item: ServiceItem) -> ServiceItemOut:
    return ServiceItemOut(
        code=item.code,
        basic_code=item.basic_code,
        name=item.name,
        item_type=item.item_type,
        item_type_label=str(ItemType(item.item_type).label),
        theme=item.theme,
        theme_label=str(Theme(item.theme).label),
        department=DepartmentOut(code=item.department.code, name=item.department.name),
        promised_days=item.promised_days,
        statutory_days=item.statutory_days,
        visits=item.visits,
        at_most_once=item.at_most_once,
        channels=list(item.channels),
        channel_labels=item.channel_labels(),
        fee_text=item.fee_text,
        url=reverse("onewindow:item", args=[item.code]),
    )


def _material_out(m: Material) -> MaterialOut:
    return MaterialOut(
        order=m.order,
        name=m.name,
        key=m.key,
        form=m.form,
        form_label=str(MaterialForm(m.form).label),
        copies=m.copies,
        required=m.required,
        condition=m.condition,
        shared=m.shared,
        shared_source=m.shared_source,
        notes=m.notes,
    )


def item_detail_out(item: ServiceItem) -> ServiceItemDetailOut:
    notice = build_notice(item)
    return ServiceItemDetailOut(
        **item_out(item).model_dump(),
        summary=item.summary,
        applicants=item.applicants,
        legal_basis=item.legal_basis,
        conditions=item.conditions,
        steps=[StepOut(name=s.name, detail=s.detail) for s in notice.steps],
        time_limit_note=item.time_limit_note,
        fee_amount=str(item.fee_amount),
        window=item.window,
        phone=item.phone,
        keywords=[str(k) for k in item.keywords],
        application_form=item.application_form,
        materials=[_material_out(m) for m in item.materials.all()],
        notice=NoticeOut(
            sentence=notice.sentence,
            sms=notice.sms,
            pdf_url=reverse("onewindow:item_pdf", args=[item.code]),
        ),
        bundles=[BundleRefOut(code=b.code, name=b.name) for b in selectors.bundles_with_item(item=item)],
    )


def _step_out(step: BundleStep) -> BundleStepOut:
    replaces = None
    if step.result_material is not None:
        replaces = ReplacesOut(item_code=step.result_material.item.code, material=step.result_material.name)
    return BundleStepOut(
        order=step.order,
        item=item_out(step.item),
        depends_on=sorted(d.item.code for d in step.depends_on.all()),
        result_replaces=replaces,
    )


def bundle_out(bundle: Bundle) -> BundleOut:
    s = selectors.bundle_savings(bundle)
    return BundleOut(
        code=bundle.code,
        name=bundle.name,
        description=bundle.description,
        window=bundle.window,
        visits=bundle.visits,
        steps=[_step_out(step) for step in bundle.steps.all()],
        form_fields=[FormFieldOut(**f) for f in bundle.form_fields],
        savings=SavingsOut(
            items=s.items,
            visits=CompareOut(separate=s.visits_separate, bundle=s.visits_bundle, saved=s.visits_saved),
            forms=CompareOut(separate=s.forms_separate, bundle=s.forms_bundle, saved=s.forms_saved),
            materials=MaterialBreakdownOut(
                separate=s.materials_separate,
                bundle=s.materials_bundle,
                saved=s.materials_saved,
                deduplicated=s.materials_deduplicated,
                fetched=s.materials_fetched,
                from_results=s.materials_from_results,
            ),
            promised_days=CompareOut(separate=s.days_separate, bundle=s.days_bundle, saved=s.days_saved),
        ),
        url=reverse("onewindow:bundle", args=[bundle.code]),
    )


@router.get("/service-items", response=SearchOut, auth=None)
def service_items(
    request: HttpRequest, q: str = "", theme: str = "", limit: int = 20, offset: int = 0
) -> SearchOut:
    """Search the catalogue by words, keywords, material names or pinyin; blank `q` lists all."""
    result = selectors.service_item_search(q=q, theme=theme, limit=limit, offset=offset)
    return SearchOut(
        total=result.total, limit=limit, offset=offset, items=[item_out(i) for i in result.items]
    )


@router.get("/service-items/{code}", response=ServiceItemDetailOut, auth=None)
def service_item(request: HttpRequest, code: str) -> ServiceItemDetailOut:
    """One item with its materials and its one-time notice (sentence and SMS text)."""
    return item_detail_out(selectors.service_item_get(code=code))


@router.get("/bundles", response=BundleListOut, auth=None)
def bundles(request: HttpRequest) -> BundleListOut:
    """Every bundle with its steps and what it saves against applying item by item."""
    rows = [bundle_out(b) for b in selectors.bundle_list()]
    return BundleListOut(total=len(rows), items=rows)


@router.get("/bundles/{code}", response=BundleOut, auth=None)
def bundle(request: HttpRequest, code: str) -> BundleOut:
    return bundle_out(selectors.bundle_get(code=code))


# Applications live in their own module, mounted under this router at /applications.
from shanzhi.onewindow.api_applications import router as applications_router  # noqa: E402

router.add_router("/applications", applications_router)
