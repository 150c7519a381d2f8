"""duty_check: every branch of "may this work be assigned to this unit?"."""

from __future__ import annotations

import dataclasses

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.duties.check import DutyCheckResult, duty_check
from shanzhi.duties.services import duty_list_create, duty_list_revise

from .conftest import THIS_YEAR, duty


def test_township_duty_found_by_category(county, town_list):
    result = duty_check(assigner=county.dept, unit=county.town_a, work="0103")
    assert result == DutyCheckResult(allowed=True, code="in_list", reason=result.reason, duty="XZCF-001")
    assert "违法建设" in result.reason and "青石镇" in result.reason


def test_township_duty_found_by_code_and_by_keywords(county, town_list):
    assert duty_check(assigner=county.county, unit=county.town_a, work="xzcf-002").duty == "XZCF-002"
    assert duty_check(assigner=county.dept, unit=county.town_a, work="秸秆 焚烧").duty == "XZCF-003"
    # Every part given must agree: the code with a category it covers, or not at all.
    assert duty_check(assigner=county.dept, unit=county.town_a, work="1301 XZCF-003").allowed
    mismatch = duty_check(assigner=county.dept, unit=county.town_a, work="0101 XZCF-003")
    assert (mismatch.allowed, mismatch.code, mismatch.duty) == (False, "not_in_list", None)


def test_township_work_not_in_list(county, town_list):
    result = duty_check(assigner=county.dept, unit=county.town_a, work="0902")
    assert (result.allowed, result.code, result.duty) == (False, "not_in_list", None)
    assert "社保与养老金" in result.reason and "县城管局" in result.reason


def test_village_assist_item_found(county, village_list):
    result = duty_check(assigner=county.town_a_gov, unit=county.village_a1, work="0101")
    assert (result.allowed, result.code, result.duty) == (True, "in_list", "CXZ-001")


def test_village_work_outside_assist_list_is_pushed_down(county, village_list):
    result = duty_check(assigner=county.dept, unit=county.village_a1, work="0103")
    assert (result.allowed, result.code, result.duty) == (False, "pushed_outside_list", None)
    assert "严禁随意" in result.reason and "摊派" in result.reason


def test_no_published_list(county, town_list):
    # The village has no list at all; township B has only a draft; last year's list does not count.
    none = duty_check(assigner=county.dept, unit=county.village_a1, work="0101")
    assert (none.allowed, none.code) == (False, "no_published_list")
    assert "尚未发布" in none.reason
    duty_list_create(actor=None, region=county.town_b, year=THIS_YEAR)
    assert duty_check(assigner=county.dept, unit=county.town_b, work="0101").code == "no_published_list"
    assert duty_check(assigner=county.dept, unit=county.town_a, work="0103", year=THIS_YEAR + 1).code == (
        "no_published_list"
    )


def test_a_draft_revision_does_not_change_the_answer(county, town_list):
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR)
    draft.duties.all().delete()
    assert duty_check(assigner=county.dept, unit=county.town_a, work="0103").allowed


def test_assigner_must_be_above_the_unit(county, village_list):
    result = duty_check(assigner=county.town_b_gov, unit=county.village_a1, work="0101")
    assert (result.allowed, result.code) == (False, "assigner_out_of_area")
    assert "白沙镇人民政府" in result.reason


def test_bad_input_raises(county, town_list):
    for unit, work, code in (
        (county.county, "0101", "invalid_unit"),
        (county.town_a, "9999", "unknown_category"),
        (county.town_a, "   ", "invalid_work"),
    ):
        with pytest.raises(ServiceError) as err:
            duty_check(assigner=county.dept, unit=unit, work=work)
        assert err.value.code == code


def test_result_is_frozen(county, town_list):
    result = duty_check(assigner=county.dept, unit=county.town_a, work="0103")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.allowed = False  # type: ignore[misc]


def test_categories_added_in_the_back_office_are_known(county, town_list):
    from shanzhi.cases.models import Category
    from shanzhi.core.models import HandlerType
    from shanzhi.duties.services import duty_add

    # Not in the shipped catalogue: refused until the county adds it to the cases catalogue.
    with pytest.raises(ServiceError) as err:
        duty_check(assigner=county.dept, unit=county.town_a, work="1401")
    assert err.value.code == "unknown_category"
    Category.objects.create(
        code="1401",
        group="新增",
        name="共享单车乱停放",
        sla_hours=24,
        clock_unit="natural_hours",
        primary_handler=HandlerType.objects.get(code="urban_mgmt"),
    )
    result = duty_check(assigner=county.dept, unit=county.town_a, work="1401")
    assert (result.code, "共享单车乱停放" in result.reason) == ("not_in_list", True)
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    assert duty_add(
        actor=None, duty_list=draft, fields=duty(20, category_codes=("1401",))
    ).category_codes == ["1401"]
