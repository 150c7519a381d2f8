"""好差评 for applications: the ratings adapter, registered from OnewindowConfig.ready.

Finished = approved, refused or finished (a bundle parent once all its parts are done). The
rater is the applicant: their account, or their phone (the public status page and SMS replies
rate as the system with the phone, which must match); a window clerk in the area may enter the
rating from the window's rating device on the applicant's behalf. The unit answering for it is
the department it was routed to; the staff member, whoever decided it (else whoever took it in).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.core.models import Handler, Region, Staff
from shanzhi.core.selectors import roles_of
from shanzhi.onewindow.application_selectors import can_see
from shanzhi.onewindow.models_applications import RATABLE_STATUSES, Application
from shanzhi.ratings.registry import Rateable, Rater

RATER_ROLES = frozenset({"resident", "clerk", "admin"})


class ApplicationRateable(Rateable):
    obj_type = "application"
    label = "办件"

    def find(self, *, ref: str, for_update: bool = False) -> Model | None:
        qs = Application.objects.select_related("item", "bundle", "region", "department")
        if for_update:
            qs = qs.select_for_update(of=("self",))
        return qs.filter(number=ref.upper()).first()

    def ref(self, obj: Any) -> str:
        return str(obj.number)

    def title(self, obj: Any) -> str:
        return f"办件 {obj.number}:{obj.title}"

    def region(self, obj: Any) -> Region:
        return obj.region

    def handler(self, obj: Any) -> Handler | None:
        return obj.department

    def staff(self, obj: Any) -> Staff | None:
        user_id = obj.decided_by_id or obj.clerk_id
        return Staff.objects.filter(user_id=user_id).first() if user_id else None

    def is_finished(self, obj: Any) -> bool:
        return obj.status in RATABLE_STATUSES

    def rater(self, *, actor: Any, obj: Any, phone: str = "") -> Rater:
        if actor is None:  # the status page or an SMS reply: the applicant's phone must match
            if not phone or phone != obj.applicant_phone:
                raise NotFound("办件不存在或手机号不符")
            return Rater(user=obj.applicant_user, phone=obj.applicant_phone)
        if not can_see(user=actor, app=obj):
            raise NotFound()
        roles = roles_of(user=actor)
        if obj.applicant_user_id == actor.pk:
            return Rater(user=actor, phone=obj.applicant_phone)
        if not roles & (RATER_ROLES - {"resident"}):
            raise PermissionDenied("只有申请人本人(或窗口代为录入)可以评价办件")
        return Rater(user=obj.applicant_user, phone=obj.applicant_phone)

    def on_rated(self, *, actor: Any, obj: Any, level: str, comment: str) -> None:
        from shanzhi.onewindow.applications import audit, event
        from shanzhi.ratings.models import Level

        if obj.satisfaction:
            raise ServiceError("already_rated", "该办件已经评价过,每件只能评价一次", status=409)
        obj.satisfaction = level
        obj.rated_at = timezone.now()
        obj.save(update_fields=["satisfaction", "rated_at", "updated_at"])
        event(obj, actor=actor, action="rate", note=f"{Level(level).label} {comment}".strip())
        audit(obj, actor=actor, action="rate")

    def url(self, obj: Any) -> str:
        try:
            return reverse("onewindow:application", args=[obj.number])
        except NoReverseMatch:
            return ""
