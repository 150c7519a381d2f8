"""Reads of warnings: those that touch the viewer's jurisdiction (their region holds the warning,
or the warning reaches one of their grids); anything else is a 404. A grid worker reads only the
warnings that reach the grids they serve (GridWorker rows, narrower than their region), since they
carry those to the households; reading is all they do with a warning."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from shanzhi.core.errors import NotFound
from shanzhi.core.models import Role
from shanzhi.core.selectors import has_role, jurisdiction_root, staff_of
from shanzhi.emergency.models_warnings import Warning, WarningGrid, WarningState
from shanzhi.grid.models import GridWorker

WARNING_VIEW_ROLES = frozenset({Role.LEADER, Role.ADMIN, Role.DISPATCHER, Role.SUPERVISOR})
# Who may open the warning pages at all: the above over their region, grid workers over their grids.
WARNING_READ_ROLES = WARNING_VIEW_ROLES | {Role.GRIDWORKER}


def grid_scope(*, user: Any) -> list[int] | None:
    """The grids whose part of a warning the user sees: None for every grid (those over a region),
    else the grids a grid worker serves (possibly none)."""
    if has_role(user=user, roles=WARNING_VIEW_ROLES):
        return None
    if not has_role(user=user, roles={Role.GRIDWORKER}):
        return []
    staff = staff_of(user=user)
    if staff is None:
        return []
    return list(GridWorker.objects.filter(staff=staff).values_list("grid_id", flat=True))


def warning_list(*, user: Any, state: str = "", q: str = "") -> QuerySet[Warning]:
    grids = grid_scope(user=user)
    qs = Warning.objects.select_related("region", "feed")
    if grids is None:
        root = jurisdiction_root(user=user)
        if root is None:
            return Warning.objects.none()
        reaches = WarningGrid.objects.filter(
            warning=OuterRef("pk"), grid__village__path__startswith=root.path
        )
        qs = qs.filter(Q(region__path__startswith=root.path) | Exists(reaches))
    elif grids:
        qs = qs.filter(Exists(WarningGrid.objects.filter(warning=OuterRef("pk"), grid_id__in=grids)))
    else:
        return Warning.objects.none()
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
