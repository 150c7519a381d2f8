"""The demo county's five "一件事" bundles. Each step names an item by code; a step depends only on
earlier steps, and `result_for` says which later item's material this step's result replaces."""

from __future__ import annotations

from shanzhi.onewindow.catalog import BundleSpec, BundleStepSpec, FormFieldSpec
from shanzhi.onewindow.catalog_data.common import CENTRE, COUNTY


def code(basic: str) -> str:
    return f"{COUNTY}-{basic}-01"


def step(
    basic: str, *, after: tuple[str, ...] = (), replaces: tuple[str, str] | None = None
) -> BundleStepSpec:
    return BundleStepSpec(
        item_code=code(basic),
        depends_on=tuple(code(b) for b in after),
        result_for=(code(replaces[0]), replaces[1]) if replaces else None,
    )


def field(key: str, label: str, kind: str = "text", *, required: bool = True) -> FormFieldSpec:
    return FormFieldSpec(key=key, label=label, kind=kind, required=required)


WINDOW = f"{CENTRE} 1 号“一件事”综合窗口;各乡镇(街道)便民服务中心"
APPLICANT = (
    field("applicant_name", "申请人姓名"),
    field("applicant_id", "申请人身份证号", "id_number"),
    field("applicant_phone", "联系电话", "phone"),
)

BUNDLES = [
    BundleSpec(
        code="newborn",
        name="新生儿出生一件事",
        description="宝宝出生后,出生医学证明、预防接种证、户口登记、医保参保、社保卡申领一次申请,"
        "各部门后台流转办结,社保卡邮寄到家。",
        window=WINDOW,
        visits=1,
        sort_order=1,
        steps=(
            step("QR50001000", replaces=("QR40001000", "出生医学证明")),
            step("GG50003000"),
            step("QR40001000", after=("QR50001000",), replaces=("GG20002000", "新生儿居民户口簿")),
            step("GG20002000", after=("QR40001000",)),
            step("GG10014000", after=("GG20002000",)),
        ),
        form_fields=(
            field("child_name", "新生儿姓名"),
            field("child_gender", "新生儿性别", "choice"),
            field("birth_date", "出生日期", "date"),
            field("birth_hospital", "出生医院"),
            field("mother_name", "母亲姓名"),
            field("mother_id", "母亲身份证号", "id_number"),
            field("father_name", "父亲姓名"),
            field("father_id", "父亲身份证号", "id_number"),
            field("household_follow", "随父或随母落户", "choice"),
            field("address", "常住地址"),
            field("phone", "联系电话", "phone"),
            field("mail_address", "社保卡邮寄地址", required=False),
        ),
    ),
    BundleSpec(
        code="retirement",
        name="退休一件事",
        description="职工到龄退休,退休核准、养老金申领、退休人员医保待遇核定、公积金退休提取一次申请,"
        "不用再跑社保、医保、公积金三个窗口。",
        window=WINDOW,
        visits=1,
        sort_order=2,
        steps=(
            step("QR10005000", replaces=("GG10006000", "退休审批表")),
            step("GG10006000", after=("QR10005000",)),
            step("QR20012000", after=("QR10005000",)),
            step("GG70008000", after=("QR10005000",)),
        ),
        form_fields=(
            *APPLICANT,
            field("employer", "原工作单位"),
            field("retire_date", "退休日期", "date"),
            field("pension_account", "养老金发放账户"),
            field("fund_account", "住房公积金账号", required=False),
            field("address", "联系地址"),
        ),
    ),
    BundleSpec(
        code="after-death",
        name="身后一件事",
        description="亲人离世后,死亡证明、户口注销、殡葬补贴、丧葬补助金和抚恤金、医保注销、公积金提取"
        "一次申请,家属只需到一个窗口、说一次情况。",
        window=WINDOW,
        visits=1,
        sort_order=3,
        steps=(
            step("QR50008000", replaces=("QR40006000", "居民死亡医学证明(推断)书")),
            step("QR40006000", after=("QR50008000",)),
            step("JF30011000", after=("QR50008000",)),
            step("JF10007000", after=("QR40006000",)),
            step("GG20013000", after=("QR40006000",)),
            step("GG70009000", after=("QR40006000",)),
        ),
        form_fields=(
            field("deceased_name", "逝者姓名"),
            field("deceased_id", "逝者身份证号", "id_number"),
            field("death_date", "死亡日期", "date"),
            field("death_place", "死亡地点"),
            *APPLICANT,
            field("relation", "与逝者关系", "choice"),
            field("bank_account", "待遇和余额转入账户"),
        ),
    ),
    BundleSpec(
        code="disability",
        name="残疾人服务一件事",
        description="办理残疾人证后,两项补贴、辅助器具适配、城乡居民养老保险保费代缴一并申请,"
        "行动不便的可预约上门帮办。",
        window=WINDOW,
        visits=1,
        sort_order=4,
        steps=(
            step("QR60001000", replaces=("JF60005000", "中华人民共和国残疾人证")),
            step("JF60005000", after=("QR60001000",)),
            step("JF60006000", after=("QR60001000",)),
            step("JF60008000", after=("QR60001000",)),
        ),
        form_fields=(
            *APPLICANT,
            field("guardian_name", "监护人或代办人姓名", required=False),
            field("address", "居住地址"),
            field("disability_kind", "残疾类别", "choice"),
            field("device_need", "需要的辅助器具", required=False),
            field("bank_account", "补贴发放账户"),
        ),
    ),
    BundleSpec(
        code="restaurant",
        name="开办餐饮店一件事",
        description="开一家餐饮店,营业执照、食品经营许可、排水许可、店招备案、环评登记一次申请,"
        "拿到营业执照后各项许可并联审批。",
        window=WINDOW,
        visits=1,
        sort_order=5,
        steps=(
            step("XK80001000", replaces=("XK80004000", "营业执照")),
            step("XK80004000", after=("XK80001000",)),
            step("XK80012000", after=("XK80001000",)),
            step("QT80013000", after=("XK80001000",)),
            step("QT80014000", after=("XK80001000",)),
        ),
        form_fields=(
            *APPLICANT,
            field("shop_name", "店铺字号"),
            field("address", "经营场所地址"),
            field("area", "经营面积(平方米)", "number"),
            field("business_scope", "经营项目"),
            field("staff_count", "从业人员人数", "number"),
            field("sign_size", "店招尺寸", required=False),
        ),
    ),
]
