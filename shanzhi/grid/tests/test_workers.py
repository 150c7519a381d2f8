import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.conftest import make_user
from shanzhi.core.errors import ServiceError
from shanzhi.grid.models import GridWorker
from shanzhi.grid.services import grid_worker_assign, grid_worker_remove


@pytest.fixture
def worker(mapped):
    return make_user(username="gw-a1", region=mapped.county.village_a1, roles=["gridworker"]).staff


def test_assign_and_remove_are_audited(mapped, worker, user_a):
    member = grid_worker_assign(actor=user_a, grid=mapped.a1_01, staff=worker, is_leader=True)
    assert member.is_leader and mapped.a1_01.workers.count() == 1
    assert AuditEntry.objects.filter(action="grid_worker.assign", actor="t-town-a").count() == 1
    grid_worker_remove(actor=user_a, grid=mapped.a1_01, staff=worker)
    assert mapped.a1_01.workers.count() == 0
    assert AuditEntry.objects.filter(action="grid_worker.remove").count() == 1


def test_a_new_head_replaces_the_old_one(mapped, worker):
    second = make_user(username="gw-a1-b", region=mapped.county.town_a, roles=["gridworker"]).staff
    grid_worker_assign(actor=None, grid=mapped.a1_01, staff=worker, is_leader=True)
    grid_worker_assign(actor=None, grid=mapped.a1_01, staff=second, is_leader=True)
    leaders = list(
        GridWorker.objects.filter(grid=mapped.a1_01, is_leader=True).values_list("staff", flat=True)
    )
    assert leaders == [second.pk]


def test_refusals_change_nothing(mapped, worker, user_b):
    c = mapped.county
    grid_worker_assign(actor=None, grid=mapped.a1_01, staff=worker)
    cases = [
        (dict(grid=mapped.a1_01, staff=worker), None, "already_assigned"),
        # a village-A1 worker cannot serve a grid in village A2
        (dict(grid=mapped.a2_01, staff=worker), None, "worker_outside_region"),
        # a clerk is not a grid worker
        (
            dict(
                grid=mapped.a1_02,
                staff=make_user(username="t-clerk", region=c.village_a1, roles=["clerk"]).staff,
            ),
            None,
            "not_a_grid_worker",
        ),
        # township B's leader does not see township A's grid
        (dict(grid=mapped.a1_02, staff=worker), user_b, "not_found"),
    ]
    before = (GridWorker.objects.count(), AuditEntry.objects.count())
    for kwargs, actor, code in cases:
        with pytest.raises(ServiceError) as err:
            grid_worker_assign(actor=actor, **kwargs)
        assert err.value.code == code
    with pytest.raises(ServiceError) as err:
        grid_worker_remove(actor=None, grid=mapped.a1_02, staff=worker)
    assert err.value.code == "not_found"
    gridworker_user = worker.user
    with pytest.raises(ServiceError) as err:  # a grid worker cannot staff grids
        grid_worker_assign(actor=gridworker_user, grid=mapped.a1_02, staff=worker)
    assert err.value.code == "forbidden"
    assert (GridWorker.objects.count(), AuditEntry.objects.count()) == before
