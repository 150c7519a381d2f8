"""Receiving CAP warnings: targeting, fan-out by severity, idempotency, Update/Cancel, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.core.errors import PermissionDenied, ServiceError
from shanzhi.emergency.models import GridTask, Incident, TaskKind, TaskStatus
from shanzhi.emergency.models_warnings import (
    DeliveryChannel,
    Warning,
    WarningDelivery,
    WarningGrid,
    WarningState,
    WarningTask,
)
from shanzhi.emergency.tests.capgen import NS, cap, ref
from shanzhi.emergency.warnings import warning_declare_incident, warning_expire_due, warning_receive
from shanzhi.notify.models import Message, MessageChannel

pytestmark = pytest.mark.django_db(transaction=False)


def counts():
    return (
        Warning.objects.count(),
        Message.objects.count(),
        GridTask.objects.count(),
        WarningDelivery.objects.count(),
        AuditEntry.objects.filter(action__startswith="emergency.warning").count(),
    )


def receive(world, xml, actor="dispatcher"):
    return warning_receive(actor=world.users[actor], xml=xml, source="api")


def test_severe_typhoon_reaches_grids_households_cadres_and_leader(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        got = receive(world, cap())
    w = got.warning
    assert got.created
    assert (w.grid_count, w.household_count, w.care_household_count) == (2, 3, 2)
    assert w.level == "high" and w.event_kind == "typhoon" and w.state == WarningState.ACTIVE
    assert w.region == world.county.village_a1
    assert set(WarningGrid.objects.filter(warning=w).values_list("grid__code", flat=True)) == {
        world.a1_01.code,
        world.a1_02.code,
    }
    # The one household with a phone gets the SMS; the two without get a visit, care-flagged first.
    sms = Message.objects.filter(channel=MessageChannel.SMS, kind="warning.alert")
    assert [m.phone for m in sms] == ["13900000001"]
    assert "台风橙色预警" in sms[0].body and "请关好门窗" in sms[0].body
    rows = list(WarningDelivery.objects.filter(warning=w).order_by("rank"))
    assert [(d.household_id, d.channel, d.care) for d in rows] == [
        (world.homes["a1_01_1"].pk, DeliveryChannel.SMS, True),
        (world.homes["a1_02_1"].pk, DeliveryChannel.VISIT, True),
        (world.homes["a1_01_2"].pk, DeliveryChannel.VISIT, False),
    ]
    visits = GridTask.objects.filter(kind=TaskKind.WARNING_VISIT)
    assert {t.grid_id: set(t.households.values_list("pk", flat=True)) for t in visits} == {
        world.a1_01.pk: {world.homes["a1_01_2"].pk},
        world.a1_02.pk: {world.homes["a1_02_1"].pk},
    }
    defence = GridTask.objects.filter(kind=TaskKind.DEFENCE)
    assert {t.grid_id for t in defence} == {world.a1_01.pk, world.a1_02.pk}
    assert any("广告牌" in item for item in defence[0].checklist)
    assert WarningTask.objects.filter(warning=w).count() == w.task_count == 4
    # The cadres of the village and township get the checklist; the leaders above get the offer.
    checklist = Message.objects.filter(kind="warning.defence")
    assert {m.recipient.username for m in checklist if m.recipient} == {"e-cadre-a1", "e-leader-a"}
    assert "防御清单" in checklist[0].body and f"/emergency/warnings/{w.pk}/" in checklist[0].body
    offers = Message.objects.filter(kind="warning.offer")
    assert {m.recipient.username for m in offers if m.recipient} == {"e-leader", "e-leader-a", "e-cadre-a1"}
    assert AuditEntry.objects.filter(action="emergency.warning.receive", object_id=str(w.pk)).count() == 1


def test_same_alert_twice_is_the_same_warning(world):
    xml = cap()
    first = receive(world, xml)
    before = counts()
    again = receive(world, xml)
    assert not again.created and again.warning.pk == first.warning.pk
    assert counts() == before
    # Other whitespace, same alert: still the same warning.
    assert receive(world, xml.replace(b"><info>", b">\n  <info>")).warning.pk == first.warning.pk


def test_same_identifier_other_content_is_refused(world):
    receive(world, cap())
    before = counts()
    with pytest.raises(ServiceError) as err:
        receive(world, cap(headline="另一条"))
    assert err.value.code == "warning_conflict" and err.value.status == 409
    assert counts() == before


def test_update_supersedes_and_carries_tasks(world):
    old = receive(world, cap(identifier="T-1")).warning
    tasks_before = GridTask.objects.count()
    new = receive(
        world, cap(identifier="T-2", msg_type="Update", references=ref("T-1"), headline="台风红色预警")
    ).warning
    old.refresh_from_db()
    assert old.state == WarningState.UPDATED and new.state == WarningState.ACTIVE
    assert list(new.references.all()) == [old]
    assert GridTask.objects.count() == tasks_before  # the open tasks carry over, not doubled
    assert WarningTask.objects.filter(warning=new).count() == 4
    assert Message.objects.filter(kind="warning.alert", body__contains="红色").count() == 1


def test_update_without_area_keeps_the_area(world):
    receive(world, cap(identifier="T-1"))
    new = receive(
        world, cap(identifier="T-2", msg_type="Update", references=ref("T-1"), polygon=None)
    ).warning
    assert new.grid_count == 2 and new.household_count == 3


def test_cancel_lifts_the_warning(world):
    old = receive(world, cap(identifier="T-1")).warning
    cancel = receive(
        world, cap(identifier="T-9", msg_type="Cancel", references=ref("T-1"), info=False)
    ).warning
    old.refresh_from_db()
    assert old.state == WarningState.CANCELLED and cancel.state == WarningState.CANCELLED
    assert cancel.msg_type == "Cancel" and cancel.headline.startswith("撤销")
    linked = GridTask.objects.filter(warning_links__warning=old)
    assert linked.count() == 4 and all(t.status == TaskStatus.CLOSED for t in linked)
    lifted = Message.objects.filter(kind="warning.alert", body__contains="解除")
    assert [m.phone for m in lifted] == ["13900000001"]
    with pytest.raises(ServiceError) as err:
        receive(world, cap(identifier="T-10", msg_type="Update", references=ref("T-1")))
    assert err.value.code == "reference_cancelled"


def test_unknown_reference_is_refused(world):
    before = counts()
    with pytest.raises(ServiceError) as err:
        receive(world, cap(identifier="T-2", msg_type="Update", references=ref("NOPE")))
    assert err.value.code == "unknown_reference" and err.value.status == 422
    assert "NOPE" in err.value.message
    assert counts() == before


@pytest.mark.parametrize(
    "xml, code",
    [
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x", "cap_malformed"),
        (b"", "cap_empty"),
        (b"not xml at all", "cap_malformed"),
        (
            b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&lol3;</alert>""",
            "cap_forbidden_xml",
        ),  # billion laughs
        (
            b"""<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>""",
            "cap_forbidden_xml",
        ),  # external entity
        (cap(ns="urn:example:not-cap"), "cap_namespace"),
        (cap(ns="urn:oasis:names:tc:emergency:cap:1.0"), "cap_namespace"),
        (cap().replace(b"<scope>Public</scope>", b""), "cap_schema"),
        (cap(severity="Huge"), "cap_schema"),
        (cap(polygon="28.34,119.59 28.34,119.81 28.34,119.59"), "cap_area_invalid"),  # 3 points
        (cap(polygon="28.34,119.59 28.34,119.81 28.51,119.81 28.51,119.59"), "cap_area_invalid"),  # open
        (cap(polygon="119.59,28.34 119.81,28.34 119.81,28.51 119.59,28.34"), "cap_area_invalid"),  # lon,lat
        (cap(polygon=None, area="<circle>28.4,119.7 -5</circle>"), "cap_area_invalid"),
        (cap(polygon=None, area="<circle>28.4,119.7</circle>"), "cap_area_invalid"),
        (cap(identifier="has space"), "cap_invalid"),
        (cap(msg_type="Ack", references=ref("T-1")), "unsupported_msg_type"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, xml, code):
    before = counts()
    with pytest.raises(ServiceError) as err:
        receive(world, xml)
    assert err.value.code == code
    assert err.value.message
    assert counts() == before


def test_negative_radius_message_names_it(world):
    with pytest.raises(ServiceError) as err:
        receive(world, cap(polygon=None, area="<circle>28.4,119.7 -5</circle>"))
    assert "不能为负数" in err.value.message


def test_too_large_is_refused(world):
    xml = cap(instruction="很" * 400_000)
    with pytest.raises(ServiceError) as err:
        receive(world, xml)
    assert err.value.code == "cap_too_large" and err.value.status == 413


def test_area_outside_the_county_is_refused(world):
    before = counts()
    with pytest.raises(ServiceError) as err:
        receive(world, cap(polygon="21,120 21,130 5,130 5,121.5 21,120"))
    assert err.value.code == "area_outside_county"
    assert counts() == before


def test_area_missing_is_refused(world):
    with pytest.raises(ServiceError) as err:
        receive(world, cap(polygon=None))
    assert err.value.code == "area_missing"


def test_circle_reaches_by_distance(world):
    # 3 km around a1-01's first household.
    w = receive(world, cap(polygon=None, area="<circle>28.45,119.65 3</circle>")).warning
    assert w.household_count == 1 and w.grid_count == 1


def test_division_codes_target_regions(world):
    village = "<geocode><valueName>GB/T 2260</valueName><value>331199102201</value></geocode>"
    w = receive(world, cap(identifier="D-1", polygon=None, area=village)).warning
    assert (w.grid_count, w.household_count) == (1, 1)
    assert w.region == world.county.village_b1
    # A 6-digit county code (and a province code) stands for the whole county; foreign codes are ignored.
    county = (
        "<geocode><valueName>ADCODE</valueName><value>331199</value></geocode>"
        "<geocode><valueName>FIPS6</valueName><value>032013</value></geocode>"
    )
    w = receive(world, cap(identifier="D-2", polygon=None, area=county)).warning
    assert (w.grid_count, w.household_count) == (4, 5)
    with pytest.raises(ServiceError) as err:
        receive(
            world,
            cap(
                identifier="D-3",
                polygon=None,
                area="<geocode><valueName>FIPS6</valueName><value>032013</value></geocode>",
            ),
        )
    assert err.value.code == "area_outside_county"


@pytest.mark.parametrize("status", ["Test", "Exercise", "Draft", "System"])
def test_not_actual_is_recorded_but_nobody_is_told(world, status):
    w = receive(world, cap(status=status)).warning
    assert w.household_count == 3
    assert (w.sms_count, w.visit_count, w.task_count) == (0, 0, 0)
    assert Message.objects.count() == 0 and GridTask.objects.count() == 0


def test_restricted_scope_reaches_cadres_not_residents(world):
    w = receive(world, cap(scope="Restricted")).warning
    assert w.sms_count == 0 and w.visit_count == 0
    assert GridTask.objects.filter(kind=TaskKind.DEFENCE).count() == 2
    assert not Message.objects.filter(channel=MessageChannel.SMS, kind="warning.alert").exists()


def test_minor_only_tells_the_cadres(world):
    w = receive(world, cap(severity="Minor")).warning
    assert w.level == "low" and w.sms_count == 0 and w.task_count == 0
    notice = Message.objects.filter(kind="warning.defence")
    assert notice.count() == 2 and "防御清单" not in notice[0].body
    assert not Message.objects.filter(kind="warning.offer").exists()


def test_moderate_has_no_offer(world):
    w = receive(world, cap(severity="Moderate")).warning
    assert w.level == "medium" and w.sms_count == 1
    assert not Message.objects.filter(kind="warning.offer").exists()


def test_already_expired_is_recorded_only(world):
    w = receive(world, cap(expires_in=dt.timedelta(hours=-1))).warning
    assert w.state == WarningState.EXPIRED and w.sms_count == 0 and w.task_count == 0


def test_expiry_sweep_closes_tasks(world):
    w = receive(world, cap(expires_in=dt.timedelta(hours=2))).warning
    assert warning_expire_due() == 0
    assert warning_expire_due(now=timezone.now() + dt.timedelta(hours=3)) == 1
    w.refresh_from_db()
    assert w.state == WarningState.EXPIRED
    assert all(t.status == TaskStatus.CLOSED for t in GridTask.objects.filter(warning_links__warning=w))


@pytest.mark.parametrize("role", ["gridworker", "resident", "leader", "supervisor"])
def test_who_may_post(world, role):
    user = make_user(username=f"p-{role}", region=world.county.county, roles=[role])
    with pytest.raises(PermissionDenied):
        warning_receive(actor=user, xml=cap(), source="api")
    assert Warning.objects.count() == 0


def test_sensor_account_may_post(world):
    sensor = make_user(username="p-sensor", region=world.county.county, roles=["sensor"])
    assert warning_receive(actor=sensor, xml=cap(), source="api").created


def test_leader_declares_incident_over_the_warning_area(world):
    w = receive(world, cap()).warning
    with pytest.raises(PermissionDenied):
        warning_declare_incident(actor=world.users["dispatcher"], warning=w, type_code="typhoon")
    incident = warning_declare_incident(actor=world.users["county_leader"], warning=w, type_code="typhoon")
    assert incident.grid_count == 2 and incident.household_count == 3 and incident.area_kind == "warning"
    w.refresh_from_db()
    assert w.incident == incident
    with pytest.raises(ServiceError) as err:
        warning_declare_incident(actor=world.users["county_leader"], warning=w, type_code="typhoon")
    assert err.value.code == "incident_exists"
    assert Incident.objects.count() == 1


def test_cap11_message_is_taken_as_12(world):
    w = receive(world, cap(ns="urn:oasis:names:tc:emergency:cap:1.1")).warning
    assert w.version == "1.1" and w.grid_count == 2


def test_ns_constant():
    assert NS.endswith("cap:1.2")
