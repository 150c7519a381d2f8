"""The demo catalogue: 117 service items and five bundles, loaded through the services with one
audit entry per item and per bundle (and per missing department). Idempotent: an item or bundle
whose code exists is left as it is, so a second run writes nothing."""

from __future__ import annotations

from typing import TextIO

from django.db import transaction

from shanzhi.core.models import Handler, HandlerType
from shanzhi.core.selectors import region_county
from shanzhi.core.services import handler_create, handler_type_upsert
from shanzhi.onewindow.catalog_data import BUNDLES, EXTRA_DEPARTMENTS, ITEMS
from shanzhi.onewindow.demo_applications import load_applications
from shanzhi.onewindow.models import Bundle, ServiceItem
from shanzhi.onewindow.services import bundle_create, service_item_create


def _departments() -> int:
    """Add the county departments the catalogue needs and the handler catalogue lacks."""
    county = region_county()
    assert county is not None
    created = 0
    for code, name, name_en in EXTRA_DEPARTMENTS:
        if Handler.objects.filter(code=code).exists():
            continue
        if not HandlerType.objects.filter(code=code).exists():
            handler_type_upsert(actor=None, code=code, kind="department", name_zh=name, name_en=name_en)
        handler_create(actor=None, code=code, type_code=code, name=name, region=county)
        created += 1
    return created


def load_demo(*, stdout: TextIO) -> None:
    if region_county() is None:
        stdout.write("  跳过:尚未建立县级区域\n")
        return
    needed = {spec.department for spec in ITEMS}
    with transaction.atomic():
        departments = _departments()
        missing = needed - set(Handler.objects.filter(code__in=needed).values_list("code", flat=True))
        if missing:
            stdout.write(f"  跳过:缺少实施部门 {'、'.join(sorted(missing))}(请先加载 core 演示数据)\n")
            return
        existing = set(ServiceItem.objects.values_list("code", flat=True))
        items = 0
        for spec in ITEMS:
            if spec.code not in existing:
                service_item_create(actor=None, spec=spec)
                items += 1
        existing_bundles = set(Bundle.objects.values_list("code", flat=True))
        bundles = 0
        for bundle in BUNDLES:
            if bundle.code not in existing_bundles:
                bundle_create(actor=None, spec=bundle)
                bundles += 1
    stdout.write(
        f"  政务服务事项:{len(ITEMS)} 项(新增 {items} 项),一件事:{len(BUNDLES)} 个(新增 {bundles} 个),"
        f"新增实施部门 {departments} 个\n"
    )
    # The applications half: windows, a morning's queue, applications in every state, a home visit.
    load_applications(stdout=stdout)
