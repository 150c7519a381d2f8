"""The ratings API over HTTP: status codes, JSON errors, jurisdiction 404s, anonymous 办不成事."""

from __future__ import annotations

import pytest
from django.test import Client

from shanzhi.ratings.models import CannotGetDoneReport, Rating
from shanzhi.ratings.tests.ratings_setup import PHONE


def as_(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def rated(world, client):
    """A bad rating given over the API by the reporter."""
    case = world.closed_case(reporter=world.resident)
    response = as_(client, world.resident).post(
        "/api/v1/ratings",
        {"object_type": "case", "object_id": case.number, "level": "unsatisfied", "comment": "没解决"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    client.logout()
    return Rating.objects.get(pk=response.json()["id"])


def test_rate_over_http(world, client):
    case = world.closed_case(reporter=world.resident)
    as_(client, world.resident)
    url = "/api/v1/ratings"
    body = {"object_type": "case", "object_id": case.number, "level": "satisfied"}
    bad = client.post(url, {**body, "level": "great"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    long = client.post(url, {**body, "comment": "长" * 501}, content_type="application/json")
    assert long.status_code == 422
    missing = client.post(url, {**body, "object_id": "SZ000"}, content_type="application/json")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert not Rating.objects.exists()
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201
    data = first.json()
    assert data["level_label"] == "满意" and data["rater_phone"] == "138****5678" and data["channel"] == "app"
    again = client.post(url, body, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    assert client.get(f"/api/v1/ratings/{data['id']}").json()["object_id"] == case.number
    assert client.get("/api/v1/ratings").json()["total"] == 1  # a resident sees what they gave
    assert as_(client, world.resident_b).get("/api/v1/ratings").json()["total"] == 0
    assert client.get(f"/api/v1/ratings/{data['id']}").status_code == 404
    client.logout()
    assert client.post(url, body, content_type="application/json").status_code == 401


def test_reads_follow_jurisdiction(world, client, rated):
    assert as_(client, world.supervisor_a).get("/api/v1/ratings?bad=true").json()["total"] == 1
    assert client.get(f"/api/v1/ratings/{rated.pk}").status_code == 200
    rect_id = rated.rectification.pk
    assert client.get(f"/api/v1/ratings/rectifications/{rect_id}").json()["rater_phone"] == PHONE
    # another township's supervisor and body: nothing there, and a 404 for the record
    for user in (world.supervisor_b, world.town_b_handler):
        as_(client, user)
        assert client.get("/api/v1/ratings").json()["total"] == 0
        assert client.get(f"/api/v1/ratings/{rated.pk}").status_code == 404
        assert client.get(f"/api/v1/ratings/rectifications/{rect_id}").status_code == 404
        assert client.get("/api/v1/ratings/rectifications").json()["total"] == 0
    # the responsible body sees it wherever it is
    as_(client, world.urban_handler)
    listed = client.get("/api/v1/ratings/rectifications?status=open").json()
    assert listed["total"] == 1 and listed["items"][0]["rater_phone"] == "138****5678"  # lists mask
    assert client.get("/api/v1/ratings?month=2026-13").status_code == 422


def test_rectification_and_appeal_over_http(world, client, rated):
    rect_id = rated.rectification.pk
    as_(client, world.town_b_handler)
    cb = client.post(
        f"/api/v1/ratings/rectifications/{rect_id}/callback",
        {"rater_said": "x"},
        content_type="application/json",
    )
    assert cb.status_code == 404
    as_(client, world.urban_handler)
    fix = client.post(
        f"/api/v1/ratings/rectifications/{rect_id}/fix", {"result": "y"}, content_type="application/json"
    )
    assert fix.status_code == 409 and fix.json()["code"] == "callback_first"
    cb = client.post(
        f"/api/v1/ratings/rectifications/{rect_id}/callback",
        {"rater_said": "居民希望尽快处理"},
        content_type="application/json",
    )
    assert cb.status_code == 200 and cb.json()["status"] == "called_back"
    fix = client.post(
        f"/api/v1/ratings/rectifications/{rect_id}/fix", {"result": "已处理"}, content_type="application/json"
    )
    assert fix.json()["status"] == "fixed"

    appeal = client.post(
        f"/api/v1/ratings/{rated.pk}/appeal", {"reason": "恶意差评"}, content_type="application/json"
    )
    assert appeal.status_code == 201
    appeal_id = appeal.json()["id"]
    as_(client, world.supervisor_b)
    assert client.get("/api/v1/ratings/appeals").json()["total"] == 0
    decide = {"uphold": True, "note": "成立"}
    url = f"/api/v1/ratings/appeals/{appeal_id}/decide"
    assert client.post(url, decide, content_type="application/json").status_code == 404
    as_(client, world.urban_handler)
    assert client.post(url, decide, content_type="application/json").status_code == 403
    as_(client, world.supervisor)
    decided = client.post(url, decide, content_type="application/json")
    assert decided.status_code == 200 and decided.json()["status"] == "upheld"
    assert decided.json()["rating"]["excluded"] is True


def test_rankings_are_404_to_anyone_but_supervisors(world, client):
    for user in (world.resident, world.urban_handler, world.leader_a, world.dispatcher):
        response = as_(client, user).get("/api/v1/ratings/rankings?month=2026-10")
        assert response.status_code == 404
    as_(client, world.supervisor)
    assert client.get("/api/v1/ratings/rankings?month=2026-10").json()["month"] == "2026-10"
    assert client.get("/api/v1/ratings/rankings?month=oct").status_code == 422
    assert "items" in client.get("/api/v1/ratings/rankings").json()


def test_cannot_get_done_from_anyone_with_a_mobile(world):
    anonymous = Client(enforce_csrf_checks=True)
    url = "/api/v1/ratings/cannot-get-done"
    body = {"what": "办社保卡跑了三次", "where": "县政务服务中心", "region": world.county.town_a.code}
    missing = anonymous.post(url, body, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["code"] == "phone_required"
    wrong = anonymous.post(url, {**body, "phone": "1381234567"}, content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_mobile"
    assert not CannotGetDoneReport.objects.exists()
    made = anonymous.post(url, {**body, "phone": "+86 138 1234 5678"}, content_type="application/json")
    assert made.status_code == 201 and made.json()["number"].startswith("BC")
    report = CannotGetDoneReport.objects.get()
    assert report.contact_phone == PHONE and report.reporter is None

    # the supervisor's queue: supervisors only, by jurisdiction, the phone in full on the detail
    staff = Client()
    staff.force_login(world.supervisor_a)
    queue = staff.get(url).json()
    assert queue["total"] == 1 and queue["items"][0]["contact_phone"] == "138****5678"
    assert staff.get(f"{url}/{report.pk}").json()["contact_phone"] == PHONE
    done = staff.post(f"{url}/{report.pk}/respond", {"text": "已联系"}, content_type="application/json")
    assert done.json()["status"] == "responded"
    staff.force_login(world.supervisor_b)
    assert staff.get(f"{url}/{report.pk}").status_code == 404
    staff.force_login(world.urban_handler)
    assert staff.get(url).status_code == 404


def test_a_signed_in_resident_reports_without_a_phone(world, client):
    as_(client, world.resident)
    made = client.post(
        "/api/v1/ratings/cannot-get-done", {"what": "证明开不出来"}, content_type="application/json"
    )
    assert made.status_code == 201
    assert CannotGetDoneReport.objects.get().reporter == world.resident
