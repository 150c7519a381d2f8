"""Demo data for triage: the first model, trained from the shipped corpus (idempotent).

Predictions would train it on first use anyway; doing it here makes the first request fast."""

from __future__ import annotations

from typing import TextIO

from shanzhi.triage.selectors import active_model
from shanzhi.triage.services import triage_model_ensure


def load_demo(*, stdout: TextIO) -> None:
    existing = active_model()
    model = existing or triage_model_ensure()
    held = model.metrics.get("heldout", {})
    verb = "已有" if existing else "新训练"
    stdout.write(
        f"  分拨模型:{verb} v{model.version}(留出集类别准确率 {held.get('accuracy')},"
        f"承办单位准确率 {held.get('handler_accuracy')})\n"
    )
