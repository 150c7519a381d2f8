"""Feed polling against a real HTTP server on 127.0.0.1 (http.server in a thread): Atom with links
and embedded CAP, plain CAP, conditional GET (ETag → 304), and errors kept on the feed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shanzhi.emergency.models_warnings import Warning, WarningFeed
from shanzhi.emergency.tests.capgen import cap
from shanzhi.emergency.warning_feeds import feed_poll, feeds_poll_due, warning_feed_save

SAMPLES = Path(__file__).with_name("cap_samples")


class Site:
    """Paths → (body, content type); every request is logged with its conditional headers."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.log: list[tuple[str, str | None, int]] = []


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = state.files.get(self.path)
            if found is None:
                state.log.append((self.path, None, 404))
                self.send_error(404)
                return
            body, ctype = found
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag:
                state.log.append((self.path, etag, 304))
                self.send_response(304)
                self.end_headers()
                return
            state.log.append((self.path, self.headers.get("If-None-Match"), 200))
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def atom(entries: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:feed</id><title>省预警</title>
<updated>2025-01-01T00:00:00Z</updated>{entries}</feed>""".encode()


def feed(url: str, fmt: str = "atom") -> WarningFeed:
    return warning_feed_save(actor=None, feed=WarningFeed(name="省平台", url=url, format=fmt))


def test_atom_with_links_and_embedded_cap(world, site):
    state, base = site
    ours = cap(identifier="F-1")
    embedded = cap(
        identifier="F-2", polygon="28.21,119.81 28.21,119.89 28.49,119.89 28.49,119.81 28.21,119.81"
    )
    inline = embedded.split(b"?>", 1)[1].decode()  # without its XML declaration
    state.files["/alerts/f1.cap"] = (ours, "application/cap+xml")
    state.files["/alerts/ph.cap"] = ((SAMPLES / "ph.cap").read_bytes(), "application/cap+xml")
    state.files["/feed.xml"] = (
        atom(
            '<entry><id>f1</id><link type="application/cap+xml" href="/alerts/f1.cap"/></entry>'
            '<entry><id>ph</id><link href="alerts/ph.cap"/></entry>'
            '<entry><id>gone</id><link href="/alerts/missing.cap"/></entry>'
            f'<entry><id>f2</id><content type="application/cap+xml">{inline}</content></entry>'
        ),
        "application/atom+xml",
    )
    f = feed(base + "/feed.xml")
    result = feed_poll(feed=f)
    assert (result.status, result.received, result.repeated) == ("ok", 2, 0)
    assert len(result.refused) == 2  # the Philippines are not in the county; one link is a 404
    assert any("不在本县" in r for r in result.refused) and any("HTTP 404" in r for r in result.refused)
    assert set(Warning.objects.values_list("identifier", "source")) == {("F-1", "feed"), ("F-2", "feed")}
    assert Warning.objects.get(identifier="F-2").grid_count == 1
    f.refresh_from_db()
    assert f.received_count == 2 and f.last_status == "ok" and f.etag and "不在本县" in f.last_error
    # Polled again: the server answers 304 to the ETag, nothing is fetched or written.
    before = Warning.objects.count()
    again = feed_poll(feed=f)
    assert again.status == "not_modified"
    assert state.log[-1] == ("/feed.xml", f.etag, 304)
    assert Warning.objects.count() == before


def test_plain_cap_feed_is_idempotent(world, site):
    state, base = site
    state.files["/now.cap"] = (cap(identifier="P-1"), "application/cap+xml")
    f = WarningFeed.objects.create(name="县气象台", url=base + "/now.cap", format="cap")
    assert feed_poll(feed=f).received == 1
    f.etag = ""  # forget the ETag: the same alert comes back and is recognised
    f.save()
    assert feed_poll(feed=f).repeated == 1
    assert Warning.objects.count() == 1


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<html>oops", "不是有效的 XML"),
        (
            b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><feed xmlns='http://www.w3.org/2005/Atom'/>",
            "DTD",
        ),
        (b"<rss/>", "不是 Atom"),
    ],
)
def test_broken_feed_records_the_error(world, site, body, message):
    state, base = site
    state.files["/bad.xml"] = (body, "application/xml")
    f = feed(base + "/bad.xml")
    assert feed_poll(feed=f).status == "error"
    f.refresh_from_db()
    assert f.last_status == "error" and message in f.last_error and f.last_ok_at is None
    assert Warning.objects.count() == 0


def test_unreachable_and_404_are_recorded(world, site):
    _, base = site
    f = feed(base + "/nothing.xml")
    feed_poll(feed=f)
    f.refresh_from_db()
    assert "HTTP 404" in f.last_error
    down = feed("http://127.0.0.1:9/feed.xml")
    feed_poll(feed=down)
    down.refresh_from_db()
    assert down.last_status == "error" and "无法连接" in down.last_error


def test_due_feeds_are_polled_once_per_interval(world, site):
    state, base = site
    state.files["/feed.xml"] = (atom(""), "application/atom+xml")
    feed(base + "/feed.xml")
    disabled = feed(base + "/feed.xml?off")
    disabled.enabled = False
    disabled.save()
    assert feeds_poll_due() == 1
    assert feeds_poll_due() == 0  # not due again before its interval
    assert [p for p, _, _ in state.log] == ["/feed.xml"]


def test_feed_url_must_be_http(world):
    from shanzhi.core.errors import ServiceError

    with pytest.raises(ServiceError):
        feed("file:///etc/passwd")
    assert WarningFeed.objects.count() == 0
