"""VADER sentiment per text: capped, deduplicated, batched across processes.

Every score is exactly ``SentimentIntensityAnalyzer().polarity_scores(cap_text(text))`` from
vaderSentiment; this module only changes how much work is done and where:

- **Cap (the slow-path guard).** VADER is quadratic in the number of words: for every lexicon
  word it lower-cases the whole word list again (negation and idiom checks) and its "but" rule
  does a list search per word. It also replaces every emoji by its description (up to seven
  words), so emoji-heavy text multiplies the word count. Measured here: 10,000 characters take
  ~0.3 s, 40,000 ~4 s and 80,000 ~30 s, so a 5 MB text would take more than a day; 2,000 emoji
  (2,000 characters, under the character cap) take 1.8 s. Texts are therefore scored on their
  first ``max_chars`` characters, and that prefix is cut before its ``max_emoji + 1``-th emoji
  (defaults 2000 and 50, ``sentiment.max_chars`` / ``max_emoji`` in
  config/defaults.yml), which bounds one text to a few milliseconds.
- **Each distinct text once.** Transcripts repeat the same short phrases ("thank you", "yes",
  bot prompts) many times; scores are computed per distinct capped text and fanned back out.
- **Processes.** Distinct texts go in batches to a pool of worker processes, each with its own
  analyzer built in the pool initializer. Small inputs are scored in-process (see
  ``MIN_PARALLEL_CHARS``).

A text with no words (None, empty or whitespace only) gets ``NEUTRAL`` (compound 0.0, neu 1.0):
VADER itself returns all zeros for it, which is not a proportion split.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cx_signals.config import load_config


@cache
def _default_caps() -> tuple[int, int]:
    """sentiment.max_chars and sentiment.max_emoji of the bundled defaults, for callers that pass neither."""
    sentiment = load_config()["sentiment"]
    return sentiment["max_chars"], sentiment["max_emoji"]


def _caps(max_chars: int | None, max_emoji: int | None) -> tuple[int, int]:
    default_chars, default_emoji = _default_caps()
    return (default_chars if max_chars is None else max_chars, default_emoji if max_emoji is None else max_emoji)


DEFAULT_BATCH_SIZE = 2000
# A fork pool costs ~20-50 ms to start and stop and the parent's planning and IPC add more, so
# below some amount of work one process is faster. VADER spends ~0.5 µs per character of short
# text. Measured on 2 cores (best of 5): with both cores idle the pool breaks even near 130k
# characters of distinct text and gains 1.45x at 900k; with the other core busy (another Dagster
# step, a test run) it breaks even near 1.3M. 1M characters (~0.5 s of work) gains where it
# matters and loses at most ~10% when the machine is shared.
MIN_PARALLEL_CHARS = 1_000_000


class SentimentScore(NamedTuple):
    """VADER scores of one text: compound in [-1, 1]; pos, neu, neg are proportions summing to 1."""

    compound: float
    pos: float
    neu: float
    neg: float


NEUTRAL = SentimentScore(compound=0.0, pos=0.0, neu=1.0, neg=0.0)

_analyzer_in_process: SentimentIntensityAnalyzer | None = None


def _analyzer() -> SentimentIntensityAnalyzer:
    global _analyzer_in_process
    if _analyzer_in_process is None:
        _analyzer_in_process = SentimentIntensityAnalyzer()
    return _analyzer_in_process


@cache
def _emoji_pattern() -> re.Pattern[str]:
    # VADER looks emoji up one character at a time, so only single-character lexicon entries
    # are ever replaced by a description; multi-character ones (skin tones, ZWJ) never match.
    chars = sorted(key for key in _analyzer().emojis if len(key) == 1)
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


def cap_text(text: str, max_chars: int | None = None, max_emoji: int | None = None) -> str:
    """Return the prefix of ``text`` that is scored: at most ``max_chars`` characters, cut
    before the ``max_emoji + 1``-th emoji of VADER's emoji lexicon (defaults: the config's caps)."""
    max_chars, max_emoji = _caps(max_chars, max_emoji)
    if max_chars < 0 or max_emoji < 0:
        raise ValueError(f"max_chars and max_emoji must be >= 0, got {max_chars} and {max_emoji}")
    capped = text[:max_chars]
    if capped.isascii():
        return capped
    for n, match in enumerate(_emoji_pattern().finditer(capped)):
        if n == max_emoji:
            return capped[: match.start()]
    return capped


def _score_batch(texts: Sequence[str]) -> list[tuple[float, float, float, float]]:
    sia = _analyzer()
    out = []
    for text in texts:
        scores = sia.polarity_scores(text)
        out.append((scores["compound"], scores["pos"], scores["neu"], scores["neg"]))
    return out


def _init_worker() -> None:
    global _analyzer_in_process
    # A forked worker inherits the caller's signal handlers. Dagster maps SIGTERM to its SIGINT
    # handler, which inside capture_interrupts() only records the signal: Pool.terminate() would
    # then wait forever for the worker (seen in testing). Ctrl-C is the parent's to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _analyzer_in_process = SentimentIntensityAnalyzer()


class _Plan(NamedTuple):
    distinct: list[str]  # distinct capped texts that have words, in first-seen order
    slots: list[int]  # per input text: index into distinct, or -1 for NEUTRAL


def _plan(texts: Sequence[str | None], max_chars: int, max_emoji: int) -> _Plan:
    slot_of_raw: dict[str | None, int] = {None: -1}
    slot_of_capped: dict[str, int] = {}
    distinct: list[str] = []
    for text in dict.fromkeys(texts):
        if text is None:
            continue
        capped = cap_text(text, max_chars, max_emoji)
        if capped.isspace() or not capped:
            slot_of_raw[text] = -1
            continue
        slot = slot_of_raw[text] = slot_of_capped.setdefault(capped, len(distinct))
        if slot == len(distinct):
            distinct.append(capped)
    return _Plan(distinct, [slot_of_raw[text] for text in texts])


def available_cpus() -> int:
    """Number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _worker_count(distinct: Sequence[str], processes: int | None) -> int:
    """Processes to score with; 1 means in-process."""
    wanted = available_cpus() if processes is None else processes
    if wanted < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    if wanted == 1 or multiprocessing.current_process().daemon:
        # Daemonic processes (e.g. pool workers) may not start children.
        return 1
    if len(distinct) < 2 or sum(map(len, distinct)) < MIN_PARALLEL_CHARS:
        return 1
    return min(wanted, len(distinct))


def _default_start_method() -> str:
    # Fork starts a worker in milliseconds and, unlike spawn and forkserver, does not re-import
    # the caller's __main__ in every worker (under a CLI or a Dagster step that is its whole
    # import stack, every time a pool starts). Forking while other threads run (Dagster, polars,
    # DuckDB) only endangers a child that uses what those threads may hold locked; the worker runs
    # only pure-Python VADER code on the pool's own queues, and _init_worker resets the inherited
    # signal handlers. macOS cannot fork safely, so it gets spawn.
    return "fork" if sys.platform.startswith("linux") else "spawn"


def score_texts(
    texts: Sequence[str | None],
    processes: int | None = None,
    max_chars: int | None = None,
    max_emoji: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    start_method: str | None = None,
) -> list[SentimentScore]:
    """Score each text with VADER, in input order.

    Each result equals ``SentimentIntensityAnalyzer().polarity_scores(cap_text(text, max_chars,
    max_emoji))``, except that a text without words (None, empty, whitespace) gets ``NEUTRAL``.
    Each distinct capped text is scored once. ``processes`` defaults to the available CPUs; the
    pool is used only when the distinct texts total at least ``MIN_PARALLEL_CHARS`` characters.
    Batches hold at most ``batch_size`` texts, and are smaller when needed to give every worker
    at least four. ``start_method`` is a multiprocessing start method (default: fork on Linux,
    spawn elsewhere).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    max_chars, max_emoji = _caps(max_chars, max_emoji)
    plan = _plan(texts, max_chars, max_emoji)
    workers = _worker_count(plan.distinct, processes)
    if workers == 1:
        raw = _score_batch(plan.distinct)
    else:
        size = max(1, min(batch_size, math.ceil(len(plan.distinct) / (4 * workers))))
        batches = [plan.distinct[i : i + size] for i in range(0, len(plan.distinct), size)]
        context = multiprocessing.get_context(start_method or _default_start_method())
        pool = context.Pool(workers, initializer=_init_worker)
        try:
            raw = [row for batch in pool.imap(_score_batch, batches) for row in batch]
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.close()
            pool.join()
    scores = list(map(SentimentScore._make, raw))
    scores.append(NEUTRAL)  # slot -1
    return [scores[slot] for slot in plan.slots]


def benchmark(
    texts: Sequence[str],
    processes: int | None = None,
    repeat: int = 1,
    max_chars: int | None = None,
    max_emoji: int | None = None,
) -> dict[str, float | int | str]:
    """Time a plain VADER loop and :func:`score_texts` on the same texts in this run.

    Times are the best of ``repeat`` wall-clock runs, in seconds; throughputs are utterances
    (input texts) per second; ``speedup`` is baseline time / score_texts time. The plain loop is
    ``[sia.polarity_scores(t) for t in texts]`` with an analyzer built before timing.
    ``mismatches`` counts texts whose scores differ, over the ``n_compared`` texts that have
    words and that the cap leaves whole (the others are scored differently by design); it must
    be 0. ``processes`` is the worker count score_texts used (1 = in-process).
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    max_chars, max_emoji = _caps(max_chars, max_emoji)
    texts = list(texts)
    sia = SentimentIntensityAnalyzer()
    baseline_s = fast_s = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        plain = [sia.polarity_scores(t) for t in texts]
        baseline_s = min(baseline_s, time.perf_counter() - start)
        start = time.perf_counter()
        fast = score_texts(texts, processes=processes, max_chars=max_chars, max_emoji=max_emoji)
        fast_s = min(fast_s, time.perf_counter() - start)

    plan = _plan(texts, max_chars, max_emoji)
    capped = {t for t in set(texts) if cap_text(t, max_chars, max_emoji) != t}
    mismatches = n_compared = 0
    for text, expected, got in zip(texts, plain, fast, strict=True):
        if text in capped or text.isspace() or not text:
            continue
        n_compared += 1
        mismatches += got != (expected["compound"], expected["pos"], expected["neu"], expected["neg"])
    return {
        "n_texts": len(texts),
        "n_distinct": len(plan.distinct),
        "n_capped": sum(text in capped for text in texts),
        "n_compared": n_compared,
        "mismatches": mismatches,
        "processes": _worker_count(plan.distinct, processes),
        "available_cpus": available_cpus(),
        "repeat": repeat,
        "baseline_seconds": baseline_s,
        "seconds": fast_s,
        "baseline_per_second": len(texts) / baseline_s if baseline_s else math.inf,
        "per_second": len(texts) / fast_s if fast_s else math.inf,
        "speedup": baseline_s / fast_s if fast_s else math.inf,
    }


def benchmark_report(result: dict[str, float | int | str]) -> str:
    """Summarise a :func:`benchmark` result in a few human-readable lines."""
    verdict = "identical" if result["mismatches"] == 0 else f"{result['mismatches']} MISMATCHES"
    return "\n".join(
        [
            f"texts: {result['n_texts']:,} ({result['n_distinct']:,} distinct after the cap, "
            f"{result['n_capped']:,} capped)",
            f"plain VADER loop: {result['baseline_per_second']:>12,.0f} utterances/s "
            f"({result['baseline_seconds']:.3f} s)",
            f"score_texts:      {result['per_second']:>12,.0f} utterances/s "
            f"({result['seconds']:.3f} s, {result['processes']} process(es) of "
            f"{result['available_cpus']} CPUs)",
            f"speed-up: {result['speedup']:.2f}x, best of {result['repeat']}; "
            f"scores {verdict} on {result['n_compared']:,} comparable texts",
        ]
    )


def load_vader_tweets(path: Path) -> tuple[list[str], list[float]]:
    """Read VADER's tweets_GroundTruth.txt (tab-separated id, mean human rating, text).

    Returns the texts and their mean ratings (on the paper's -4..+4 scale). ``path`` is the file
    or the folder that holds it.
    """
    if path.is_dir():
        path = path / "tweets_GroundTruth.txt"
    texts: list[str] = []
    ratings: list[float] = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            parts = line.split("\t", 2)
            if len(parts) != 3:
                raise ValueError(f"{path}:{line_no}: expected id, rating and text separated by tabs")
            ratings.append(float(parts[1]))
            texts.append(parts[2])
    return texts, ratings


def pearson_r(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson correlation coefficient of two equally long sequences, in [-1, 1]."""
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"need two sequences of equal length >= 2, got {len(a)} and {len(b)}")
    return float(np.corrcoef(np.asarray(a, dtype=float), np.asarray(b, dtype=float))[0, 1])
