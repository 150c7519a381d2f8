"""The demo loader: every township and village gets a published list; a second run adds nothing."""

from __future__ import annotations

import io

from shanzhi.audit.models import AuditEntry
from shanzhi.duties.check import duty_check
from shanzhi.duties.demo import demo_year, load_demo
from shanzhi.duties.models import DutyList
from shanzhi.duties.selectors import duty_list_diff, duty_list_item_count


def test_demo_loads_every_region_and_is_idempotent(county):
    out = io.StringIO()
    load_demo(stdout=out)
    year = demo_year()
    assert "2 个乡镇履职事项清单,3 个村级协助事项清单" in out.getvalue()
    published = DutyList.objects.filter(status="published")
    assert {d.region.code for d in published} == {
        county.town_a.code,
        county.town_b.code,
        county.village_a1.code,
        county.village_a2.code,
        county.village_b1.code,
    }
    assert all(d.year == year for d in published)
    for d in published:
        count = duty_list_item_count(duty_list=d)
        if d.kind == "township":
            assert 95 <= count <= 120
        else:
            assert 20 <= count <= 30
    # Township A (青石镇) also has last year's version, superseded, and the versions differ.
    old = DutyList.objects.get(region=county.town_a, year=year - 1)
    new = DutyList.objects.get(region=county.town_a, year=year)
    assert (old.status, new.based_on_id) == ("superseded", old.pk)
    diff = duty_list_diff(old=old, new=new)
    assert diff.added and diff.removed and diff.changed
    # The lists answer the duty check.
    assert duty_check(assigner=county.dept, unit=county.town_b, work="0103").allowed
    assert duty_check(assigner=county.dept, unit=county.village_a1, work="0702").code == "pushed_outside_list"

    state = (DutyList.objects.count(), AuditEntry.objects.count())
    load_demo(stdout=io.StringIO())
    assert (DutyList.objects.count(), AuditEntry.objects.count()) == state


def test_demo_without_county_does_nothing(db):
    out = io.StringIO()
    load_demo(stdout=out)
    assert "跳过" in out.getvalue() and not DutyList.objects.exists()
