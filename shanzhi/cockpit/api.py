"""/api/v1/cockpit/: the tiles (`kpis`) and every panel of `panels.PANELS`, filtered by the same
query parameters as the pages (start, end, region, grid, category, channel, handler)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from shanzhi.cockpit import panels
from shanzhi.cockpit.filters import CockpitFilter, _bad, filter_parse
from shanzhi.core.errors import NotFound, PermissionDenied
from shanzhi.core.selectors import has_role

router = Router(tags=["cockpit"])
ROLES = frozenset({"leader", "supervisor", "dispatcher", "admin", "auditor"})


def _filter(request: HttpRequest) -> CockpitFilter:
    if not has_role(user=request.user, roles=ROLES):
        raise PermissionDenied("只有领导、督查、调度、审计人员和管理员可以查看驾驶舱")
    params = {k: str(v) for k, v in request.GET.items()}
    return filter_parse(user=request.user, params=params, today=timezone.localdate())


def _limit(raw: str) -> int:
    """How many repeat-complaint rows to return (the page asks for the top few hundred)."""
    if not raw.isdigit() or not 1 <= int(raw) <= panels.REPEAT_LIST_MAX:
        raise _bad(f"limit 应为 1 到 {panels.REPEAT_LIST_MAX} 之间的整数", "limit")
    return int(raw)


@router.get("/kpis", summary="指标卡")
def kpis(request: HttpRequest) -> dict[str, Any]:
    f = _filter(request)
    return panels.kpis(user=request.user, f=f, now=timezone.now())


@router.get("/{panel}", summary="图表数据")
def panel(request: HttpRequest, panel: str) -> dict[str, Any]:
    if panel not in panels.PANELS:
        raise NotFound("没有这个图表")
    f = _filter(request)
    extra: dict[str, Any] = {}
    if panel == "hotspots":
        metric = request.GET.get("metric", "intake")
        if metric not in ("intake", "overdue"):
            raise _bad("热力图指标应为 intake 或 overdue", "metric")
        extra["metric"] = metric
    if panel == "repeat_complaints" and "limit" in request.GET:
        extra["limit"] = _limit(request.GET["limit"])
    return panels.panel_call(panel, user=request.user, f=f, now=timezone.now(), **extra)
