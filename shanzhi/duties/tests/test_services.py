"""Lists: creation, caps, editing only drafts, publishing, revision, permissions, audit."""

from __future__ import annotations

import pytest

from shanzhi.audit.canonical import state_digest
from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import NotFound, PermissionDenied, ServiceError
from shanzhi.duties.items import VILLAGE_MAX_ITEMS
from shanzhi.duties.models import AssistItem, Duty, DutyList
from shanzhi.duties.services import (
    assist_item_add,
    assist_item_remove,
    assist_item_update,
    duty_add,
    duty_list_create,
    duty_list_delete,
    duty_list_publish,
    duty_list_replace_items,
    duty_list_revise,
    duty_remove,
    duty_update,
    list_state,
)

from .conftest import THIS_YEAR, TOWN_DUTIES, assist, duty


def audit_count() -> int:
    return AuditEntry.objects.count()


def test_create_derives_kind_from_region_and_audits_whole_list(county, admin_user):
    town = duty_list_create(actor=admin_user, region=county.town_a, year=THIS_YEAR, items=TOWN_DUTIES)
    village = duty_list_create(actor=admin_user, region=county.village_a1, year=THIS_YEAR)
    assert (town.kind, town.status, town.version) == ("township", "draft", 1)
    assert village.kind == "village_assist"
    assert list(town.duties.values_list("code", flat=True)) == ["XZCF-001", "XZCF-002", "XZCF-003"]
    entry = AuditEntry.objects.filter(action="duty_list.create", object_id=str(town.pk)).get()
    assert entry.actor == "t-admin"
    assert entry.state_digest == state_digest(list_state(town))
    assert len(list_state(town)["items"]) == 3


def test_county_cannot_have_a_list(county, admin_user):
    before = audit_count()
    with pytest.raises(ServiceError) as err:
        duty_list_create(actor=admin_user, region=county.county, year=THIS_YEAR)
    assert err.value.code == "invalid_region"
    assert audit_count() == before and not DutyList.objects.exists()


def test_items_are_normalised(county):
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR)
    d = duty_add(
        actor=None,
        duty_list=dl,
        fields=duty(1, code=" xzcf-001 ", name=" 名称 ", category_codes=("0301", "0101", "0301")),
    )
    assert (d.code, d.name, d.category_codes) == ("XZCF-001", "名称", ["0101", "0301"])


def test_village_list_refuses_the_31st_item(county):
    dl = duty_list_create(
        actor=None,
        region=county.village_a1,
        year=THIS_YEAR,
        items=[assist(n) for n in range(1, VILLAGE_MAX_ITEMS + 1)],
    )
    before = audit_count()
    with pytest.raises(ServiceError) as err:
        assist_item_add(actor=None, duty_list=dl, fields=assist(31))
    assert err.value.code == "assist_list_full"
    assert "最多 30 项" in err.value.message
    assert AssistItem.objects.filter(duty_list=dl).count() == 30
    assert audit_count() == before


def test_village_list_of_31_items_is_refused_whole(county):
    with pytest.raises(ServiceError) as err:
        duty_list_create(
            actor=None, region=county.village_a1, year=THIS_YEAR, items=[assist(n) for n in range(1, 32)]
        )
    assert err.value.code == "assist_list_full"
    assert not DutyList.objects.exists() and not AssistItem.objects.exists()


def test_township_cap_is_configurable(county, settings):
    settings.DUTIES_TOWNSHIP_MAX_ITEMS = 3
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1), duty(2), duty(3)])
    with pytest.raises(ServiceError) as err:
        duty_add(actor=None, duty_list=dl, fields=duty(4))
    assert err.value.code == "duty_list_full"
    with pytest.raises(ServiceError) as err:
        duty_list_replace_items(actor=None, duty_list=dl, items=[duty(n) for n in range(1, 5)])
    assert err.value.code == "duty_list_full"
    assert dl.duties.count() == 3


def test_township_default_cap_is_150(county):
    dl = duty_list_create(
        actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(n) for n in range(1, 151)]
    )
    with pytest.raises(ServiceError) as err:
        duty_add(actor=None, duty_list=dl, fields=duty(151))
    assert err.value.code == "duty_list_full"


def test_wrong_item_kind_is_refused(county):
    town = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR)
    village = duty_list_create(actor=None, region=county.village_a1, year=THIS_YEAR)
    with pytest.raises(ServiceError) as err:
        assist_item_add(actor=None, duty_list=town, fields=assist(1))
    assert err.value.code == "wrong_list_kind"
    with pytest.raises(ServiceError) as err:
        duty_add(actor=None, duty_list=village, fields=duty(1))
    assert err.value.code == "wrong_list_kind"


def test_invalid_item_lists_every_field_problem(county):
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR)
    before = audit_count()
    bad = duty(1, code="XZ CF/1", name="", type="许可", legal_basis="", category_codes=("9999", "0101"))
    with pytest.raises(ServiceError) as err:
        duty_add(actor=None, duty_list=dl, fields=bad)
    assert err.value.code == "invalid_item"
    fields = {d["field"] for d in err.value.details}
    assert fields == {"code", "name", "type", "legal_basis", "category_codes"}
    assert "9999" in err.value.message
    assert not dl.duties.exists() and audit_count() == before


def test_duplicate_code_refused_on_add_update_and_bulk(county):
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1), duty(2)])
    with pytest.raises(ServiceError) as err:
        duty_add(actor=None, duty_list=dl, fields=duty(1, name="另一个"))
    assert err.value.code == "duplicate_code"
    second = dl.duties.get(code="XZCF-002")
    with pytest.raises(ServiceError) as err:
        duty_update(actor=None, duty=second, fields=duty(1))
    assert err.value.code == "duplicate_code"
    with pytest.raises(ServiceError) as err:
        duty_list_create(actor=None, region=county.town_b, year=THIS_YEAR, items=[duty(1), duty(1)])
    assert err.value.code == "invalid_items"
    assert [d["index"] for d in err.value.details] == [0, 1]


def test_update_and_remove_on_draft(county):
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1), duty(2)])
    d = dl.duties.get(code="XZCF-001")
    updated = duty_update(actor=None, duty=d, fields=duty(1, name="新名称", category_codes=("0101",)))
    assert (updated.name, updated.category_codes) == ("新名称", ["0101"])
    duty_remove(actor=None, duty=dl.duties.get(code="XZCF-002"))
    assert list(dl.duties.values_list("code", flat=True)) == ["XZCF-001"]
    actions = list(
        AuditEntry.objects.filter(object_type="duties.dutylist", object_id=str(dl.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["duty_list.create", "duty.update", "duty.remove"]
    village = duty_list_create(actor=None, region=county.village_a1, year=THIS_YEAR, items=[assist(1)])
    item = village.assist_items.get()
    assert assist_item_update(actor=None, item=item, fields=assist(1, assists="health")).assists == "health"
    assist_item_remove(actor=None, item=item)
    assert not village.assist_items.exists()


def test_published_list_cannot_be_edited(town_list):
    d = town_list.duties.first()
    before = audit_count()
    for call in (
        lambda: duty_add(actor=None, duty_list=town_list, fields=duty(50)),
        lambda: duty_update(actor=None, duty=d, fields=duty(1, name="改")),
        lambda: duty_remove(actor=None, duty=d),
        lambda: duty_list_replace_items(actor=None, duty_list=town_list, items=[duty(1)]),
        lambda: duty_list_delete(actor=None, duty_list=town_list),
        lambda: duty_list_publish(actor=None, duty_list=town_list),
    ):
        with pytest.raises(ServiceError) as err:
            call()
        assert err.value.code == "not_draft"
    assert town_list.duties.count() == 3 and audit_count() == before


def test_publish_supersedes_same_and_earlier_years(county):
    old = duty_list_publish(
        actor=None,
        duty_list=duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR - 1, items=[duty(1)]),
    )
    assert (old.status, old.published_at is not None) == ("published", True)
    revision = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR)
    v1 = duty_list_publish(actor=None, duty_list=revision)
    second = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR)
    assert second.version == 2
    v2 = duty_list_publish(actor=None, duty_list=second)
    statuses = dict(DutyList.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "superseded", v1.pk: "superseded", v2.pk: "published"}
    entry = AuditEntry.objects.filter(action="duty_list.publish").last()
    assert entry is not None
    assert entry.object_id == str(v2.pk)
    assert entry.state_digest == state_digest({**list_state(v2), "superseded": [v1.pk]})


def test_cannot_publish_older_year_over_newer(county, town_list):
    old_draft = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR - 1, items=[duty(1)])
    with pytest.raises(ServiceError) as err:
        duty_list_publish(actor=None, duty_list=old_draft)
    assert err.value.code == "newer_list_published"
    town_list.refresh_from_db()
    old_draft.refresh_from_db()
    assert (town_list.status, old_draft.status) == ("published", "draft")


def test_empty_draft_cannot_be_published(county):
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR)
    with pytest.raises(ServiceError) as err:
        duty_list_publish(actor=None, duty_list=dl)
    assert err.value.code == "empty_list"


def test_one_draft_per_region_and_year(county, town_list):
    duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    with pytest.raises(ServiceError) as err:
        duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    assert err.value.code == "draft_exists"
    with pytest.raises(ServiceError) as err:
        duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    assert err.value.code == "draft_exists"
    assert DutyList.objects.filter(region=county.town_a).count() == 2


def test_revise_copies_last_published_version(county, town_list):
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    assert (draft.status, draft.year, draft.version, draft.based_on_id) == (
        "draft",
        THIS_YEAR + 1,
        1,
        town_list.pk,
    )
    copied = list(draft.duties.values_list("code", "name", "type", "legal_basis", "category_codes"))
    original = list(town_list.duties.values_list("code", "name", "type", "legal_basis", "category_codes"))
    assert copied == original
    duty_add(actor=None, duty_list=draft, fields=duty(10))
    assert town_list.duties.count() == 3  # the published version is untouched


def test_revise_needs_a_published_list_and_a_sane_year(county, town_list):
    with pytest.raises(ServiceError) as err:
        duty_list_revise(actor=None, region=county.village_a1, year=THIS_YEAR)
    assert err.value.code == "no_published_list"
    with pytest.raises(ServiceError) as err:
        duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR - 1)
    assert err.value.code == "invalid_year"
    with pytest.raises(ServiceError) as err:
        duty_list_create(actor=None, region=county.town_b, year=1999)
    assert err.value.code == "invalid_year"


def test_delete_draft(county):
    dl = duty_list_create(actor=None, region=county.town_a, year=THIS_YEAR, items=[duty(1)])
    duty_list_delete(actor=None, duty_list=dl)
    assert not DutyList.objects.exists() and not Duty.objects.exists()
    assert AuditEntry.objects.filter(action="duty_list.delete", object_id=str(dl.pk)).count() == 1


# ---- permissions ----------------------------------------------------------------------------


def test_leaders_of_township_and_county_and_admins_may_edit(county, user_a, county_leader, admin_user):
    a = duty_list_create(actor=user_a, region=county.village_a1, year=THIS_YEAR, items=[assist(1)])
    duty_list_publish(actor=county_leader, duty_list=a)
    b = duty_list_create(actor=admin_user, region=county.town_b, year=THIS_YEAR, items=[duty(1)])
    duty_add(actor=county_leader, duty_list=b, fields=duty(2))
    assert b.duties.count() == 2


def test_other_township_is_not_found_and_changes_nothing(county, user_b, town_list):
    draft = duty_list_revise(actor=None, region=county.town_a, year=THIS_YEAR + 1)
    before = audit_count()
    for call in (
        lambda: duty_list_create(actor=user_b, region=county.village_a1, year=THIS_YEAR),
        lambda: duty_list_revise(actor=user_b, region=county.town_a, year=THIS_YEAR + 2),
        lambda: duty_add(actor=user_b, duty_list=draft, fields=duty(10)),
        lambda: duty_remove(actor=user_b, duty=draft.duties.get(code="XZCF-001")),
        lambda: duty_list_publish(actor=user_b, duty_list=draft),
        lambda: duty_list_delete(actor=user_b, duty_list=draft),
    ):
        with pytest.raises(NotFound):
            call()
    assert audit_count() == before
    assert draft.duties.count() == 3


def test_non_leaders_and_village_leaders_may_not_edit(county, handler_a, village_leader):
    for actor, region in ((handler_a, county.town_a), (village_leader, county.village_a1)):
        with pytest.raises(PermissionDenied):
            duty_list_create(actor=actor, region=region, year=THIS_YEAR)
    assert not DutyList.objects.exists()
