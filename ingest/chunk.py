"""Sentence-aware chunks that fit the embedding model.

Every chunk, *including* its header (title and date, embedded but never shown), fits in
``chunk_tokens`` word pieces, so the model never silently truncates. Neighbouring chunks share
up to ``chunk_overlap_tokens`` of whole trailing sentences. Offsets point into the article body,
so later stages can highlight the exact sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import Tokenizer

from rag.store import chunk_ids
from rag.text import sentence_spans
from rag.types import Article, Chunk

SPECIAL_TOKENS = 2  # [CLS] and [SEP]
MIN_BODY_TOKENS = 64  # a header may never squeeze the body below this


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int


def chunk_header(article: Article) -> str:
    date = article.published_date.isoformat() if article.published_date else "date unknown"
    return f"{article.title} ({date})"


class Chunker:
    def __init__(self, tokenizer: Tokenizer, chunk_tokens: int = 256, overlap_tokens: int = 40):
        self.tokenizer = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def _header(self, article: Article) -> tuple[str, int]:
        header = chunk_header(article)
        limit = self.chunk_tokens - SPECIAL_TOKENS - MIN_BODY_TOKENS
        encoding = self.tokenizer.encode(header, add_special_tokens=False)
        if len(encoding.ids) > limit:  # absurdly long title: cut it on a word-piece boundary
            header = header[: encoding.offsets[limit - 1][1]]
            encoding = self.tokenizer.encode(header, add_special_tokens=False)
        return header, len(encoding.ids)

    def _pieces(self, body: str, budget: int) -> list[_Piece]:
        """Sentences with token counts; a sentence longer than the budget is cut into windows."""
        spans = sentence_spans(body)
        encodings = self.tokenizer.encode_batch(
            [body[start:end] for start, end in spans], add_special_tokens=False
        )
        pieces: list[_Piece] = []
        for (start, end), encoding in zip(spans, encodings, strict=True):
            if len(encoding.ids) <= budget:
                pieces.append(_Piece(start, end, len(encoding.ids)))
                continue
            offsets = encoding.offsets
            for first in range(0, len(offsets), budget):
                window = offsets[first : first + budget]
                pieces.append(_Piece(start + window[0][0], start + window[-1][1], len(window)))
        return pieces

    def split(self, article: Article) -> list[Chunk]:
        header, header_tokens = self._header(article)
        # +1 for the newline joining header and text (WordPiece drops it, but be safe).
        budget = self.chunk_tokens - SPECIAL_TOKENS - header_tokens - 1
        pieces = self._pieces(article.body, budget)
        groups: list[list[_Piece]] = []
        current: list[_Piece] = []
        for piece in pieces:
            if current and sum(p.tokens for p in current) + piece.tokens > budget:
                groups.append(current)
                current = self._overlap(current, budget - piece.tokens)
            current.append(piece)
        if current:
            groups.append(current)

        ids = chunk_ids(article.id, article.version, len(groups))
        chunks = []
        for index, group in enumerate(groups):
            start, end = group[0].start, group[-1].end
            text = article.body[start:end]
            chunks.append(
                Chunk(
                    id=ids[index],
                    article_id=article.id,
                    index=index,
                    start=start,
                    end=end,
                    text=text,
                    embed_text=f"{header}\n{text}",
                )
            )
        return chunks

    def _overlap(self, previous: list[_Piece], room: int) -> list[_Piece]:
        """Trailing whole sentences of the previous chunk, within the overlap and the room left."""
        kept: list[_Piece] = []
        used = 0
        for piece in reversed(previous[1:]):  # never the whole previous chunk again
            if used + piece.tokens > min(self.overlap_tokens, room):
                break
            kept.insert(0, piece)
            used += piece.tokens
        return kept
