"""Reads of warnings: those that touch the viewer's jurisdiction (their region holds the warning,
or the warning reaches one of their grids); anything else is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from shanzhi.core.errors import NotFound
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role, jurisdiction_root
from shanzhi.emergency.models_warnings import Warning, WarningGrid, WarningState

WARNING_VIEW_ROLES = frozenset({Role.LEADER, Role.ADMIN, Role.DISPATCHER, Role.SUPERVISOR})


def warning_list(*, user: Any, state: str = "", q: str = "") -> QuerySet[Warning]:
    if not has_role(user=user, roles=WARNING_VIEW_ROLES):
        return Warning.objects.none()
    root = jurisdiction_root(user=user)
    if root is None:
        return Warning.objects.none()
    reaches = WarningGrid.objects.filter(warning=OuterRef("pk"), grid__village__path__startswith=root.path)
    qs = Warning.objects.select_related("region", "feed").filter(
        Q(region__path__startswith=root.path) | Exists(reaches)
    )
    if state in WarningState.values:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(Q(headline__icontains=q[:100]) | Q(event__icontains=q[:100]) | Q(identifier=q[:255]))
    return qs.order_by("-sent", "-id")


def warning_get(*, user: Any, pk: int) -> Warning:
    warning = warning_list(user=user).filter(pk=pk).first()
    if warning is None:
        raise NotFound("预警不存在或不在您的管辖范围内")
    return warning


def warning_cap(*, warning: Warning) -> bytes:
    """The warning as CAP 1.2 XML: its stored message re-written in 1.2 form (a CAP 1.1 message
    comes out as 1.2; a signature is not carried over, since it signed other bytes)."""
    from shanzhi.emergency.cap import alert_to_xml, parse_cap

    return alert_to_xml(parse_cap(warning.raw_xml.encode("utf-8")))
