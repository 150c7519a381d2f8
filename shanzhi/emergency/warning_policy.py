"""What a warning sets in motion, decided from its CAP fields: the response level, the defence
checklist for its kind of event, and how soon grid tasks are due. One readable table each.

- high (severity Extreme or Severe): SMS to households, a visit list for those without a phone,
  a defence task per grid with the checklist pushed to the cadres, and an offer to the leader to
  declare an incident over the same area.
- medium (Moderate; or Unknown with urgency Immediate/Expected): the same without the offer.
- low (Minor; Unknown otherwise; any urgency Past): a notice to the cadres only.

Residents hear only of alerts with status Actual and scope Public; Test, Exercise, System and
Draft messages are recorded and targeted (the counts show what would be reached) but nobody is
told; Restricted and Private alerts reach the cadres and grids, not the residents' phones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITY_LABELS = {
    "Extreme": "特别严重",
    "Severe": "严重",
    "Moderate": "较重",
    "Minor": "一般",
    "Unknown": "未知",
}
URGENCY_LABELS = {
    "Immediate": "立即",
    "Expected": "即将",
    "Future": "未来",
    "Past": "已过去",
    "Unknown": "未知",
}
CERTAINTY_LABELS = {
    "Observed": "已发生",
    "Likely": "很可能",
    "Possible": "可能",
    "Unlikely": "不太可能",
    "Unknown": "未知",
}
STATUS_LABELS = {"Actual": "正式", "Exercise": "演练", "System": "系统", "Test": "测试", "Draft": "草稿"}
MSG_TYPE_LABELS = {"Alert": "发布", "Update": "更新", "Cancel": "撤销", "Ack": "确认", "Error": "错误"}
LEVEL_LABELS = {HIGH: "高(严重/特别严重)", MEDIUM: "中(较重)", LOW: "低(一般/已过去)"}

# Order matters: a typhoon brings rain, a flood warning may mention a storm.
EVENT_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("typhoon", ("台风", "颱風", "热带气旋", "熱帶氣旋", "typhoon", "tropical cyclone", "tropical storm",
                 "hurricane", "ciclón", "ciclon", "tormenta tropical")),
    ("earthquake", ("地震", "earthquake", "seismic", "quake", "sismo")),
    ("flood", ("洪", "内涝", "水库", "水庫", "泄洪", "洩洪", "flood", "inundación")),
    ("rainstorm", ("暴雨", "强降雨", "强降水", "雷雨", "雷暴", "rainstorm", "heavy rain", "thunderstorm",
                   "lluvia")),
    ("heat", ("高温", "高溫", "heat", "calor")),
)  # fmt: skip

EVENT_LABELS = {
    "typhoon": "台风",
    "flood": "洪涝",
    "rainstorm": "暴雨",
    "heat": "高温",
    "earthquake": "地震",
    "generic": "通用",
}

CHECKLISTS: dict[str, list[str]] = {
    "typhoon": [
        "转移危旧房、临时工棚、低洼地带和河边人员,落实安置点",
        "加固或拆除户外广告牌、招牌、临时搭建物和脚手架",
        "巡查低洼路段、涵洞和地下车库,必要时封闭并设警示",
        "停止户外高空和水上作业,提醒群众不要外出",
        "清理排水口杂物,检查排水设施",
        "逐户告知独居老人、残疾人、卧床人员等重点关爱户,落实结对帮扶人",
        "备好照明、饮用水、食品、沙袋等应急物资,值班人员在岗",
    ],
    "flood": [
        "转移河道沿岸、低洼易涝区和山洪地质灾害隐患点人员",
        "巡查堤防、山塘水库、桥梁和涵闸,发现险情立即上报",
        "封闭涉水路段和漫水桥,设置警示标志",
        "备好沙袋、抽水泵、救生衣等防汛物资",
        "逐户告知重点关爱户,落实转移帮扶人",
    ],
    "rainstorm": [
        "巡查低洼路段、下穿通道、地下车库和易涝点,必要时封闭",
        "清理排水沟渠和雨水口,检查泵站运行",
        "排查地质灾害隐患点和危旧房,必要时转移人员",
        "暂停户外作业和工地深基坑作业",
        "告知重点关爱户减少外出,落实帮扶人",
    ],
    "heat": [
        "逐户探访独居老人、卧床人员等重点关爱户,确认降温和饮水条件",
        "开放避暑纳凉点,备好饮用水和防暑药品",
        "提醒户外作业单位避开高温时段",
        "巡查用电负荷大的场所和线路,防范火灾",
    ],
    "earthquake": [
        "组织群众到空旷地带避险,远离危旧房、高墙和电线杆",
        "排查房屋受损情况,危房立即停用并设警示",
        "查明有无人员被困或受伤,及时上报并组织救援",
        "检查燃气、电力、供水设施,发现泄漏立即关闭阀门",
        "开放应急避难场所,安置受灾群众",
    ],
    "generic": [
        "向网格内群众传达预警内容和防御指引",
        "排查网格内风险隐患点并上报",
        "逐户告知重点关爱户,落实帮扶人",
        "值班人员在岗,保持通讯畅通",
    ],
}

VISIT_CHECKLIST = [
    "逐户上门或电话告知预警内容和防御指引",
    "重点关爱户落实帮扶人,必要时协助转移",
    "在任务中填写已告知户数并上报",
]

# The incident type a leader is offered for each kind of event (the page lets them pick another).
INCIDENT_TYPE_FOR = {"typhoon": "typhoon", "flood": "flood", "rainstorm": "flood", "earthquake": "earthquake"}

# How soon the grids must act, by CAP urgency.
DUE_HOURS = {"Immediate": 1, "Expected": 3, "Future": 6, "Unknown": 3, "Past": 3}
MIN_DUE = dt.timedelta(minutes=30)


def event_kind(*, event: str, headline: str = "", codes: tuple[str, ...] = ()) -> str:
    text = " ".join([event, headline, *codes]).lower()
    for kind, words in EVENT_KEYWORDS:
        if any(word in text for word in words):
            return kind
    return "generic"


def response_level(*, severity: str, urgency: str) -> str:
    if urgency == "Past":
        return LOW
    if severity in ("Extreme", "Severe"):
        return HIGH
    if severity == "Moderate" or (severity == "Unknown" and urgency in ("Immediate", "Expected")):
        return MEDIUM
    return LOW


@dataclass(frozen=True)
class Actions:
    """What one warning does, after its status and scope are taken into account."""

    sms: bool
    visits: bool
    defence_tasks: bool
    cadre_notice: bool
    leader_offer: bool


def actions_for(*, level: str, status: str, scope: str) -> Actions:
    if status != "Actual":
        return Actions(False, False, False, False, False)
    acting = level in (HIGH, MEDIUM)
    public = scope == "Public"
    return Actions(
        sms=acting and public,
        visits=acting and public,
        defence_tasks=acting,
        cadre_notice=True,
        leader_offer=level == HIGH,
    )


def due_at(*, urgency: str, now: dt.datetime, expires: dt.datetime | None) -> dt.datetime:
    due = now + dt.timedelta(hours=DUE_HOURS.get(urgency, 3))
    if expires is not None and now + MIN_DUE < expires < due:
        due = expires
    return due
