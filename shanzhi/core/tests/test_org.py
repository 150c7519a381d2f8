import pytest

from shanzhi.audit.models import AuditEntry
from shanzhi.core.errors import ServiceError
from shanzhi.core.models import Region
from shanzhi.core.selectors import in_jurisdiction, region_list
from shanzhi.core.services import region_create


def test_region_tree_paths_and_audit(county):
    assert county.village_a1.path == "331199000000/331199101000/331199101201/"
    assert county.village_a1.level == "village"
    assert AuditEntry.objects.filter(action="region.create").count() == 6
    assert list(AuditEntry.objects.values_list("index", flat=True)[:3]) == [0, 1, 2]


def test_jurisdiction_is_subtree(county, user_a, admin_user):
    codes = set(region_list(user=user_a).values_list("code", flat=True))
    assert codes == {"331199101000", "331199101201", "331199101001"}
    assert in_jurisdiction(Region.objects.all(), user=admin_user, region_field="").count() == 6


def test_region_refuses_bad_code_and_changes_nothing(county):
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as err:
        region_create(actor=None, code="33119910120", name="x", parent=county.town_a)
    assert err.value.code == "invalid_division_code"
    with pytest.raises(ServiceError):
        region_create(actor=None, code="331199101999", name="y", parent=county.village_a1)
    assert AuditEntry.objects.count() == before


def test_api_me_and_regions_by_jurisdiction(client_a):
    me = client_a.get("/api/v1/core/me").json()
    assert me["region_code"] == "331199101000"
    codes = {r["code"] for r in client_a.get("/api/v1/core/regions").json()}
    assert "331199102000" not in codes


def test_api_requires_auth(client, county):
    resp = client.get("/api/v1/core/me")
    assert resp.status_code == 401
    assert resp.json()["code"] == "unauthenticated"
