"""Score newsrag against gold answers. Uses only the public APIs of ``rag`` and ``ingest``.

from eval import run_eval
report = run_eval("eval/gold/sample.jsonl", configs=["baseline", "default"], out="eval-out")
"""

from eval.runner import Config, EvalError, Report, run_eval

__all__ = ["Config", "EvalError", "Report", "run_eval"]
