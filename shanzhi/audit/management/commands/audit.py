"""`shanzhi audit verify` checks the whole log; `shanzhi audit sign` signs a tree head now."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shanzhi.audit import keys
from shanzhi.audit.services import tree_head_sign
from shanzhi.audit.verify import audit_verify


class Command(BaseCommand):
    help = "审计日志:verify 校验整条日志,sign 签署树头,public-key 打印公钥"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="重新计算叶哈希、根哈希并校验签名")
        verify.add_argument("--json", action="store_true", help="以 JSON 输出报告")
        verify.add_argument("--max-problems", type=int, default=1000, help="最多列出的问题数")
        sign = sub.add_parser("sign", help="签署当前日志的树头")
        sign.add_argument("--force", action="store_true", help="日志未增长也重新签署")
        sub.add_parser("public-key", help="打印签名公钥 (PEM)")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["subcommand"]:
            case "verify":
                self._verify(as_json=options["json"], max_problems=options["max_problems"])
            case "sign":
                head = tree_head_sign(actor=None, force=options["force"])
                self.stdout.write(
                    f"tree_size={head.tree_size} root_hash={keys.b64(head.root_hash)} "
                    f"timestamp={keys.timestamp_ms(head.timestamp)} signature={keys.b64(head.signature)}"
                )
            case "public-key":
                self.stdout.write(keys.public_key_pem(), ending="")

    def _verify(self, *, as_json: bool, max_problems: int) -> None:
        report = audit_verify(max_problems=max_problems)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for problem in report.problems:
                where = f"#{problem.index}" if problem.index is not None else f"STH@{problem.tree_size}"
                self.stdout.write(f"{where} [{problem.kind}] {problem.message}")
            hidden = report.problem_count - len(report.problems)
            if hidden > 0:
                self.stdout.write(f"……另有 {hidden} 个问题未列出")
            self.stdout.write(
                f"日志长度 {report.log_size},检查记录 {report.entries_checked} 条,"
                f"树头 {report.tree_heads_checked} 个,缓存节点 {report.cached_nodes_checked} 个,"
                f"用时 {report.duration_ms} ms"
            )
        if not report.ok:
            raise CommandError(f"审计日志校验失败:{report.problem_count} 个问题")
        if not as_json:
            self.stdout.write(self.style.SUCCESS("审计日志完整,签名有效"))
