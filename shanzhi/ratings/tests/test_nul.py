"""A NUL character in anything typed into 好差评 (a rating's comment, a call-back, a fix, an
appeal and its decision, a 办不成事 report and its answers) is refused with `invalid_character`, as in
every other app, and nothing is written. It used to be removed quietly, so what was stored was not
what the person typed; a NUL in the 办不成事 form's township code failed the lookup on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import ServiceError
from shanzhi.notify.models import Message
from shanzhi.ratings import services as svc
from shanzhi.ratings.models import Appeal, CannotGetDoneReport, Rating, Rectification
from shanzhi.ratings.tests.ratings_setup import PHONE

NUL = "摊贩\x00又来了"


def _written() -> dict[str, Any]:
    return {
        "ratings": list(Rating.objects.order_by("pk").values_list("pk", "level", "comment")),
        "rectifications": list(
            Rectification.objects.order_by("pk").values_list("pk", "status", "rater_said", "result")
        ),
        "appeals": list(Appeal.objects.order_by("pk").values_list("pk", "status", "reason", "decision_note")),
        "reports": list(
            CannotGetDoneReport.objects.order_by("pk").values_list(
                "pk", "status", "what", "where", "contact_name", "response", "resolution"
            )
        ),
        "messages": Message.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def _refused(run: Callable[[], Any]) -> None:
    before = _written()
    with pytest.raises(ServiceError) as refused:
        run()
    assert (refused.value.code, refused.value.status) == ("invalid_character", 422)
    assert "空字符" in refused.value.message
    assert _written() == before


def _bad_rating(world: Any) -> Rating:
    case = world.closed_case(reporter=world.resident)
    return svc.rating_submit(
        actor=world.resident, obj_type="case", obj_id=case.number, level="unsatisfied", comment="没解决"
    )


def _report(world: Any, **kw: Any) -> CannotGetDoneReport:
    args: dict[str, Any] = {
        "actor": None,
        "what": "开证明被推来推去",
        "where": "青石镇便民服务中心",
        "phone": PHONE,
        "name": "王女士",
        "region_code": world.county.town_a.code,
    }
    args.update(kw)
    return svc.cannot_get_done_report(**args)


def test_services_refuse_nul_in_every_typed_field(world: Any) -> None:
    case = world.closed_case(reporter=world.resident)
    rate = dict(actor=world.resident, obj_type="case", obj_id=case.number, level="unsatisfied")
    _refused(lambda: svc.rating_submit(**rate, comment=NUL))
    assert not Rating.objects.exists()

    rect = _bad_rating(world).rectification
    _refused(
        lambda: svc.rectification_callback(actor=world.urban_handler, rectification=rect, rater_said=NUL)
    )
    rect = svc.rectification_callback(
        actor=world.urban_handler, rectification=rect, rater_said="希望夜间巡查"
    )
    _refused(lambda: svc.rectification_fix(actor=world.urban_handler, rectification=rect, result=NUL))
    _refused(lambda: svc.rating_appeal(actor=world.urban_handler, rating=rect.rating, reason=NUL))
    appeal = svc.rating_appeal(actor=world.urban_handler, rating=rect.rating, reason="评价人非当事人")
    _refused(lambda: svc.appeal_decide(actor=world.supervisor, appeal=appeal, uphold=True, note=NUL))

    for field in ("what", "where", "name", "region_code"):
        _refused(partial(_report, world, **{field: world.county.town_a.code + "\x00"}))
    assert not CannotGetDoneReport.objects.exists()
    report = _report(world)
    _refused(lambda: svc.cannot_get_done_respond(actor=world.supervisor, report=report, response=NUL))
    _refused(lambda: svc.cannot_get_done_resolve(actor=world.supervisor, report=report, resolution=NUL))


def _page_refused(answer: Any, *, status: int = 400) -> None:
    assert answer.status_code == status, answer.status_code
    assert "含有空字符" in answer.content.decode()


def test_pages_show_the_refusal_and_write_nothing(world: Any, client: Client) -> None:
    case = world.closed_case(reporter=world.resident)
    client.force_login(world.resident)
    before = _written()
    _page_refused(
        client.post(
            reverse("ratings:rate", args=["case", case.number]), {"level": "unsatisfied", "comment": NUL}
        )
    )
    assert _written() == before

    rect = _bad_rating(world).rectification
    client.force_login(world.urban_handler)
    act = lambda action: reverse("ratings:rectification_act", args=[rect.pk, action])  # noqa: E731
    before = _written()
    _page_refused(client.post(act("callback"), {"rater_said": NUL, "called_at": ""}))
    _page_refused(client.post(act("appeal"), {"reason": NUL}))
    assert _written() == before
    assert client.post(act("callback"), {"rater_said": "希望夜间巡查", "called_at": ""}).status_code == 302
    before = _written()
    _page_refused(client.post(act("fix"), {"result": NUL}))
    assert _written() == before

    appeal = svc.rating_appeal(actor=world.urban_handler, rating=rect.rating, reason="评价人非当事人")
    client.force_login(world.supervisor)
    before = _written()
    decided = client.post(
        reverse("ratings:appeal_decide", args=[appeal.pk]), {"uphold": "1", "note": NUL}, follow=True
    )
    _page_refused(decided, status=200)  # back on the appeals list, the refusal shown above it
    assert _written() == before

    report = _report(world)
    before = _written()
    for action in ("respond", "resolve"):
        _page_refused(client.post(reverse("ratings:report_act", args=[report.pk, action]), {"text": NUL}))
    assert _written() == before

    public = Client()
    form = {"what": "想办残疾证", "phone": "13905781234", "region": world.county.town_a.code}
    for field in ("what", "where", "name", "region"):
        _page_refused(
            public.post(reverse("ratings:report_form"), {**form, field: form.get(field, "") + "\x00"})
        )
    assert _written() == before


def test_api_refuses_nul_and_writes_nothing(world: Any, client: Client) -> None:
    """The API's parser refuses a NUL anywhere in a body before the service; the same answer."""

    def post(url: str, body: dict[str, Any]) -> None:
        answer = client.post(url, data=json.dumps(body), content_type="application/json")
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_character", answer.content

    case = world.closed_case(reporter=world.resident)
    rect = _bad_rating(world).rectification
    other = _bad_rating(world)
    appeal = svc.rating_appeal(actor=world.urban_handler, rating=other, reason="评价人非当事人")
    report = _report(world)
    before = _written()
    client.force_login(world.resident)
    post(
        "/api/v1/ratings",
        {"object_type": "case", "object_id": case.number, "level": "unsatisfied", "comment": NUL},
    )
    client.force_login(world.urban_handler)
    post(f"/api/v1/ratings/rectifications/{rect.pk}/callback", {"rater_said": NUL})
    post(f"/api/v1/ratings/rectifications/{rect.pk}/fix", {"result": NUL})
    post(f"/api/v1/ratings/{rect.rating.pk}/appeal", {"reason": NUL})
    client.force_login(world.supervisor)
    post(f"/api/v1/ratings/appeals/{appeal.pk}/decide", {"uphold": True, "note": NUL})
    for action in ("respond", "resolve"):
        post(f"/api/v1/ratings/cannot-get-done/{report.pk}/{action}", {"text": NUL})
    client.logout()
    post("/api/v1/ratings/cannot-get-done", {"what": NUL, "phone": "13905781234"})
    post(
        "/api/v1/ratings/cannot-get-done", {"what": "想办事", "phone": "13905781234", "region": "331199\x00"}
    )
    assert _written() == before
