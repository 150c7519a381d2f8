"""`shanzhi demo load`: the demo county, idempotent; prints the demo accounts."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shanzhi.core.demo import ACCOUNTS, DEMO_PASSWORD

# Order matters: grids need the regions, duty lists the handlers, demo cases the triage model.
DEMO_APPS = [
    "shanzhi.core",
    "shanzhi.grid",
    "shanzhi.duties",
    "shanzhi.onewindow",
    "shanzhi.triage",
    "shanzhi.cases",
    "shanzhi.ratings",
    "shanzhi.emergency",
]


class Command(BaseCommand):
    help = "Load the demo county (regions, handlers, grids, duty lists, one account per role)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load", help="create whatever of the demo county is missing")
        sub.add_parser("accounts", help="print the demo accounts")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "load":
            for app in DEMO_APPS:
                module = importlib.import_module(f"{app}.demo")
                self.stdout.write(f"{app.rsplit('.', 1)[-1]}:")
                module.load_demo(stdout=self.stdout)
            from shanzhi.audit.services import tree_head_sign

            head = tree_head_sign(actor=None)
            self.stdout.write(f"audit: 最新签名树头覆盖日志 {head.tree_size} 条")
        self.print_accounts()

    def print_accounts(self) -> None:
        self.stdout.write("\n演示账号 Demo accounts (demo only — change before real use):")
        for username, name, _region, _handler, _roles in ACCOUNTS:
            self.stdout.write(f"  {username:<11} / {DEMO_PASSWORD}   {name}")
        self.stdout.write("")
