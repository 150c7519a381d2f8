"""Reads of the catalogue and the bundles.

The catalogue is the county's public list of what can be done where: nothing in it is personal
or belongs to one township, so these reads are not filtered by jurisdiction and need no login.
Withdrawn items and bundles (active=False) are invisible here, as if they did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Prefetch, Q, QuerySet

from shanzhi.core.errors import NotFound, ServiceError
from shanzhi.onewindow.models import Bundle, BundleStep, Material, MaterialForm, ServiceItem, Theme
from shanzhi.onewindow.search import MAX_QUERY, Indexed, is_pinyin, query_terms, rank

MAX_LIMIT = 100


def _items() -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(active=True).select_related("department")


def theme_of(value: str | None) -> str | None:
    """A theme code from its code or its Chinese label; None for blank; refused when unknown."""
    value = (value or "").strip()
    if not value:
        return None
    for code, label in Theme.choices:
        if value in (code, label):
            return code
    raise ServiceError("invalid_theme", f"未知的主题分类:{value[:20]}", status=422)


@dataclass(frozen=True)
class SearchResult:
    total: int
    items: list[ServiceItem]


def service_item_search(
    *, q: str = "", theme: str | None = None, limit: int = 20, offset: int = 0
) -> SearchResult:
    """Active items matching every word of `q` (all of them for a blank `q`), best first."""
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ServiceError("invalid_page", f"limit 应在 1–{MAX_LIMIT} 之间,offset 不能为负", status=422)
    if len(q) > MAX_QUERY or "\x00" in q:
        raise ServiceError("invalid_query", f"搜索词不超过 {MAX_QUERY} 个字", status=422)
    qs = _items()
    theme_code = theme_of(theme)
    if theme_code:
        qs = qs.filter(theme=theme_code)
    terms = query_terms(q)
    if not terms:
        total = qs.count()
        return SearchResult(total=total, items=list(qs.order_by("theme", "code")[offset : offset + limit]))
    for term in terms:
        matches = [Q(search_text__icontains=term), Q(code__iexact=term), Q(basic_code__iexact=term)]
        if is_pinyin(term):
            matches += [Q(pinyin_full__icontains=term), Q(pinyin_initials__icontains=term)]
        qs = qs.filter(reduce(or_, matches))
    rows = list(
        qs.values_list("pk", "code", "basic_code", "name", "search_text", "pinyin_full", "pinyin_initials")
    )
    ranked = rank((Indexed(*row[1:]) for row in rows), terms)
    pks = {row[1]: row[0] for row in rows}
    page = [pks[item.code] for _score, item in ranked[offset : offset + limit]]
    by_pk = {i.pk: i for i in _items().filter(pk__in=page)}
    return SearchResult(total=len(ranked), items=[by_pk[pk] for pk in page])


def service_item_get(*, code: str) -> ServiceItem:
    """One active item with its materials, or NotFound."""
    if "\x00" in code:  # no code holds one, and PostgreSQL refuses it in a query (a 500)
        raise NotFound("没有找到该事项,可能编码有误或事项已停用")
    item = (
        _items()
        .prefetch_related(Prefetch("materials", queryset=Material.objects.order_by("order")))
        .filter(code=code.strip())
        .first()
    )
    if item is None:
        raise NotFound("没有找到该事项,可能编码有误或事项已停用")
    return item


def theme_counts() -> list[tuple[str, str, int]]:
    """(code, label, number of active items) for every theme, in the themes' order."""
    counts: dict[str, int] = {}
    for theme in _items().values_list("theme", flat=True):
        counts[theme] = counts.get(theme, 0) + 1
    return [(code, str(label), counts.get(code, 0)) for code, label in Theme.choices]


def _bundles() -> QuerySet[Bundle]:
    steps = BundleStep.objects.select_related("item__department", "result_material__item").prefetch_related(
        "depends_on__item",
        Prefetch("item__materials", queryset=Material.objects.order_by("order")),
    )
    return Bundle.objects.filter(active=True).prefetch_related(
        Prefetch("steps", queryset=steps.order_by("order"))
    )


def bundle_list() -> list[Bundle]:
    """Active bundles whose every item is active (a bundle with a withdrawn item cannot be applied for)."""
    return [b for b in _bundles() if all(s.item.active for s in b.steps.all())]


def bundle_get(*, code: str) -> Bundle:
    bundle = None if "\x00" in code else _bundles().filter(code=code.strip()).first()
    if bundle is None or not all(s.item.active for s in bundle.steps.all()):
        raise NotFound("没有找到该一件事")
    return bundle


# ---- savings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleSavings:
    """What applying for a bundle saves against applying for its items one by one.

    Separately, a resident visits as often as each item needs, fills each item's form, brings
    each item's required materials that the item cannot fetch, and waits for the items one after
    another. In the bundle, a resident visits `bundle.visits` times, fills one merged form, brings
    each document once (de-duplicated by material key) unless the platform can fetch it for any
    member item or an earlier step's result replaces it, and waits for the critical path:
    parallel steps take the longest, chained steps add up. Conditional materials depend on the
    resident's answers and are left out of both counts.
    """

    items: int
    visits_separate: int
    visits_bundle: int
    forms_separate: int
    forms_bundle: int
    materials_separate: int
    materials_bundle: int
    materials_deduplicated: int  # copies of the same document dropped
    materials_fetched: int  # documents the platform fetches for the bundle
    materials_from_results: int  # documents an earlier step's result replaces
    days_separate: int
    days_bundle: int

    @property
    def visits_saved(self) -> int:
        return self.visits_separate - self.visits_bundle

    @property
    def forms_saved(self) -> int:
        return self.forms_separate - self.forms_bundle

    @property
    def materials_saved(self) -> int:
        return self.materials_separate - self.materials_bundle

    @property
    def days_saved(self) -> int:
        return self.days_separate - self.days_bundle

    def percent(self, separate: int, bundle: int) -> int:
        return round(100 * (separate - bundle) / separate) if separate else 0


def bundle_savings(bundle: Bundle) -> BundleSavings:
    """The savings table of a bundle (see BundleSavings for how each row is counted)."""
    steps = sorted(bundle.steps.all(), key=lambda s: s.order)
    items = [s.item for s in steps]
    required = [m for i in items for m in i.materials.all() if m.required]
    separate = [m for m in required if not m.shared]
    keys = {m.document for m in required}
    status = {row.key: row.status for row in bundle_materials(bundle)}
    finish: dict[int, int] = {}
    for s in steps:  # depends_on points only at earlier steps, so one pass in order suffices
        before = [finish[d.pk] for d in s.depends_on.all() if d.pk in finish]
        finish[s.pk] = max(before, default=0) + s.item.promised_days
    return BundleSavings(
        items=len(items),
        visits_separate=sum(i.visits for i in items),
        visits_bundle=bundle.visits,
        forms_separate=sum(1 for i in items if i.application_form),
        forms_bundle=1 if bundle.form_fields else 0,
        materials_separate=len(separate),
        materials_bundle=sum(1 for k in keys if status[k] == "bring"),
        materials_deduplicated=len(required) - len(keys),
        materials_fetched=sum(1 for k in keys if status[k] == "fetched"),
        materials_from_results=sum(1 for k in keys if status[k] == "from_result"),
        days_separate=sum(i.promised_days for i in items),
        days_bundle=max(finish.values(), default=0),
    )


def bundles_with_item(*, item: ServiceItem) -> list[Bundle]:
    """The active bundles an item belongs to, for "办这件事时还可以一起办" on its page."""
    return [b for b in bundle_list() if any(s.item_id == item.pk for s in b.steps.all())]


@dataclass(frozen=True)
class BundleMaterial:
    """One document of a bundle's merged list, with the items that ask for it."""

    key: str
    name: str
    form: str
    items: tuple[str, ...]
    status: str  # "bring", "fetched", "from_result" or "conditional"
    note: str  # the shared source, the step whose result replaces it, or the condition

    @property
    def status_label(self) -> str:
        return {
            "bring": "需提交(只交一次)",
            "fetched": "免提交",
            "from_result": "免提交(由前一环节办结结果替代)",
            "conditional": "视情况提交",
        }[self.status]


def bundle_materials(bundle: Bundle) -> list[BundleMaterial]:
    """The bundle's documents after de-duplication by key, in the order they first appear,
    classified the way `bundle_savings` counts them."""
    steps = sorted(bundle.steps.all(), key=lambda s: s.order)
    replaced = {s.result_material.document: s.item.name for s in steps if s.result_material is not None}
    order: list[str] = []
    seen: dict[str, list[Material]] = {}
    owners: dict[str, list[str]] = {}
    for s in steps:
        for m in s.item.materials.all():
            key = m.document
            if key not in seen:
                order.append(key)
                seen[key], owners[key] = [], []
            seen[key].append(m)
            if s.item.name not in owners[key]:
                owners[key].append(s.item.name)
    rows: list[BundleMaterial] = []
    for key in order:
        ms = seen[key]
        first = ms[0]
        shared = next((m for m in ms if m.shared), None)
        if key in replaced:
            status, note = "from_result", f"由“{replaced[key]}”办结结果替代"
        elif shared is not None:
            status, note = "fetched", shared.shared_source
        elif any(m.required for m in ms):
            status, note = "bring", ""
        else:
            status, note = "conditional", first.condition
        rows.append(
            BundleMaterial(
                key=key,
                name=first.name,
                form=str(MaterialForm(first.form).label),
                items=tuple(owners[key]),
                status=status,
                note=note,
            )
        )
    return rows
