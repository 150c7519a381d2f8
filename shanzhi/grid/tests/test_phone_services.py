"""网格通 services: check-ins and visits stored once per client id, only for the worker's own grids,
bad input refused with nothing written; quick reports become one case per Idempotency-Key."""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid

import pytest
from django.utils import timezone
from PIL import Image

from shanzhi.audit.models import AuditEntry
from shanzhi.cases.models import Attachment, Case, Channel
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.grid.models import HouseholdVisit, PatrolCheckin
from shanzhi.grid.phone import selectors, services
from shanzhi.grid.tests.phone_setup import IN_A1_01, IN_A1_02, OUTSIDE_COUNTY, Phone

pytestmark = pytest.mark.django_db

WEBM = b"\x1a\x45\xdf\xa3" + b"\x9f\x42\x86\x81\x01" + bytes(200)


def cid() -> str:
    return str(uuid.uuid4())


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- check-in --------------------------------------------------------------------------------------


def test_checkin_inside_my_grid(phone: Phone) -> None:
    done = services.patrol_checkin_record(
        actor=phone.worker, client_id=cid(), lon=IN_A1_01[0], lat=IN_A1_01[1], accuracy_m=12.0
    )
    assert done.created
    c = done.obj
    assert c.inside_grid and c.grid == phone.mapped.a1_01 and c.accuracy_m == 12.0
    assert "上溪村第1网格" in services.checkin_message(c)
    entry = AuditEntry.objects.filter(action="grid.checkin.record").get()
    assert entry.object_id == str(c.pk)


def test_checkin_in_another_grid_or_outside_is_recorded_as_not_inside(phone: Phone) -> None:
    other = services.patrol_checkin_record(
        actor=phone.worker, client_id=cid(), lon=IN_A1_02[0], lat=IN_A1_02[1]
    )
    assert not other.obj.inside_grid and other.obj.grid == phone.mapped.a1_02
    assert "不是您负责的网格" in services.checkin_message(other.obj)
    far = services.patrol_checkin_record(
        actor=phone.worker, client_id=cid(), lon=OUTSIDE_COUNTY[0], lat=OUTSIDE_COUNTY[1], manual=True
    )
    assert not far.obj.inside_grid and far.obj.grid is None and far.obj.manual


def test_same_client_id_twice_is_one_checkin(phone: Phone) -> None:
    key = cid()
    first = services.patrol_checkin_record(actor=phone.worker, client_id=key, lon=119.65, lat=28.42)
    again = services.patrol_checkin_record(actor=phone.worker, client_id=key, lon=119.65, lat=28.42)
    assert first.created and not again.created and again.obj.pk == first.obj.pk
    assert PatrolCheckin.objects.count() == 1
    assert AuditEntry.objects.filter(action="grid.checkin.record").count() == 1
    # Client ids are per worker: another worker's phone may make the same one.
    services.patrol_checkin_record(actor=phone.worker_02, client_id=key, lon=119.75, lat=28.42)
    assert PatrolCheckin.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"lon": 200.0, "lat": 28.4}, "invalid_coordinates"),
        ({"lon": 119.6, "lat": -95.0}, "invalid_coordinates"),
        ({"lon": math.nan, "lat": 28.4}, "invalid_coordinates"),
        ({"lon": math.inf, "lat": 28.4}, "invalid_coordinates"),
        ({"lon": "119.6", "lat": 28.4}, "invalid_coordinates"),
        ({"lon": True, "lat": 28.4}, "invalid_coordinates"),
        ({"lon": 119.65, "lat": 28.42, "accuracy_m": -1.0}, "invalid_accuracy"),
        ({"lon": 119.65, "lat": 28.42, "accuracy_m": math.nan}, "invalid_accuracy"),
        ({"lon": 119.65, "lat": 28.42, "note": "x" * 256}, "text_too_long"),
        ({"lon": 119.65, "lat": 28.42, "note": "a\x00b"}, "invalid_character"),
        ({"lon": 119.65, "lat": 28.42, "manual": "yes"}, "invalid_manual"),
    ],
)
def test_bad_checkin_is_refused_and_nothing_written(phone: Phone, kwargs: dict, code: str) -> None:
    with pytest.raises(ServiceError) as exc:
        services.patrol_checkin_record(actor=phone.worker, client_id=cid(), **kwargs)
    assert exc.value.code == code and exc.value.message
    assert PatrolCheckin.objects.count() == 0
    assert not AuditEntry.objects.filter(action="grid.checkin.record").exists()


@pytest.mark.parametrize(
    "client_id", ["", "short", "x" * 65, "has space in it", "../../etc/passwd", None, 123]
)
def test_bad_client_id_is_refused(phone: Phone, client_id: object) -> None:
    with pytest.raises(ServiceError) as exc:
        services.patrol_checkin_record(actor=phone.worker, client_id=client_id, lon=119.65, lat=28.42)  # type: ignore[arg-type]
    assert exc.value.code == "invalid_client_id"
    assert PatrolCheckin.objects.count() == 0


def test_checkin_times(phone: Phone) -> None:
    now = timezone.now()
    earlier = now - dt.timedelta(hours=3)
    done = services.patrol_checkin_record(
        actor=phone.worker, client_id=cid(), lon=119.65, lat=28.42, at=earlier
    )
    assert done.obj.at == earlier  # queued offline: the time it was made, not when it arrived
    for at, code in [
        (now + dt.timedelta(hours=1), "invalid_time"),
        (now - dt.timedelta(days=8), "record_too_old"),
        (dt.datetime(2026, 1, 1, 9, 0), "invalid_time"),  # naive
    ]:
        with pytest.raises(ServiceError) as exc:
            services.patrol_checkin_record(actor=phone.worker, client_id=cid(), lon=119.65, lat=28.42, at=at)
        assert exc.value.code == code
    assert PatrolCheckin.objects.count() == 1


def test_only_grid_workers_check_in(phone: Phone) -> None:
    with pytest.raises(PermissionDenied):
        services.patrol_checkin_record(actor=phone.resident, client_id=cid(), lon=119.65, lat=28.42)
    assert PatrolCheckin.objects.count() == 0


# --- household visits ----------------------------------------------------------------------------


def test_visit_recorded_and_audited(phone: Phone) -> None:
    done = services.household_visit_record(
        actor=phone.worker,
        household=phone.home,
        client_id=cid(),
        kind="status_report",
        health="fever",
        needs_help=True,
        help_note="需要送医",
        supplies_requested="退烧药",
    )
    v = done.obj
    assert done.created and v.health == "fever" and v.needs_help and v.household == phone.home
    entry = AuditEntry.objects.get(action="grid.household_visit.record")
    assert entry.object_id == str(v.pk)


def test_same_client_id_twice_is_one_visit(phone: Phone) -> None:
    key = cid()
    first = services.household_visit_record(actor=phone.worker, household=phone.home, client_id=key)
    again = services.household_visit_record(actor=phone.worker, household=phone.home, client_id=key)
    assert not again.created and again.obj.pk == first.obj.pk
    assert HouseholdVisit.objects.count() == 1
    with pytest.raises(ServiceError) as exc:  # the same id for another household: a bug on the phone
        services.household_visit_record(actor=phone.worker, household=phone.plain, client_id=key)
    assert exc.value.code == "client_id_reused" and exc.value.status == 409
    assert HouseholdVisit.objects.count() == 1


def test_another_grids_household_is_404(phone: Phone) -> None:
    for household in (phone.other_grid, phone.other_town):
        with pytest.raises(NotFound):
            services.household_visit_record(actor=phone.worker, household=household, client_id=cid())
        with pytest.raises(NotFound):
            selectors.household_get(user=phone.worker, code=household.code)
    with pytest.raises(PermissionDenied):
        services.household_visit_record(actor=phone.resident, household=phone.home, client_id=cid())
    assert HouseholdVisit.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "party"}, "invalid_kind"),
        ({"health": "sick"}, "invalid_health"),
        ({"needs_help": "yes"}, "invalid_needs_help"),
        ({"needs_help": True}, "help_note_required"),
        ({"note": "x" * 501}, "text_too_long"),
        ({"help_note": 5}, "invalid_text"),
        ({"supplies_requested": "水\x00"}, "invalid_character"),
        ({"at": timezone.now() - dt.timedelta(days=30)}, "record_too_old"),
    ],
)
def test_bad_visit_is_refused_and_nothing_written(phone: Phone, kwargs: dict, code: str) -> None:
    with pytest.raises(ServiceError) as exc:
        services.household_visit_record(actor=phone.worker, household=phone.home, client_id=cid(), **kwargs)
    assert exc.value.code == code
    assert HouseholdVisit.objects.count() == 0
    assert not AuditEntry.objects.filter(action="grid.household_visit.record").exists()


def test_inactive_household_is_refused(phone: Phone) -> None:
    phone.home.active = False
    phone.home.save()
    with pytest.raises(ServiceError) as exc:
        services.household_visit_record(actor=phone.worker, household=phone.home, client_id=cid())
    assert exc.value.code == "household_inactive"


def test_care_households_due(phone: Phone) -> None:
    due = list(selectors.care_households_due(user=phone.worker))
    assert due == [phone.home]  # care-flagged and in my grid; `plain` has no flag
    services.household_visit_record(
        actor=phone.worker, household=phone.home, client_id=cid(), at=timezone.now() - dt.timedelta(days=2)
    )
    assert list(selectors.care_households_due(user=phone.worker)) == []
    # A visit 31 days ago does not count (as if recorded then).
    HouseholdVisit.objects.update(at=timezone.now() - dt.timedelta(days=31))
    assert list(selectors.care_households_due(user=phone.worker)) == [phone.home]
    assert {h.code for h in selectors.my_households(user=phone.worker_02)} == {phone.other_grid.code}


# --- quick report ---------------------------------------------------------------------------------


def test_quick_report_becomes_one_case_with_photo_and_voice(phone: Phone) -> None:
    key = cid()
    kwargs = {
        "actor": phone.worker,
        "client_id": key,
        "category_code": "0601",
        "lon": IN_A1_01[0],
        "lat": IN_A1_01[1],
        "photos": [("p.png", png())],
        "audio": [("voice.webm", WEBM)],
    }
    first = services.quick_report_submit(**kwargs)
    case = first.obj
    assert first.created and case.channel == Channel.GRID and case.grid == phone.mapped.a1_01
    assert case.text == "网格员现场发现:道路与井盖(详见照片、语音)"
    assert case.suggestion.get("chosen_by_reporter") == "0601"
    types = sorted(Attachment.objects.filter(case=case).values_list("content_type", flat=True))
    assert types == ["audio/webm", "image/png"]
    again = services.quick_report_submit(**kwargs)
    assert not again.created and again.obj.pk == case.pk
    assert Case.objects.count() == 1 and Attachment.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({}, "text_required"),
        ({"category_code": "9999"}, "unknown_category"),
        ({"text": "路灯坏了", "audio": [("v.webm", b"not audio at all, just text bytes")]}, "audio_type"),
        ({"text": "路灯坏了", "audio": [("v.webm", WEBM + bytes(5 * 1024 * 1024))]}, "audio_too_large"),
        ({"text": "路灯坏了", "audio": [("a.webm", WEBM), ("b.webm", WEBM)]}, "too_many_audio"),
        ({"text": "路灯坏了", "photos": [("p.jpg", b"\xff\xd8\xff broken")]}, "photo_corrupt"),
        ({"text": "路灯坏了", "lon": 121.5, "lat": 31.2}, "outside_jurisdiction"),
        ({"text": "路灯坏了", "lon": 119.6}, "invalid_coordinates"),
    ],
)
def test_bad_quick_report_is_refused_and_nothing_written(phone: Phone, kwargs: dict, code: str) -> None:
    with pytest.raises(ServiceError) as exc:
        services.quick_report_submit(actor=phone.worker, client_id=cid(), **kwargs)
    assert exc.value.code == code
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0


def test_quick_categories_fill_up_with_defaults(phone: Phone) -> None:
    codes = [c.code for c in selectors.quick_categories(user=phone.worker)]
    assert codes == ["0101", "1301", "0601", "0604", "0301", "0602"]
    services.quick_report_submit(
        actor=phone.worker, client_id=cid(), category_code="1202", lon=119.65, lat=28.42
    )
    assert selectors.quick_categories(user=phone.worker)[0].code == "1202"
