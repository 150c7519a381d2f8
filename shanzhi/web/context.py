"""Navigation by role, available to every template as `nav`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from shanzhi.core.selectors import roles_of, staff_of

# (url name, label, roles that see it; empty = every signed-in user)
NAV_ITEMS: list[tuple[str, str, frozenset[str]]] = [
    ("web:home", "工作台", frozenset()),
    ("cockpit:home", "驾驶舱", frozenset({"leader", "supervisor", "dispatcher", "admin"})),
    ("emergency:list", "应急指挥", frozenset({"leader", "admin", "supervisor", "dispatcher"})),
    ("emergency:warnings", "预警", frozenset({"leader", "admin", "supervisor", "dispatcher"})),
    ("onewindow:catalog", "办事指南", frozenset({"resident", "clerk", "operator", "approver"})),
    ("onewindow:window", "窗口受理", frozenset({"clerk"})),
    ("onewindow:back_office", "后台审批", frozenset({"approver"})),
    ("onewindow:mine", "我的办件", frozenset({"resident"})),
    ("onewindow:assisted", "帮办代办", frozenset({"gridworker"})),
    ("onewindow:overdue", "超期办件", frozenset({"supervisor", "leader"})),
    ("cases:intake", "来电登记", frozenset({"operator"})),
    ("cases:queue", "调度台", frozenset({"dispatcher"})),
    ("cases:inbox", "待办", frozenset({"handler"})),
    ("gridphone:home", "网格通", frozenset({"gridworker"})),
    ("cases:verify_list", "待核查", frozenset({"gridworker"})),
    ("cases:report", "我要反映", frozenset({"resident"})),
    ("cases:mine", "我的诉求", frozenset({"resident"})),
    ("cases:list", "案卷查询", frozenset({"leader", "supervisor", "dispatcher", "operator", "admin"})),
    ("web:org_tree", "组织架构", frozenset({"admin", "leader", "supervisor", "dispatcher", "auditor"})),
    ("duties:list", "权责清单", frozenset({"admin", "leader", "supervisor", "dispatcher", "handler"})),
    ("grid:map", "网格地图", frozenset({"admin", "leader", "supervisor", "dispatcher", "gridworker"})),
    ("grid:households", "住户名册", frozenset({"admin", "leader", "supervisor", "dispatcher", "gridworker"})),
    ("audit:status", "审计日志", frozenset({"admin", "auditor"})),
    ("ratings:rectifications", "好差评", frozenset({"supervisor", "leader", "handler", "admin"})),
    ("ratings:reports", "办不成事", frozenset({"supervisor", "admin"})),
    ("notify:inbox", "消息", frozenset()),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], "me": None}
    roles = roles_of(user=user)
    items = []
    for name, label, allowed in NAV_ITEMS:
        if allowed and not (roles & allowed):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # an app not mounted in this deployment
            continue
        items.append({"url": url, "label": label, "active": request.path == url})
    return {"nav": items, "me": staff_of(user=user), "my_roles": sorted(roles)}
