"""A fan-out tells each person once: one in-app message (and one SMS where they have a phone) per
grid worker or cadre for the whole batch of tasks, not one per task; households' SMS stay
care-flagged first."""

from __future__ import annotations

from collections import Counter

from shanzhi.emergency.incidents import incident_declare
from shanzhi.emergency.models import GridTask, TaskKind
from shanzhi.emergency.models_warnings import DeliveryChannel, WarningDelivery
from shanzhi.emergency.tests.capgen import cap
from shanzhi.emergency.tests.world_setup import World, household
from shanzhi.emergency.warnings import warning_receive
from shanzhi.grid.areas import Area, polygon_from_coords
from shanzhi.notify.models import Message, MessageChannel


def _task_notices(channel: str = MessageChannel.IN_APP) -> list[Message]:
    return list(Message.objects.filter(kind="emergency.task", channel=channel).order_by("pk"))


def test_warning_tells_each_worker_once_for_all_their_tasks(world: World) -> None:
    w = warning_receive(actor=world.users["dispatcher"], xml=cap(), source="api").warning
    tasks = GridTask.objects.filter(warning_links__warning=w)
    assert Counter(tasks.values_list("kind", flat=True)) == {TaskKind.WARNING_VISIT: 2, TaskKind.DEFENCE: 2}
    notices = _task_notices()
    per_person = Counter(m.recipient.username for m in notices if m.recipient)
    # Two tasks each for the grid workers, four for the village and township leaders: one message.
    assert per_person == {"e-worker-a1": 1, "e-worker-a1b": 1, "e-cadre-a1": 1, "e-leader-a": 1}
    mine = next(m for m in notices if m.recipient == world.users["worker_a1"])
    assert "1 户没有手机" in mine.body and "防御清单" in mine.body and "上溪村第1网格" in mine.body
    assert "共 2 项任务" in mine.body
    assert (mine.object_type, mine.object_id) == ("emergency.warning", str(w.pk))
    village = next(m for m in notices if m.recipient == world.users["cadre_a1"])
    assert "2 户没有手机" in village.body and "上溪村第1网格、上溪村第2网格" in village.body
    assert "共 4 项任务" in village.body
    # SMS: one per person with a phone (the worker of a1-01 and the village cadre).
    assert sorted(m.phone for m in _task_notices(MessageChannel.SMS)) == ["13800000001", "13800000009"]


def test_incident_summary_names_the_grids_and_points_at_the_incident(world: World) -> None:
    coords = [(119.61, 28.36), (119.79, 28.36), (119.79, 28.49), (119.61, 28.49), (119.61, 28.36)]
    incident = incident_declare(
        actor=world.users["leader_a"],
        type_code="flood",
        title="山洪",
        area=Area(polygons=(polygon_from_coords(coords=coords),)),
    )
    tasks = {t.grid_id: t for t in GridTask.objects.filter(incident=incident)}
    assert set(tasks) == {world.a1_01.pk, world.a1_02.pk}
    notices = {m.recipient.username: m for m in _task_notices() if m.recipient}
    assert set(notices) == {"e-worker-a1", "e-worker-a1b", "e-cadre-a1", "e-leader-a"}
    assert len(_task_notices()) == 4  # not 2 tasks × their 3 people
    worker = notices["e-worker-a1"]  # one task: the message is about that task
    assert (worker.object_type, worker.object_id) == ("emergency.gridtask", str(tasks[world.a1_01.pk].pk))
    assert "共" not in worker.body and "2 户" in worker.body
    cadre = notices["e-cadre-a1"]  # both tasks: about the incident, households added up
    assert (cadre.object_type, cadre.object_id) == ("emergency.incident", str(incident.pk))
    assert (
        "上溪村第1网格、上溪村第2网格" in cadre.body
        and "涉及 3 户" in cadre.body
        and "共 2 项任务" in cadre.body
    )


def test_sms_are_queued_care_first_then_by_household(world: World) -> None:
    # Later (higher id) care-flagged households must still come before earlier plain ones.
    extra = [
        household(world.a1_01, 11, 119.62, 28.40, phone="13900000011"),
        household(world.a1_02, 12, 119.72, 28.40, phone="13900000012", disabled=True),
        household(world.a1_01, 13, 119.63, 28.41, phone="13900000013"),
        household(world.a1_02, 14, 119.73, 28.41, phone="13900000014", left_behind_children=True),
    ]
    w = warning_receive(actor=world.users["dispatcher"], xml=cap(identifier="T-care"), source="api").warning
    care = [world.homes["a1_01_1"], extra[1], extra[3]]
    plain = [extra[0], extra[2]]
    expected = [h.phone for h in sorted(care, key=lambda h: h.pk) + sorted(plain, key=lambda h: h.pk)]
    sms = Message.objects.filter(kind="warning.alert", channel=MessageChannel.SMS).order_by("pk")
    assert [m.phone for m in sms] == expected
    rows = list(WarningDelivery.objects.filter(warning=w, channel=DeliveryChannel.SMS).order_by("rank"))
    assert [d.message_id for d in rows] == [m.pk for m in sms]  # rank order is queue order
    assert [d.care for d in rows] == [True, True, True, False, False]
