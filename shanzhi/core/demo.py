"""The demo county 善水县: its region tree, handler bodies, estates and one account per role.

Fictional but plausible: codes follow GB/T 2260 and the statistical division rules (county
331199 does not exist in Zhejiang's real list). Every step checks what exists first, so a second
run adds nothing.
"""

from __future__ import annotations

from typing import TextIO

from django.contrib.auth import get_user_model
from django.db import transaction

from shanzhi.core.catalogue import handler_types
from shanzhi.core.models import Estate, Handler, HandlerType, Region, RegionLevel, Staff
from shanzhi.core.services import (
    estate_create,
    handler_create,
    handler_type_upsert,
    region_create,
    staff_create,
)

DEMO_PASSWORD = "shanzhi-demo"
COUNTY = ("331199000000", "善水县")

# (code, name, kind, number of communities, number of villages)
TOWNSHIPS = [
    ("331199001000", "城关街道", "街道", 8, 2),
    ("331199002000", "城东街道", "街道", 6, 4),
    ("331199101000", "青石镇", "镇", 2, 13),
    ("331199102000", "白沙镇", "镇", 1, 13),
    ("331199103000", "临溪镇", "镇", 1, 12),
    ("331199104000", "桃源镇", "镇", 1, 12),
    ("331199201000", "云峰乡", "乡", 0, 13),
    ("331199202000", "双河乡", "乡", 0, 12),
]

COMMUNITY_NAMES = [
    "城中",
    "文昌",
    "南门",
    "北门",
    "东湖",
    "西园",
    "锦绣",
    "阳光",
    "春晖",
    "秀水",
    "望江",
    "金桥",
    "新华",
    "丰乐",
    "滨江",
    "龙泉",
    "育才",
    "朝阳",
    "清溪",
    "和美",
]
# In order of TOWNSHIPS: 城关 takes the first 2, 城东 the next 4, so 青石镇's first village (331199101201,
# where the demo grid worker and resident live) is 上溪村.
VILLAGE_NAMES = [
    "石门",
    "枫林",
    "竹坞",
    "杨家",
    "王宅",
    "李宅",
    "上溪",
    "下溪",
    "后岙",
    "前山",
    "黄泥岭",
    "松岭",
    "梅坞",
    "金竹",
    "大路",
    "长坑",
    "东坪",
    "西岭",
    "南塘",
    "北坞",
    "岭头",
    "坑口",
    "水口",
    "新塘",
    "桥头",
    "墩头",
    "陈家",
    "周村",
    "吴宅",
    "徐坞",
    "高田",
    "塘下",
    "岩下",
    "溪口",
    "芦田",
    "樟树",
    "官庄",
    "马岭",
    "鹤溪",
    "沙湾",
    "石桥",
    "柳村",
    "茶园",
    "潘村",
    "方坑",
    "叶宅",
    "朱坑",
    "葛村",
    "蒋家",
    "罗源",
    "蓝田",
    "湖边",
    "山后",
    "双溪",
    "银坑",
    "下田",
    "上坪",
    "横塘",
    "里岙",
    "外村",
    "大坑",
    "小溪",
    "张村",
    "赵家",
    "孙宅",
    "何家",
    "施村",
    "郑坞",
    "钱塘",
    "毛田",
    "洪岭",
    "柏树",
    "桂花",
    "荷塘",
    "青山",
    "白岩",
    "红岩",
    "凤凰",
    "龙门",
    "仙岩",
    "古竹",
    "庙前",
]

PROPERTY_COMPANIES = [
    "善水县安居物业服务有限公司",
    "善水县绿城物业服务有限公司",
    "浙南宜家物业管理有限公司",
    "善水县城投物业服务有限公司",
]
ESTATE_NAMES = ["锦绣花园", "阳光家园", "江滨花苑", "文昌小区", "东湖名邸", "金桥新村", "春晖苑", "秀水苑"]

# username, display name, region code, handler code (or ""), roles
ACCOUNTS = [
    ("admin", "系统管理员", COUNTY[0], "", ["admin"]),
    ("operator", "话务员 林晓", COUNTY[0], "", ["operator"]),
    ("dispatcher", "调度员 陈明", COUNTY[0], "", ["dispatcher"]),
    ("handler", "承办人 王芳(青石镇)", "331199101000", "township-331199101000", ["handler"]),
    ("gridworker", "网格员 李强(上溪村)", "331199101201", "community-331199101201", ["gridworker"]),
    ("clerk", "窗口人员 赵静(城关街道)", "331199001000", "township-331199001000", ["clerk"]),
    ("approver", "审批人 周涛(县民政局)", COUNTY[0], "civil_affairs", ["approver"]),
    ("supervisor", "督查员 孙丽", COUNTY[0], "", ["supervisor"]),
    ("leader", "县领导 吴建国", COUNTY[0], "", ["leader"]),
    ("resident", "居民 张大爷", "331199101201", "", ["resident"]),
    ("auditor", "审计员 郑洁", COUNTY[0], "", ["auditor"]),
    # The self-service terminal in the county's service hall (县政务服务中心): its pages only.
    ("kiosk", "自助终端(县政务服务中心)", COUNTY[0], "", ["kiosk"]),
]


def demo_village_names() -> list[tuple[str, str, str, str]]:
    """(township code, village code, name, kind) for every village and community, deterministic."""
    rows: list[tuple[str, str, str, str]] = []
    community_pool, village_pool = iter(COMMUNITY_NAMES), iter(VILLAGE_NAMES)
    for town_code, _name, _kind, communities, villages in TOWNSHIPS:
        prefix = town_code[:9]
        for i in range(communities):
            rows.append((town_code, f"{prefix}{i + 1:03d}", f"{next(community_pool)}社区", "社区"))
        for i in range(villages):
            rows.append((town_code, f"{prefix}{201 + i:03d}", f"{next(village_pool)}村", "村"))
    return rows


def _regions(stdout: TextIO) -> Region:
    county = Region.objects.filter(code=COUNTY[0]).first() or region_create(
        actor=None, code=COUNTY[0], name=COUNTY[1], parent=None, kind="县"
    )
    existing = set(Region.objects.values_list("code", flat=True))
    towns = {}
    for code, name, kind, _c, _v in TOWNSHIPS:
        towns[code] = (
            Region.objects.get(code=code)
            if code in existing
            else region_create(actor=None, code=code, name=name, parent=county, kind=kind)
        )
    created = 0
    for town_code, code, name, kind in demo_village_names():
        if code not in existing:
            region_create(actor=None, code=code, name=name, parent=towns[town_code], kind=kind)
            created += 1
    stdout.write(f"  区域:1 个县,{len(towns)} 个乡镇街道,新增 {created} 个村社区\n")
    return county


def _handlers(county: Region, stdout: TextIO) -> None:
    for row in handler_types():
        current = HandlerType.objects.filter(code=row.code).first()
        if current is None or (current.kind, current.name_zh, current.name_en) != (
            row.kind,
            row.name_zh,
            row.name_en,
        ):
            handler_type_upsert(
                actor=None, code=row.code, kind=row.kind, name_zh=row.name_zh, name_en=row.name_en
            )
    existing = set(Handler.objects.values_list("code", flat=True))
    wanted: list[tuple[str, str, str, Region]] = []
    for row in handler_types():
        if row.kind == "department":
            wanted.append((row.code, row.code, row.name_zh, county))
    for region in Region.objects.filter(level=RegionLevel.TOWNSHIP):
        body = "街道办事处" if region.kind == "街道" else "人民政府"
        wanted.append((f"township-{region.code}", "township", f"{region.name}{body}", region))
    for region in Region.objects.filter(level=RegionLevel.VILLAGE):
        body = "居民委员会" if region.kind == "社区" else "村民委员会"
        wanted.append((f"community-{region.code}", "community", f"{region.name}{body}", region))
    for i, name in enumerate(PROPERTY_COMPANIES, start=1):
        wanted.append((f"property-{i}", "property", name, county))
    created = 0
    for code, type_code, name, region in wanted:
        if code not in existing:
            handler_create(actor=None, code=code, type_code=type_code, name=name, region=region)
            created += 1
    stdout.write(f"  承办单位:{len(wanted)} 个(新增 {created} 个)\n")


def _estates(stdout: TextIO) -> None:
    companies = list(Handler.objects.filter(code__startswith="property-").order_by("code"))
    communities = list(Region.objects.filter(level=RegionLevel.VILLAGE, kind="社区").order_by("code"))
    existing = set(Estate.objects.values_list("region__code", "name"))
    created = 0
    for n, community in enumerate(communities):
        for k in range(2):
            name = ESTATE_NAMES[(n + k) % len(ESTATE_NAMES)] + ("" if k == 0 else "二期")
            if (community.code, name) not in existing:
                estate_create(
                    actor=None,
                    name=name,
                    region=community,
                    property_company=companies[(n + k) % len(companies)],
                )
                created += 1
    stdout.write(f"  小区:新增 {created} 个\n")


def _accounts(stdout: TextIO) -> None:
    user_model = get_user_model()
    for username, name, region_code, handler_code, roles in ACCOUNTS:
        if user_model.objects.filter(username=username).exists():
            continue
        staff_create(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            name=name,
            region=Region.objects.get(code=region_code),
            handler=Handler.objects.get(code=handler_code) if handler_code else None,
            roles=roles,
        )
    stdout.write(
        f"  演示账号:{Staff.objects.filter(user__username__in=[a[0] for a in ACCOUNTS]).count()} 个\n"
    )


def load_demo(*, stdout: TextIO) -> None:
    with transaction.atomic():
        county = _regions(stdout)
        _handlers(county, stdout)
        _estates(stdout)
        _accounts(stdout)
