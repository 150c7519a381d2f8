"""Helpers for writing the demo catalogue compactly: one `item(...)` call per service item and
the documents that recur across items, named the same everywhere so bundles de-duplicate them.

The items are written for the fictional 善水县 (division 331199, area code 0578); phone numbers
and windows are invented, the legal bases are the real national laws and regulations.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from shanzhi.onewindow.catalog import TYPE_LETTERS, ItemSpec, MaterialSpec, StepSpec
from shanzhi.onewindow.models import Channel, ItemType, MaterialForm

COUNTY = "331199"

FORMS = {
    "原件": MaterialForm.ORIGINAL,
    "复印件": MaterialForm.COPY,
    "原件及复印件": MaterialForm.ORIGINAL_AND_COPY,
    "电子件": MaterialForm.ELECTRONIC,
}
TYPES = {
    "许可": ItemType.LICENSING,
    "确认": ItemType.CONFIRMATION,
    "给付": ItemType.PAYMENT,
    "奖励": ItemType.REWARD,
    "裁决": ItemType.ADJUDICATION,
    "其他": ItemType.OTHER_POWER,
    "服务": ItemType.PUBLIC_SERVICE,
}
CHANNELS = {"窗口": Channel.WINDOW, "网办": Channel.ONLINE, "自助": Channel.KIOSK, "帮办": Channel.ASSISTED}

# Departments (core.Handler codes) and their enquiry lines.
PHONES = {
    "hrss": "0578-8612333",
    "medical_insurance": "0578-8613456",
    "civil_affairs": "0578-8614120",
    "police": "0578-8615110",
    "health": "0578-8616120",
    "disabled_persons": "0578-8617211",
    "housing": "0578-8618301",
    "housing_fund": "0578-8618312",
    "market": "0578-8619315",
    "agriculture": "0578-8620361",
    "urban_mgmt": "0578-8621319",
    "environment": "0578-8622369",
    "water": "0578-8623331",
}

CENTRE = "县政务服务中心"
TOWNSHIP_CENTRES = "各乡镇(街道)便民服务中心"


def mat(
    name: str,
    form: str = "原件",
    copies: int = 1,
    *,
    when: str = "",
    shared: str = "",
    notes: str = "",
    key: str = "",
) -> MaterialSpec:
    """A material line: `when` makes it conditional, `shared` makes it 免提交 from that source."""
    return MaterialSpec(
        name=name, form=FORMS[form], copies=copies, condition=when, shared_source=shared, notes=notes, key=key
    )


def item(
    basic: int,
    name: str,
    *,
    kind: str,
    dept: str,
    theme: str,
    summary: str,
    applicants: str,
    basis: str,
    conditions: str,
    steps: Sequence[str],
    promised: int,
    statutory: int | None,
    materials: Sequence[MaterialSpec],
    window: str,
    visits: int = 1,
    fee: str = "不收费",
    amount: str = "0",
    channels: str = "窗口 网办 帮办",
    keywords: Sequence[str] = (),
    form: str = "",
    note: str = "",
    sub: int = 0,
) -> ItemSpec:
    """One catalogue item. `basic` is the 5-digit main item number; `steps` are "名称:说明"."""
    item_type = TYPES[kind]
    basic_code = f"{TYPE_LETTERS[item_type]}{basic:05d}{sub:03d}"
    return ItemSpec(
        code=f"{COUNTY}-{basic_code}-01",
        basic_code=basic_code,
        name=name,
        item_type=item_type,
        theme=theme,
        summary=summary,
        applicants=applicants,
        legal_basis=basis,
        conditions=conditions,
        steps=tuple(StepSpec(*s.split(":", 1)) if ":" in s else StepSpec(s) for s in steps),
        promised_days=promised,
        statutory_days=statutory,
        department=dept,
        window=window,
        channels=tuple(CHANNELS[c] for c in channels.split()),
        phone=PHONES[dept],
        materials=tuple(materials),
        visits=visits,
        fee_text=fee,
        fee_amount=Decimal(amount),
        time_limit_note=note,
        keywords=tuple(keywords),
        application_form=form,
    )


# ---- documents that recur across items ---------------------------------------------------------

ID_CARD = mat("申请人居民身份证", notes="现场核验后退还")
HUKOU = mat("居民户口簿", shared="户籍信息(公安共享)")
PROXY = mat("授权委托书及受托人居民身份证", when="委托他人代为办理")
GUARDIAN = mat("监护人居民身份证及监护关系证明", when="申请人为未成年人或无民事行为能力人")
BANK = mat("本人社会保障卡(已激活金融功能)或本人银行账户信息", notes="用于发放待遇")
MARRIAGE = mat("结婚证", shared="婚姻登记信息(民政共享)")
BIRTH_CERT = mat("出生医学证明", shared="出生医学证明电子证照(卫健共享)")
PARENT_IDS = mat("父母双方居民身份证", notes="现场核验后退还")
DEATH_CERT = mat("居民死亡医学证明(推断)书", shared="死亡医学证明信息(卫健共享)")
CREMATION = mat("火化证明", shared="殡葬服务信息(民政共享)")
KIN = mat(
    "申请人与逝者的亲属关系证明", when="户籍信息不能证明亲属关系", notes="如出生医学证明、结婚证或公证书"
)
DISABILITY_CERT = mat("中华人民共和国残疾人证", shared="残疾人证电子证照(残联共享)")
LICENSE = mat("营业执照", shared="市场主体登记信息(市场监管共享)")
PROPERTY_CERT = mat("不动产权证书", shared="不动产登记信息(自然资源共享)")
PHOTO = mat("近期免冠彩色证件照片", notes="也可在窗口免费现场拍摄")
INCOME = mat("家庭经济状况核对授权书", notes="家庭成员均须签字,授权核对收入和财产")
RETIREMENT = mat("退休审批表", shared="退休审批信息(人社共享)")
SOCIAL_CARD = mat("社会保障卡", notes="无社会保障卡的可同步申领")

# ---- process steps that recur ----------------------------------------------------------------

INSTANT = ("申请:窗口、网上或自助终端提交", "受理:核验身份和材料", "办结:当场办结,告知结果")
REVIEW = (
    "申请:提交申请表和材料",
    "受理:窗口一次性核验材料",
    "审核:部门审核",
    "决定:作出办理决定",
    "送达:短信告知,结果邮寄或窗口领取",
)
SUBSIDY = (
    "申请:提交申请和材料",
    "受理:窗口一次性核验材料",
    "审核:调查核实",
    "公示:在村(社区)公示",
    "审批:部门审批",
    "发放:按月打卡发放",
)
LICENCE = (
    "申请:提交申请书和材料",
    "受理:材料齐全当场受理",
    "审查:书面审查,需要时现场核查",
    "决定:作出许可决定",
    "发证:发放证书(可邮寄)",
)
