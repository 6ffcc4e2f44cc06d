"""Eval's one error: bad eval input (a config, a corpus, a question file, an output folder)."""

from rag import NewsragError


class EvalError(NewsragError, ValueError):
    """Bad eval input; the message names it (file and line where there is one)."""
