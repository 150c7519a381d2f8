"""The monthly staff ranking, worked out by hand: satisfaction, the minimum count, the bottom 10 %
with ties, two months in a row, ratings excluded on appeal, month edges in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
import itertools
from fractions import Fraction

import pytest

from shanzhi.conftest import make_user
from shanzhi.core.errors import NotFound
from shanzhi.ratings.models import Rating
from shanzhi.ratings.selectors import bottom_of, staff_ranking
from shanzhi.ratings.tests.ratings_setup import TZ

_ids = itertools.count()
OCT = dt.date(2026, 10, 1)


def add(staff, *, good, bad, at=None, region=None, excluded=False):
    """`good` satisfied and `bad` unsatisfied ratings against one staff member."""
    at = at or dt.datetime(2026, 10, 15, 10, 0, tzinfo=TZ)
    levels = ["satisfied"] * good + ["unsatisfied"] * bad
    for level in levels:
        n = next(_ids)
        Rating.objects.create(
            object_type="test",
            object_id=str(n),
            object_title=f"事项 {n}",
            region=region or staff.region,
            handler=staff.handler,
            staff=staff,
            level=level,
            channel="web",
            created_at=at,
            excluded=excluded,
        )


@pytest.fixture
def staff(world):
    county = world.county
    people = {
        f"s{i}": make_user(
            username=f"k-s{i}", region=county.village_a1, roles=["handler"], handler=county.dept
        ).staff
        for i in range(1, 14)
    }
    people["far"] = make_user(
        username="k-far", region=county.village_b1, roles=["handler"], handler=county.town_b_gov
    ).staff
    return people


def test_ranking_by_hand(world, staff):
    s = staff
    # October: (ratings, good) → satisfaction
    add(s["s1"], good=10, bad=0)  # 100 %
    add(s["s2"], good=4, bad=0)
    add(s["s2"], good=1, bad=0, at=dt.datetime(2026, 10, 31, 23, 30, tzinfo=TZ))  # still October here
    add(s["s2"], good=0, bad=1, at=dt.datetime(2026, 11, 1, 0, 10, tzinfo=TZ))  # November
    add(s["s2"], good=0, bad=1, at=dt.datetime(2026, 9, 30, 23, 59, tzinfo=TZ))  # September
    add(s["s3"], good=9, bad=1)  # 90 %
    add(s["s3"], good=0, bad=3, excluded=True)  # upheld appeals: not counted
    add(s["s4"], good=9, bad=1)  # 90 %
    add(s["s5"], good=4, bad=1)  # 80 %
    add(s["s6"], good=6, bad=2)  # 75 %
    add(s["s7"], good=7, bad=3)  # 70 %
    add(s["s8"], good=4, bad=2)  # 66.7 %
    add(s["s9"], good=3, bad=2)  # 60 %
    add(s["s10"], good=5, bad=5)  # 50 %
    add(s["s13"], good=5, bad=5)  # 50 %, tied with s10
    add(s["s11"], good=2, bad=3)  # 40 %
    add(s["s12"], good=0, bad=4)  # 0 %, but only 4 ratings: not ranked
    # September: five ranked, the bottom place (⌈0.5⌉ = 1) is s11
    sep = dt.datetime(2026, 9, 10, 10, 0, tzinfo=TZ)
    for key, good, bad in [("s1", 5, 0), ("s3", 5, 0), ("s4", 5, 0), ("s10", 4, 1), ("s11", 1, 4)]:
        add(s[key], good=good, bad=bad, at=sep)

    ranking = staff_ranking(user=world.supervisor, month=OCT)
    # 12 ranked → the bottom holds ⌈12 × 10 %⌉ = 2 places; the 2nd lowest is 50 %, shared by
    # s10 and s13, so three people are at the bottom.
    assert (ranking.ranked, ranking.bottom_size) == (12, 2)
    rows = {r.name: r for r in ranking.rows}
    got = {
        name.removeprefix("k-"): (r.count, r.good, r.position, r.flag)
        for name, r in rows.items()
        if name != "k-far"
    }
    assert got == {
        "s1": (10, 10, 1, ""),
        "s2": (5, 5, 1, ""),
        "s3": (10, 9, 3, ""),
        "s4": (10, 9, 3, ""),
        "s5": (5, 4, 5, ""),
        "s6": (8, 6, 6, ""),
        "s7": (10, 7, 7, ""),
        "s8": (6, 4, 8, ""),
        "s9": (5, 3, 9, ""),
        "s10": (10, 5, 10, "talk"),
        "s13": (10, 5, 10, "talk"),
        "s11": (5, 2, 12, "transfer"),  # at the bottom in September too
        "s12": (4, 0, None, ""),
    }
    assert rows["k-s8"].satisfaction == Fraction(2, 3) and rows["k-s8"].percent == 66.7
    assert [r.name for r in ranking.rows][-1] == "k-s12"  # unranked rows come last
    assert rows["k-s11"].flag_label == "调岗建议" and rows["k-s10"].flag_label == "谈话培训"


def test_nobody_at_100_percent_is_flagged_and_nobody_ranked_means_no_bottom():
    assert bottom_of({1: (5, 5), 2: (6, 6)}) == (set(), 1)
    assert bottom_of({1: (5, 5), 2: (6, 5)}) == ({2}, 1)
    assert bottom_of({1: (4, 0)}) == (set(), 0)


def test_rankings_are_for_supervisors_within_their_jurisdiction(world, staff):
    add(staff["s1"], good=5, bad=0)
    add(staff["far"], good=1, bad=4)
    for user in (world.leader_a, world.urban_leader, world.resident, world.dispatcher):
        with pytest.raises(NotFound):
            staff_ranking(user=user, month=OCT)
    assert {r.name for r in staff_ranking(user=world.supervisor, month=OCT).rows} == {"k-s1", "k-far"}
    assert {r.name for r in staff_ranking(user=world.supervisor_a, month=OCT).rows} == {"k-s1"}
    assert {r.name for r in staff_ranking(user=world.supervisor_b, month=OCT).rows} == {"k-far"}
