"""The back office edits the catalogue through Django's admin, with the services' rules and an
audit entry per save; others may not change it."""

from __future__ import annotations

from typing import Any

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.onewindow.models import Bundle, ServiceItem


def _last(field: str) -> str | None:
    """A field of the newest audit entry."""
    return AuditEntry.objects.order_by("-index").values_list(field, flat=True).first()


def _item_form(item: ServiceItem, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "basic_code": item.basic_code,
        "name": item.name,
        "item_type": item.item_type,
        "theme": item.theme,
        "active": "on",
        "summary": item.summary,
        "applicants": item.applicants,
        "conditions": item.conditions,
        "legal_basis": item.legal_basis,
        "steps_text": "申请:提交材料\n受理\n办结:当场办结",
        "statutory_days": item.statutory_days or "",
        "promised_days": item.promised_days,
        "time_limit_note": "",
        "fee_text": item.fee_text,
        "fee_amount": "0",
        "visits": item.visits,
        "department": item.department_id,
        "window": item.window,
        "channels": list(item.channels),
        "phone": item.phone,
        "application_form": item.application_form,
        "keywords_text": "养老保险 农保",
    }
    materials = list(item.materials.order_by("order"))
    data.update(
        {
            "materials-TOTAL_FORMS": str(len(materials)),
            "materials-INITIAL_FORMS": str(len(materials)),
            "materials-MIN_NUM_FORMS": "0",
            "materials-MAX_NUM_FORMS": "1000",
        }
    )
    for n, m in enumerate(materials):
        data.update(
            {
                f"materials-{n}-id": m.pk,
                f"materials-{n}-item": item.pk,
                f"materials-{n}-order": m.order,
                f"materials-{n}-name": m.name,
                f"materials-{n}-key": m.key,
                f"materials-{n}-form": m.form,
                f"materials-{n}-copies": m.copies,
                f"materials-{n}-requirement": m.requirement,
                f"materials-{n}-condition": m.condition,
                f"materials-{n}-shared_source": m.shared_source,
                f"materials-{n}-notes": m.notes,
            }
        )
        if m.shared:
            data[f"materials-{n}-shared"] = "on"
    data.update(changes)
    return data


def test_admin_edits_an_item_with_its_materials_and_audits_it(client, admin, catalog):
    client.force_login(admin)
    item = catalog["resident_pension"]
    url = f"/admin/onewindow/serviceitem/{item.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and "居民户口簿" in page.content.decode()
    before = AuditEntry.objects.count()
    response = client.post(
        url, _item_form(item, name="城乡居民养老保险参保", **{"materials-2-name": "委托书"})
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert item.name == "城乡居民养老保险参保"
    assert item.steps[2] == {"name": "办结", "detail": "当场办结"} and item.keywords == ["养老保险", "农保"]
    assert "委托书" in item.search_text  # the service rebuilt the search columns
    entries = list(AuditEntry.objects.filter(index__gte=before).values_list("action", "object_id"))
    assert entries == [("service_item.update", str(item.pk))]


def test_admin_adds_an_item_and_fills_material_keys(client, admin, departments):
    client.force_login(admin)
    data = {
        "code": "331199-QR00077000-01",
        "basic_code": "QR00077000",
        "name": "测试确认事项",
        "item_type": "confirmation",
        "theme": "household",
        "active": "on",
        "summary": "为居民确认某项事实",
        "applicants": "本县居民",
        "conditions": "本县户籍。",
        "legal_basis": "《中华人民共和国户口登记条例》",
        "steps_text": "申请\n办结",
        "statutory_days": "",
        "promised_days": "0",
        "fee_text": "不收费",
        "fee_amount": "0",
        "visits": "1",
        "department": departments["police"].pk,
        "window": "11 号窗口",
        "channels": ["window"],
        "phone": "0578-8615110",
        "materials-TOTAL_FORMS": "1",
        "materials-INITIAL_FORMS": "0",
        "materials-MIN_NUM_FORMS": "0",
        "materials-MAX_NUM_FORMS": "1000",
        "materials-0-order": "1",
        "materials-0-name": "申请人居民身份证",
        "materials-0-key": "",
        "materials-0-form": "original",
        "materials-0-copies": "1",
        "materials-0-requirement": "required",
    }
    before = AuditEntry.objects.count()
    response = client.post("/admin/onewindow/serviceitem/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    item = ServiceItem.objects.get(code="331199-QR00077000-01")
    assert list(item.materials.values_list("key", flat=True)) == ["申请人居民身份证"]
    assert item.pinyin_initials.startswith("csqrsx")
    assert list(AuditEntry.objects.filter(index__gte=before).values_list("action", flat=True)) == [
        "service_item.create"
    ]


def test_admin_refuses_what_the_services_refuse(client, admin, catalog):
    client.force_login(admin)
    item = catalog["resident_pension"]
    url = f"/admin/onewindow/serviceitem/{item.pk}/change/"
    before = AuditEntry.objects.count()
    bad = _item_form(item, promised_days=30, statutory_days=20, steps_text="只有一步")
    html = client.post(url, bad).content.decode()
    assert "承诺办结时限不能超过法定办结时限" in html and "办理流程应有 2–12 个环节" in html
    bad = _item_form(item, **{"materials-1-shared_source": ""})  # 居民户口簿 is 免提交 without a source
    assert "免提交的材料须写明共享来源" in client.post(url, bad).content.decode()
    item.refresh_from_db()
    assert item.promised_days == 5 and AuditEntry.objects.count() == before


def test_admin_bundle_steps_may_only_depend_on_earlier_steps(client, admin, bundle):
    client.force_login(admin)
    url = f"/admin/onewindow/bundle/{bundle.pk}/change/"
    assert client.get(url).status_code == 200
    steps = list(bundle.steps.order_by("order"))
    data: dict[str, Any] = {
        "name": bundle.name,
        "description": bundle.description,
        "window": bundle.window,
        "visits": 1,
        "sort_order": 0,
        "active": "on",
        "form_fields_text": "name|姓名\nphone|联系电话|phone|选填",
        "steps-TOTAL_FORMS": "3",
        "steps-INITIAL_FORMS": "3",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for n, s in enumerate(steps):
        data.update({f"steps-{n}-id": s.pk, f"steps-{n}-bundle": bundle.pk, f"steps-{n}-order": s.order})
        data[f"steps-{n}-item"] = s.item_id
    data["steps-1-depends_on"] = [steps[0].pk]
    before = AuditEntry.objects.count()
    data["steps-0-depends_on"] = [steps[2].pk]  # step 1 waiting for step 3: refused
    html = client.post(url, data).content.decode()
    assert "只能依赖它之前的环节" in html and AuditEntry.objects.count() == before
    del data["steps-0-depends_on"]
    response = client.post(url, data)
    assert response.status_code == 302
    bundle = Bundle.objects.get(pk=bundle.pk)
    assert bundle.form_fields[1] == {"key": "phone", "label": "联系电话", "kind": "phone", "required": False}
    assert _last("action") == "bundle.update"


def test_only_administrators_change_the_catalogue_in_the_admin(client, county, catalog):
    clerk = make_user(username="ow-staff", region=county.county, roles=["clerk"])
    clerk.is_staff = True
    clerk.save()
    client.force_login(clerk)
    item = catalog["resident_pension"]
    assert client.get(f"/admin/onewindow/serviceitem/{item.pk}/delete/").status_code == 403
    assert client.post(f"/admin/onewindow/serviceitem/{item.pk}/change/", _item_form(item)).status_code == 403
    assert ServiceItem.objects.filter(pk=item.pk).exists()
