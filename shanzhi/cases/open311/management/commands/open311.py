"""`shanzhi open311 key create|list|revoke`: api_keys for Open311 clients.

`create` prints the key alone on stdout (so `KEY=$(shanzhi open311 key create --name x)` works)
and the advice on stderr; the key is never shown again, only its prefix.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shanzhi.cases.open311.selectors import client_list
from shanzhi.cases.open311.services import open311_client_create, open311_client_revoke
from shanzhi.core.errors import ServiceError


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "Open311 接口:key create 签发密钥(只显示一次)、key list 列出、key revoke 吊销"

    def add_arguments(self, parser: CommandParser) -> None:
        groups = parser.add_subparsers(dest="group", required=True, metavar="{key}")
        key = groups.add_parser("key", help="管理客户端的 api_key")
        actions = key.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="为客户端签发密钥,密钥只打印这一次")
        create.add_argument("--name", required=True, help="客户端名称,例如 wechat-miniapp")
        actions.add_parser("list", help="列出所有密钥(只显示前缀)")
        revoke = actions.add_parser("revoke", help="按前缀吊销密钥")
        revoke.add_argument("prefix", help="密钥前缀,见 list 的输出")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                self._create(name=options["name"])
            elif options["action"] == "list":
                self._list()
            else:
                self._revoke(prefix=options["prefix"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc

    def _create(self, *, name: str) -> None:
        # actor=None: the command line runs as the machine's operator ("system" in the audit log).
        client, plain = open311_client_create(actor=None, name=name)
        self.stdout.write(plain)
        self.stderr.write(f"已为 {client.name} 签发密钥(前缀 {client.prefix}),它只显示这一次,请妥善保存。")

    def _list(self) -> None:
        clients = list(client_list().order_by("created_at", "id"))
        for client in clients:
            status = "已吊销" if client.revoked_at else ("有效" if client.active else "停用")
            self.stdout.write(
                f"{client.prefix}\t{status}\t签发 {_when(client.created_at)}\t"
                f"最近使用 {_when(client.last_used_at)}\t{client.name}"
            )
        if not clients:
            self.stderr.write("还没有签发过 Open311 密钥")

    def _revoke(self, *, prefix: str) -> None:
        found = list(client_list().filter(prefix=prefix, revoked_at__isnull=True)[:2])
        if not found:
            raise CommandError(f"没有前缀为 {prefix} 的有效密钥")
        if len(found) > 1:  # 7 random characters: practically never, but never revoke the wrong one
            raise CommandError(f"有多个有效密钥的前缀为 {prefix}")
        open311_client_revoke(actor=None, client=found[0])
        self.stdout.write(f"已吊销 {found[0].name} 的密钥 {prefix}")
