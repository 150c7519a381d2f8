"""`shanzhi demo load`: the demo county, idempotent; prints the demo accounts."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

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
    "shanzhi.cockpit",
]


class Command(BaseCommand):
    help = "Load the demo county (regions, handlers, grids, duty lists, one account per role)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("load", help="create whatever of the demo county is missing")
        sub.add_parser("accounts", help="print the demo accounts")
        gen = sub.add_parser("generate", help="generate years of case history at scale (after load)")
        gen.add_argument("--cases", type=int, required=True, help="how many cases")
        gen.add_argument("--years", type=int, default=2, help="over how many years (default 2)")
        gen.add_argument("--seed", type=int, default=1, help="random seed (same seed, same history)")
        gen.add_argument("--end", default="", help="last day YYYY-MM-DD (default today)")
        gen.add_argument("--applications", type=float, default=None, help="applications per case (0.05)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "generate":
            self.generate(**options)
            return
        if action == "load":
            for app in DEMO_APPS:
                module = importlib.import_module(f"{app}.demo")
                self.stdout.write(f"{app.rsplit('.', 1)[-1]}:")
                module.load_demo(stdout=self.stdout)
            from shanzhi.audit.services import tree_head_sign

            head = tree_head_sign(actor=None)
            self.stdout.write(f"audit: 最新签名树头覆盖日志 {head.tree_size} 条")
        self.print_accounts()

    def generate(self, **options: Any) -> None:
        from shanzhi.cockpit.generate import history_generate
        from shanzhi.cockpit.generate_profile import APPLICATION_RATIO
        from shanzhi.core.errors import ServiceError

        try:
            end = dt.date.fromisoformat(options["end"]) if options["end"] else None
        except ValueError as exc:
            raise CommandError(f"--end 应为 YYYY-MM-DD:{options['end']}") from exc
        ratio = options["applications"]
        try:
            summary = history_generate(
                cases=options["cases"],
                years=options["years"],
                seed=options["seed"],
                end=end,
                application_ratio=APPLICATION_RATIO if ratio is None else ratio,
                progress=lambda line: self.stdout.write(line),
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"生成 {summary.cases:,} 件案卷({summary.start} 至 {summary.end},种子 {summary.seed},"
            f"批次 G{summary.run:02d}),{summary.assignments:,} 条派遣,{summary.applications:,} 件办件,"
            f"用时 {summary.seconds:.1f} 秒({summary.cases / max(summary.seconds, 1e-6):,.0f} 件/秒)"
        )

    def print_accounts(self) -> None:
        self.stdout.write("\n演示账号 Demo accounts (demo only — change before real use):")
        for username, name, _region, _handler, _roles in ACCOUNTS:
            self.stdout.write(f"  {username:<11} / {DEMO_PASSWORD}   {name}")
        self.stdout.write("")
