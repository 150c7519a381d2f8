"""`shanzhi onewindow sweep`: run the applications' escalation ladder once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shanzhi.onewindow.escalation import application_sweep


class Command(BaseCommand):
    help = "一窗受理:sweep 对临期、超期办件预警和督办(每一级只触发一次)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="run the escalation ladder once")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        result = application_sweep()
        self.stdout.write(
            f"临期预警 {result.warning} 件,超期督办 {result.escalation} 件,县级督办 {result.county} 件"
        )
