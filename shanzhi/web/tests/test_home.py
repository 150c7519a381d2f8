"""Each role's home page shows its own work first, and only work within the user's reach; the
live partials (queue, inbox, the window's waiting list) count what arrived since the last refresh;
the shared pager keeps filters and copes with pages that do not exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from shanzhi.cases.models import Assignment, Case
from shanzhi.cases.tests.test_pages import dispatched, received
from shanzhi.conftest import make_user
from shanzhi.onewindow.tests.window_setup import (
    accepted,
    pension_draft,
)


@pytest.fixture
def as_(client: Any) -> Any:
    def login(user: Any) -> Any:
        client.logout()
        client.force_login(user)
        return client

    return login


def home(client: Any) -> str:
    resp = client.get("/")
    assert resp.status_code == 200
    return resp.content.decode()


def since(minutes: float) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()


# --- homes ------------------------------------------------------------------------------------------


def test_dispatcher_home_shows_the_queue_with_new_and_late(loop, as_):
    late = received(loop, text="路灯不亮已经一周")
    Case.objects.filter(pk=late.pk).update(received_at=timezone.now() - dt.timedelta(hours=3))
    fresh = received(loop, text="小区门口垃圾没人清运")
    html = home(as_(loop.dispatcher))
    assert "调度台:待立案、待派遣" in html
    assert late.number in html and fresh.number in html
    assert html.index(late.number) < html.index(fresh.number)  # late first
    assert "<dt>超时待派</dt><dd>1</dd>" in html and "<dt>待立案、待派遣</dt><dd>2</dd>" in html
    assert "<dt>今日新增</dt><dd>1</dd>" in html or late.received_at.date() == timezone.localdate()
    # the work comes before the other links
    assert html.index("调度台:待立案、待派遣") < html.index("更多功能")
    # a township-B dispatcher does not see township A's requests
    other = home(as_(loop.dispatcher_b))
    assert late.number not in other and fresh.number not in other
    assert "<dt>待立案、待派遣</dt><dd>0</dd>" in other and "队列已清空" in other


def test_handler_home_shows_the_inbox_nearest_deadline_first_with_ticking_clocks(loop, as_):
    soon = dispatched(loop)
    later = dispatched(loop, received(loop, text="人行道上的井盖松动", reporter_phone="13812345679"))
    Assignment.objects.filter(case=soon).update(deadline=timezone.now() - dt.timedelta(hours=1))
    html = home(as_(loop.urban_handler))
    assert "待办:派给本单位的诉求" in html
    assert soon.number in html and later.number in html
    assert html.index(soon.number) < html.index(later.number)
    assert "<dt>待签收</dt><dd>2</dd>" in html and "<dt>已超时</dt><dd>1</dd>" in html
    assert "已超时" in html and "data-deadline=" in html and 'data-unit="' in html
    # township B's body has none of it
    town_b = make_user(
        username="h-town-b", region=loop.county.town_b, roles=["handler"], handler=loop.county.town_b_gov
    )
    other = home(as_(town_b))
    assert soon.number not in other and "暂无待办" in other


def test_operator_home_shows_todays_calls(loop, as_):
    operator = make_user(username="h-operator", region=loop.county.county, roles=["operator"])
    mine = received(loop, actor=operator, text="楼上漏水影响楼下")
    received(loop, text="别人登记的来电")
    html = home(as_(operator))
    assert "今日来电" in html and mine.number in html
    assert "<dt>我今日登记</dt><dd>1</dd>" in html and "<dt>今日热线来电</dt><dd>2</dd>" in html


def test_gridworker_home_links_the_phone_page_with_counts(loop, as_):
    html = home(as_(loop.gridworker))
    assert "网格通:今日任务" in html and 'href="/grid/m/"' in html
    assert "<dt>今日未完成任务</dt><dd>0</dd>" in html and "<dt>待核查诉求</dt><dd>0</dd>" in html


def test_leader_home_shows_cockpit_tiles(loop, as_):
    received(loop)
    leader = make_user(username="h-leader", region=loop.county.county, roles=["leader"])
    html = home(as_(leader))
    assert 'href="/cockpit/"' in html and "打开数据驾驶舱" in html
    for label in ("今日受理", "在办", "今日到期", "超期", "满意率"):
        assert f"<dt>{label}</dt>" in html
    assert "<dt>今日受理</dt><dd>1</dd>" in html
    # a township-B leader's tiles do not count township A's request
    leader_b = make_user(username="h-leader-b", region=loop.county.town_b, roles=["leader"])
    assert "<dt>今日受理</dt><dd>0</dd>" in home(as_(leader_b))


def test_supervisor_home_lists_overdue_work_in_reach(loop, as_):
    case = dispatched(loop)
    Assignment.objects.filter(case=case).update(deadline=timezone.now() - dt.timedelta(hours=2))
    html = home(as_(loop.supervisor))
    assert "超期督办" in html and case.number in html and "<dt>超时诉求</dt><dd>1</dd>" in html
    sup_b = make_user(username="h-sup-b", region=loop.county.town_b, roles=["supervisor"])
    other = home(as_(sup_b))
    assert case.number not in other and "没有超期的诉求和办件" in other


def test_resident_home_shows_their_own_open_cases_only(loop, as_):
    mine = received(loop, actor=loop.resident, channel="app", text="我家门口路灯坏了")
    html = home(as_(loop.resident))
    assert "我的诉求和办件" in html and mine.number in html and "<dt>办理中的诉求</dt><dd>1</dd>" in html
    neighbour = make_user(username="h-neighbour", region=loop.county.village_a1, roles=["resident"])
    other = home(as_(neighbour))
    assert mine.number not in other and "您没有办理中的诉求或办件" in other


def test_clerk_home_shows_todays_window(people, catalog, as_):
    draft = pension_draft(people, catalog)
    html = home(as_(people.clerk_a))
    assert "今日窗口" in html and draft.number in html
    assert "<dt>待受理、待送达</dt><dd>1</dd>" in html and 'href="/services/window/"' in html
    other = home(as_(people.clerk_b))
    assert draft.number not in other and "<dt>待受理、待送达</dt><dd>0</dd>" in other


def test_approver_home_shows_the_back_office(people, catalog, as_):
    app = accepted(people, catalog)
    html = home(as_(people.approver))
    assert "后台审批:待办办件" in html and app.number in html and "<dt>待审批</dt><dd>1</dd>" in html
    # another department's approver sees none of it
    other = home(as_(people.approver_police))
    assert app.number not in other and "本部门没有待审批的办件" in other


# --- live partials ----------------------------------------------------------------------------------


def test_queue_partial_returns_rows_and_counts_what_is_new(loop, as_):
    old = received(loop, text="很早以前的诉求")
    Case.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(minutes=10))
    new1 = received(loop, text="刚到的诉求一")
    new2 = received(loop, text="刚到的诉求二")
    c = as_(loop.dispatcher)
    resp = c.get("/cases/queue/table/", {"since": since(1)})
    html = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in html
    assert old.number in html and new1.number in html and new2.number in html
    assert 'data-new-count="2"' in html and "新增 2 件" in html
    # the next refresh carries its own mark, and page links do not carry it
    assert "since=" in html.split('hx-get="')[1].split('"')[0]
    # filters apply to the count too
    one = c.get("/cases/queue/table/", {"since": since(1), "q": "诉求一"}).content.decode()
    assert 'data-new-count="1"' in one
    # first load, a malformed, future or stale mark: nothing is announced
    for value in ("", "yesterday", "2999-01-01T00:00:00+08:00", since(60 * 48), "2024-01-01T00:00:00"):
        html = c.get("/cases/queue/table/", {"since": value}).content.decode()
        assert 'data-new-count="0"' in html and "新增" not in html
    # another township's dispatcher: neither the rows nor the count
    html = as_(loop.dispatcher_b).get("/cases/queue/table/", {"since": since(1)}).content.decode()
    assert new1.number not in html and 'data-new-count="0"' in html


def test_queue_partial_is_for_dispatchers_only(loop, as_, client):
    assert client.get("/cases/queue/table/").status_code == 302
    assert as_(loop.resident).get("/cases/queue/table/").status_code == 403


def test_inbox_partial_returns_rows_and_counts_new_shares(loop, as_):
    first = dispatched(loop)
    Assignment.objects.filter(case=first).update(started_at=timezone.now() - dt.timedelta(minutes=10))
    second = dispatched(loop, received(loop, text="公园健身器材损坏", reporter_phone="13812345670"))
    c = as_(loop.urban_handler)
    html = c.get("/cases/inbox/list/", {"since": since(2)}).content.decode()
    assert "<html" not in html and 'id="inbox-list"' in html
    assert first.number in html and second.number in html
    assert 'data-new-count="1"' in html and "新增 1 件" in html
    assert "every 20s" in html and "/cases/inbox/list/?since=" in html
    # the forms in a refreshed list still come back to the inbox page, not to the partial
    assert 'name="next" value="/cases/inbox/"' in html
    page = c.get("/cases/inbox/").content.decode()
    assert 'hx-get="/cases/inbox/list/?since=' in page and 'data-new-count="0"' in page
    # a body in another township sees neither
    town_b = make_user(
        username="i-town-b", region=loop.county.town_b, roles=["handler"], handler=loop.county.town_b_gov
    )
    html = as_(town_b).get("/cases/inbox/list/", {"since": since(2)}).content.decode()
    assert second.number not in html and 'data-new-count="0"' in html
    assert as_(loop.dispatcher).get("/cases/inbox/list/").status_code == 403


def test_window_waiting_partial_counts_new_tickets(people, as_, county):
    from shanzhi.onewindow import queue

    c = as_(people.clerk_a)
    queue.ticket_take(actor=people.clerk_a, hall=county.town_a, theme="", phone="")
    url = "/services/window/waiting/"
    html = c.get(url, {"hall": county.town_a.code, "since": since(1)}).content.decode()
    assert "等候中(1 人)" in html and 'data-new-count="1"' in html and "新增 1 人" in html
    page = c.get("/services/window/").content.decode()
    assert 'hx-get="/services/window/waiting/?hall=' in page
    # a hall outside the clerk's township is a 404, and nothing is shown
    assert c.get("/services/window/waiting/", {"hall": county.town_b.code}).status_code == 404
    assert c.get("/services/window/waiting/", {"hall": "x" * 500}).status_code == 404


# --- the pager --------------------------------------------------------------------------------------


def test_case_list_pages_keep_filters_and_survive_bad_pages(loop, as_):
    for i in range(32):
        received(loop, text=f"第 {i} 件噪音扰民")
    received(loop, text="别的事")
    c = as_(loop.dispatcher)
    first = c.get("/cases/", {"q": "噪音"}).content.decode()
    assert "第 1 / 2 页(共 32 件)" in first and 'href="/cases/?q=%E5%99%AA%E9%9F%B3&amp;page=2"' in first
    assert "上一页" not in first
    second = c.get("/cases/", {"q": "噪音", "page": "2"}).content.decode()
    assert "第 2 / 2 页" in second and "上一页" in second and "下一页" not in second
    assert second.count("噪音扰民</td>") == 2
    # a page past the end shows the last page; a malformed one the first
    beyond = c.get("/cases/", {"q": "噪音", "page": "99"})
    assert beyond.status_code == 200 and "第 2 / 2 页" in beyond.content.decode()
    bad = c.get("/cases/", {"q": "噪音", "page": "abc"})
    assert bad.status_code == 200 and "第 1 / 2 页" in bad.content.decode()


def test_queue_partial_page_links_point_at_the_page_not_the_partial(loop, as_):
    for i in range(31):
        received(loop, text=f"第 {i} 个占道摊点")
    html = as_(loop.dispatcher).get("/cases/queue/table/", {"since": since(1)}).content.decode()
    assert 'href="/cases/queue/?page=2"' in html and "末页" not in html


def test_back_office_filters_and_pages(people, catalog, as_):
    apps = [accepted(people, catalog) for _ in range(31)]
    c = as_(people.approver)
    first = c.get("/services/backoffice/").content.decode()
    assert "第 1 / 2 页(共 31 件)" in first and 'href="/services/backoffice/?page=2"' in first
    second = c.get("/services/backoffice/", {"page": "2"}).content.decode()
    assert second.count('<a href="/services/applications/') == 1
    assert c.get("/services/backoffice/", {"page": "999"}).status_code == 200
    one = c.get("/services/backoffice/", {"q": apps[5].number}).content.decode()
    assert apps[5].number in one and apps[6].number not in one and "共 1 件" in one
    none = c.get("/services/backoffice/", {"status": "correction_requested"}).content.decode()
    assert "没有符合筛选条件的办件" in none and "清除筛选" in none
    # an unknown status is ignored rather than failing
    assert "共 31 件" in c.get("/services/backoffice/", {"status": "bogus"}).content.decode()
    # another department's approver gets an empty list that says what comes next
    assert "没有待办的办件" in as_(people.approver_police).get("/services/backoffice/").content.decode()


def test_pager_tag_keeps_the_query_without_page_and_since(rf):
    from django.template import Context, Template

    class Page:
        number, has_other_pages, has_previous, has_next = 2, True, True, True

        def previous_page_number(self) -> int:
            return 1

        def next_page_number(self) -> int:
            return 3

        class paginator:
            num_pages, count = 5, 150

    request = rf.get("/x/", {"status": "open", "page": "2", "since": "2025-01-01T00:00:00+08:00"})
    html = Template('{% include "web/_pager.html" %}').render(Context({"page": Page(), "request": request}))
    assert 'href="/x/?status=open&amp;page=3"' in html and "since" not in html
    assert 'href="/x/?status=open&amp;page=5"' in html and "末页" in html and "首页" not in html
    assert "第 2 / 5 页(共 150 件)" in html


def test_overdue_applications_page_in_thirties(people, catalog, as_):
    from shanzhi.onewindow.models_applications import Application

    for _ in range(31):
        accepted(people, catalog)
    Application.objects.update(deadline=timezone.now() - dt.timedelta(hours=5))
    c = as_(people.supervisor)
    first = c.get("/services/overdue/").content.decode()
    assert "共 31 件" in first and "第 1 / 2 页(共 31 件)" in first
    second = c.get("/services/overdue/", {"page": "2"}).content.decode()
    assert second.count('<a href="/services/applications/') == 1
    assert c.get("/services/overdue/", {"page": "-1"}).status_code == 200
