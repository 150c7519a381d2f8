"""Deciding a handler's extension or suspension request (`/requests/{pk}/decide` on the API,
`/cases/requests/<pk>/decide/` on the pages) is for a dispatcher over the case's place. Another
township's dispatcher gets the same 404 as for a missing request, and nothing changes: not the
request, not the assignment's clock, not the case's deadline, no event, audit entry or message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.cases import services as svc
from shanzhi.cases.models import (
    Assignment,
    ClockPause,
    HandlerRequest,
    RequestKind,
    RequestState,
    TimelineEvent,
)
from shanzhi.cases.tests.test_pages import dispatched
from shanzhi.core.errors import NotFound
from shanzhi.notify.models import Message


@pytest.fixture
def pending(loop: Any) -> list[HandlerRequest]:
    """One extension and one suspension request, on two cases of township A's village A1."""
    asked = []
    for kind, hours in ((RequestKind.EXTENSION, 8), (RequestKind.SUSPENSION, 0)):
        assignment = dispatched(loop).assignments.get()
        asked.append(
            svc.assignment_request(
                actor=loop.urban_handler, assignment=assignment, kind=kind, reason="需要协调", hours=hours
            )
        )
    return asked


def _state() -> dict[str, Any]:
    return {
        "requests": list(
            HandlerRequest.objects.order_by("pk").values_list("pk", "state", "decided_by", "decision_note")
        ),
        "assignments": list(
            Assignment.objects.order_by("pk").values_list(
                "pk", "status", "sla_hours", "extension_hours", "deadline", "case__deadline"
            )
        ),
        "pauses": ClockPause.objects.count(),
        "events": TimelineEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "messages": Message.objects.count(),
    }


@pytest.mark.parametrize("approve", [True, False])
def test_another_townships_dispatcher_gets_404_and_nothing_changes(
    loop: Any, client: Any, pending: list[HandlerRequest], approve: bool
) -> None:
    before = _state()
    client.force_login(loop.dispatcher_b)
    decision = "approve" if approve else "refuse"
    for request in pending:
        api = client.post(
            f"/api/v1/requests/{request.pk}/decide",
            data=json.dumps({"approve": approve, "note": "外乡镇审批"}),
            content_type="application/json",
        )
        assert api.status_code == 404, api.content
        assert api.json()["code"] == "not_found"
        page = client.post(
            f"/cases/requests/{request.pk}/decide/", {"decision": decision, "note": "外乡镇审批"}
        )
        assert page.status_code == 404
        with pytest.raises(NotFound):
            svc.request_decide(actor=loop.dispatcher_b, request=request, approve=approve, note="外乡镇审批")
    assert _state() == before

    # The township's own (county) dispatcher can still decide both: the 404 was jurisdiction.
    client.force_login(loop.dispatcher)
    for request in pending:
        page = client.post(f"/cases/requests/{request.pk}/decide/", {"decision": decision})
        assert page.status_code == 302
        request.refresh_from_db()
        assert request.state == (RequestState.APPROVED if approve else RequestState.REFUSED)
