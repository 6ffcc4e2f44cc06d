"""newsrag core: settings, models, the library store, retrieval and answering.

import rag
engine = rag.open_engine()            # or open_engine("path/to/library", top_k=8)
answer = engine.ask("Who heads the U.N. nuclear watchdog?")
library = rag.open_library()          # list, show, delete, stats (what the CLI and UI use)

The names below are the public API: ``ingest/``, ``ui/``, ``eval/`` and the command line use
only these (a test enforces it). See docs/architecture.md.
"""

import importlib

from rag import offline as _offline  # noqa: F401  (must run before HF/chroma imports)
from rag.errors import NewsragError
from rag.settings import Settings, load_settings

# Public names that live in heavier modules, imported on first use: `import rag` stays cheap
# for the command line (the engine alone pulls in LlamaIndex and torch).
_LAZY = {
    "Answer": "rag.types",
    "Article": "rag.types",
    "Citation": "rag.types",
    "Passage": "rag.types",
    "SearchScope": "rag.types",
    "AskOptions": "rag.types",
    "Retrieved": "rag.types",
    "NewsQueryEngine": "rag.engine",
    "REFUSAL": "rag.compose",
    "QueryError": "rag.plan",
    "QuestionInputs": "rag.plan",
    "read_question": "rag.plan",
    "Library": "rag.store",
    "LibraryError": "rag.store",
    "DamagedLibrary": "rag.store",
    "ReadOnlyLibrary": "rag.store",
    "Story": "rag.digest",
    "most_covered": "rag.digest",
    "period_start": "rag.digest",
    "DigestError": "rag.digest",
    "Subscription": "rag.subscriptions",
    "SubscriptionError": "rag.subscriptions",
    "RepairReport": "rag.repair",
    "repair_library": "rag.repair",
    "SUPPORT_THRESHOLD": "rag.cite",
    "citation_supports": "rag.cite",
    "split_statements": "rag.cite",
    "sentence_spans": "rag.text",
    "first_sentence": "rag.text",
    # The answer reader, for training it (eval/train_reader.py)
    "AnswerContext": "rag.answer.base",
    "Logistic": "rag.answer.reader",
    "ReaderModel": "rag.answer.reader",
    "ReaderError": "rag.answer.reader",
    "SENTENCE_FEATURES": "rag.answer.reader",
    "SPAN_FEATURES": "rag.answer.reader",
    "SHIPPED_MODEL": "rag.answer.reader",
    "reader_candidates": "rag.answer.reader",
    "read_candidates": "rag.answer.reader",
    "CrossEncoder": "rag.answer.cross_encoder",
    "CrossEncoderError": "rag.answer.cross_encoder",
    "CROSS_ENCODER_TOKENS": "rag.answer.cross_encoder",
    "cross_encoder_base": "rag.answer.cross_encoder",
    "cross_encoder_info": "rag.answer.cross_encoder",
    "cross_encoder_trains": "rag.answer.cross_encoder",
    "LoraShape": "rag.answer.cross_encoder",
    "LORA_ALPHA": "rag.answer.cross_encoder",
    "LORA_MATRICES": "rag.answer.cross_encoder",
    "LORA_RANK": "rag.answer.cross_encoder",
    "LORA_TARGETS": "rag.answer.cross_encoder",
    "TRAINED_WHOLE": "rag.answer.cross_encoder",
    "encode_pairs": "rag.answer.cross_encoder",
    "save_cross_encoder": "rag.answer.cross_encoder",
    "reader_passage": "rag.answer.cross_encoder",
    "reader_question": "rag.answer.cross_encoder",
    "passage_sentence": "rag.answer.cross_encoder",
    "passage_pieces": "rag.answer.cross_encoder",
    "span_pieces": "rag.answer.cross_encoder",
    "Reading": "rag.answer.cross_encoder",
    "SPAN_HEAD": "rag.answer.cross_encoder",
    "SPAN_HEAD_TERMS": "rag.answer.cross_encoder",
    "named_entities": "rag.answer.entities",
    "mentions": "rag.answer.entities",
    "inference_precision": "rag.models",
    "suggested_questions": "rag.suggest",
    "embedding_model": "rag.models",
    "tokenize_terms": "rag.lexicon",
    "LOGISTIC_MODEL": "rag.answer.reader",
    "READING_FEATURES": "rag.answer.reader",
    "SPAN_READING_FEATURES": "rag.answer.reader",
    "sentence_features": "rag.answer.reader",
    "CONFIDENCE_FEATURES": "rag.answer.reader",
    "CONFIDENCE_READING_FEATURES": "rag.answer.reader",
    "confidence_features": "rag.answer.reader",
    "span_candidates": "rag.answer.reader",
    "question_spans": "rag.answer.reader",
}


def lazy_exports(package: str, names: dict[str, str]):
    """A package's ``__getattr__`` that imports each public name's module on first use."""

    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


__getattr__ = lazy_exports("rag", _LAZY)


def open_engine(data_dir=None, *, settings=None, **overrides):
    """A ``NewsQueryEngine`` over the library (see ``rag.engine.open_engine``)."""
    return importlib.import_module("rag.engine").open_engine(
        data_dir, settings=settings, **overrides
    )


def open_library(settings=None, *, create=False):
    """The library of ``settings`` (default: ``load_settings()``); ``create`` makes a new one."""
    return importlib.import_module("rag.store").Library(settings or load_settings(), create=create)


def delete_articles(library, article_ids):
    """Remove articles and their vectors (the search indexes follow). Returns the removed ids."""
    with library.writing():
        return library.delete(article_ids)


def available_answerers(settings=None):
    """["extractive"] plus "llm" when an LLM is configured (checked without loading it)."""
    answer = importlib.import_module("rag.answer")
    return answer.available_answerers(settings or load_settings())


def answerer_label(name, settings=None):
    """How the chat window names answerer ``name`` ("LLM: SmolLM2-135M-Instruct-Q8_0")."""
    answer = importlib.import_module("rag.answer")
    return answer.answerer_label(name, settings or load_settings())


__all__ = [
    "NewsragError",
    "Settings",
    "answerer_label",
    "available_answerers",
    "delete_articles",
    "lazy_exports",
    "load_settings",
    "open_engine",
    "open_library",
    *_LAZY,
]
