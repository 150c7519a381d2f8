"""Demo households: 15–25 per grid, each point inside its grid, about 8 % with a care flag and
a few without a phone. Seeded by the grid code, so every run makes the same register.
Grids that already have households are left alone (a second demo load adds nothing).
"""

from __future__ import annotations

from typing import Any, TextIO

import numpy as np
import numpy.typing as npt
import shapely

from shanzhi.grid.demo import GIVEN, SURNAMES
from shanzhi.grid.geometry import from_stored
from shanzhi.grid.households import household_create_many
from shanzhi.grid.models import Grid, Household

STREETS = ("人民路", "解放街", "新华路", "文化路", "建设路", "和平街", "青年路", "中山路", "学前街", "溪滨路")
CARE_SHARE = 0.08
NO_PHONE_SHARE = 0.04
# Of the cared-for households: mostly elderly living alone, as in a real rural register.
CARE_WEIGHTS = {
    "elderly_alone": 0.45,
    "disabled": 0.2,
    "bedridden": 0.1,
    "left_behind_children": 0.25,
}
PHONE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "177",
    "180",
    "187",
    "189",
)


def points_in(geom: Any, n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """`n` uniform random points strictly inside a polygon (rejection sampling in its bbox)."""
    if n <= 0:
        return np.empty((0, 2))
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    found: list[npt.NDArray[np.float64]] = []
    have = 0
    while have < n:
        batch = max(2 * (n - have), 16)
        xy = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        keep = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        found.append(keep)
        have += len(keep)
    return np.concatenate(found)[:n]


def _name(rng: np.random.Generator) -> str:
    given = "".join(GIVEN[int(i)] for i in rng.integers(len(GIVEN), size=int(rng.integers(1, 3))))
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + given


def _address(grid: Grid, n: int, rng: np.random.Generator) -> str:
    village = grid.village
    if village.kind == "社区" or village.name.endswith("社区"):
        street = STREETS[int(rng.integers(len(STREETS)))]
        return f"{village.name}{street}{int(rng.integers(1, 300))}号{int(rng.integers(1, 12))}幢"
    group = int(grid.code.rsplit("-", 1)[-1])
    return f"{village.name}{group}组{n}号"


def grid_households(grid: Grid, *, per_grid: tuple[int, int] = (15, 25)) -> list[Household]:
    """A grid's demo households (unsaved), the same for the same grid code every time."""
    rng = np.random.default_rng([11, int(grid.code.replace("-", ""))])
    count = int(rng.integers(per_grid[0], per_grid[1] + 1))
    points = points_in(from_stored(grid.geometry), count, rng)
    flags = list(CARE_WEIGHTS)
    weights = np.array(list(CARE_WEIGHTS.values()))
    out = []
    for i, (lon, lat) in enumerate(points.tolist(), start=1):
        care = {flag: False for flag in Household.CARE_FLAGS}
        if rng.random() < CARE_SHARE:
            care[flags[int(rng.choice(len(flags), p=weights))]] = True
        phone = ""
        if rng.random() >= NO_PHONE_SHARE:
            phone = (
                PHONE_PREFIXES[int(rng.integers(len(PHONE_PREFIXES)))] + f"{int(rng.integers(0, 10**8)):08d}"
            )
        care["no_phone"] = not phone
        members = 1 if care["elderly_alone"] else int(rng.choice([1, 2, 3, 3, 4, 4, 5, 6]))
        out.append(
            Household(
                code=f"{grid.code}-{i:04d}",
                grid=grid,
                village=grid.village,
                address=_address(grid, i, rng),
                head_name=_name(rng),
                lon=round(lon, 6),
                lat=round(lat, 6),
                members=members,
                phone=phone,
                **care,
            )
        )
    return out


def load_demo(*, stdout: TextIO) -> None:
    """Households for every active grid that has none yet (one bulk insert, audited)."""
    empty = (
        Grid.objects.filter(active=True, households__isnull=True)
        .select_related("village")
        .order_by("code")
        .distinct()
    )
    households: list[Household] = []
    for grid in empty:
        households.extend(grid_households(grid))
    if not households:
        stdout.write(f"  住户:已有 {Household.objects.filter(active=True).count()} 户,不再生成\n")
        return
    household_create_many(actor=None, households=households, action="grid.household.demo")
    cared = sum(any(getattr(h, flag) for flag in CARE_WEIGHTS) for h in households)
    without_phone = sum(h.no_phone for h in households)
    stdout.write(f"  住户:生成 {len(households)} 户(需关爱 {cared} 户,无手机 {without_phone} 户)\n")
