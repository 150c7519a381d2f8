"""Catalogue search by the words a resident uses: names, keywords, themes, material names, and
pinyin (full, or initials such as "ylbx" for 养老保险).

The services keep three lower-case columns on each item; the selector narrows candidates with
one LIKE per term in the database and ranks them here: exact name > exact keyword > name >
keyword > pinyin initials and full pinyin > theme or department > material name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

SEPARATOR = "|"  # between words of a group, so a match never spans two of them
GROUPS = "\n"  # between the groups: name, keywords, labels (theme, type, department), materials
MAX_QUERY = 50
MAX_TERMS = 5
_SPLIT_RE = re.compile(r"[\s,,、;;|]+")
_PINYIN_RE = re.compile(r"^[a-z]+$", re.ASCII)

# Words residents say for a theme, beyond its label.
THEME_WORDS: dict[str, tuple[str, ...]] = {
    "social_security": ("社保", "人社", "养老", "就业", "失业"),
    "medical_insurance": ("医保", "看病", "报销"),
    "civil_affairs": ("民政", "救助", "低保", "养老服务"),
    "household": ("户口", "户籍", "公安", "身份证"),
    "health": ("卫健", "卫生", "医院", "生育"),
    "disability": ("残联", "残疾", "残疾人"),
    "housing": ("住房", "房子", "公积金", "住建"),
    "market": ("市场监管", "工商", "开店", "执照"),
    "agriculture": ("农业", "农村", "农民", "种地"),
}


def normalize(text: str) -> str:
    """Full-width letters and digits to ASCII, lower case, trimmed."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def pinyin_full(text: str) -> str:
    return "".join(lazy_pinyin(text, errors="ignore")).lower()


def pinyin_initials(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")).lower()


@dataclass(frozen=True)
class IndexColumns:
    search_text: str
    pinyin_full: str
    pinyin_initials: str


def index_columns(
    *, name: str, keywords: Sequence[str], labels: Iterable[str], materials: Iterable[str]
) -> IndexColumns:
    """The search columns of one item: groups (name, keywords, labels, materials) on lines."""

    def group(words: Iterable[str], fn: Callable[[str], str]) -> str:
        return SEPARATOR.join(fn(w) for w in words)

    return IndexColumns(
        search_text=GROUPS.join(
            [
                normalize(name),
                group(keywords, normalize),
                group(labels, normalize),
                group(materials, normalize),
            ]
        ),
        pinyin_full=GROUPS.join([pinyin_full(name), group(keywords, pinyin_full)]),
        pinyin_initials=GROUPS.join([pinyin_initials(name), group(keywords, pinyin_initials)]),
    )


def query_terms(q: str) -> list[str]:
    """The words of a query (at most MAX_TERMS), normalized; empty for a blank query."""
    return [t for t in _SPLIT_RE.split(normalize(q)) if t][:MAX_TERMS]


def is_pinyin(term: str) -> bool:
    return bool(_PINYIN_RE.match(term))


@dataclass(frozen=True)
class Indexed:
    """What ranking needs of one item."""

    code: str
    basic_code: str
    name: str
    search_text: str
    pinyin_full: str
    pinyin_initials: str


def _best(term: str, words: Sequence[str], exact: int, prefix: int, inside: int) -> int:
    score = 0
    for w in words:
        if not w:
            continue
        if w == term:
            return exact
        if w.startswith(term):
            score = max(score, prefix)
        elif term in w:
            score = max(score, inside)
    return score


def _groups(text: str, n: int) -> list[list[str]]:
    parts = text.split(GROUPS)
    parts += [""] * (n - len(parts))
    return [p.split(SEPARATOR) if p else [] for p in parts[:n]]


def term_score(item: Indexed, term: str) -> int:
    """How well one term matches one item; 0 when it does not."""
    if term in (item.code.lower(), item.basic_code.lower()):
        return 950
    name, keywords, labels, materials = _groups(item.search_text, 4)
    # An exact keyword is a curated synonym ("低保" for 最低生活保障申请): it outranks a name
    # that merely starts with or contains the word, never an exact name.
    score = _best(term, name, 1000, 900, 800)
    if score < 1000 and term in keywords:
        score = 920
    score = score or _best(term, keywords, 700, 650, 600)
    if not score and is_pinyin(term):
        name_initials, keyword_initials = _groups(item.pinyin_initials, 2)
        name_full, keyword_full = _groups(item.pinyin_full, 2)
        score = max(
            _best(term, name_initials, 560, 540, 500),
            _best(term, name_full, 560, 540, 480),
            _best(term, keyword_initials, 460, 440, 400),
            _best(term, keyword_full, 460, 440, 380),
        )
    if not score and any(term in w for w in labels):
        score = 300
    if not score and any(term in w for w in materials):
        score = 200
    return score


def rank(items: Iterable[Indexed], terms: Sequence[str]) -> list[tuple[int, Indexed]]:
    """Items matching every term, best first (shorter names first on a tie)."""
    scored: list[tuple[int, Indexed]] = []
    for item in items:
        total = 0
        for term in terms:
            s = term_score(item, term)
            if s == 0:
                break
            total += s
        else:
            scored.append((total, item))
    scored.sort(key=lambda pair: (-pair[0], len(pair[1].name), pair[1].code))
    return scored
