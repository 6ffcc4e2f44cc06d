"""Score newsrag against gold answers. Uses only the public APIs of ``rag`` and ``ingest``.

from eval import run_eval
report = run_eval("eval/gold/sample.jsonl", configs=["baseline", "default"], out="eval-out")
"""

from pathlib import Path

from rag import lazy_exports

# The gold questions about the sample library (``ingest.SAMPLE_LIBRARY``).
SAMPLE_QUESTIONS = Path(__file__).parent / "gold" / "sample.jsonl"

# Each public name and its module, imported on first use (the runner loads the engine).
_PUBLIC = {
    "Config": "eval.runner",
    "Report": "eval.runner",
    "run_eval": "eval.runner",
    "EvalError": "eval.errors",
    "HEADLINE": "eval.report",
    "summary_rows": "eval.report",
}


__getattr__ = lazy_exports("eval", _PUBLIC)


__all__ = ["SAMPLE_QUESTIONS", *_PUBLIC]
