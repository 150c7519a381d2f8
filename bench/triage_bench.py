"""Triage benchmark: training time, predictions per second one at a time and in batches, and
whole answers (category + place names + routing) per second as `shanzhi triage` gives them.

    .venv/bin/python bench/triage_bench.py                 # throwaway SQLite database in a temp dir
    .venv/bin/python bench/triage_bench.py --repeat 20
    .venv/bin/python bench/triage_bench.py --pg           # scratch PostgreSQL database, dropped after
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/triage_bench .venv/bin/python bench/triage_bench.py
        (an empty PostgreSQL database you can throw away; the script migrates it and loads the demo)

The texts are the held-out set (403 requests in the voices of five channels), repeated.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_parser, run_on_scratch  # bench/_common.py


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=10, help="passes over the held-out set for batch runs")
    parser.add_argument("--fits", type=int, default=3, help="training runs to time")
    args = parser.parse_args()

    run_on_scratch(prefix="triage-bench", pg=args.pg, run=lambda: _run(args))


def _run(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    from shanzhi.core.catalogue import case_categories
    from shanzhi.core.demo import load_demo as load_core
    from shanzhi.triage import learn
    from shanzhi.triage.answer import AnswerContext, TriageRequest, triage_answers
    from shanzhi.triage.predict import PredictorCache, triage_text, triage_texts
    from shanzhi.triage.services import triage_model_ensure

    call_command("migrate", verbosity=0)
    load_core(stdout=io.StringIO())

    corpus = learn.shipped_corpus()
    data = learn.training_set(corpus=corpus, corrections=[])
    fits, dumps = [], []
    for _ in range(args.fits):
        start = time.perf_counter()
        pipeline = learn.fit(data)
        fits.append(time.perf_counter() - start)
        start = time.perf_counter()
        blob = learn.dump(pipeline)
        dumps.append(time.perf_counter() - start)
    start = time.perf_counter()
    learn.load(blob)
    load_s = time.perf_counter() - start
    features = len(pipeline.named_steps["tfidf"].vocabulary_)
    print(
        f"training on {len(data.texts)} rows: fit {statistics.median(fits):.2f} s, serialise "
        f"{statistics.median(dumps):.2f} s (median of {args.fits}); {features} features, "
        f"blob {len(blob) / 1e6:.1f} MB, load {load_s * 1000:.0f} ms"
    )
    start = time.perf_counter()
    model = triage_model_ensure()
    took = time.perf_counter() - start
    print(f"first-use path (fit, held-out score, store in the database): {took:.2f} s, v{model.version}")
    held = model.metrics["heldout"]
    print(f"held-out: category {held['accuracy']:.1%}, primary handler {held['handler_accuracy']:.1%}")

    texts = [r.text for r in learn.heldout_set()]
    triage_text(text=texts[0])  # warm the process cache
    start = time.perf_counter()
    for text in texts:
        triage_text(text=text)
    single = time.perf_counter() - start
    print(f"single, triage_text:                 {len(texts) / single:8.0f} predictions/s")

    many = texts * args.repeat
    for size in (32, 256, len(many)):
        start = time.perf_counter()
        for i in range(0, len(many), size):
            triage_texts(texts=many[i : i + size])
        took = time.perf_counter() - start
        print(f"batched, triage_texts ({size:>5} a call): {len(many) / took:8.0f} predictions/s")

    cold = PredictorCache(ttl=0, use_memo=False)
    start = time.perf_counter()
    cold.get()
    took = time.perf_counter() - start
    print(f"another process's first load of the model from the database: {took * 1000:.0f} ms")

    requests = [
        TriageRequest(text=t, address="青石镇上溪村3组" if i % 2 else "") for i, t in enumerate(texts)
    ]
    start = time.perf_counter()
    for r in requests:
        triage_answers(requests=[r])
    one = time.perf_counter() - start
    context = AnswerContext.load()
    start = time.perf_counter()
    for r in requests:
        triage_answers(requests=[r], context=context)
    streamed = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.repeat):
        triage_answers(requests=requests)
    batch = time.perf_counter() - start
    print(
        f"whole answers (category, places, routing): {len(requests) / one:6.0f}/s one at a time (API), "
        f"{len(requests) / streamed:6.0f}/s one line at a time (command line), "
        f"{len(requests) * args.repeat / batch:6.0f}/s in batches of {len(requests)}"
    )
    n_codes = len(case_categories())
    print(f"({n_codes} categories; {len(corpus)} corpus rows; {len(texts)} held-out requests)")


if __name__ == "__main__":
    main()
