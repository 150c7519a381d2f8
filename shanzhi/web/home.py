"""What each role's home page leads to, first things first.

One table, read top to bottom: the first matching areas are the role's own work.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Area:
    url_name: str
    title: str
    text: str
    roles: frozenset[str]


AREAS = [
    Area(
        "cockpit:home",
        "数据驾驶舱",
        "受理、在办、超期和三率一屏看清:趋势、类别、网格热点、单位排名、重复诉求,点开即是明细,可导出和打印月报。",
        frozenset({"leader"}),
    ),
    Area(
        "onewindow:window",
        "窗口受理",
        "叫号、受理申请、核验材料清单:齐全即受理并打印回执,缺材料一次性告知;平均等候和办理时长。",
        frozenset({"clerk"}),
    ),
    Area(
        "onewindow:back_office",
        "后台审批",
        "流转到本部门的办件,按承诺时间先后:审查,批准、不予批准(说明理由)或一次性要求补正。",
        frozenset({"approver"}),
    ),
    Area(
        "cases:intake",
        "来电登记",
        "接听 12345 来电,边记录边看智能分拨给出的类别、地点和承办单位,登记后告知来电人编号。",
        frozenset({"operator"}),
    ),
    Area(
        "cases:queue",
        "调度台",
        "待立案、待派遣的诉求:确认或更正类别,派遣主办和协办单位,批量派遣,审批延期和缓办。",
        frozenset({"dispatcher"}),
    ),
    Area(
        "cases:inbox",
        "待办",
        "派给本单位的诉求,按时限先后:签收、退回错派、反馈办理结果、申请延期或缓办。",
        frozenset({"handler"}),
    ),
    Area(
        "gridphone:home",
        "网格通",
        "手机上的今日任务:巡查打卡、随手拍上报、入户走访、现场核查;没有网络时先存在手机上,联网自动发送。",
        frozenset({"gridworker"}),
    ),
    Area(
        "cases:verify_list",
        "待核查",
        "承办单位已反馈办结的诉求,到现场核查:通过即结案,不通过退回返工。",
        frozenset({"gridworker"}),
    ),
    Area(
        "cases:report",
        "我要反映",
        "在线反映身边的问题,可附照片和位置;也可拨打 12345 政务服务便民热线。",
        frozenset({"resident"}),
    ),
    Area(
        "cases:mine",
        "我的诉求",
        "查看反映过的问题办到了哪一步,办结后评价满意度。",
        frozenset({"resident"}),
    ),
    Area(
        "onewindow:catalog",
        "我要办事",
        "查办事指南,在线申请,上传材料,凭受理编号查进度,办结后评价。",
        frozenset({"resident"}),
    ),
    Area(
        "onewindow:mine",
        "我的办件",
        "在线申请、窗口办理和“一件事”的办理进度,补正和评价。",
        frozenset({"resident"}),
    ),
    Area(
        "onewindow:assisted",
        "帮办代办",
        "为老年人、残疾人代为申请(记录本人同意),或预约上门帮办。",
        frozenset({"clerk", "gridworker"}),
    ),
    Area(
        "cases:list",
        "案卷查询",
        "管辖范围内的全部诉求:按状态、类别、乡镇、渠道筛选,查看办理过程和时限。",
        frozenset({"leader", "supervisor", "dispatcher", "operator", "admin"}),
    ),
    Area(
        "ratings:reports",
        "办不成事",
        "群众反映的“办不成事”直达督查:1 个工作日内响应、5 个工作日内解决,超时自动升级。",
        frozenset({"supervisor"}),
    ),
    Area(
        "ratings:rectifications",
        "差评整改",
        "“不满意”评价的回访、15 个工作日内整改和结果告知;对恶意差评可提出申诉。",
        frozenset({"supervisor", "leader", "handler"}),
    ),
    Area(
        "ratings:rankings",
        "满意度排名",
        "按责任人统计的月度满意度排名,末位谈话培训、连续末位调岗建议(仅督查可见)。",
        frozenset({"supervisor"}),
    ),
    Area(
        "ratings:appeals",
        "申诉裁定",
        "责任单位对恶意差评的申诉:成立的不计入排名,不成立的继续整改。",
        frozenset({"supervisor"}),
    ),
    Area(
        "onewindow:overdue",
        "超期办件",
        "超过承诺办结时间的办件:到期自动督办,超过一倍时限报县级督办。",
        frozenset({"supervisor", "leader"}),
    ),
    Area(
        "ratings:report_form",
        "反映办不成事",
        "在窗口、网上或电话里有事没办成,告诉督查人员,帮您办成。",
        frozenset({"resident"}),
    ),
    Area(
        "grid:map",
        "我的网格",
        "查看所负责网格的范围、所属村社区和网格员,定位一个地点属于哪个网格。",
        frozenset({"gridworker"}),
    ),
    Area(
        "duties:list",
        "权责清单",
        "乡镇履职事项清单与村级协助事项清单:查看、比较版本、导入导出,核对事项是否在清单内。",
        frozenset({"admin", "leader", "supervisor", "dispatcher", "handler"}),
    ),
    Area(
        "grid:map",
        "网格地图",
        "全县网格一张图:各乡镇、村社区、网格的范围与网格员。",
        frozenset({"admin", "leader", "supervisor", "dispatcher"}),
    ),
    Area(
        "web:org_tree",
        "组织架构",
        "县、乡镇街道、村社区三级区域,各级承办单位、物业企业服务的小区与人员。",
        frozenset({"admin", "leader", "supervisor", "dispatcher", "auditor", "operator"}),
    ),
    Area(
        "audit:status",
        "审计日志",
        "防篡改审计日志的最新签名树头,一键校验全部记录。",
        frozenset({"admin", "auditor"}),
    ),
    Area(
        "notify:inbox",
        "我的消息",
        "派单、督办、整改结果等站内消息,未读在前。",
        frozenset({"resident", "operator", "dispatcher", "handler", "gridworker", "clerk", "approver"})
        | frozenset({"supervisor", "leader", "auditor", "admin"}),
    ),
    Area("admin:index", "后台管理", "维护区域、承办单位、人员与角色、目录数据。", frozenset({"admin"})),
]


def work_areas(*, roles: set[str]) -> list[dict[str, str]]:
    seen: set[str] = set()
    out = []
    for area in AREAS:
        if not (roles & area.roles) or area.url_name in seen:
            continue
        try:
            url = reverse(area.url_name)
        except NoReverseMatch:
            continue
        seen.add(area.url_name)
        out.append({"url": url, "title": area.title, "text": area.text})
    return out
