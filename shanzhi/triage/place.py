"""Place names in an address or a request → village/community, township and estate.

Names come from the org tree: villages and communities ("上溪村", and the stem "上溪"),
townships ("青石镇", "青石") and estates ("锦绣花园二期"). At each position the longest name
wins, so "锦绣花园二期" beats "锦绣花园" and "青石社区" beats the township stem "青石".

A stem is a common word more often than a name ("大路", "桥头", "水口"), so in free text a
stem counts only when a place word follows it ("上溪3组", "上溪村委", "上溪一带") or a matched
township comes right before it ("青石镇上溪"); in an address every stem counts.

The address is trusted over the text. Estate names repeat across communities in real counties;
an estate name that fits several estates is resolved by the matched village or township, and
otherwise left out (`ambiguous_estates` names them) rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from shanzhi.core.models import Estate, Region, RegionLevel

VILLAGE_SUFFIXES = (
    "社区居民委员会",
    "居民委员会",
    "村民委员会",
    "社区居委会",
    "村委会",
    "居委会",
    "社区",
    "村",
)
TOWNSHIP_SUFFIXES = ("街道办事处", "人民政府", "街道", "镇", "乡")
# What may follow a stem in free text for it to count as a place.
_PLACE_AFTER = re.compile(
    r"[0-9〇一二三四五六七八九十]|组|号|队|片|弄|巷|村|社区|居委|自然村|小区|一带|附近|境内|辖区"
)
_MIN_STEM = 2


def _stem(name: str, suffixes: Iterable[str]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= _MIN_STEM:
            return name[: -len(suffix)]
    return ""


@dataclass(frozen=True)
class _Name:
    kind: str  # "village", "township", "estate"
    stem: bool
    ids: tuple[int, ...]  # several places may share a name


@dataclass(frozen=True)
class _Hit:
    text: str
    kind: str
    stem: bool
    ids: tuple[int, ...]
    source: int  # 0 = address, 1 = text
    start: int


@dataclass(frozen=True)
class PlaceMatch:
    region: Region | None  # the village or community
    township: Region | None
    estate: Estate | None
    matched: tuple[str, ...] = ()  # the names found, in order
    ambiguous_estates: tuple[str, ...] = field(default=())
    source: str = "text"  # "address" when the address named any place, else "text"

    def as_dict(self) -> dict[str, object]:
        return {
            "village": {"code": self.region.code, "name": self.region.name} if self.region else None,
            "township": {"code": self.township.code, "name": self.township.name} if self.township else None,
            "estate": estate_dict(self.estate),
            "matched": list(self.matched),
            "source": self.source,
        }


def estate_dict(estate: Estate | None) -> dict[str, object] | None:
    if estate is None:
        return None
    company = estate.property_company
    return {
        "name": estate.name,
        "village": estate.region.code,
        "property_company": company.code if company else None,
    }


class PlaceIndex:
    """Every place name of the county, compiled once (build one per batch of requests)."""

    def __init__(self, *, villages: list[Region], townships: list[Region], estates: list[Estate]) -> None:
        self.regions: dict[int, Region] = {r.pk: r for r in [*villages, *townships]}
        self.by_code: dict[str, Region] = {r.code: r for r in self.regions.values()}
        self.estates: dict[int, Estate] = {e.pk: e for e in estates}
        names: dict[str, dict[tuple[str, bool], list[int]]] = {}

        def add(name: str, kind: str, stem: bool, pk: int) -> None:
            if name:
                names.setdefault(name, {}).setdefault((kind, stem), []).append(pk)

        for region in villages:
            add(region.name, "village", False, region.pk)
            add(_stem(region.name, VILLAGE_SUFFIXES), "village", True, region.pk)
        for region in townships:
            add(region.name, "township", False, region.pk)
            add(_stem(region.name, TOWNSHIP_SUFFIXES), "township", True, region.pk)
        for estate in estates:
            add(estate.name, "estate", False, estate.pk)
        # One name, one meaning: a full name beats a stem. A stem that is both a township's and
        # a village's ("青石": 青石镇 and its seat 青石社区) means the township: the wider
        # answer is never wrong, the narrower one may be.
        rank = {
            (False, "estate"): 0,
            (False, "village"): 1,
            (False, "township"): 2,
            (True, "township"): 3,
            (True, "village"): 4,
        }
        self.names: dict[str, _Name] = {}
        for name, kinds in names.items():
            (kind, stem), ids = min(kinds.items(), key=lambda kv: rank[(kv[0][1], kv[0][0])])
            self.names[name] = _Name(kind, stem, tuple(sorted(set(ids))))
        ordered = sorted(self.names, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(n) for n in ordered)) if ordered else None

    @classmethod
    def load(cls) -> PlaceIndex:
        villages = list(Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent"))
        townships = list(Region.objects.filter(level=RegionLevel.TOWNSHIP))
        estates = list(Estate.objects.select_related("region__parent", "property_company"))
        return cls(villages=villages, townships=townships, estates=estates)

    def hits(self, value: str, *, source: int) -> list[_Hit]:
        if not value or self._pattern is None:
            return []
        found: list[_Hit] = []
        for m in self._pattern.finditer(value):
            name = self.names[m.group()]
            if name.stem and source == 1 and not self._stem_counts(value, m, found):
                continue
            found.append(_Hit(m.group(), name.kind, name.stem, name.ids, source, m.start()))
        return found

    @staticmethod
    def _stem_counts(value: str, m: re.Match[str], before: list[_Hit]) -> bool:
        if _PLACE_AFTER.match(value, m.end()):
            return True
        return (
            bool(before)
            and before[-1].kind == "township"
            and before[-1].start + len(before[-1].text) == m.start()
        )

    def match(self, *, text: str, address: str) -> PlaceMatch | None:
        found = self.hits(address or "", source=0) + self.hits(text or "", source=1)
        if not found:
            return None
        village, township = self._village(found, self._township(found))
        estate, ambiguous = self._estate(found, village, township)
        if estate is not None and village is None:
            village = estate.region
            township = village.parent
        if village is None and township is None and estate is None and not ambiguous:
            return None
        return PlaceMatch(
            region=village,
            township=township,
            estate=estate,
            matched=tuple(dict.fromkeys(h.text for h in found)),
            ambiguous_estates=ambiguous,
            source="address" if any(h.source == 0 for h in found) else "text",
        )

    def _township(self, found: list[_Hit]) -> tuple[Region, int] | None:
        hits = [h for h in found if h.kind == "township" and len(h.ids) == 1]
        if not hits:
            return None
        best = min(hits, key=lambda h: (h.source, h.stem, -len(h.text), h.start))
        return self.regions[best.ids[0]], best.source

    def _village(
        self, found: list[_Hit], township: tuple[Region, int] | None
    ) -> tuple[Region | None, Region | None]:
        town, town_source = township if township else (None, 2)
        best: tuple[tuple[int, bool, bool, int, int], Region, int] | None = None
        for h in found:
            if h.kind != "village":
                continue
            regions = [self.regions[pk] for pk in h.ids]
            if len(regions) > 1:
                # A name several villages share needs the township to decide.
                regions = [r for r in regions if town is not None and r.parent_id == town.pk]
                if len(regions) != 1:
                    continue
            region = regions[0]
            outside = town is not None and region.parent_id != town.pk
            key = (h.source, outside, h.stem, -len(h.text), h.start)
            if best is None or key < best[0]:
                best = (key, region, h.source)
        if best is None:
            return None, town
        _key, village, source = best
        if town is not None and village.parent_id != town.pk and town_source < source:
            return None, town  # the address's township outranks a village named in the text
        return village, village.parent

    def _estate(
        self, found: list[_Hit], village: Region | None, township: Region | None
    ) -> tuple[Estate | None, tuple[str, ...]]:
        ambiguous: list[str] = []
        for h in sorted(
            (h for h in found if h.kind == "estate"), key=lambda h: (h.source, -len(h.text), h.start)
        ):
            estates = [self.estates[pk] for pk in h.ids]
            if village is not None:
                estates = [e for e in estates if e.region_id == village.pk]
            elif township is not None:
                estates = [e for e in estates if e.region.parent_id == township.pk]
            if len(estates) == 1:
                return estates[0], ()
            if len(estates) > 1:
                ambiguous.append(h.text)
        return None, tuple(dict.fromkeys(ambiguous))


def place_from_address(*, text: str, address: str = "", index: PlaceIndex | None = None) -> PlaceMatch | None:
    """The village, township and estate named in `address` (trusted first) or `text`, or None."""
    return (index or PlaceIndex.load()).match(text=text or "", address=address or "")
