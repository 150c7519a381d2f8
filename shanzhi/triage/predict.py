"""Text → category, confidence and the top three, from the active model.

Each process keeps the fitted pipelines it has loaded, keyed by the blob's SHA-256, and remembers
which model is active for a few seconds; after that one indexed query checks again. So a model
activated on one app server answers on all of them within `STAMP_TTL` seconds, and activating on
this server answers at once (the service clears this cache).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shanzhi.triage import learn
from shanzhi.triage.categories import CategoryInfo, category_table
from shanzhi.triage.models import TriageModel
from shanzhi.triage.selectors import ModelStamp, active_model_stamp
from shanzhi.triage.services import clean_text, triage_model_ensure

STAMP_TTL = 5.0  # seconds a process trusts its idea of the active model


@dataclass(frozen=True)
class TextPrediction:
    category: str
    category_name: str
    confidence: float
    top3: list[tuple[str, str, float]]  # (code, name, probability), best first
    model_version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "category_name": self.category_name,
            "confidence": round(self.confidence, 4),
            "top3": [{"category": c, "name": n, "confidence": round(p, 4)} for c, n, p in self.top3],
            "model_version": self.model_version,
        }


@dataclass(frozen=True)
class Predictor:
    version: int
    sha256: str
    scorer: learn.Scorer

    def predict(self, texts: Sequence[str], *, names: dict[str, CategoryInfo]) -> list[TextPrediction]:
        classes, proba = self.scorer.classes, self.scorer(texts)
        order = (-proba).argsort(axis=1, kind="stable")[:, :3]
        out = []
        for row, best in zip(proba, order, strict=True):
            top = [(classes[i], _name(classes[i], names), float(row[i])) for i in best]
            out.append(TextPrediction(top[0][0], top[0][1], top[0][2], top, self.version))
        return out


def _name(code: str, names: dict[str, CategoryInfo]) -> str:
    info = names.get(code)
    return info.name if info else code


class PredictorCache:
    def __init__(self, *, ttl: float = STAMP_TTL, keep: int = 3, use_memo: bool = True) -> None:
        self.ttl = ttl
        self._use_memo = use_memo
        self._keep = keep
        self._stamp: ModelStamp | None = None
        self._checked = 0.0
        self._scorers: OrderedDict[str, learn.Scorer] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0

    def clear(self) -> None:
        self._stamp = None

    def _current_stamp(self) -> ModelStamp:
        now = time.monotonic()
        stamp = self._stamp
        if stamp is not None and now - self._checked < self.ttl:
            return stamp
        stamp = active_model_stamp()
        if stamp is None:
            model = triage_model_ensure()
            stamp = (model.pk, model.version, model.blob_sha256)
        self._stamp, self._checked = stamp, now
        return stamp

    def get(self) -> Predictor:
        stamp = self._current_stamp()
        scorer = self._scorers.get(stamp[2])
        if scorer is None:
            with self._lock:
                pipeline = self._load(stamp)
                if pipeline is None:  # the remembered model is gone (deleted, or a test rolled back)
                    self.clear()
                    stamp = self._current_stamp()
                    pipeline = self._load(stamp)
                    if pipeline is None:
                        raise RuntimeError("the active triage model disappeared while loading")
                scorer = learn.Scorer(pipeline)
                self._scorers[stamp[2]] = scorer
                while len(self._scorers) > self._keep:
                    self._scorers.popitem(last=False)
        return Predictor(version=stamp[1], sha256=stamp[2], scorer=scorer)

    def _load(self, stamp: ModelStamp) -> Any:
        fitted = learn.memo.by_sha(stamp[2]) if self._use_memo else None
        if fitted is not None:  # trained in this process: no need to unpickle
            return fitted
        blob = (
            TriageModel.objects.filter(pk=stamp[0], blob_sha256=stamp[2])
            .values_list("blob", flat=True)
            .first()
        )
        if blob is None:
            return None
        self.loads += 1
        return learn.load(bytes(blob))


default_cache = PredictorCache()


def predictor_cache_clear() -> None:
    default_cache.clear()


def triage_text(*, text: str) -> TextPrediction:
    """The category of one request. Refuses empty or over-long text (422)."""
    return triage_texts(texts=[text])[0]


def triage_texts(*, texts: Sequence[str]) -> list[TextPrediction]:
    """Many requests in one vectorised call (about 20× the throughput of one at a time)."""
    cleaned = [clean_text(t) for t in texts]
    if not cleaned:
        return []
    return default_cache.get().predict(cleaned, names=category_table())
