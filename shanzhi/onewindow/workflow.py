"""The application workflow as one table anyone can read: action → (from states, to state, roles).

draft → submitted → accepted (受理) → in_review → approved → finished
                                                 → refused (with a reason)
                                                 → correction_requested (补正, once) → in_review
draft/submitted → not_accepted (materials missing: the complete list, told once) → submitted/accepted
A bundle's child waits (`waiting`) until the steps it depends on are approved, then is released
to its back office (`accepted`), or is cancelled when one of them is refused. A bundle's parent is
complete (`finished`) when every part is done. Anything not in the table is refused with 409.
"""

from __future__ import annotations

from shanzhi.core.workflow import Transition, transition_check
from shanzhi.onewindow.models_applications import ApplicationStatus as S

SYSTEM: frozenset[str] = frozenset()  # only the platform itself (actor None) takes these
INTAKE_ROLES = frozenset({"clerk", "approver", "admin"})
# The terminal accepts (or tells what is missing) only for the applications it took itself: a
# kiosk account sees nothing else (application_selectors.visibility).
KIOSK_INTAKE_ROLES = INTAKE_ROLES | {"kiosk"}
REVIEW_ROLES = frozenset({"approver", "admin"})


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "submit",
            frozenset({S.DRAFT, S.NOT_ACCEPTED}),
            S.SUBMITTED,
            frozenset({"resident", "clerk", "gridworker", "kiosk", "admin"}),
            "提交申请",
        ),
        Transition(
            "accept",
            frozenset({S.DRAFT, S.SUBMITTED, S.NOT_ACCEPTED}),
            S.ACCEPTED,
            KIOSK_INTAKE_ROLES,
            "受理",
        ),
        # 一次性告知: once per application; the list is complete (see materials.py).
        Transition(
            "not_accept", frozenset({S.DRAFT, S.SUBMITTED}), S.NOT_ACCEPTED, KIOSK_INTAKE_ROLES, "一次性告知"
        ),
        Transition("start_review", frozenset({S.ACCEPTED}), S.IN_REVIEW, REVIEW_ROLES, "开始审查"),
        Transition("approve", frozenset({S.IN_REVIEW}), S.APPROVED, REVIEW_ROLES, "批准"),
        Transition("refuse", frozenset({S.IN_REVIEW}), S.REFUSED, REVIEW_ROLES, "不予批准"),
        Transition(
            "request_correction", frozenset({S.IN_REVIEW}), S.CORRECTION_REQUESTED, REVIEW_ROLES, "要求补正"
        ),
        Transition(
            "correct",
            frozenset({S.CORRECTION_REQUESTED}),
            S.IN_REVIEW,
            frozenset({"resident", "clerk", "admin"}),
            "提交补正材料",
        ),
        Transition("finish", frozenset({S.APPROVED}), S.FINISHED, INTAKE_ROLES, "办结(送达结果)"),
        Transition("release", frozenset({S.WAITING}), S.ACCEPTED, SYSTEM, "前置事项已办结,转入审批"),
        Transition("cancel", frozenset({S.WAITING}), S.CANCELLED, SYSTEM, "前置事项未获批准,终止"),
        Transition("complete", frozenset({S.ACCEPTED}), S.FINISHED, SYSTEM, "各事项均已办结"),
    ]
}


def status_label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


def transition_for(*, action: str, status: str) -> Transition:
    """The transition `action` from `status`, or a 409 ServiceError saying why not."""
    return transition_check(TRANSITIONS, action=action, status=status, statuses=S, noun="办件")


def allowed_actions(*, status: str) -> list[str]:
    return [t.action for t in TRANSITIONS.values() if status in t.sources and t.roles]
