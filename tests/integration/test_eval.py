"""The eval suite end to end on the shipped gold set (real engine, sample library)."""

from __future__ import annotations

import json
import subprocess

import pytest

from eval import SAMPLE_QUESTIONS, EvalError, run_eval
from eval.dataset import load_questions
from tests.support import NEWSRAG, REPO, SAMPLE, subprocess_env

pytestmark = pytest.mark.slow
GOLD = SAMPLE_QUESTIONS


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    return run_eval(
        GOLD, corpus=[SAMPLE], configs=["baseline", "default"], out=root / "out",
        cache_dir=root / "cache",
    ), root  # fmt: skip


def test_sample_gold_set_report(report):
    result, root = report
    out = root / "out"
    assert {p.name for p in out.iterdir()} >= {
        "report.json", "report.md", "metrics.png", "accuracy_by_type.png",
        "refusal_tradeoff.png", "latency.png",
    }  # fmt: skip
    data = json.loads((out / "report.json").read_text())
    assert data["configs"] == ["baseline", "default"]
    ours, baseline = result.metrics["default"], result.metrics["baseline"]
    assert ours["hit@5"] == 1.0  # one article: always found
    assert ours["answer_accuracy"] >= 0.75
    assert ours["refusal_accuracy"] == 1.0 and baseline["refusal_accuracy"] == 0.0
    assert ours["citation_precision"] >= 0.9
    assert ours["first_sentence_accuracy"] <= ours["answer_accuracy"]  # a part holds no more
    given = [r for r in result.results if r.config == "default" and r.answerable and r.short_answer]
    right = sum(r.short_contains for r in given)
    assert ours["short_answer_precision"] == (right / len(given) if given else 0.0)
    assert baseline["short_answer_accuracy"] == 0.0  # the baseline never gives a short answer
    assert "(+" in (out / "report.md").read_text() or "(-" in (out / "report.md").read_text()
    assert len(result.results) == 2 * len(load_questions(GOLD))


def test_rerun_resumes_from_cached_answers(report, tmp_path):
    _, root = report
    again = run_eval(GOLD, corpus=[SAMPLE], configs=["default"], cache_dir=root / "cache")
    first = [r for r in report[0].results if r.config == "default"]
    assert [r.answer for r in again.results] == [r.answer for r in first]
    assert [r.latency_ms for r in again.results] == [r.latency_ms for r in first]  # from cache


def test_analysis_fields_never_reach_the_engine(tmp_path, monkeypatch):
    import rag.engine

    seen = []
    original = rag.engine.NewsQueryEngine.ask

    def spy(self, question, **kwargs):
        seen.append((question, sorted(kwargs)))
        return original(self, question, **kwargs)

    monkeypatch.setattr(rag.engine.NewsQueryEngine, "ask", spy)
    gold = tmp_path / "q.jsonl"
    gold.write_text(json.dumps({
        "id": "x", "question": "Who heads the U.N. nuclear watchdog?", "answer": "Rafael Grossi",
        "question_date": "2025-03-10", "mc_choices": ["Rafael Grossi", "B"],
        "quiz_evidence": "Rafael Grossi heads it", "world_answer": "Rafael Grossi",
        "gold_article_ids": ["iran-will-not-be-coerced-into-talks.txt"],
    }))  # fmt: skip
    run_eval(gold, corpus=[SAMPLE], configs=["default"], cache_dir=tmp_path / "cache")
    assert seen == [("Who heads the U.N. nuclear watchdog?", ["as_of"])]


def test_unknown_gold_article_id_names_the_line(tmp_path):
    gold = tmp_path / "q.jsonl"
    first = {"id": "a", "question": "Q?", "answer": "x", "question_date": "2025-01-01"}
    second = {**first, "id": "b", "gold_article_ids": ["art-missing"]}
    gold.write_text(json.dumps(first) + "\n" + json.dumps(second))
    with pytest.raises(EvalError, match=r"q.jsonl:2: unknown gold article id 'art-missing'"):
        run_eval(
            gold,
            corpus=[SAMPLE],
            configs=["default"],
            cache_dir=tmp_path / "cache",
            out=tmp_path / "out",
        )
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_cli_eval_bad_question_file(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "a", "question": "Q?"}\n')
    result = subprocess.run(
        [*NEWSRAG, "eval", "--questions", str(bad), "--corpus",
         str(SAMPLE), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=subprocess_env(), timeout=300, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 2
    assert "q.jsonl:1: missing field(s) answer, question_date" in result.stderr
    assert not (tmp_path / "out").exists()


def test_conversations_are_built_from_gold_questions_and_scored_by_the_cli(tmp_path):
    """`newsrag make-conversations` then `newsrag eval --conversations` (#26 finding 1): each
    follow-up against the same question asked on its own, over the sample library."""
    from eval.conversations import load_conversations

    made = tmp_path / "conversations.jsonl"
    env = subprocess_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    built = subprocess.run(
        [*NEWSRAG, "make-conversations", "--questions", str(GOLD), "--out", str(made),
         "--count", "4"],
        capture_output=True, text=True, env=env, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    conversations = load_conversations(made)
    assert [c.kind for c in conversations] == ["pronoun", "what-about"] * 2
    for conversation in conversations:  # the follow-up needs turn 1: its topic is gone
        assert conversation.follow_up.startswith("And ")
        assert conversation.standalone in {q.question for q in load_questions(GOLD)}
    scored = subprocess.run(
        [*NEWSRAG, "eval", "--conversations", str(made), "--corpus", str(SAMPLE),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=600, cwd=REPO,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    report = json.loads((tmp_path / "out" / "conversations.json").read_text())
    summary = report["default"]["summary"]
    assert summary["conversations"] == 4
    assert summary["standalone_right"] >= 0.5  # the sample set's questions are answered
    assert summary["follow_up_right"] == summary["standalone_right"]  # the rewrites resolve
    rewritten = {r["rewritten"] for r in report["default"]["results"]}
    assert "Who heads the U.N. nuclear watchdog?" in rewritten  # "And what about U.N.?"
    assert "follow-up right" in scored.stdout
