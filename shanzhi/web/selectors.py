"""Reads that shape the shared pages: the org tree and the home page summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from shanzhi.core.models import Estate, Handler, Region, Staff
from shanzhi.core.selectors import in_jurisdiction, jurisdiction_root


@dataclass
class TreeNode:
    region: Region
    handlers: list[Handler] = field(default_factory=list)
    estates: list[Estate] = field(default_factory=list)
    staff_count: int = 0
    children: list[TreeNode] = field(default_factory=list)


def org_tree(*, user: Any) -> TreeNode | None:
    """The user's subtree with handlers, estates and staff counts, in four queries."""
    root = jurisdiction_root(user=user)
    if root is None:
        return None
    regions = list(in_jurisdiction(Region.objects.all(), user=user, region_field="").order_by("path"))
    nodes = {r.pk: TreeNode(region=r) for r in regions}
    for handler in in_jurisdiction(Handler.objects.select_related("type"), user=user):
        nodes[handler.region_id].handlers.append(handler)
    for estate in in_jurisdiction(Estate.objects.select_related("property_company"), user=user):
        nodes[estate.region_id].estates.append(estate)
    counts = in_jurisdiction(Staff.objects.all(), user=user).values("region").annotate(n=Count("id"))
    for row in counts:
        nodes[row["region"]].staff_count = row["n"]
    for region in regions:
        if region.pk != root.pk and region.parent_id in nodes:
            nodes[region.parent_id].children.append(nodes[region.pk])
    return nodes[root.pk]


def jurisdiction_summary(*, user: Any) -> dict[str, int]:
    regions = in_jurisdiction(Region.objects.all(), user=user, region_field="")
    return {
        "townships": regions.filter(level="township").count(),
        "villages": regions.filter(level="village").count(),
        "handlers": in_jurisdiction(Handler.objects.all(), user=user).count(),
        "staff": in_jurisdiction(Staff.objects.all(), user=user).count(),
    }
