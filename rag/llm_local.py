"""SmolLM2 (or any GGUF) in-process through xllamacpp, as a LlamaIndex LLM.

xllamacpp is a prebuilt llama.cpp binding; its ``Server`` runs the model in this process and
answers OpenAI-style chat requests given as dicts (it also listens on a loopback port, which the
tests use as a real OpenAI-compatible server).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from pydantic import PrivateAttr


class GenerationStopped(Exception):
    """Raised in llama.cpp's token callback once nobody reads the stream any more."""


class LocalGGUF(CustomLLM):
    model_path: str
    context_window: int = 4096
    max_tokens: int = 256
    threads: int = 2
    temperature: float = 0.0
    _server: Any = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, model_path: Path, **kwargs: Any):
        super().__init__(model_path=str(model_path), **kwargs)
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = self.model_path
        params.n_ctx = self.context_window
        params.n_predict = self.max_tokens
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.warmup = False
        self._server = xllamacpp.Server(params)

    @classmethod
    def class_name(cls) -> str:
        return "NewsragLocalGGUF"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=Path(self.model_path).name,
        )

    def _request(self, messages: Sequence[ChatMessage], stream: bool, **kwargs: Any) -> dict:
        return {
            "messages": [{"role": m.role.value, "content": m.content or ""} for m in messages],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stream": stream,
        }

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        with self._lock:  # one generation at a time on one model
            result = self._server.handle_chat_completions(self._request(messages, False, **kwargs))
        if "error" in result:
            raise RuntimeError(f"local model error: {result['error']}")
        text = result["choices"][0]["message"]["content"] or ""
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=result
        )

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        pieces: queue.Queue[str | Exception | None] = queue.Queue()
        stop = threading.Event()

        def on_chunk(chunk: dict) -> None:
            if stop.is_set():  # raising from the callback is how llama.cpp's loop is stopped
                raise GenerationStopped
            for choice in chunk.get("choices", []):
                content = (choice.get("delta") or {}).get("content")
                if content:
                    pieces.put(content)

        def run() -> None:
            try:
                with self._lock:
                    self._server.handle_chat_completions(
                        self._request(messages, True, **kwargs), on_chunk
                    )
            except GenerationStopped:
                pass
            except Exception as error:  # surfaced in the consumer's thread
                pieces.put(error)
            finally:
                pieces.put(None)

        threading.Thread(target=run, daemon=True).start()

        def generate() -> ChatResponseGen:
            text = ""
            try:
                while (piece := pieces.get()) is not None:
                    if isinstance(piece, Exception):
                        raise piece
                    text += piece
                    yield ChatResponse(
                        message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=piece
                    )
            finally:  # the reader stopped (or finished): the model stops at its next token
                stop.set()

        return generate()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        response = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return CompletionResponse(text=response.message.content or "")

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        for chunk in self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)]):
            yield CompletionResponse(text=chunk.message.content or "", delta=chunk.delta)
