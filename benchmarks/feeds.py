"""What keeping a library current from feeds costs, and how soon a new entry is answerable.

A loopback server serves FEEDS feeds of ENTRIES full-text entries each (real article texts
from the shared distractor corpus when present). The poller (ingest.watch) then runs:
1. the first round: every feed fetched and its entries ingested;
2. quiet rounds: nothing changed, every feed answers 304 (what most 15-minute polls are);
3. busy rounds: one new entry in every feed;
reporting requests, bytes and CPU seconds of this process per round, and per hour at a
15-minute interval (4 rounds). Then the latency from an entry appearing in a feed to
`engine.ask` answering from it, with the poller running every LATENCY_EVERY_S seconds: the
wait for the next check (at most the interval) plus the check's own ingest.

    python benchmarks/feeds.py [--feeds 20] [--entries 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["NEWSRAG_ALLOW_PRIVATE_URLS"] = "1"  # the feeds are served on 127.0.0.1

import rag  # noqa: E402
from ingest.watch import Watcher, check_now, subscribe  # noqa: E402
from tests.support.feeds import Entry, Feed, feed_server  # noqa: E402

DISTRACTORS = REPO.parent / "shared" / "data" / "news-distractors" / "distractors.jsonl"
QUIET_ROUNDS = 3
LATENCY_EVERY_S = 10
ROUNDS_PER_HOUR = 4  # a 15-minute interval


def texts(count: int) -> list[tuple[str, str]]:
    if DISTRACTORS.is_file():
        found = []
        with DISTRACTORS.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if len(row["body"].split()) >= 200:
                    found.append((row["title"], row["body"][:4000]))
                if len(found) == count:
                    return found
    filler = "Officials met residents and answered their questions about the new plan. " * 25
    return [(f"Local story number {i}", f"Story {i}. " + filler) for i in range(count)]


def round_cost(feeds, settings, library) -> dict:
    requests_before = len(feeds.requests)
    cpu, wall = time.process_time(), time.perf_counter()
    outcomes = check_now(settings, library=library)
    return {
        "requests": len(feeds.requests) - requests_before,
        "cpu_s": round(time.process_time() - cpu, 2),
        "wall_s": round(time.perf_counter() - wall, 2),
        "added": sum(o.added for o in outcomes),
        "not_modified": sum(o.result == "not modified" for o in outcomes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--entries", type=int, default=20)
    args = parser.parse_args()
    stories = texts(args.feeds * (args.entries + 1 + QUIET_ROUNDS))
    folder = Path(tempfile.mkdtemp(prefix="newsrag-feeds-bench-"))
    settings = rag.load_settings(data_dir=folder / "lib", feed_min_every_s=1)
    with feed_server() as server, rag.open_library(settings, create=True) as library:
        feeds = []
        for number in range(args.feeds):
            entries = [Entry(f"{number}-{i}", *stories.pop()) for i in range(args.entries)]
            feed = Feed(f"Outlet {number}", entries)
            server.routes[f"/feed/{number}.rss"] = feed
            subscribe(f"{server.url}/feed/{number}.rss", settings, every="15m", library=library)
            feeds.append(feed)
        first = round_cost(server, settings, library)
        quiet = [round_cost(server, settings, library) for _ in range(QUIET_ROUNDS)]
        for number, feed in enumerate(feeds):
            feed.entries.append(Entry(f"{number}-new", *stories.pop()))
        busy = round_cost(server, settings, library)

    print(f"{args.feeds} feeds x {args.entries} entries (real article texts: "
          f"{DISTRACTORS.is_file()}), 2 cores")  # fmt: skip
    print(f"first round (ingest everything): {first}")
    quiet_cpu = sum(r["cpu_s"] for r in quiet) / len(quiet)
    print(f"quiet round (all 304): {quiet[-1]}; mean CPU {quiet_cpu:.2f} s")
    print(f"busy round (1 new entry per feed): {busy}")
    print(f"per hour at 15 min, quiet: {ROUNDS_PER_HOUR * quiet[-1]['requests']} requests, "
          f"{ROUNDS_PER_HOUR * quiet_cpu:.1f} CPU s; with one new entry per feed per round: "
          f"{ROUNDS_PER_HOUR * busy['requests']} requests, {ROUNDS_PER_HOUR * busy['cpu_s']:.1f} "
          "CPU s")  # fmt: skip
    latency(folder)


def latency(folder: Path) -> None:
    """Seconds from an entry appearing in a feed to an answer citing it."""
    settings = rag.load_settings(data_dir=folder / "latency", feed_min_every_s=1)
    with feed_server() as server:
        feed = Feed("Harbor Times", [Entry("a", "Ferry resumes", "The ferry resumed. " * 40)])
        server.routes["/news.rss"] = feed
        subscribe(f"{server.url}/news.rss", settings, every=f"{LATENCY_EVERY_S}s")
        watcher = Watcher(settings, sync_s=1).start()
        try:
            with rag.open_library(settings) as library:
                while not library.articles():
                    time.sleep(0.2)
            engine = rag.open_engine(settings=settings)
            samples = []
            for trial in range(3):
                name = ["Ada Quill", "Bo Marsh", "Cy Lund"][trial]
                appeared = time.perf_counter()
                feed.entries.append(Entry(
                    f"keeper-{trial}", f"Lighthouse keeper {trial} retires",
                    f"Lighthouse keeper {name} retired on Friday after forty years. "
                    + "She kept the lamp lit through every storm. " * 30,
                ))  # fmt: skip
                while name not in engine.ask(f"Who retired as lighthouse keeper {trial}?").text:
                    time.sleep(0.5)
                samples.append(round(time.perf_counter() - appeared, 1))
        finally:
            watcher.stop()
    print(f"new entry -> answerable, polling every {LATENCY_EVERY_S} s: {samples} s "
          f"(at most the interval plus one check; at 15 min: up to ~15 min)")  # fmt: skip


if __name__ == "__main__":
    main()
