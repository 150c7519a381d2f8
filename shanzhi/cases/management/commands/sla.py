"""`shanzhi sla sweep`: run the escalation ladder once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shanzhi.cases.sweep import sla_sweep


class Command(BaseCommand):
    help = "Case clocks: `sweep` warns, escalates and tells the county about late assignments, once."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="run the escalation ladder once")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        result = sla_sweep()
        self.stdout.write(f"预警 {result.warning} 件,督办 {result.escalation} 件,县级督办 {result.county} 件")
