"""The rateable kinds ratings itself knows: closed cases (诉求). Applications register theirs in
onewindow."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.urls import NoReverseMatch, reverse

from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Handler, Region, Staff
from shanzhi.core.selectors import jurisdiction_root, region_county, roles_of
from shanzhi.ratings.registry import Rateable, Rater, register

CASE_RATER_ROLES = frozenset({"resident", "operator", "admin"})


class CaseRateable(Rateable):
    """A case is finished when closed (结案); its reporter rates it, or a hotline operator on the
    reporter's behalf; the unit answering for it is the primary assignment's handler and the
    staff member who reported the result."""

    obj_type = "case"
    label = "诉求"

    def find(self, *, ref: str, for_update: bool = False) -> Model | None:
        from shanzhi.cases.models import Case

        qs = Case.objects.all()
        if for_update:
            qs = qs.select_for_update(no_key=True)
        return qs.filter(number=ref).first()

    def ref(self, obj: Any) -> str:
        return str(obj.number)

    def title(self, obj: Any) -> str:
        text = " ".join(str(obj.text).split())
        return f"诉求 {obj.number}:{text[:40]}{'…' if len(text) > 40 else ''}"

    def region(self, obj: Any) -> Region:
        region = obj.region or obj.township or region_county()
        if region is None:
            raise ServiceError("no_region", "该诉求没有所属区域,无法评价", status=409)
        return region

    def _primary(self, obj: Any) -> Any:
        from shanzhi.cases.models import AssignmentRole, AssignmentStatus

        primaries = obj.assignments.filter(role=AssignmentRole.PRIMARY).select_related("handler")
        done = primaries.filter(status=AssignmentStatus.DONE).order_by("-finished_at", "-pk").first()
        return done or primaries.order_by("-pk").first()

    def handler(self, obj: Any) -> Handler | None:
        primary = self._primary(obj)
        return primary.handler if primary is not None else None

    def staff(self, obj: Any) -> Staff | None:
        """Whoever reported the primary assignment's result, if they belong to its body."""
        from shanzhi.cases.models import TimelineEvent

        primary = self._primary(obj)
        if primary is None:
            return None
        event = (
            TimelineEvent.objects.filter(case=obj, assignment=primary, action="report")
            .order_by("-at", "-pk")
            .first()
        )
        if event is None:
            return None
        return Staff.objects.filter(user__username=event.actor, handler_id=primary.handler_id).first()

    def is_finished(self, obj: Any) -> bool:
        from shanzhi.cases.models import CaseStatus

        return bool(obj.status == CaseStatus.CLOSED)

    def check_ratable(self, obj: Any) -> None:
        from shanzhi.cases.models import CaseStatus

        if obj.status == CaseStatus.EVALUATED:
            raise ServiceError("already_rated", "该诉求已经评价过,每件只能评价一次", status=409)
        super().check_ratable(obj)

    def rater(self, *, actor: Any, obj: Any, phone: str = "") -> Rater:
        if actor is None:  # the system, e.g. a reply to the rating SMS: the phone must match
            if phone and phone != obj.reporter_phone:
                raise NotFound()
            return Rater(user=obj.reporter, phone=obj.reporter_phone)
        roles = roles_of(user=actor)
        if "resident" in roles:
            if obj.reporter_id != actor.pk:
                raise NotFound()
        else:
            root = jurisdiction_root(user=actor)
            path = obj.region.path if obj.region_id else ""
            if root is None or not path.startswith(root.path):
                raise NotFound()
        if not roles & CASE_RATER_ROLES:
            raise PermissionDenied("只有反映人本人或话务员(代反映人)可以评价诉求")
        return Rater(user=obj.reporter, phone=obj.reporter_phone)

    def on_rated(self, *, actor: Any, obj: Any, level: str, comment: str) -> None:
        from shanzhi.cases import services

        # The case's own side: status 已评价, satisfaction, reopen on 不满意.
        services.case_rated(actor=actor, case=obj, satisfaction=level, comment=comment)

    def url(self, obj: Any) -> str:
        try:
            return reverse("cases:detail", args=[obj.number])
        except NoReverseMatch:
            return ""


register(CaseRateable())
