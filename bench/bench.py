"""Benchmark: matching latency, how it grows with the knowledge base, start-up time, memory.

Usage: python bench/bench.py [--telegram]

Prints a table; asserts nothing (speed is reported, never tested). With --telegram it also
drives the real python-telegram-bot application through the tests' fake Bot API with 50
concurrent users and reports messages per second and reply latency.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from citizenbot.assemble import settle
from citizenbot.core.knowledge import Intent, KnowledgeBase, load_knowledge_base
from citizenbot.core.report import Passage
from citizenbot.core.responder import Responder
from citizenbot.evaluate import read_cases

ROOT = Path(__file__).resolve().parents[1]


def synthetic(kb: KnowledgeBase, factor: int, seed: int = 7) -> KnowledgeBase:
    """`factor` times the knowledge base: copies of the intents and of the report's passages
    whose words are partly swapped for new ones, so that the vocabulary, the postings and the
    sentences to rank grow as they would with real new content."""
    if factor == 1:
        return kb
    rng = random.Random(seed)
    pool = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
            for _ in range(20_000)]

    def vary(text: str) -> str:
        words = text.split()
        return " ".join(rng.choice(pool) if rng.random() < 0.4 else w for w in words)

    intents: list[Intent] = list(kb.intents)
    passages: list[Passage] = list(kb.report.passages)
    for k in range(1, factor):
        for intent in kb.intents:
            intents.append(dataclasses.replace(
                intent, id=f"{intent.id}-copy{k}", related=(),
                examples_en=tuple(vary(e) for e in intent.examples_en),
                examples_zh=tuple(f"{e}{rng.choice(pool)}" for e in intent.examples_zh),
            ))
        for p in kb.report.passages:
            pid = f"{p.id}-copy{k}"
            sentences = tuple(dataclasses.replace(
                s, id=s.id.replace(p.id, pid, 1), passage_id=pid, text=vary(s.text),
                topic_id=s.topic_id.replace(p.id, pid, 1) if s.topic_id else None)
                for s in p.sentences)
            passages.append(dataclasses.replace(
                p, id=pid, sentences=sentences, text=" ".join(s.text for s in sentences)))
    report = dataclasses.replace(kb.report, passages=tuple(passages))
    return dataclasses.replace(kb, intents=tuple(intents), report=report)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def matching(kb: KnowledgeBase, warm: list[str], questions: list[str]) -> dict[str, float]:
    """Build a responder, warm it on `warm` as a running bot would be, then time each of
    `questions` once: questions it has not seen, so that no cache flatters the figures."""
    tracemalloc.start()
    started = time.perf_counter()
    responder = Responder(kb)
    build_s = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    settle()  # as every door's start-up does (assemble.load_responder)
    for q in warm:
        responder.respond(q)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        responder.respond(q)
        times.append((time.perf_counter() - t0) * 1000)
    return {"intents": len(kb.intents), "examples": sum(len(i.examples) for i in kb.intents),
            "sentences": sum(len(p.sentences) for p in kb.report.passages),
            "build_s": build_s, "peak_mb": peak / 2**20,
            "p50": statistics.median(times), "p99": percentile(times, 99),
            "max": max(times)}


def cold_start() -> float:
    """Seconds from process start to the first batch answer (import, load, match, print)."""
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "citizenbot.cli", "answer"], input=b"hello\n",
                       capture_output=True, check=True, cwd=ROOT)
        runs.append(time.perf_counter() - t0)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--telegram", action="store_true",
                        help="also measure the whole path through python-telegram-bot")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=10)
    args = parser.parse_args()

    data = ROOT / "tests" / "data"
    warm = [c.question for c in read_cases(data / "eval.tsv")]
    questions = [c.question for path in sorted(data.glob("blind-*.jsonl"))
                 for c in read_cases(path)]
    kb = load_knowledge_base()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()}")
    print(f"questions: {len(questions)} from the blind sets, each timed once after warming up "
          f"on {len(warm)} others (eval.tsv); one core\n")
    print(f"{'knowledge base':<16}{'intents':>8}{'examples':>10}{'sentences':>10}{'build s':>9}"
          f"{'peak MB':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for factor in (1, 10, 100):
        m = matching(synthetic(kb, factor), warm, questions)
        name = "shipped" if factor == 1 else f"{factor}x synthetic"
        print(f"{name:<16}{m['intents']:>8}{m['examples']:>10}{m['sentences']:>10}"
              f"{m['build_s']:>9.2f}{m['peak_mb']:>9.1f}{m['p50']:>9.3f}{m['p99']:>9.3f}"
              f"{m['max']:>9.3f}")
    print(f"\ncold start (process start to first batch answer): {cold_start():.2f} s")

    if args.telegram:
        sys.path.insert(0, str(ROOT / "tests"))
        from load_driver import run_load  # the same driver bench/load and the tests use

        keys = ("messages_per_s", "reply_p50_ms", "reply_p99_ms", "answered_twice",
                "replied_not_logged")
        print(f"\npython-telegram-bot through the fake Bot API, {args.users} concurrent users x "
              f"{args.per_user} questions:")
        # With Telegram's overall cap (~30 messages/s, production) and without it (the bot itself).
        for name, rate in (("Telegram's 30/s cap", 30.0), ("cap lifted", 0.0)):
            figures = run_load(users=args.users, per_user=args.per_user, overall_max_rate=rate)
            print(f"  {name:<20} " + "  ".join(f"{k}={figures[k]}" for k in keys))

if __name__ == "__main__":
    main()
