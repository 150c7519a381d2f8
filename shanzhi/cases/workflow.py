"""The case workflow as one table anyone can read: action → (from states, to state, roles).

受理 received → 立案 registered → 派遣 dispatched → 处置 in_progress → 核查 verifying
→ 结案 closed → 评价 evaluated.
Assignment-level steps (accept, return, report, extension, suspension) move the case through this
table too. A transition not in the table is refused with 409 and changes nothing.
"""

from __future__ import annotations

from shanzhi.cases.models import CaseStatus as S
from shanzhi.core.workflow import Transition, transition_check

DISPATCH_ROLES = frozenset({"dispatcher", "admin"})
HANDLER_ROLES = frozenset({"handler", "admin"})
VERIFY_ROLES = frozenset({"gridworker", "dispatcher", "admin"})


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("register", frozenset({S.RECEIVED}), S.REGISTERED, DISPATCH_ROLES | {"operator"}, "立案"),
        Transition("refuse", frozenset({S.RECEIVED, S.REGISTERED}), S.REFUSED, DISPATCH_ROLES, "不予立案"),
        Transition("merge", frozenset({S.RECEIVED, S.REGISTERED}), S.MERGED, DISPATCH_ROLES, "合并"),
        Transition("dispatch", frozenset({S.REGISTERED}), S.DISPATCHED, DISPATCH_ROLES, "派遣"),
        # The primary handler sends a mis-dispatch back: the case waits for the dispatcher again.
        Transition("return", frozenset({S.DISPATCHED}), S.REGISTERED, HANDLER_ROLES, "退回"),
        Transition("accept", frozenset({S.DISPATCHED}), S.IN_PROGRESS, HANDLER_ROLES, "签收"),
        Transition("report", frozenset({S.IN_PROGRESS}), S.VERIFYING, HANDLER_ROLES, "反馈办理结果"),
        Transition("verify_pass", frozenset({S.VERIFYING}), S.CLOSED, VERIFY_ROLES, "核查通过,结案"),
        Transition("verify_reject", frozenset({S.VERIFYING}), S.IN_PROGRESS, VERIFY_ROLES, "核查不通过,返工"),
        Transition(
            "rate", frozenset({S.CLOSED}), S.EVALUATED, frozenset({"resident", "operator", "admin"}), "评价"
        ),
        # A 不满意 rating within 7 days reopens the case for the dispatcher to review.
        Transition("reopen", frozenset({S.EVALUATED, S.CLOSED}), S.REGISTERED, DISPATCH_ROLES, "重新办理"),
    ]
}


def transition_for(*, action: str, status: str) -> Transition:
    """The transition `action` from `status`, or a 409 ServiceError saying why not."""
    return transition_check(TRANSITIONS, action=action, status=status, statuses=S, noun="案卷")


def allowed_actions(*, status: str) -> list[str]:
    return [t.action for t in TRANSITIONS.values() if status in t.sources]
