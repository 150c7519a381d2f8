"""Small real servers on 127.0.0.1 for delivery tests: an SMS provider speaking JSON over HTTP,
and an SMTP server that understands just enough of RFC 5321 for Django's SMTP backend."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SmsProvider:
    """What the fake provider answers, and what it was sent."""

    status: int = 200
    delay: float = 0.0
    answer: dict[str, Any] = field(default_factory=lambda: {"id": "prov-1"})
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@contextmanager
def sms_provider(given: SmsProvider | None = None) -> Iterator[SmsProvider]:
    provider = given or SmsProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            provider.requests.append(
                {
                    "path": self.path,
                    "api_key": self.headers.get("X-Api-Key"),
                    "content_type": self.headers.get("Content-Type"),
                    "json": json.loads(body.decode("utf-8")),
                }
            )
            if provider.delay:
                time.sleep(provider.delay)
            payload = json.dumps(provider.answer).encode()
            try:
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class MailServer:
    port: int = 0
    refuse_recipient: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def smtp_server(given: MailServer | None = None) -> Iterator[MailServer]:
    mail = given or MailServer()

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self) -> None:
            self.reply("220 localhost test SMTP")
            sender, recipients = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                command = raw.decode("utf-8", "replace").strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 localhost")
                elif verb == "MAIL":
                    sender = command.split(":", 1)[1].strip()
                    self.reply("250 OK")
                elif verb == "RCPT":
                    if mail.refuse_recipient:
                        self.reply("550 5.1.1 mailbox unavailable")
                    else:
                        recipients.append(command.split(":", 1)[1].strip())
                        self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while True:
                        line = self.rfile.readline()
                        if line in (b".\r\n", b".\n", b""):
                            break
                        lines.append(line)
                    mail.messages.append({"from": sender, "to": recipients, "data": b"".join(lines)})
                    self.reply("250 OK queued")
                elif verb == "RSET":
                    sender, recipients = "", []
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 OK")

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    mail.port = server.server_address[1]
    try:
        yield mail
    finally:
        server.shutdown()
        server.server_close()
