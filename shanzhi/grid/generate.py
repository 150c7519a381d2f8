"""A plausible, deterministic map for a region tree: county outline, townships, villages, grids.

Used by the demo and the benchmark; pure geometry, no database. Each level is split with a
Voronoi diagram of well-spread seed points clipped to its parent, so the pieces tile the
parent exactly (no gaps, no overlaps beyond float rounding). Seeds come from k-means over
random points inside the parent, drawn more densely near a centre: the township holding the
county seat and the communities around each town centre come out smaller and denser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely

from shanzhi.grid.geometry import Polygonal

DEMO_BBOX = (119.60, 28.15, 120.05, 28.55)  # lon/lat, in Zhejiang
DEMO_SEED = 31
URBAN_SHARE = 0.045  # of the county's area, per sub-district (街道)
_MIN_PART_AREA = 1e-12  # deg² (~0.01 m²): slivers below this are float noise from clipping


@dataclass(frozen=True)
class VillageInput:
    code: str
    name: str
    kind: str = ""

    @property
    def is_community(self) -> bool:
        """社区 (urban), by kind or by the code range 001–199."""
        return self.kind == "社区" or (not self.kind and self.code[9:12] < "200")


@dataclass(frozen=True)
class TownshipInput:
    code: str
    name: str
    kind: str = ""
    villages: tuple[VillageInput, ...] = ()

    @property
    def is_urban(self) -> bool:
        """街道 (sub-district), by kind or by the code range 001–099."""
        return self.kind == "街道" or (not self.kind and self.code[6:9] < "100")


@dataclass(frozen=True)
class GridShape:
    code: str
    name: str
    village_code: str
    geometry: Polygonal


@dataclass
class Layout:
    county: shapely.Polygon
    seat: tuple[float, float]
    townships: dict[str, Polygonal] = field(default_factory=dict)
    villages: dict[str, Polygonal] = field(default_factory=dict)
    grids: list[GridShape] = field(default_factory=list)


def _core(
    county: shapely.Polygon, seat: tuple[float, float], *, share: float, rng: np.random.Generator
) -> Polygonal:
    """An irregular blob around `seat` covering about `share` of the county."""
    theta = np.linspace(0.0, 2 * math.pi, 48, endpoint=False)
    radius = (
        1
        + 0.12 * np.sin(3 * theta + rng.uniform(0, 2 * math.pi))
        + 0.07 * np.sin(5 * theta + rng.uniform(0, 2 * math.pi))
    )
    aspect = 1 / math.cos(math.radians(seat[1]))  # round on the ground, not in degrees
    blob = shapely.Polygon(np.column_stack([radius * np.cos(theta) * aspect, radius * np.sin(theta)]))
    scale = math.sqrt(share * county.area / blob.area)
    xy = np.round(
        np.column_stack(
            [seat[0] + radius * np.cos(theta) * aspect * scale, seat[1] + radius * np.sin(theta) * scale]
        ),
        6,
    )
    return _clean(shapely.intersection(shapely.Polygon(xy), county))


def _rng(seed: int, code: str) -> np.random.Generator:
    # Seeded per region, so one region's shapes do not depend on how many came before it.
    return np.random.default_rng([seed, int(code)])


def county_outline(
    *, rng: np.random.Generator, bbox: tuple[float, float, float, float], vertices: int = 96
) -> shapely.Polygon:
    """A star-shaped irregular outline filling most of `bbox` (star-shaped, so always simple)."""
    minx, miny, maxx, maxy = bbox
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    theta = np.linspace(0.0, 2 * math.pi, vertices, endpoint=False)
    radius = np.ones(vertices)
    for k in range(2, 8):
        radius += rng.uniform(0.03, 0.11) / math.sqrt(k) * np.sin(k * theta + rng.uniform(0, 2 * math.pi))
    radius += rng.uniform(-0.025, 0.025, vertices)
    radius /= radius.max()
    xs = np.round(cx + (maxx - minx) / 2 * radius * np.cos(theta), 6)
    ys = np.round(cy + (maxy - miny) / 2 * radius * np.sin(theta), 6)
    return shapely.Polygon(np.column_stack([xs, ys]))


def _sample(
    polygon: Polygonal,
    n: int,
    rng: np.random.Generator,
    *,
    centre: tuple[float, float] | None,
    concentration: float,
    spread: float,
) -> npt.NDArray[np.float64]:
    """n random points inside `polygon`, denser near `centre` by up to (1 + concentration)×."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found: list[npt.NDArray[np.float64]] = []
    total = 0
    while total < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n, 2))
        xy = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        if centre is not None and concentration > 0:
            d2 = ((xy - np.asarray(centre)) ** 2).sum(axis=1)
            accept = (1 + concentration * np.exp(-d2 / (2 * spread**2))) / (1 + concentration)
            xy = xy[rng.uniform(size=len(xy)) < accept]
        found.append(xy)
        total += len(xy)
    return np.concatenate(found)[:n]


def _seeds(samples: npt.NDArray[np.float64], k: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """k well-spread seeds: k-means (Lloyd) on the samples, then each cluster's sample nearest its
    mean, so every seed lies inside the parent and its Voronoi cell is never empty there."""
    centres = samples[rng.choice(len(samples), size=k, replace=False)]
    labels = np.zeros(len(samples), dtype=np.int64)
    for _ in range(30):
        d2 = ((samples[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        labels = d2.argmin(axis=1)
        for j in range(k):
            members = samples[labels == j]
            centres[j] = members.mean(axis=0) if len(members) else samples[rng.integers(len(samples))]
    seeds = np.empty_like(centres)
    for j in range(k):
        members = samples[labels == j]
        if not len(members):
            members = samples
        seeds[j] = members[((members - centres[j]) ** 2).sum(axis=1).argmin()]
    return seeds


def _clean(geom: shapely.Geometry) -> Polygonal:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and p.area > _MIN_PART_AREA]
    if len(parts) == 1:
        return parts[0]
    return shapely.MultiPolygon(sorted(parts, key=lambda p: -p.area))


def split(
    polygon: Polygonal,
    k: int,
    rng: np.random.Generator,
    *,
    centre: tuple[float, float] | None = None,
    concentration: float = 0.0,
    spread: float = 0.05,
) -> list[tuple[tuple[float, float], Polygonal]]:
    """Cut `polygon` into k pieces; returns (seed, piece) pairs in no particular order."""
    if k <= 1:
        point = polygon.representative_point()
        return [((point.x, point.y), polygon)]
    samples = _sample(
        polygon, max(800, 160 * k), rng, centre=centre, concentration=concentration, spread=spread
    )
    seeds = _seeds(samples, k, rng)
    minx, miny, maxx, maxy = polygon.bounds
    frame = shapely.box(minx - 1, miny - 1, maxx + 1, maxy + 1)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    )
    return [
        ((float(s[0]), float(s[1])), _clean(shapely.intersection(cell, polygon)))
        for s, cell in zip(seeds, cells, strict=True)
    ]


def _angle(seed: tuple[float, float], centre: tuple[float, float]) -> float:
    return math.atan2(seed[1] - centre[1], seed[0] - centre[0]) % (2 * math.pi)


def _distance(seed: tuple[float, float], centre: tuple[float, float]) -> float:
    return math.hypot(seed[0] - centre[0], seed[1] - centre[1])


def _assign(
    pieces: list[tuple[tuple[float, float], Polygonal]], near: int, centre: tuple[float, float]
) -> list[tuple[tuple[float, float], Polygonal]]:
    """The `near` pieces closest to `centre` first, then the rest clockwise from north."""
    by_distance = sorted(pieces, key=lambda p: _distance(p[0], centre))
    rest = sorted(by_distance[near:], key=lambda p: (-_angle(p[0], centre) + math.pi / 2) % (2 * math.pi))
    return by_distance[:near] + rest


def grids_per_village(village: VillageInput, rng: np.random.Generator) -> int:
    """Communities are denser: more, smaller grids. Every village gets at least three."""
    return int(rng.integers(5, 9)) if village.is_community else int(rng.integers(3, 6))


def generate_layout(
    *,
    county_code: str,
    townships: Sequence[TownshipInput],
    seed: int = DEMO_SEED,
    bbox: tuple[float, float, float, float] = DEMO_BBOX,
) -> Layout:
    """The whole map for one county. Same inputs and seed, same shapes."""
    rng = _rng(seed, county_code)
    county = county_outline(rng=rng, bbox=bbox)
    centre = county.centroid
    seat = (round(centre.x - 0.02, 6), round(centre.y + 0.015, 6))
    layout = Layout(county=county, seat=seat)
    towns = sorted(townships, key=lambda t: t.code)
    if not towns:
        return layout
    urban = [t for t in towns if t.is_urban] or towns[:1]
    rural = [t for t in towns if t not in urban]
    if rural:
        # The town proper: a compact core around the seat for the sub-districts, the rest rural.
        core = _core(county, seat, share=min(0.4, URBAN_SHARE * len(urban)), rng=rng)
        ordered = _assign(split(core, len(urban), rng), len(urban), seat)
        ordered += _assign(split(_clean(shapely.difference(county, core)), len(rural), rng), 0, seat)
    else:
        ordered = _assign(split(county, len(towns), rng), len(towns), seat)
    for town, (town_seed, town_geom) in zip(urban + rural, ordered, strict=True):
        layout.townships[town.code] = town_geom
        _villages(layout, town, town_geom, town_seed, seed)
    return layout


def _villages(
    layout: Layout, town: TownshipInput, town_geom: Polygonal, town_seed: tuple[float, float], seed: int
) -> None:
    rng = _rng(seed, town.code)
    villages = sorted(town.villages, key=lambda v: v.code)
    if not villages:
        return
    seat_here = town_geom.covers(shapely.Point(layout.seat))
    centre = layout.seat if seat_here else town_seed
    size = math.sqrt(town_geom.area)
    communities = [v for v in villages if v.is_community]
    others = [v for v in villages if not v.is_community]
    pieces = split(
        town_geom,
        len(villages),
        rng,
        centre=centre,
        concentration=25.0 if communities else 4.0,
        spread=0.22 * size,
    )
    ordered = _assign(pieces, len(communities), centre)
    for village, (_s, village_geom) in zip(communities + others, ordered, strict=True):
        layout.villages[village.code] = village_geom
        village_rng = _rng(seed, village.code)
        count = grids_per_village(village, village_rng)
        cells = split(village_geom, count, village_rng)
        # Number grids from the north-west, row by row, as a reader scans a map.
        cells.sort(key=lambda c: (-round(c[0][1], 3), c[0][0]))
        for n, (_cs, cell) in enumerate(cells, start=1):
            layout.grids.append(
                GridShape(
                    code=f"{village.code}-{n:02d}",
                    name=f"{village.name}第{n}网格",
                    village_code=village.code,
                    geometry=cell,
                )
            )
