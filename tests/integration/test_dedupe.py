"""Syndicated copies of one story are stored once, with every outlet kept: retrieval returns
one story, citations name the outlets, a source filter matches any of them; an update of the
same URL still replaces the text; a different story on the same topic stays its own."""

from __future__ import annotations

import json
import subprocess

import rag
from ingest import ingest
from tests.support import NEWSRAG, subprocess_env

WIRE = (
    "The city council voted 6 to 1 on Tuesday to build a seawall along the harbor front, "
    "after two winters of flooding closed the ferry terminal for weeks. The wall will rise "
    "three meters and run for two kilometers from the old pier to the fish market. "
    "Councillor Maria Chen, who cast the only vote against it, said the 40 million dollar "
    "cost would be better spent moving the terminal inland. Engineers expect construction "
    "to begin in the spring and to last about three years, with the ferry kept running "
    "throughout. The state will pay half of the cost from its coastal resilience fund, and "
    "the rest will come from a bond that voters approved last November."
)
SAME_TOPIC = (
    "Residents of the harbor district packed a public meeting on Thursday to ask how the "
    "planned seawall would change their view of the water and the value of their homes. "
    "Several fishermen said the wall should leave gaps for boats to reach the slipway, and "
    "a group of shop owners asked for the works to pause during the summer tourist season. "
    "City engineers promised a design with three openings and said the final drawings "
    "would be shown at a second meeting next month, before any contract is signed. The "
    "seawall was approved by the council earlier this month after repeated floods."
)


def record(id_, title, body, source, url, published="2026-11-10"):
    return {"id": id_, "title": title, "body": body, "source": source, "url": url,
            "published": published}  # fmt: skip


def ingest_records(tmp_path, settings, name, records):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    return ingest([str(path)], settings)


def test_a_wire_copy_is_one_story_with_both_outlets(tmp_path, settings):
    original = record("1", "Council approves harbor seawall", WIRE, "Wire Service",
                      "https://wire.example/seawall")  # fmt: skip
    first = ingest_records(tmp_path, settings, "wire.jsonl", [original])
    assert first.added == 1
    copy = record(
        "2", "Seawall gets the green light", "HARBOR CITY (Wire) - " + WIRE.replace("Tuesday",
        "Tuesday evening") + " Copyright 2026 Harbor Times. All rights reserved.",
        "Harbor Times", "https://harbortimes.example/news/seawall",
    )  # fmt: skip
    other = record("3", "Harbor residents question seawall", SAME_TOPIC, "Harbor Times",
                   "https://harbortimes.example/news/meeting")  # fmt: skip
    second = ingest_records(tmp_path, settings, "times.jsonl", [copy, other])
    assert (second.added, second.merged) == (1, 1)  # the other story on the topic is its own
    with rag.open_library(settings) as library:
        assert sorted(a.title for a in library.articles()) == [
            "Council approves harbor seawall", "Harbor residents question seawall"]  # fmt: skip
        assert "Harbor Times" in library.sources() and "Wire Service" in library.sources()
        generation = library.generation

    engine = rag.open_engine(settings=settings)
    answer = engine.ask("Who voted against the harbor seawall?")
    assert "Maria Chen" in answer.text
    cited = answer.citations[0]
    assert cited.source == "Wire Service"
    assert [o.source for o in cited.outlets] == ["Harbor Times"]
    assert cited.outlets[0].url == "https://harbortimes.example/news/seawall"
    # Filtered to the outlet that carried the copy: the story is found there too.
    only_times = engine.ask("Who voted against the harbor seawall?", sources=["Harbor Times"])
    assert "Maria Chen" in only_times.text
    # Another process reads the keyword index and catalogue saved by the ingest: the outlets
    # must be in what was saved, not only in this process's memory.
    other_process = subprocess.run(
        [*NEWSRAG, "--data-dir", str(settings.data_dir), "ask", "--json",
         "--source", "Harbor Times", "Who voted against the harbor seawall?"],
        capture_output=True, text=True, env=subprocess_env(), timeout=300,
    )  # fmt: skip
    assert "Maria Chen" in json.loads(other_process.stdout)["text"], other_process.stderr

    again = ingest_records(tmp_path, settings, "times.jsonl", [copy, other])
    assert (again.merged, again.unchanged) == (0, 2)  # seen before: nothing changes
    with rag.open_library(settings) as library:
        assert library.generation == generation

    developing = dict(
        original,
        body=WIRE.replace("6 to 1", "7 to 0").replace(
            "Councillor Maria Chen, who cast the only vote against it, said", "Critics said"
        ),
    )
    update = ingest_records(tmp_path, settings, "wire.jsonl", [developing])
    assert update.updated == 1  # the same URL: the newer text replaces the older
    with rag.open_library(settings) as library:
        story = library.resolve("https://wire.example/seawall")
        assert "7 to 0" in story.body
        assert [o.source for o in library.outlets([story.id])[story.id]] == ["Harbor Times"]
        assert library.resolve("https://harbortimes.example/news/seawall").id == story.id
        rag.delete_articles(library, [story.id])
        assert library.outlets([story.id]) == {}
        assert library.sources() == ["Harbor Times"]


def test_merging_can_be_turned_off(tmp_path):
    settings = rag.load_settings(data_dir=tmp_path / "lib", merge_copies=False)
    records = [
        record("1", "Council approves harbor seawall", WIRE, "Wire", "https://w.example/1"),
        record("2", "Seawall approved", WIRE + " More to follow.", "Times", "https://t.example/2"),
    ]
    assert ingest_records(tmp_path, settings, "both.jsonl", records).added == 2


def test_the_detector_on_a_labelled_set_built_from_the_train_corpus():
    """Syndicated copies with realistic edits are found; real different stories (follow-ups
    that reuse paragraphs included) are not merged (benchmarks/dedupe.py, at the shipped
    threshold; the full table is in docs/feeds.md)."""
    import random

    from benchmarks.dedupe import CORPORA, SEED, load
    from benchmarks.dedupe import measure as measure_detector
    from ingest.dedupe import COPY_THRESHOLD
    from tests.support import shared_file

    shared_file("realtimeqa-train", "corpus.jsonl")  # skips without ../shared
    result = measure_detector(load(CORPORA["train"]), 150, random.Random(SEED), [COPY_THRESHOLD])
    shipped = result["by_threshold"][COPY_THRESHOLD]
    assert shipped["recall"] >= 0.88, shipped
    assert shipped["false_merges"] <= 3, shipped  # of 1,800 real articles
