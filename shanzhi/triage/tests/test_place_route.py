"""Place names → village, township, estate; category + place → handler bodies."""

from __future__ import annotations

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Handler
from shanzhi.triage.place import PlaceIndex, place_from_address
from shanzhi.triage.route import route, route_place


def names(match):
    if match is None:
        return None
    return (
        match.region.name if match.region else None,
        match.township.name if match.township else None,
        match.estate.name if match.estate else None,
    )


@pytest.mark.parametrize(
    ("text", "address", "expected"),
    [
        ("青石镇上溪村3组路口垃圾堆积,已拍照", "", ("上溪村", "青石镇", None)),
        ("路口垃圾堆积", "上溪3组", ("上溪村", "青石镇", None)),  # a stem in an address counts
        ("上溪3组村道两侧全是垃圾", "", ("上溪村", "青石镇", None)),  # a stem before a place word
        ("青石镇上溪那边的河发臭", "", ("上溪村", "青石镇", None)),  # a stem right after its township
        ("上溪的水以前很清", "", None),  # a bare stem in prose is just a word
        ("青石社区门口摊贩占道", "", ("青石社区", "青石镇", None)),  # longest wins over the stem 青石
        ("青石一带停水了", "", (None, "青石镇", None)),
        ("白沙镇的路灯不亮", "", (None, "白沙镇", None)),
        ("锦绣花园二期5幢电梯坏了", "", ("青石社区", "青石镇", "锦绣花园二期")),
        ("阳光家园垃圾没人收", "", ("青石社区", "青石镇", "阳光家园")),
        ("小区垃圾没人收", "青石镇锦绣花园3幢", ("青石社区", "青石镇", "锦绣花园")),
        ("小区垃圾没人收", "白沙社区锦绣花园", ("白沙社区", "白沙镇", "锦绣花园")),
        ("路灯不亮", "白沙镇沙湾村", ("沙湾村", "白沙镇", None)),
        ("上溪村的亲戚说路灯不亮", "白沙镇沙湾村", ("沙湾村", "白沙镇", None)),  # the address wins
        ("上溪村口路灯不亮", "白沙镇", (None, "白沙镇", None)),  # the address's township outranks
        ("路灯不亮", "上溪村", ("上溪村", "青石镇", None)),
        ("ＡＢＣ路灯不亮", "", None),
        ("", "", None),
    ],
)
def test_place_from_address(town, text, address, expected):
    assert names(place_from_address(text=text, address=address)) == expected


def test_estate_name_in_two_communities_is_not_guessed(town):
    match = place_from_address(text="锦绣花园的垃圾三天没人收", address="")
    assert match is not None and (match.region, match.estate) == (None, None)
    assert match.ambiguous_estates == ("锦绣花园",)
    # With the township, the name is no longer ambiguous.
    match = place_from_address(text="白沙镇锦绣花园的垃圾没人收", address="")
    assert match is not None and match.estate == town.estate_b2 and match.region == town.village_b2


def test_index_reuse_and_source(town):
    index = PlaceIndex.load()
    first = index.match(text="上溪3组", address="")
    second = index.match(text="路灯", address="沙湾村")
    assert first is not None and first.source == "text" and first.matched == ("上溪",)
    assert second is not None and second.source == "address" and second.region == town.county.village_b1
    assert second.as_dict()["village"] == {"code": "331199102201", "name": "沙湾村"}


def test_route_department_only(town):
    routing = route(category="0402")
    assert routing.primary == town.police and routing.co_handlers == [] and routing.complete
    assert routing.codes() == ("police", [])


def test_route_township_and_community(town):
    routing = route(category="1301", village=town.county.village_a1)
    assert routing.primary is not None and routing.primary.code == "township-331199101000"
    assert [h.code for h in routing.co_handlers] == ["community-331199101201"]
    assert routing.complete
    # 邻里纠纷: the village committee leads, the township helps.
    routing = route(category="1202", village=town.county.village_b1)
    assert routing.primary is not None and routing.primary.code == "community-331199102201"
    assert [h.code for h in routing.co_handlers] == ["township-331199102000"]


def test_route_property_company_of_the_estate(town):
    place = place_from_address(text="锦绣花园二期消防通道被车堵了", address="")
    routing = route_place(category="0301", place=place)
    assert routing.primary is not None and routing.primary.code == "urban_mgmt"
    assert [h.code for h in routing.co_handlers] == ["community-331199101001", "property-2"]
    assert routing.as_dict()["co_handlers"] == ["community-331199101001", "property-2"]


def test_route_says_what_it_could_not_resolve(town):
    # No estate: the property company is unknown, the community is known.
    routing = route(category="0301", village=town.county.village_a2)
    assert [h.code for h in routing.co_handlers] == ["community-331199101001"]
    assert routing.unresolved == ("property",) and "小区" in routing.reasons["property"]
    assert routing.codes() == ("urban_mgmt", ["community-331199101001", "property"])
    # An estate with no property company on record.
    routing = route(category="0201", estate=town.estate_bare, village=town.county.village_a2)
    assert (
        routing.primary is not None
        and routing.primary.code == "housing"
        and routing.unresolved == ("property",)
    )
    assert "阳光家园" in routing.reasons["property"]
    # No place at all: the primary body of 邻里纠纷 is unknown.
    routing = route_place(category="1202", place=None)
    assert routing.primary is None and routing.unresolved == ("community", "township")
    assert routing.codes() == ("community", ["township"])
    assert not routing.complete


def test_route_skips_inactive_and_missing_bodies(town):
    Handler.objects.filter(code="police").update(active=False)
    routing = route(category="1201")
    assert routing.primary is None and "停用" in routing.reasons["police"]
    Handler.objects.filter(code="community-331199101201").delete()
    routing = route(category="1301", village=town.county.village_a1)
    assert routing.primary is not None and routing.primary.code == "township-331199101000"
    assert routing.unresolved == ("community",) and "community-331199101201" in routing.reasons["community"]


def test_route_unknown_category(town):
    with pytest.raises(ServiceError) as err:
        route(category="9999")
    assert err.value.code == "unknown_category"
