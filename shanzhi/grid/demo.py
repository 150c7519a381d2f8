"""The demo county's map: boundaries, ≥ 3 grids per village, and a grid worker for every grid.

Runs after `shanzhi.core.demo` made the region tree; takes whatever townships and villages it
finds. Idempotent: geometry is imported once (one audited `grid_import`), and later runs only
top up grids that have no worker.
"""

from __future__ import annotations

from typing import TextIO

import numpy as np
from django.db import transaction

from shanzhi.core.models import Handler, Region, RegionLevel, Staff
from shanzhi.core.selectors import region_county
from shanzhi.core.services import staff_create
from shanzhi.grid.generate import GridShape, Layout, TownshipInput, VillageInput, generate_layout
from shanzhi.grid.geometry import to_geojson
from shanzhi.grid.models import Grid, GridWorker
from shanzhi.grid.services import GridSpec, WorkerSpec, grid_import, grid_worker_assign

DEMO_GRIDWORKER = "gridworker"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蒋蔡余杜叶程魏苏吕丁任"
    "沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严洪武赖"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国海燕志斌文辉林波春梅晓东雪琴慧"


def township_inputs(county: Region) -> list[TownshipInput]:
    """The county's townships and villages as the generator wants them."""
    villages: dict[int, list[VillageInput]] = {}
    for v in Region.objects.filter(level=RegionLevel.VILLAGE, path__startswith=county.path).order_by("code"):
        villages.setdefault(v.parent_id or 0, []).append(VillageInput(code=v.code, name=v.name, kind=v.kind))
    return [
        TownshipInput(code=t.code, name=t.name, kind=t.kind, villages=tuple(villages.get(t.pk, [])))
        for t in Region.objects.filter(level=RegionLevel.TOWNSHIP, parent=county).order_by("code")
    ]


def worker_name(code: str) -> str:
    """A deterministic, plausible Chinese name for the worker of grid `code`."""
    rng = np.random.default_rng([7, int(code.replace("-", ""))])
    given = "".join(GIVEN[int(i)] for i in rng.integers(len(GIVEN), size=int(rng.integers(1, 3))))
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + given


def _ensure_worker(grid_code: str, village: Region) -> Staff:
    """The dedicated worker account gw-<grid code> (unusable password), created when missing."""
    username = f"gw-{grid_code}"
    staff = Staff.objects.filter(user__username=username).first()
    if staff is not None:
        return staff
    handler = Handler.objects.filter(code=f"community-{village.code}").first()
    return staff_create(
        actor=None,
        username=username,
        password=None,
        name=f"网格员 {worker_name(grid_code)}",
        region=village,
        roles=["gridworker"],
        handler=handler,
    )


def _import(county: Region, layout: Layout, stdout: TextIO) -> None:
    regions = {r.code: r for r in Region.objects.filter(path__startswith=county.path)}
    shapes = {county: to_geojson(layout.county)}
    shapes.update({regions[code]: to_geojson(g) for code, g in layout.townships.items()})
    shapes.update({regions[code]: to_geojson(g) for code, g in layout.villages.items()})
    demo_worker = Staff.objects.filter(user__username=DEMO_GRIDWORKER).select_related("region").first()
    specs: list[GridSpec] = []
    workers: list[WorkerSpec] = []
    shape: GridShape
    for shape in layout.grids:
        village = regions[shape.village_code]
        specs.append(
            GridSpec(code=shape.code, name=shape.name, village=village, geometry=to_geojson(shape.geometry))
        )
        if demo_worker is not None and demo_worker.region_id == village.pk:
            workers.append(WorkerSpec(grid_code=shape.code, staff=demo_worker, is_leader=True))
        else:
            workers.append(
                WorkerSpec(grid_code=shape.code, staff=_ensure_worker(shape.code, village), is_leader=True)
            )
    summary = grid_import(actor=None, shapes=shapes, grids=specs, workers=workers)
    stdout.write(
        f"  网格:导入 {summary.grids} 个网格,{summary.shapes} 个区域边界,{summary.workers} 名网格员任职\n"
    )


def _top_up(county: Region, stdout: TextIO) -> None:
    """Grids with nobody: give each its own worker; put the demo grid worker on its village's grids."""
    added = 0
    demo_worker = Staff.objects.filter(user__username=DEMO_GRIDWORKER).select_related("region").first()
    if demo_worker is not None and demo_worker.region.level == RegionLevel.VILLAGE:
        for grid in Grid.objects.filter(village=demo_worker.region, active=True).exclude(
            workers__staff=demo_worker
        ):
            grid_worker_assign(actor=None, grid=grid, staff=demo_worker, is_leader=not grid.workers.exists())
            added += 1
    empty = Grid.objects.filter(active=True, village__path__startswith=county.path, workers__isnull=True)
    for grid in empty.select_related("village"):
        grid_worker_assign(
            actor=None, grid=grid, staff=_ensure_worker(grid.code, grid.village), is_leader=True
        )
        added += 1
    if added:
        stdout.write(f"  网格:补充 {added} 名网格员任职\n")


def load_demo(*, stdout: TextIO) -> None:
    county = region_county()
    if county is None:
        stdout.write("  网格:尚无县级区域,跳过\n")
        return
    with transaction.atomic():
        if not Grid.objects.filter(village__path__startswith=county.path).exists():
            layout = generate_layout(county_code=county.code, townships=township_inputs(county))
            _import(county, layout, stdout)
        else:
            stdout.write(
                f"  网格:已有 {Grid.objects.filter(active=True).count()} 个网格,"
                f"{GridWorker.objects.count()} 名网格员任职,不再导入\n"
            )
        _top_up(county, stdout)
        from shanzhi.grid.demo_households import load_demo as load_households  # it borrows names from here

        load_households(stdout=stdout)
