"""Version diff: added, removed and changed items, field by field."""

from __future__ import annotations

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.duties.selectors import duty_list_diff
from shanzhi.duties.services import (
    duty_add,
    duty_list_replace_items,
    duty_list_revise,
    duty_remove,
    duty_update,
)

from .conftest import THIS_YEAR, TOWN_DUTIES, duty


def test_diff_reports_added_removed_and_changed_fields(county, town_list):
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    duty_add(actor=None, duty_list=draft, fields=duty(4, name="新增事项"))
    duty_remove(actor=None, duty=draft.duties.get(code="XZCF-002"))
    changed = TOWN_DUTIES[2]
    duty_update(
        actor=None,
        duty=draft.duties.get(code="XZCF-003"),
        fields=duty(
            3, name=changed.name, type="enforcement", legal_basis="《新法》第一条", category_codes=("0501",)
        ),
    )
    diff = duty_list_diff(old=town_list, new=draft)
    assert [i.code for i in diff.added] == ["XZCF-004"]
    assert [i.code for i in diff.removed] == ["XZCF-002"]
    assert diff.unchanged == 1
    (item,) = diff.changed
    assert item.code == "XZCF-003"
    assert [(c.field, c.label, c.old, c.new) for c in item.changes] == [
        ("type", "职权类型", "行政处罚", "行政强制"),
        ("legal_basis", "设定依据", "《中华人民共和国测试法》第3条", "《新法》第一条"),
        ("category_codes", "涉及诉求类别", "0501、1301", "0501"),
    ]
    assert not diff.is_empty
    # Reversed, additions and removals swap.
    back = duty_list_diff(old=draft, new=town_list)
    assert ([i.code for i in back.added], [i.code for i in back.removed]) == (["XZCF-002"], ["XZCF-004"])


def test_identical_versions_have_an_empty_diff(county, town_list):
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    diff = duty_list_diff(old=town_list, new=draft)
    assert diff.is_empty and diff.unchanged == 3


def test_reordering_is_not_a_change(county, town_list):
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    duty_list_replace_items(actor=None, duty_list=draft, items=list(reversed(TOWN_DUTIES)))
    assert duty_list_diff(old=town_list, new=draft).is_empty


def test_township_and_village_lists_are_not_comparable(town_list, village_list):
    with pytest.raises(ServiceError) as err:
        duty_list_diff(old=town_list, new=village_list)
    assert err.value.code == "not_comparable"
