"""Elder mode (长辈模式) on the server side: the cookie renders the page large from the first byte,
the no-script switch sets and clears it, and it never redirects off the site."""

from __future__ import annotations

import re

import pytest

from shanzhi.web.elder import COOKIE, HOTLINE


def html_tag(html: str) -> str:
    found = re.search(r"<html[^>]*>", html)
    assert found is not None
    return found.group()


@pytest.mark.django_db
def test_login_page_normal_then_elder_from_cookie(client):
    normal = client.get("/login/").content.decode()
    assert html_tag(normal) == '<html lang="zh-Hans">'
    assert 'aria-pressed="false"' in normal and "长辈模式" in normal
    assert f'href="tel:{HOTLINE}"' in normal  # the hotline is on every page, large in elder mode

    client.cookies[COOKIE] = "1"
    elder = client.get("/login/").content.decode()
    assert html_tag(elder) == '<html lang="zh-Hans" class="elder">'
    assert 'data-elder-toggle aria-pressed="true"' in elder
    assert 'name="on" value="0"' in elder  # the switch now turns it off


@pytest.mark.django_db
def test_any_other_cookie_value_is_normal(client):
    client.cookies[COOKIE] = "yes<script>"
    assert html_tag(client.get("/login/").content.decode()) == '<html lang="zh-Hans">'


@pytest.mark.django_db
def test_switch_without_script_sets_and_clears_the_cookie(client):
    on = client.post("/elder/", {"on": "1", "next": "/services/?q=户口"})
    assert on.status_code == 302 and on["Location"] == "/services/?q=%E6%88%B7%E5%8F%A3"
    assert on.cookies[COOKIE].value == "1"
    assert on.cookies[COOKIE]["max-age"] == 365 * 24 * 3600
    assert on.cookies[COOKIE]["samesite"] == "Lax"
    assert 'class="elder"' in client.get("/login/").content.decode()

    off = client.post("/elder/", {"on": "0", "next": "/login/"})
    assert off.status_code == 302 and off["Location"] == "/login/"
    assert off.cookies[COOKIE].value == "" and off.cookies[COOKIE]["max-age"] == 0
    assert 'class="elder"' not in client.get("/login/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_switch_never_leaves_the_site(client, target):
    answer = client.post("/elder/", {"on": "1", "next": target})
    assert answer.status_code == 302 and answer["Location"] == "/"


@pytest.mark.django_db
def test_switch_is_post_only(client):
    assert client.get("/elder/?on=1").status_code == 405
    assert COOKIE not in client.cookies


def test_signed_in_pages_carry_the_switch_and_secondary_parts(client_a):
    client_a.cookies[COOKIE] = "1"
    home = client_a.get("/").content.decode()
    assert 'class="elder"' in home
    assert 'class="elder-bar"' in home and "朗读本页" in home
    assert 'class="secondary"' in home  # the jurisdiction figures, hidden in elder mode by app.css
