"""`shanzhi screenshots`: every demo account's home page at desktop and phone size, in normal and
elder mode, from a live server on a throwaway SQLite database with the demo county.

The server and the database setup run as child processes with their own DATABASE_URL, so the
database this command was started with is never touched. Files: <out>/<account>-<size>-<mode>.png."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.core.demo import ACCOUNTS, DEMO_PASSWORD
from shanzhi.web.elder import COOKIE

SIZES = {"desktop": (1366, 900), "phone": (360, 740)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, *, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError("测试服务器启动失败")
        try:
            with urllib.request.urlopen(url + "/login/", timeout=2):  # noqa: S310 - our own http://127.0.0.1
                return
        except OSError:
            time.sleep(0.3)
    raise CommandError(f"测试服务器 {seconds:.0f} 秒内没有响应")


class Command(BaseCommand):
    help = "Screenshot each demo account's home page (desktop and phone, normal and elder mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default=str(Path(settings.VAR_DIR) / "screenshots"))
        parser.add_argument(
            "--db",
            default="",
            help="SQLite file to use; loaded with the demo county only if new (default: temporary)",
        )
        parser.add_argument("--accounts", default="", help="comma-separated demo usernames (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        from shanzhi.web.tests.browser import chromium

        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        wanted = [a for a in options["accounts"].split(",") if a] or [a[0] for a in ACCOUNTS]
        unknown = set(wanted) - {a[0] for a in ACCOUNTS}
        if unknown:
            raise CommandError(f"没有这些演示账号:{', '.join(sorted(unknown))}")
        with tempfile.TemporaryDirectory(prefix="shanzhi-shots-") as tmp:
            db = Path(options["db"]) if options["db"] else Path(tmp) / "demo.sqlite3"
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{db.resolve()}", "DEBUG": "1"}
            manage = [sys.executable, "-m", "shanzhi.manage"]
            if not db.exists():
                self.stdout.write(f"演示数据库:{db}(迁移并载入演示县,约需一两分钟)")
                subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)  # noqa: S603
                subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
                    [*manage, "demo", "load"], env=env, check=True, stdout=subprocess.DEVNULL
                )
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(  # noqa: S603
                [*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_until_up(url, server=server)
                with chromium() as browser:
                    for username in wanted:
                        for size, (width, height) in SIZES.items():
                            for elder in (False, True):
                                path = out / f"{username}-{size}-{'elder' if elder else 'normal'}.png"
                                self.shoot(browser, url, username, width, height, elder, path)
                                self.stdout.write(f"  {path}")
            finally:
                server.terminate()
                server.wait(timeout=10)
        self.stdout.write(f"截图 {len(wanted) * len(SIZES) * 2} 张:{out}")

    def shoot(
        self, browser: Any, url: str, username: str, width: int, height: int, elder: bool, path: Path
    ) -> None:
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
        if elder:
            context.add_cookies([{"name": COOKIE, "value": "1", "url": url}])
        page = context.new_page()
        page.goto(f"{url}/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda at: "/login/" not in at)  # the role's home ("/", a kiosk's own page)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(path), full_page=True)
        context.close()
