"""Demo incident types (台风, 洪涝, 疫情, 燃气泄漏, 火灾) with checklists a grid worker can act on.

`load()` creates the missing ones and leaves edited ones alone, so a second run adds nothing.
"""

from __future__ import annotations

import sys
from typing import TextIO

from shanzhi.emergency import demo_warnings
from shanzhi.emergency.incidents import incident_type_save
from shanzhi.emergency.models import IncidentType

# code, name, task hours, checklist, notify text ("" = the platform's default wording)
TYPES: list[tuple[str, str, int, list[str], str]] = [
    (
        "typhoon",
        "台风",
        2,
        [
            "逐户上门查看独居老人、卧床、残疾等重点关爱户,确认有人照看",
            "危旧房、简易棚房、临时工棚内人员全部转移到避灾安置点",
            "劝离海边、河边、山塘水库边的群众和游客",
            "加固或拆除户外广告牌、店招、雨棚和阳台花盆",
            "清理屋顶、窗台等高处易坠落物品",
            "巡查低洼路段、地下车库、隧道,设置警戒并疏导车辆",
            "检查避灾安置点的饮用水、食品、被褥和照明",
            "统计转移人数和需帮扶人员,报告物资缺口",
        ],
        "【台风防御】{title}:请于 {due} 前完成{grid}的台风防御处置(涉及 {households} 户),"
        "重点关爱户必须上门,危房人员必须转移。",
    ),
    (
        "flood",
        "洪涝",
        2,
        [
            "上门通知沿河、低洼地带住户做好转移准备,重点关爱户优先",
            "转移危旧房、地质灾害隐患点和低洼处的人员到安置点",
            "巡查山塘、水库、堤防和排涝泵站,发现险情立即上报",
            "封闭被淹道路、漫水桥和涵洞,设置警示标志并安排值守",
            "检查地下室、地下车库积水,切断受淹区域电源",
            "清点转移人数,确认无人滞留",
            "统计需帮扶人员和救灾物资需求",
        ],
        "",
    ),
    (
        "epidemic",
        "疫情",
        4,
        [
            "逐户排查近期外地来返人员和有发热、咳嗽等症状的人员",
            "上门了解独居老人、慢性病患者、孕产妇的用药和就医需求",
            "张贴防控公告,告知核酸检测、疫苗接种点位和时间",
            "对需居家健康监测的人员落实包联责任人和每日随访",
            "协助组织生活物资配送,登记有困难的家庭",
            "检查小区、农贸市场、公共厕所的环境消杀",
            "汇总健康状况和需帮扶人员名单上报",
        ],
        "",
    ),
    (
        "gas_leak",
        "燃气泄漏",
        1,
        [
            "协助划定警戒区,疏散警戒区内全部人员",
            "逐户敲门确认无人滞留,行动不便人员专人协助撤离",
            "提醒群众禁止使用明火、开关电器和拨打手机",
            "引导车辆绕行,维持警戒线秩序",
            "配合燃气公司和消防关阀、通风、检测",
            "登记临时安置人员和需帮扶人员",
        ],
        "【燃气泄漏】{title}:请立即赶赴{grid},{due} 前完成疏散排查(涉及 {households} 户),注意自身安全。",
    ),
    (
        "fire",
        "火灾",
        1,
        [
            "配合消防疏散着火建筑及相邻住户,优先协助老人、儿童和行动不便人员",
            "清点撤离人员,核实是否有人员被困并报告消防",
            "保持消防通道畅通,挪开占道车辆和杂物",
            "安抚受灾群众,登记财产损失和临时安置需求",
            "排查周边住户的电动车充电和用火用电隐患",
            "统计需帮扶人员和物资需求",
        ],
        "",
    ),
]


def load(*, stdout: TextIO | None = None) -> None:
    out = stdout or sys.stdout
    created = 0
    for code, name, hours, checklist, notify_text in TYPES:
        if IncidentType.objects.filter(code=code).exists():
            continue
        incident_type_save(
            actor=None, code=code, name=name, checklist=checklist, task_hours=hours, notify_text=notify_text
        )
        created += 1
    out.write(f"  应急事件类型:新增 {created} 个,共 {IncidentType.objects.count()} 个\n")


def load_demo(*, stdout: TextIO) -> None:
    """The name `shanzhi demo load` calls."""
    load(stdout=stdout)
    demo_warnings.load(stdout=stdout)  # not in load(): the tests' worlds call that for the types
