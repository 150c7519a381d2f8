"""`shanzhi token create|list|revoke`: API tokens for scripts and other systems.

`create` prints the token alone on stdout (so `TOKEN=$(shanzhi token create --user x)` works)
and the advice on stderr; the token is never shown again, only its prefix.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shanzhi.core.models import ApiToken
from shanzhi.core.tokens import token_create, token_revoke


class Command(BaseCommand):
    help = "管理 API 令牌:create 创建(只显示一次)、list 列出前缀、revoke 吊销"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="为用户创建令牌,令牌只打印这一次")
        create.add_argument("--user", required=True, help="用户名")
        create.add_argument("--name", default="", help="用途说明,例如 12345-gateway")
        listing = actions.add_parser("list", help="列出用户的令牌(只显示前缀)")
        listing.add_argument("--user", required=True, help="用户名")
        revoke = actions.add_parser("revoke", help="按前缀吊销令牌")
        revoke.add_argument("prefix", help="令牌前缀,见 list 的输出")
        revoke.add_argument("--user", default=None, help="前缀重复时用用户名区分")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(username=options["user"], name=options["name"])
        elif action == "list":
            self._list(username=options["user"])
        else:
            self._revoke(prefix=options["prefix"], username=options["user"])

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在")
        if not user.is_active:
            raise CommandError(f"用户 {username} 已停用")
        return user

    def _create(self, *, username: str, name: str) -> None:
        # actor=None: the CLI runs as the operator of the machine ("system" in the audit log).
        token, plain = token_create(actor=None, user=self._user(username), name=name)
        self.stdout.write(plain)
        self.stderr.write(f"已为 {username} 创建令牌(前缀 {token.prefix}),它只显示这一次,请妥善保存。")

    def _list(self, *, username: str) -> None:
        tokens = ApiToken.objects.filter(user=self._user(username)).order_by("created_at", "id")
        for token in tokens:
            last = (
                timezone.localtime(token.last_used_at).strftime("%Y-%m-%d %H:%M")
                if token.last_used_at
                else "-"
            )
            status = "已吊销" if token.revoked_at else "有效"
            created = timezone.localtime(token.created_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(f"{token.prefix}\t{status}\t创建 {created}\t最近使用 {last}\t{token.name}")
        if not tokens:
            self.stderr.write(f"{username} 没有令牌")

    def _revoke(self, *, prefix: str, username: str | None) -> None:
        tokens = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True)
        if username is not None:
            tokens = tokens.filter(user=self._user(username))
        found = list(tokens.select_related("user")[:2])
        if not found:
            raise CommandError(f"没有前缀为 {prefix} 的有效令牌")
        if len(found) > 1:
            raise CommandError(f"有多个令牌的前缀为 {prefix},请用 --user 指明用户")
        token_revoke(actor=None, token=found[0])
        self.stdout.write(f"已吊销 {found[0].user.get_username()} 的令牌 {prefix}")
