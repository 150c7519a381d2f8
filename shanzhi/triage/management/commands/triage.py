"""`shanzhi triage`: requests on stdin → answers on stdout, one JSON object per line;
`shanzhi triage train` and `shanzhi triage eval`.

Input lines are JSON objects ({"text": …, "address": …, "lon": …, "lat": …, "crs": …, "id": …})
or plain text; a line starting with "{" or "[" is read as JSON. A bad line gets
{"error": {"code", "message"}} on its own output line and the stream goes on. Blank lines are
skipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.core.errors import ServiceError
from shanzhi.triage import learn
from shanzhi.triage.answer import AnswerContext, TriageRequest, parse_request, triage_answers
from shanzhi.triage.categories import category_table
from shanzhi.triage.models import TriageModel
from shanzhi.triage.services import triage_model_ensure, triage_model_train

CONTEXT_SECONDS = 60.0  # how long a streaming run trusts its copy of the place names


class Command(BaseCommand):
    help = "智能分拨:从标准输入逐行读取诉求,逐行输出 JSON;train 训练新版本;eval 在留出集上评估。"
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=1, help="每批预测的行数(处理大文件时可设 200;默认逐行输出)"
        )
        sub = parser.add_subparsers(dest="action")
        train = sub.add_parser("train", help="用内置语料和调度纠正样本训练新版本")
        train.add_argument("--keep-active", action="store_true", help="只训练,不启用新版本")
        ev = sub.add_parser("eval", help="在留出集上评估:各类别准确率与混淆列表")
        ev.add_argument("--version", type=int, help="评估指定版本(默认当前启用版本)")
        ev.add_argument("--file", help="另一份 text,category CSV(默认内置留出集)")
        ev.add_argument("--json", action="store_true", help="输出 JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action")
        if action == "train":
            self.train(activate=not options["keep_active"])
        elif action == "eval":
            self.evaluate(version=options.get("version"), path=options.get("file"), as_json=options["json"])
        else:
            if options["batch"] < 1:
                raise CommandError("--batch 应为正整数")
            self.stream(options.get("stdin") or sys.stdin, batch=options["batch"])

    # --- stdin → stdout ---------------------------------------------------------------------

    def stream(self, source: TextIO, *, batch: int) -> None:
        self.context: AnswerContext | None = None
        pending: list[tuple[TriageRequest | None, dict[str, Any] | None]] = []
        for raw in source:
            line = raw.strip()
            if not line:
                continue
            try:
                pending.append((self.parse_line(line), None))
            except ServiceError as exc:
                pending.append((None, {"error": {"code": exc.code, "message": exc.message}}))
            if len(pending) >= batch:
                self.flush(pending)
                pending = []
        self.flush(pending)

    @staticmethod
    def parse_line(line: str) -> TriageRequest:
        if line[0] in "{[":  # JSON; anything else is the text itself
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ServiceError("invalid_json", f"JSON 格式错误(第 {exc.colno} 列):{exc.msg}") from exc
            return parse_request(data)
        return parse_request({"text": line})

    def flush(self, pending: list[tuple[TriageRequest | None, dict[str, Any] | None]]) -> None:
        requests = [r for r, _ in pending if r is not None]
        if requests and (self.context is None or self.context.age() > CONTEXT_SECONDS):
            self.context = AnswerContext.load()
        try:
            answers = iter(triage_answers(requests=requests, context=self.context))
        except ServiceError:
            # One bad request must not sink the batch: answer them one by one.
            answers = iter([self.one(r) for r in requests])
        for request, error in pending:
            out = error if request is None else next(answers)
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        self.stdout.flush()

    def one(self, request: TriageRequest) -> dict[str, Any]:
        try:
            return triage_answers(requests=[request], context=self.context)[0]
        except ServiceError as exc:
            return {"error": {"code": exc.code, "message": exc.message}}

    # --- train / eval -----------------------------------------------------------------------

    def train(self, *, activate: bool) -> None:
        model = triage_model_train(actor=None, activate=activate)
        held = model.metrics.get("heldout", {})
        state = "已启用" if model.active else "未启用(用 admin 或 triage_model_activate 启用)"
        self.stdout.write(
            f"v{model.version}:{model.n_examples} 条样本(其中纠正 {model.n_corrections} 条),"
            f"训练 {model.metrics.get('train_seconds')} 秒;"
            f"留出集类别准确率 {held.get('accuracy')},承办单位准确率 {held.get('handler_accuracy')};{state}"
        )

    def evaluate(self, *, version: int | None, path: str | None, as_json: bool) -> None:
        if version is None:
            model = triage_model_ensure()
        else:
            found = TriageModel.objects.defer("blob").filter(version=version).first()
            if found is None:
                raise CommandError(f"分拨模型 v{version} 不存在")
            model = found
        blob = TriageModel.objects.values_list("blob", flat=True).get(pk=model.pk)
        pipeline = learn.memo.by_sha(model.blob_sha256) or learn.load(bytes(blob))
        try:
            rows = learn.read_labelled(Path(path)) if path else learn.heldout_set()
        except (OSError, KeyError) as exc:
            raise CommandError(f"无法读取评估文件:{exc}") from exc
        table = category_table()
        report = learn.evaluate(pipeline, rows, primary_of={c: i.primary_handler for c, i in table.items()})
        report["version"] = model.version
        if as_json:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        name = {c: i.name for c, i in table.items()}
        self.stdout.write(
            f"模型 v{model.version},{report['n']} 条:类别准确率 {report['accuracy']:.1%},"
            f"承办单位准确率 {report['handler_accuracy']:.1%}"
        )
        self.stdout.write("\n类别   名称                 条数  正确  准确率")
        for code, row in report["per_category"].items():
            self.stdout.write(
                f"{code}   {_cell(name.get(code, ''), 20)} "
                f"{row['n']:>4}  {row['correct']:>4}  {row['accuracy']:.0%}"
            )
        self.stdout.write("\n混淆(实际 → 误判为:条数)")
        if not report["confusions"]:
            self.stdout.write("  无")
        for c in report["confusions"]:
            true, wrong = c["true"], c["predicted"]
            self.stdout.write(f"  {true} {name.get(true, '')} → {wrong} {name.get(wrong, '')}:{c['count']}")
        self.stdout.write("\n置信度阈值  覆盖比例  其中准确率")
        for t in report["thresholds"]:
            acc = "—" if t["accuracy"] is None else f"{t['accuracy']:.1%}"
            self.stdout.write(f"  ≥ {t['threshold']:.2f}    {t['share']:.1%}    {acc}")


def _cell(text: str, width: int) -> str:
    """Pad CJK text (two columns a character) to `width` columns."""
    return text + " " * max(1, width - 2 * len(text))
