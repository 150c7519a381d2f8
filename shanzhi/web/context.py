"""Navigation by role, available to every template as `nav` (flat) and `nav_tree` (grouped).

A role with a short list (at most NAV_FLAT_MAX links) gets it as one row. A longer one (the
administrator's, a leader's, a dispatcher's) is grouped under a few disclosure menus (web/nav.js):
the home page, the role's own main work (NAV_PINNED) and the messages stay top-level links, and a
group that would hold a single link is shown as that link. A kiosk account sees only the terminal."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from shanzhi.core.models import Role
from shanzhi.core.selectors import roles_of, staff_of

# The groups of a long navigation, in order.
NAV_GROUPS: list[tuple[str, str]] = [
    ("cases", "工单"),
    ("services", "政务服务"),
    ("grid", "网格与应急"),
    ("data", "数据"),
    ("system", "系统"),
]
NAV_FLAT_MAX = 7

# Who oversees the county's work: the cockpit, emergencies, the case files, the grid.
OVERSIGHT = frozenset({"admin", "leader", "supervisor", "dispatcher"})

# (url name, label, roles that see it (empty = every signed-in user but a kiosk), group; "" = top)
NAV_ITEMS: list[tuple[str, str, frozenset[str], str]] = [
    ("web:home", "工作台", frozenset(), ""),
    ("onewindow:kiosk", "自助服务", frozenset({"kiosk"}), ""),
    ("cockpit:home", "驾驶舱", OVERSIGHT, "data"),
    ("emergency:list", "应急指挥", OVERSIGHT, "grid"),
    # Grid workers read their grids' warnings from 网格通's home: an 8th link would group their menu.
    ("emergency:warnings", "预警", OVERSIGHT, "grid"),
    ("onewindow:catalog", "办事指南", frozenset({"resident", "clerk", "operator", "approver"}), "services"),
    ("onewindow:window", "窗口受理", frozenset({"clerk"}), "services"),
    ("onewindow:back_office", "后台审批", frozenset({"approver"}), "services"),
    ("onewindow:mine", "我的办件", frozenset({"resident"}), "services"),
    ("onewindow:assisted", "帮办代办", frozenset({"gridworker"}), "services"),
    ("onewindow:overdue", "超期办件", frozenset({"supervisor", "leader"}), "services"),
    ("cases:intake", "来电登记", frozenset({"operator"}), "cases"),
    ("cases:queue", "调度台", frozenset({"dispatcher"}), "cases"),
    ("cases:inbox", "待办", frozenset({"handler"}), "cases"),
    ("gridphone:home", "网格通", frozenset({"gridworker"}), "grid"),
    ("cases:verify_list", "待核查", frozenset({"gridworker"}), "cases"),
    ("cases:report", "我要反映", frozenset({"resident"}), "cases"),
    ("cases:mine", "我的诉求", frozenset({"resident"}), "cases"),
    ("cases:list", "案卷查询", OVERSIGHT | {"operator"}, "cases"),
    ("web:org_tree", "组织架构", OVERSIGHT | {"auditor"}, "system"),
    ("duties:list", "权责清单", OVERSIGHT | {"handler"}, "system"),
    ("grid:map", "网格地图", OVERSIGHT | {"gridworker"}, "grid"),
    ("grid:households", "住户名册", OVERSIGHT | {"gridworker"}, "grid"),
    ("audit:status", "审计日志", frozenset({"admin", "auditor"}), "system"),
    ("ratings:rectifications", "好差评", frozenset({"supervisor", "leader", "handler", "admin"}), "data"),
    ("ratings:reports", "办不成事", frozenset({"supervisor", "admin"}), "data"),
    ("admin:index", "后台管理", frozenset({"admin"}), "system"),
    ("notify:inbox", "消息", frozenset(), ""),
]

# A role's own main work stays one click away even when its navigation is grouped.
NAV_PINNED: dict[str, frozenset[str]] = {
    "leader": frozenset({"cockpit:home", "emergency:list"}),
    "dispatcher": frozenset({"cases:queue"}),
    "supervisor": frozenset({"ratings:rectifications", "onewindow:overdue"}),
}


def _visible(roles: set[str], allowed: frozenset[str]) -> bool:
    if Role.KIOSK in roles:  # a terminal: only what is meant for it
        return Role.KIOSK in allowed
    return not allowed or bool(roles & allowed)


def nav_items(*, roles: set[str], path: str) -> list[dict[str, Any]]:
    """The links `roles` may follow, in order, each with its group and whether it is this page."""
    items = []
    for name, label, allowed, group in NAV_ITEMS:
        if not _visible(roles, allowed):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # an app not mounted in this deployment
            continue
        items.append({"name": name, "url": url, "label": label, "group": group, "active": path == url})
    return items


def nav_tree(*, items: list[dict[str, Any]], roles: set[str]) -> list[dict[str, Any]]:
    """Top-level entries: links as they are, or groups ({"label", "id", "links", "active"})."""
    if len(items) <= NAV_FLAT_MAX:
        return list(items)
    pinned = frozenset().union(*(NAV_PINNED.get(r, frozenset()) for r in roles))
    members: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in NAV_GROUPS}
    for item in items:
        if item["group"] and item["name"] not in pinned:
            members[item["group"]].append(item)
    tree: list[dict[str, Any]] = []
    placed: set[str] = set()
    # Home and pinned links first, then the groups, then the rest of the top level (messages).
    for item in items:
        if item["name"] in pinned or (not item["group"] and item["name"] == "web:home"):
            tree.append(item)
            placed.add(item["name"])
    for key, label in NAV_GROUPS:
        group = members[key]
        if len(group) == 1:
            tree.append(group[0])
        elif group:
            tree.append(
                {
                    "label": label,
                    "id": f"nav-{key}",
                    "links": group,
                    "active": any(i["active"] for i in group),
                }
            )
        placed.update(i["name"] for i in group)
    tree.extend(item for item in items if item["name"] not in placed)
    return tree


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], "nav_tree": [], "me": None, "kiosk_mode": False}
    roles = roles_of(user=user)
    items = nav_items(roles=roles, path=request.path)
    return {
        "nav": items,
        "nav_tree": nav_tree(items=items, roles=roles),
        "me": staff_of(user=user),
        "my_roles": sorted(roles),
        "kiosk_mode": Role.KIOSK in roles,
    }
