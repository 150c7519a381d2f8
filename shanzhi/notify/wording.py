"""Message wording: built-in defaults per kind and channel, overridable by MessageTemplate rows.

Lookup order for kind "rating.rectified" on SMS: the database row for that code, the row for
"rating.*", the built-in default for the code, the built-in default for "rating.*", then "{body}".
Placeholders are plain `{name}` (letters, digits, underscore): no attribute access or format
specs, so an edited template can only ever print the values it is given. An unknown placeholder
is left as it is, so a typo shows in the message instead of failing the change that sent it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str


IN_APP, SMS, EMAIL = "in_app", "sms", "email"

# (code, channel) → (subject, body)
DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    # Cases compose their own text; these families let an office add a signature or a hint.
    ("case.*", IN_APP): ("", "{body}"),
    ("case.*", SMS): ("", "{body}"),
    ("case.*", EMAIL): ("案卷通知", "{body}"),
    # Applications (one window): every step's text comes from onewindow as {body}.
    ("application.*", IN_APP): ("", "{body}"),
    ("application.*", SMS): ("", "{body}"),
    ("application.*", EMAIL): ("办件通知", "{body}"),
    # 好差评 and 办不成事
    ("rating.rectification_opened", IN_APP): (
        "差评整改",
        "【差评整改】{object}收到“{level}”评价,请于 {deadline} 前完成回访和整改。评价内容:{comment}",
    ),
    ("rating.rectified", IN_APP): (
        "整改结果",
        "您对{object}的评价已收到整改反馈:{result}。感谢您的监督。",
    ),
    ("rating.rectified", SMS): ("", "您对{object}的评价已整改:{result}。感谢您的监督。"),
    ("rating.rectified", EMAIL): (
        "整改结果",
        "您对{object}的评价已收到整改反馈:\n\n{result}\n\n感谢您的监督。",
    ),
    ("rating.rectification_overdue", IN_APP): (
        "整改超期",
        "【整改超期】{object}的差评整改已超过期限 {deadline},责任单位:{handler}。",
    ),
    ("rating.appeal_filed", IN_APP): (
        "差评申诉",
        "【差评申诉】{handler}对{object}的“{level}”评价提出申诉:{reason}",
    ),
    ("rating.appeal_decided", IN_APP): ("申诉结果", "您对{object}评价的申诉{decision}。{note}"),
    ("rating.cannot_get_done", IN_APP): (
        "办不成事",
        "【办不成事】{number} {where}:{what}(请于 {respond_by} 前响应)",
    ),
    ("rating.cannot_get_done_received", SMS): (
        "",
        "您反映的“办不成事”问题已受理,编号 {number},我们将在 {respond_by} 前与您联系。",
    ),
    ("rating.cannot_get_done_received", IN_APP): (
        "办不成事已受理",
        "您反映的“办不成事”问题已受理,编号 {number},我们将在 {respond_by} 前与您联系。",
    ),
    ("rating.cannot_get_done_answered", SMS): ("", "您反映的问题(编号 {number}){step}:{text}"),
    ("rating.cannot_get_done_answered", IN_APP): ("办不成事答复", "您反映的问题(编号 {number}){step}:{text}"),
    ("rating.cannot_get_done_escalated", IN_APP): (
        "办不成事督办",
        "【办不成事督办】{number} {step},已超过时限 {due}:{what}",
    ),
}


def _fill(template: str, context: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(context[name]) if name in context else match.group(0)

    return _PLACEHOLDER.sub(value, template)


def _family(code: str) -> str:
    return code.split(".", 1)[0] + ".*" if "." in code else ""


CACHE_SECONDS = 60


def _cache_key(channel: str) -> str:
    return f"notify:templates:{channel}"


def stored_templates(*, channel: str) -> dict[str, tuple[str, str]]:
    """The active template rows of a channel, code → (subject, body), from the cache.

    Every queued message words itself, so this saves a query per message (the case sweep sends
    many). message_template_save drops the entry; other processes see a change within a minute.
    """
    from shanzhi.notify.models import MessageTemplate

    key = _cache_key(channel)
    cached: dict[str, tuple[str, str]] | None = cache.get(key)
    if cached is None:
        cached = {
            code: (subject, body)
            for code, subject, body in MessageTemplate.objects.filter(
                channel=channel, active=True
            ).values_list("code", "subject", "body")
        }
        cache.set(key, cached, CACHE_SECONDS)
    return cached


def forget_stored_templates() -> None:
    cache.delete_many([_cache_key(channel) for channel in (IN_APP, SMS, EMAIL)])


def wording_for(*, code: str, channel: str) -> Wording | None:
    """The stored template for (code, channel), or its family's, or the built-in default."""
    codes = [c for c in (code, _family(code)) if c]
    rows = stored_templates(channel=channel)
    for c in codes:
        if c in rows:
            return Wording(*rows[c])
    for c in codes:
        if (c, channel) in DEFAULT_TEMPLATES:
            return Wording(*DEFAULT_TEMPLATES[(c, channel)])
    return None


def render(*, code: str, channel: str, context: Mapping[str, Any]) -> Wording:
    """Subject and body for a message; without any template, the context's "body" as is."""
    wording = wording_for(code=code, channel=channel) or Wording("", "{body}")
    return Wording(_fill(wording.subject, context).strip(), _fill(wording.body, context).strip())
