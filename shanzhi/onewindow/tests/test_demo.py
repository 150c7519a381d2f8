"""The demo catalogue: at least 100 items across nine themes and five bundles, loaded through
the services, idempotent, and every item's notice sound."""

from __future__ import annotations

import io
from collections import Counter

from shanzhi.audit.models import AuditEntry
from shanzhi.core.models import Handler
from shanzhi.onewindow.catalog_data import BUNDLES, EXTRA_DEPARTMENTS, ITEMS
from shanzhi.onewindow.demo import load_demo
from shanzhi.onewindow.models import Bundle, Material, ServiceItem, Theme
from shanzhi.onewindow.notice import SMS_LIMIT, build_notice
from shanzhi.onewindow.pdf import notice_pdf
from shanzhi.onewindow.selectors import bundle_list, bundle_savings, service_item_search


def test_demo_loads_the_catalogue_once(departments):
    before = AuditEntry.objects.count()
    out = io.StringIO()
    load_demo(stdout=out)
    assert f"政务服务事项:{len(ITEMS)} 项(新增 {len(ITEMS)} 项),一件事:5 个(新增 5 个)" in out.getvalue()
    assert ServiceItem.objects.count() == len(ITEMS) >= 100
    assert Bundle.objects.count() == len(BUNDLES) >= 5
    assert set(ServiceItem.objects.values_list("theme", flat=True)) == set(Theme.values)
    assert min(Counter(ServiceItem.objects.values_list("theme", flat=True)).values()) >= 8
    for code, name, _en in EXTRA_DEPARTMENTS:
        assert Handler.objects.get(code=code).name == name
    # One audit entry per item and per bundle, plus a type and a handler per added department.
    actions = Counter(AuditEntry.objects.filter(index__gte=before).values_list("action", flat=True))
    assert actions == {
        "service_item.create": len(ITEMS),
        "bundle.create": len(BUNDLES),
        "handler_type.upsert": 3,
        "handler.create": 3,
    }

    state = (
        ServiceItem.objects.count(),
        Material.objects.count(),
        Bundle.objects.count(),
        AuditEntry.objects.count(),
    )
    out = io.StringIO()
    load_demo(stdout=out)
    assert "新增 0 项" in out.getvalue()
    assert (
        ServiceItem.objects.count(),
        Material.objects.count(),
        Bundle.objects.count(),
        AuditEntry.objects.count(),
    ) == state


def test_demo_items_are_complete_and_their_notices_sound(departments):
    load_demo(stdout=io.StringIO())
    items = ServiceItem.objects.select_related("department").prefetch_related("materials")
    conditional = shared = 0
    for item in items:
        materials = list(item.materials.all())
        assert 3 <= len(materials) <= 8, item.name
        conditional += sum(not m.required for m in materials)
        shared += sum(m.shared for m in materials)
        assert item.legal_basis and item.steps and item.phone
        notice = build_notice(item)
        assert notice_pdf(notice).startswith(b"%PDF-"), item.name  # every notice prints
        assert len(notice.sms) <= SMS_LIMIT, item.name
        for m in materials:
            if m.required:
                assert m.name in notice.sms, (item.name, m.name)
    assert conditional >= 100 and shared >= 80


def test_demo_bundles_save_something_and_search_finds_what_residents_say(departments):
    load_demo(stdout=io.StringIO())
    bundles = {b.code: b for b in bundle_list()}
    assert set(bundles) == {"newborn", "retirement", "after-death", "disability", "restaurant"}
    newborn = bundles["newborn"]
    assert [s.item.name for s in newborn.steps.all()] == [
        "出生医学证明首次签发",
        "预防接种证办理",
        "出生登记(户口)",
        "新生儿城乡居民医保参保登记",
        "新生儿社会保障卡申领",
    ]
    for bundle in bundles.values():
        s = bundle_savings(bundle)
        assert s.materials_saved > 0 and s.forms_saved > 0, bundle.name
        assert s.days_bundle <= s.days_separate and s.visits_bundle <= s.visits_separate
    restaurant = bundle_savings(bundles["restaurant"])
    assert (restaurant.days_separate, restaurant.days_bundle) == (13, 5)

    def first(q: str) -> str:
        return service_item_search(q=q, limit=1).items[0].name

    assert first("上户口") == "出生登记(户口)"
    assert first("失业金") == "失业保险金申领"
    assert first("异地就医") == "异地就医备案"
    assert first("低保") == "最低生活保障申请"
    assert "公积金" in first("gjj")
    assert first("开饭店") == "食品经营许可(新办)"
    assert first("残疾证") == "残疾人证新办"
