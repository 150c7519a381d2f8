"""Text normalisation before the character n-grams.

The fitted pipeline refers to `normalise_text` by import path, so every stored model uses the
current version of this function. Change it only together with a retrain (docs/triage.md).
"""

from __future__ import annotations

import re
import unicodedata

# Channel boilerplate that says nothing about the category ("市民来电反映:", "诉求:", form labels).
_BOILERPLATE = [
    re.compile(p)
    for p in (
        r"^(?:市民|群众|居民|村民|网友|来电人|来电市民|来电群众|来电者)?(?:来电|致电|来信|留言)?"
        r"(?:反映|反应|称|表示)[:：,，]?",
        r"(?:诉求|问题描述|反映内容|问题地点|事件描述|处理要求)[:：]",
        r"(?:请|望|希望)?(?:相关部门|有关部门)?(?:尽快|及时)?(?:核实)?处理为盼",
    )
]
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Punctuation becomes a space, so char_wb n-grams stay inside one clause.
_SEPARATORS = re.compile(r"[\s,.;:!?，。、；：！？…~～\"'“”‘’()（）【】\[\]<>《》|/\\\-_=+*#@&^%$·]+")


def normalise_text(text: str) -> str:
    """Full-width → half-width (NFKC), lower case, boilerplate dropped, numbers → "0"."""
    value = unicodedata.normalize("NFKC", text).lower()
    for pattern in _BOILERPLATE:
        value = pattern.sub(" ", value)
    value = _NUMBER.sub("0", value)
    value = _SEPARATORS.sub(" ", value)
    return " ".join(value.split())
