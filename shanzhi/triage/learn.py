"""Training and evaluation, with no database: texts in, a fitted pipeline and its bytes out.

The model: TF-IDF over character n-grams (1–3, inside clauses, sublinear tf) of the normalised
text, and a linear SVM whose scores are turned into probabilities by Platt scaling fitted on
5-fold cross-validated scores (`CalibratedClassifierCV(ensemble=False)`: one SVM is stored, so a
model is ~5 MB instead of five times that). Chosen by cross-validation on the corpus only; see
docs/triage.md for the numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from shanzhi.triage.text import normalise_text

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_PATH = DATA_DIR / "corpus.csv"
HELDOUT_PATH = DATA_DIR / "heldout.csv"

# Bump when the features or the estimator change, so memoised fits are not reused.
FEATURES = "char_wb-1-3/normalise_text-1/linearsvc-0.5/platt-cv5"
CV_FOLDS = 5
# A dispatcher's correction is checked by a person and is about this county's words: it counts
# as three corpus rows.
CORRECTION_WEIGHT = 3.0
CONFIDENCE_STEPS = (0.5, 0.7, 0.85, 0.9)


@dataclass(frozen=True)
class Labelled:
    text: str
    category: str
    style: str = ""


def read_labelled(path: Path) -> tuple[Labelled, ...]:
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(Labelled(r["text"], r["category"], r.get("style", "")) for r in csv.DictReader(fh))


@cache
def shipped_corpus() -> tuple[Labelled, ...]:
    return read_labelled(CORPUS_PATH)


@cache
def heldout_set() -> tuple[Labelled, ...]:
    return read_labelled(HELDOUT_PATH)


@cache
def _heldout_keys() -> frozenset[str]:
    return frozenset(normalise_text(row.text) for row in heldout_set())


def build_pipeline() -> Pipeline:
    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 3),
        sublinear_tf=True,
        preprocessor=normalise_text,
        dtype=np.float32,
    )
    svm = LinearSVC(C=0.5, random_state=0)
    return Pipeline(
        [
            ("tfidf", vectorizer),
            ("clf", CalibratedClassifierCV(svm, cv=CV_FOLDS, method="sigmoid", ensemble=False)),
        ]
    )


@dataclass(frozen=True)
class TrainingSet:
    texts: list[str]
    labels: list[str]
    weights: list[float]
    n_corpus: int
    n_corrections: int
    n_excluded: int  # corrections dropped because they repeat a held-out text

    def digest(self) -> str:
        h = hashlib.sha256(f"{FEATURES}|{sklearn.__version__}|{self.n_excluded}".encode())
        for text, label, weight in zip(self.texts, self.labels, self.weights, strict=True):
            h.update(f"\x00{label}\x01{weight}\x02{text}".encode())
        return h.hexdigest()


def training_set(*, corpus: Iterable[Labelled], corrections: Iterable[tuple[str, str]]) -> TrainingSet:
    """Corpus plus corrections (oldest first). The same normalised text keeps its latest label;
    nothing that repeats a held-out text is trained on, so the held-out score stays honest."""
    rows: dict[str, tuple[str, str, float]] = {}
    n_corrections = excluded = 0
    for row in corpus:
        rows[normalise_text(row.text)] = (row.text, row.category, 1.0)
    heldout = _heldout_keys()
    for text, category in corrections:
        key = normalise_text(text)
        if key in heldout:
            excluded += 1
            continue
        rows[key] = (text, category, CORRECTION_WEIGHT)
        n_corrections += 1
    texts = [v[0] for v in rows.values()]
    labels = [v[1] for v in rows.values()]
    weights = [v[2] for v in rows.values()]
    # Calibration splits each class CV_FOLDS ways; a category known only from one or two
    # corrections is repeated (with its weight shared out) so every fold sees it.
    counts = Counter(labels)
    for label, count in counts.items():
        if count >= CV_FOLDS:
            continue
        members = [i for i, lab in enumerate(labels) if lab == label]
        factor = -(-CV_FOLDS // count)  # ceil
        for i in members:
            weights[i] /= factor
        for _ in range(factor - 1):
            for i in members:
                texts.append(texts[i])
                labels.append(label)
                weights.append(weights[i])
    return TrainingSet(texts, labels, weights, len(rows) - n_corrections, n_corrections, excluded)


def fit(data: TrainingSet) -> Pipeline:
    if len(set(data.labels)) < 2:
        raise ValueError("training needs at least two categories")
    pipeline = build_pipeline()
    pipeline.fit(data.texts, data.labels, clf__sample_weight=np.asarray(data.weights))
    # float32 halves the stored size; the scores change in the 7th digit.
    for calibrated in pipeline.named_steps["clf"].calibrated_classifiers_:
        svm = calibrated.estimator
        svm.coef_ = svm.coef_.astype(np.float32)
    return pipeline


def dump(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=("zlib", 3))
    return buffer.getvalue()


def load(blob: bytes) -> Pipeline:
    """Only for blobs this app wrote to its own table (joblib unpickles: never load foreign bytes)."""
    return joblib.load(io.BytesIO(blob))


def predict_proba(pipeline: Pipeline, texts: Sequence[str]) -> tuple[list[str], Any]:
    """Class codes and an (n_texts × n_classes) probability matrix."""
    return [str(c) for c in pipeline.classes_], pipeline.predict_proba(list(texts))


class Scorer:
    """`pipeline.predict_proba`, computed as one matrix product.

    sklearn's calibrated classifier runs 31 small calibrators, each validating its input, which
    costs ~2 ms per text; here the same Platt formula, expit(−(a·d + b)), is applied to all
    classes at once and normalised the way sklearn does (tests check the two agree). Any other
    model shape falls back to the pipeline itself.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]
        self._fast: tuple[Any, ...] | None = None
        clf = pipeline.named_steps.get("clf")
        if not isinstance(clf, CalibratedClassifierCV) or len(clf.calibrated_classifiers_) != 1:
            return
        calibrated = clf.calibrated_classifiers_[0]
        svm = calibrated.estimator
        calibrators = calibrated.calibrators
        if (
            calibrated.method != "sigmoid"
            or len(clf.classes_) < 3
            or not hasattr(svm, "coef_")
            or len(calibrators) != len(svm.classes_)
            or not all(hasattr(c, "a_") and hasattr(c, "b_") for c in calibrators)
        ):
            return
        positions = np.searchsorted(clf.classes_, svm.classes_)
        a = np.array([c.a_ for c in calibrators], dtype=np.float64)
        b = np.array([c.b_ for c in calibrators], dtype=np.float64)
        self._fast = (pipeline.named_steps["tfidf"], svm.coef_.T, svm.intercept_, a, b, positions)

    def __call__(self, texts: Sequence[str]) -> Any:
        if self._fast is None:
            return self.pipeline.predict_proba(list(texts))
        vectorizer, coef_t, intercept, a, b, positions = self._fast
        scores = np.asarray(vectorizer.transform(list(texts)) @ coef_t) + intercept
        proba = np.zeros((scores.shape[0], len(self.classes)))
        proba[:, positions] = expit(-(a * scores + b))
        total = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, total, out=np.full_like(proba, 1 / len(self.classes)), where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


def evaluate(
    pipeline: Pipeline, rows: Sequence[Labelled], *, primary_of: Mapping[str, str]
) -> dict[str, Any]:
    """Accuracy by category and by primary handler, the confusions, and how the confidence
    threshold trades coverage for precision."""
    if not rows:
        return {"n": 0}
    classes, proba = predict_proba(pipeline, [r.text for r in rows])
    best = proba.argmax(axis=1)
    predicted = [classes[i] for i in best]
    confidence = proba.max(axis=1)
    truth = [r.category for r in rows]
    right = np.array([p == t for p, t in zip(predicted, truth, strict=True)])
    handler_right = [
        primary_of.get(p, "?p") == primary_of.get(t, "?t") for p, t in zip(predicted, truth, strict=True)
    ]
    per: dict[str, dict[str, Any]] = {}
    totals: Counter[str] = Counter(truth)
    hits: Counter[str] = Counter(t for t, ok in zip(truth, right, strict=True) if ok)
    for code in sorted(totals):
        per[code] = {
            "n": totals[code],
            "correct": hits[code],
            "accuracy": round(hits[code] / totals[code], 4),
        }
    confusions: dict[tuple[str, str], int] = defaultdict(int)
    for p, t in zip(predicted, truth, strict=True):
        if p != t:
            confusions[(t, p)] += 1
    thresholds = []
    for step in CONFIDENCE_STEPS:
        sure = confidence >= step
        thresholds.append(
            {
                "threshold": step,
                "share": round(float(sure.mean()), 4),
                "accuracy": round(float(right[sure].mean()), 4) if sure.any() else None,
            }
        )
    return {
        "n": len(rows),
        "accuracy": round(float(right.mean()), 4),
        "handler_accuracy": round(sum(handler_right) / len(rows), 4),
        "per_category": per,
        "confusions": [
            {"true": t, "predicted": p, "count": c}
            for (t, p), c in sorted(confusions.items(), key=lambda item: (-item[1], item[0]))
        ],
        "thresholds": thresholds,
    }


@dataclass(frozen=True)
class Trained:
    pipeline: Pipeline
    blob: bytes
    sha256: str
    metrics: dict[str, Any]
    n_examples: int
    n_corrections: int
    seconds: float = field(compare=False)  # wall clock
    cpu_seconds: float = field(compare=False, default=0.0)  # this process's CPU: what the fit costs


class _Memo:
    """Fitting is a pure function of the training set, so a process keeps its last results:
    test suites and the first-use path do not refit the same corpus again and again."""

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._items: dict[str, Trained] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Trained | None:
        return self._items.get(key)

    def by_sha(self, sha256: str) -> Pipeline | None:
        for item in list(self._items.values()):
            if item.sha256 == sha256:
                return item.pipeline
        return None

    def put(self, key: str, value: Trained) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))


memo = _Memo()


def train(*, corrections: Iterable[tuple[str, str]], primary_of: Mapping[str, str]) -> Trained:
    """Fit on the shipped corpus plus `corrections`, score on the held-out set, serialise."""
    data = training_set(corpus=shipped_corpus(), corrections=corrections)
    key = data.digest()
    known = memo.get(key)
    if known is not None:
        return known
    started, cpu_started = time.perf_counter(), time.process_time()
    pipeline = fit(data)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    blob = dump(pipeline)
    metrics = {
        "heldout": evaluate(pipeline, heldout_set(), primary_of=primary_of),
        "train_seconds": round(seconds, 3),
        "features": FEATURES,
        "corpus_rows": data.n_corpus,
        "corrections": data.n_corrections,
        "corrections_excluded_as_heldout": data.n_excluded,
    }
    trained = Trained(
        pipeline=pipeline,
        blob=blob,
        sha256=hashlib.sha256(blob).hexdigest(),
        metrics=metrics,
        n_examples=data.n_corpus + data.n_corrections,
        n_corrections=data.n_corrections,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
    )
    memo.put(key, trained)
    return trained
