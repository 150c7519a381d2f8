"""Demo history for the cockpit: a couple of years of generated cases, so `make run` shows full
charts. Runs once: when generated history (numbers "G…") exists, a second `demo load` adds none."""

from __future__ import annotations

from typing import TextIO

from shanzhi.cases.models import Case, Category
from shanzhi.cockpit.generate import PREFIX, history_generate
from shanzhi.core.selectors import region_county

DEMO_CASES = 20_000
DEMO_YEARS = 2
DEMO_SEED = 2024


def load_demo(*, stdout: TextIO) -> None:
    if region_county() is None or not Category.objects.exists():
        stdout.write("  驾驶舱:尚无演示县或诉求类别,跳过\n")
        return
    if Case.objects.filter(number__startswith=PREFIX).exists():
        stdout.write("  驾驶舱:已有生成的历史案卷,不再生成\n")
        return
    summary = history_generate(cases=DEMO_CASES, years=DEMO_YEARS, seed=DEMO_SEED)
    stdout.write(
        f"  驾驶舱:生成 {summary.cases:,} 件历史案卷({summary.start} 至 {summary.end}),"
        f"{summary.applications:,} 件办件,用时 {summary.seconds:.1f} 秒\n"
    )
