"""A NUL character in anything typed into 一窗通办 is refused with `invalid_character`, as in every
other app, and nothing is written. It used to be removed quietly, so an approval note with a NUL
went through as something the approver had not typed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Staff
from shanzhi.notify.models import Message
from shanzhi.onewindow import applications as svc
from shanzhi.onewindow import materials
from shanzhi.onewindow.assisted import home_visit_book
from shanzhi.onewindow.models_applications import (
    Application,
    ApplicationEvent,
    ApplicationIdempotency,
    HomeVisit,
    ProxyConsent,
)
from shanzhi.onewindow.models_applications import ApplicationStatus as S
from shanzhi.onewindow.tests.window_setup import APPLICANT, ID_A, NO_PROXY, PHONE_A, accepted, in_review

NUL_NAME = "王\x00秀英"


def _written() -> dict[str, Any]:
    return {
        "applications": list(Application.objects.order_by("pk").values_list("pk", "status", "decision")),
        "events": ApplicationEvent.objects.count(),
        "consents": ProxyConsent.objects.count(),
        "visits": HomeVisit.objects.count(),
        "idempotency": ApplicationIdempotency.objects.count(),
        "messages": Message.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def _refused(run: Callable[[], Any]) -> ServiceError:
    before = _written()
    with pytest.raises(ServiceError) as refused:
        run()
    assert refused.value.code == "invalid_character" and refused.value.status == 422
    assert "空字符" in refused.value.message
    assert _written() == before
    return refused.value


def test_services_refuse_nul_in_every_typed_field(people, catalog, bundle, county):
    item = catalog["resident_pension"]

    def create(**kw: Any) -> Callable[[], Any]:
        values: dict[str, Any] = {
            "actor": people.clerk_a,
            "channel": "window",
            "applicant": APPLICANT,
            "item": item,
            "answers": NO_PROXY,
        }
        values.update(kw)
        return lambda: svc.application_create(**values)

    _refused(lambda: svc.clean_applicant(name=NUL_NAME, id_number=ID_A, phone=PHONE_A))
    form = {"name": "王\x00小宝", "phone": PHONE_A}
    answers = {q: "否" for q in materials.bundle_questions(bundle)}
    error = _refused(create(item=None, bundle=bundle, answers=answers, form_data=form))
    assert error.details == [{"field": "name", "message": error.message}]
    item.channels = ["window", "assisted"]
    item.save(update_fields=["channels"])
    for field in ("consenter_name", "relation", "witness"):
        consent = {"consenter_name": "王秀英", "relation": "本人", "witness": "村委会主任 李明"}
        consent[field] = consent[field][:1] + "\x00" + consent[field][1:]
        spec = svc.ConsentSpec(
            reason="elderly",
            consenter_name=consent["consenter_name"],
            relation=consent["relation"],
            method="verbal",
            witness=consent["witness"],
        )
        error = _refused(
            create(actor=people.gridworker, channel="assisted", region=county.village_a1, consent=spec)
        )
        assert error.details == [{"field": field, "message": error.message}]
    draft = svc.application_create(
        actor=people.clerk_a, channel="window", applicant=APPLICANT, item=item, answers=NO_PROXY
    )
    _refused(lambda: svc.application_mark_paper(actor=people.clerk_a, application=draft, key="申请人\x00"))
    _refused(lambda: svc.idempotent((people.clerk_a.username, "form\x00", "digest"), lambda: draft))

    app = in_review(people, catalog)
    approver = people.approver
    _refused(lambda: svc.application_approve(actor=approver, application=app, decision="同意\x00"))
    _refused(lambda: svc.application_refuse(actor=approver, application=app, reason="不符合\x00条件"))
    items = ["户口簿\x00"]
    _refused(lambda: svc.application_request_correction(actor=approver, application=app, items=items))
    assert Application.objects.get(pk=app.pk).status == S.IN_REVIEW

    staff = Staff.objects.get(user=people.gridworker)

    def book(resident_name: str = "张大爷", address: str = "上溪村 12 号", note: str = "带老花镜") -> Any:
        return home_visit_book(
            actor=people.gridworker,
            region=county.village_a1,
            resident_name=resident_name,
            resident_phone="13700001234",
            reason="disabled",
            address=address,
            visit_date=dt.date.today() + dt.timedelta(days=2),
            staff=staff,
            note=note,
        )

    _refused(lambda: book(resident_name="张\x00大爷"))
    _refused(lambda: book(address="上溪村\x0012 号"))
    _refused(lambda: book(note="带\x00老花镜"))


def test_pages_show_the_refusal_and_write_nothing(client, people, catalog, county):
    item = catalog["resident_pension"]
    client.force_login(people.resident)
    before = _written()
    form = {
        "form_token": "nul-1",
        "applicant_name": NUL_NAME,
        "applicant_id_number": ID_A,
        "applicant_phone": PHONE_A,
        "q0": "no",
    }
    page = client.post(reverse("onewindow:apply", args=[item.code]), form)
    assert page.status_code == 422 and "姓名含有空字符" in page.content.decode()
    assert _written() == before

    # The approval note: refused on the application page, the application still in review.
    app = in_review(people, catalog)
    client.force_login(people.approver)
    before = _written()
    act = reverse("onewindow:act", args=[app.number, "approve"])
    answer = client.post(act, {"form_token": "nul-2", "text": "同意\x00"}, follow=True)
    assert "含有空字符" in answer.content.decode()
    assert _written() == before
    assert Application.objects.get(pk=app.pk).status == S.IN_REVIEW

    # 上门帮办: a NUL in the address, or in the looked-up village code (once quietly removed, so
    # "code\x00" booked the visit in that village).
    client.force_login(people.gridworker)
    visit = {
        "resident_name": "张大爷",
        "resident_phone": "13700001234",
        "region": county.village_a1.code,
        "address": "上溪村\x0012 号",
        "reason": "disabled",
        "visit_date": (dt.date.today() + dt.timedelta(days=2)).isoformat(),
        "staff": Staff.objects.get(user=people.gridworker).pk,
    }
    for bad in ({}, {"address": "上溪村 12 号", "region": county.village_a1.code + "\x00"}):
        before = _written()
        answer = client.post(reverse("onewindow:visits"), {**visit, **bad})
        assert answer.status_code == 422 and "含有空字符" in answer.content.decode()
        assert _written() == before


def test_api_refuses_nul_and_writes_nothing(client, people, catalog):
    def post(url: str, body: dict[str, Any]) -> Any:
        return client.post(url, data=json.dumps(body), content_type="application/json")

    client.force_login(people.resident)
    before = _written()
    created = post(
        "/api/v1/applications",
        {
            "item": catalog["resident_pension"].code,
            "applicant_name": NUL_NAME,
            "applicant_id_number": ID_A,
            "applicant_phone": PHONE_A,
            "answers": {"委托他人代为办理": "否"},
        },
    )
    assert created.status_code == 422 and created.json()["code"] == "invalid_character"
    assert _written() == before

    app = in_review(people, catalog)
    client.force_login(people.approver)
    before = _written()
    decided = post(f"/api/v1/applications/{app.number}/decide", {"decision": "approve", "text": "同意\x00"})
    assert decided.status_code == 422 and decided.json()["code"] == "invalid_character"
    assert _written() == before
    assert Application.objects.get(pk=app.pk).status == S.IN_REVIEW


def test_lookups_with_nul_find_nothing(client, people, catalog):
    """A NUL in a looked-up number or code finds nothing, like a wrong one; PostgreSQL refused it in
    the query, a 500. Posted (the public status form) the selector finds nothing and the form says
    so; in a URL (the application's path, the window's ?item= / ?bundle=, the status form sent as a
    link) the site's middleware answers 404 before any view (web/tests/test_nul_urls.py)."""
    app = accepted(people, catalog)
    before = _written()
    status = client.post(reverse("onewindow:status"), {"n": app.number + "\x00", "phone": PHONE_A})
    assert status.status_code == 404 and "没有找到该办件" in status.content.decode()
    assert (
        client.get(reverse("onewindow:status"), {"n": app.number + "\x00", "phone": PHONE_A}).status_code
        == 404
    )
    client.force_login(people.clerk_a)
    assert client.get(f"/services/applications/{app.number}%00/").status_code == 404
    intake = reverse("onewindow:intake")
    for query in ({"item": catalog["resident_pension"].code + "\x00"}, {"bundle": "test-bundle\x00"}):
        assert client.get(intake, query).status_code == 404
    assert _written() == before
