"""The public side: discovery, services, service definitions, GET requests, tokens, errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from lxml import etree

from shanzhi.cases import services as svc
from shanzhi.cases.models import Category
from shanzhi.cases.open311.models import Open311Request
from shanzhi.cases.open311.render import to_xml

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def xml(response):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return etree.fromstring(response.content)


def body(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def ids(response):
    return [r["service_request_id"] for r in body(response)]


# --- discovery and services --------------------------------------------------------------------


def test_discovery_in_both_formats(o311):
    data = body(o311.get("discovery.json"))
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert "善水县" in data["contact"]

    root = xml(o311.get("discovery.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint_el = root.find("endpoints/endpoint")
    assert [c.tag for c in endpoint_el] == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint_el.findall("formats/format")] == ["text/xml", "application/json"]


def test_services_list_the_active_catalogue(o311):
    Category.objects.filter(code="0702").update(active=False)
    services = body(o311.get("services.json"))
    codes = [s["service_code"] for s in services]
    assert "0702" not in codes and len(codes) == Category.objects.filter(active=True).count() == 30
    garbage = next(s for s in services if s["service_code"] == "0101")
    assert garbage == {
        "service_code": "0101",
        "service_name": "生活垃圾与暴露垃圾",
        "description": garbage["description"],
        "metadata": False,
        "type": "realtime",
        "keywords": garbage["keywords"],
        "group": "市容环卫",
    }
    assert garbage["description"].startswith("城镇及小区垃圾清运不及时")
    # phrases of the scope; the cross-reference "农村村庄垃圾归1301" is not a keyword
    assert "垃圾桶满溢" in garbage["keywords"].split(",") and "1301" not in garbage["keywords"]

    root = xml(o311.get("services.xml"))
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    assert len(root) == 30
    first = root[0]
    assert [c.tag for c in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert first.findtext("metadata") == "false" and first.findtext("type") == "realtime"


def test_service_definition_and_unknown_service(o311):
    assert body(o311.get("services/0101.json")) == {"service_code": "0101", "attributes": []}
    root = xml(o311.get("services/0101.xml"))
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"] and len(root.find("attributes")) == 0

    response = o311.get("services/9999.json")
    assert response.status_code == 404
    (error,) = body(response)
    assert error["code"] == 404 and "service_code" in error["description"]
    response = o311.get("services/9999.xml")
    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors" and [c.tag for c in root[0]] == ["code", "description"]
    assert root.findtext("error/code") == "404"


def test_unknown_paths_methods_and_jurisdiction(o311):
    response = o311.get("nothing.xml")
    assert response.status_code == 404 and xml(response).findtext("error/code") == "404"
    response = o311.get("services")  # no format suffix
    assert response.status_code == 404 and body(response)[0]["code"] == 404
    response = o311.http.delete("/open311/v2/requests.json")
    assert response.status_code == 405 and "POST" in response["Allow"]
    assert body(response)[0]["code"] == 405
    response = o311.http.post("/open311/v2/services.xml")
    assert response.status_code == 405 and xml(response).findtext("error/code") == "405"
    assert o311.get("services.json", jurisdiction_id="331199000000").status_code == 200
    response = o311.get("services.json", jurisdiction_id="sfgov.org")
    assert response.status_code == 404 and "jurisdiction_id" in body(response)[0]["description"]


# --- GET requests ---------------------------------------------------------------------------------


def test_request_fields_in_both_formats(o311):
    case = o311.case(address="青石镇上溪村村口")
    (item,) = body(o311.get(f"requests/{case.number}.json"))
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == case.number
    assert item["status"] == "open" and item["status_notes"] == "已受理"
    assert item["service_code"] == "0102" and item["service_name"] == "占道经营与流动摊贩"
    assert item["description"] == case.text and item["address"] == "青石镇上溪村村口"
    assert item["lat"] == 28.4 and item["long"] == 119.65
    assert item["requested_datetime"] == timezone.localtime(case.received_at).isoformat(timespec="seconds")
    assert item["requested_datetime"].endswith("+08:00")
    assert item["expected_datetime"] is None and item["agency_responsible"] == ""
    assert item["service_notice"] == "本类诉求办理时限为 24 个工作小时"
    assert item["zipcode"] == "" and item["media_url"] == ""

    root = xml(o311.get(f"requests/{case.number}.xml"))
    assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
    assert [c.tag for c in root[0]] == REQUEST_FIELDS
    assert root.findtext("request/service_request_id") == case.number
    assert root.findtext("request/long") == "119.65"
    assert root.find("request/expected_datetime").text is None  # empty element for "no deadline"


def test_unknown_request_and_token_are_404(o311):
    response = o311.get("requests/SZ2026010100001.json")
    assert response.status_code == 404 and body(response) == [
        {"code": 404, "description": "没有编号为 SZ2026010100001 的诉求(unknown service_request_id)"}
    ]
    response = o311.get("tokens/nope.xml")
    assert response.status_code == 404 and xml(response).findtext("error/code") == "404"


def test_status_mapping_notes_and_agency(o311):
    loop = o311.loop
    received = o311.case(text="路灯不亮好几天了", category="0602")
    registered = svc.case_register(actor=loop.dispatcher, case=o311.case(text="井盖缺失", category="0601"))
    dispatched = svc.case_dispatch(
        actor=loop.dispatcher,
        case=svc.case_register(actor=loop.dispatcher, case=o311.case(text="垃圾桶满溢", category="0101")),
        primary=loop.county.dept,
    )
    refused = svc.case_refuse(
        actor=loop.dispatcher, case=o311.case(text="想咨询彩票", category="0802"), reason="不属于政府职能范围"
    )
    keeper = o311.case(text="夜市占道,电话13812345678", category="0102")
    merged = svc.case_merge(
        actor=loop.dispatcher, case=o311.case(text="夜市又占道", category="0102"), into=keeper
    )
    closed = svc.case_dispatch(
        actor=loop.dispatcher,
        case=svc.case_register(actor=loop.dispatcher, case=o311.case(text="店外经营", category="0102")),
        primary=loop.county.dept,
    )
    primary = closed.assignments.get()
    svc.assignment_accept(actor=loop.urban_handler, assignment=primary)
    svc.assignment_report(actor=loop.urban_handler, assignment=primary, text="已劝离摊贩,联系人13900001111")
    closed = svc.case_verify(actor=loop.gridworker, case=closed, passed=True)

    items = {r["service_request_id"]: r for r in body(o311.get("requests.json"))}
    status = {number: r["status"] for number, r in items.items()}
    assert status == {
        received.number: "open",
        registered.number: "open",
        dispatched.number: "open",
        keeper.number: "open",
        refused.number: "closed",
        merged.number: "closed",
        closed.number: "closed",
    }
    assert items[refused.number]["status_notes"] == "不予立案:不属于政府职能范围"
    assert items[merged.number]["status_notes"] == f"已合并:并入 {keeper.number}"
    # the handler's report is public, with the phone inside it masked
    assert items[closed.number]["status_notes"] == "已结案:已劝离摊贩,联系人139****1111"
    assert items[closed.number]["agency_responsible"] == "县城管局"
    assert items[dispatched.number]["agency_responsible"] == "县城管局"
    dispatched.refresh_from_db()
    assert items[dispatched.number]["expected_datetime"] == timezone.localtime(dispatched.deadline).isoformat(
        timespec="seconds"
    )
    assert items[keeper.number]["description"] == "夜市占道,电话138****5678"

    open_only = ids(o311.get("requests.json", status="open"))
    assert set(open_only) == {received.number, registered.number, dispatched.number, keeper.number}
    closed_only = ids(o311.get("requests.json", status="closed"))
    assert set(closed_only) == {refused.number, merged.number, closed.number}
    assert len(ids(o311.get("requests.json", status="open,closed"))) == 7


def test_filters_by_service_ids_and_dates(o311):
    now = timezone.now()
    lights = o311.case(text="路灯不亮", category="0602")
    stalls = o311.case(text="流动摊贩占道")
    old = o311.case(text="路灯白天常亮", category="0602", received_at=now - dt.timedelta(days=100))

    assert ids(o311.get("requests.json", service_code="0602")) == [lights.number]  # old is outside 90 days
    assert set(ids(o311.get("requests.json", service_code="0602,0102"))) == {lights.number, stalls.number}
    assert ids(o311.get("requests.json", service_code="0101")) == []
    # newest first
    assert ids(o311.get("requests.json")) == [stalls.number, lights.number]

    start = timezone.localtime(now - dt.timedelta(days=101)).replace(microsecond=0)
    assert ids(o311.get("requests.json", start_date=start.isoformat())) == [old.number]
    end = (now - dt.timedelta(days=50)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(o311.get("requests.json", end_date=end)) == [old.number]
    # "+08:00" sent unencoded arrives as a space; still understood
    response = o311.http.get(f"/open311/v2/requests.json?start_date={start.isoformat()}")
    assert response.status_code == 200 and ids(response) == [old.number]
    # a date without time is local midnight
    day = timezone.localdate(now)
    assert set(ids(o311.get("requests.json", start_date=day.isoformat()))) >= {lights.number, stalls.number}

    # ids override every other filter, including the date window
    response = o311.get(
        "requests.json", service_request_id=f"{old.number}, {stalls.number}", service_code="0101"
    )
    assert set(ids(response)) == {old.number, stalls.number}


@pytest.mark.parametrize(
    "query, words",
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-01"}, "end_date"),
        ({"start_date": "2026-05-02", "end_date": "2026-05-01"}, "end_date 早于 start_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-05-01"}, "90 天"),
        ({"status": "pending"}, "status"),
        ({"service_request_id": ",".join(["SZ1"] * 1001)}, "service_request_id"),
    ],
)
def test_bad_queries_are_400(o311, query, words):
    for fmt in ("json", "xml"):
        response = o311.get(f"requests.{fmt}", **query)
        assert response.status_code == 400
        description = (
            body(response)[0]["description"] if fmt == "json" else xml(response).findtext("error/description")
        )
        assert words in description


def test_search_queries_do_not_grow_with_results(o311, django_assert_num_queries):
    loop = o311.loop
    for text in ("路灯不亮", "井盖缺失", "垃圾满溢"):
        case = svc.case_register(actor=loop.dispatcher, case=o311.case(text=text))
        svc.case_dispatch(actor=loop.dispatcher, case=case, primary=loop.county.dept)
    with django_assert_num_queries(2):  # the cases with their joins, then the primary assignments
        assert len(ids(o311.get("requests.json"))) == 3


def test_results_are_capped_at_1000(o311, monkeypatch):
    from shanzhi.cases.open311 import selectors

    monkeypatch.setattr(selectors, "MAX_RESULTS", 2)
    for text in ("路灯不亮", "井盖缺失", "垃圾满溢"):
        o311.case(text=text)
    assert len(ids(o311.get("requests.json"))) == 2


def test_no_personal_data_in_public_reads(o311):
    case = o311.case(
        text="我叫王小明,身份证330102199001011234,摊贩占道",
        reporter_name="王小明",
        reporter_phone="13812345678",
    )
    for fmt in ("json", "xml"):
        for path in (f"requests.{fmt}", f"requests/{case.number}.{fmt}"):
            content = o311.get(path).content.decode()
            assert case.number in content
            assert "13812345678" not in content and "5678" not in content
            assert "330102199001011234" not in content and "330102********1234" in content
    item = body(o311.get(f"requests/{case.number}.json"))[0]
    assert not {"reporter_name", "phone", "first_name", "last_name", "email"} & set(item)


def test_private_groups_show_status_only(o311):
    dispute = o311.case(text="邻居家漏水到我家,协商不成", category="1202", address="青石镇上溪村 5 号")
    svc.case_refuse(actor=o311.loop.dispatcher, case=dispute, reason="已由法院受理,张三家属另案处理")
    (item,) = body(o311.get(f"requests/{dispute.number}.json"))
    assert item["service_code"] == "1202" and item["status"] == "closed"
    assert item["description"] == "" and item["address"] == ""
    assert item["lat"] is None and item["long"] is None
    assert item["status_notes"] == "不予立案"  # the reason could name people


def test_xml_drops_characters_xml_cannot_carry(o311):
    case = o311.case(text="占道\x0b经营\x1f摊贩")
    root = xml(o311.get(f"requests/{case.number}.xml"))  # lxml refuses invalid XML outright
    assert root.findtext("request/description") == "占道经营摊贩"
    assert to_xml(root="errors", payload=[{"code": 400, "description": "a\ufffeb"}]).endswith(
        b"<description>ab</description></error></errors>"
    )


def test_public_reads_allow_browsers(o311):
    assert o311.get("services.json")["Access-Control-Allow-Origin"] == "*"


def test_service_shown_is_registered_then_clients_then_triages(o311):
    case = o311.case(text="路灯不亮", category="0102")  # triage guessed wrong
    Open311Request.objects.create(
        case=case, client=o311.client, service=o311.loop.category("0602"), token="t1"
    )
    assert body(o311.get(f"requests/{case.number}.json"))[0]["service_code"] == "0602"
    assert ids(o311.get("requests.json", service_code="0602")) == [case.number]
    assert ids(o311.get("requests.json", service_code="0102")) == []
    svc.case_register(actor=o311.loop.dispatcher, case=case, category=o311.loop.category("0601"))
    assert body(o311.get(f"requests/{case.number}.json"))[0]["service_code"] == "0601"
    assert ids(o311.get("requests.json", service_code="0601")) == [case.number]
    assert ids(o311.get("requests.json", service_code="0602")) == []


def test_token_lookup(o311):
    case = o311.case()
    link = Open311Request.objects.create(
        case=case, client=o311.client, service=o311.loop.category("0102"), token="tok-123"
    )
    assert body(o311.get("tokens/tok-123.json")) == [{"service_request_id": case.number, "token": link.token}]
    root = xml(o311.get("tokens/tok-123.xml"))
    assert root.tag == "service_requests" and [c.tag for c in root[0]] == ["service_request_id", "token"]
