"""Article text is data, never instructions.

Sentences that address an AI system ("ignore previous instructions", "you are now a ...",
"system prompt") are blanked out of retrieved passages before any answerer sees them. They are
replaced by spaces of the same length, so every other quote keeps its offsets.
"""

from __future__ import annotations

import re

from rag.text import sentence_spans
from rag.types import Passage

INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,60}\b(instructions?|prompts?|rules|"
    r"directions|everything above|the above|previous|prior)\b"
    r"|\byou\s+are\s+(now\s+)?(an?\s+|the\s+)?(ai|assistant|chatbot|language\s+model|llm)\b"
    r"|\b(system|developer)\s+prompt\b"
    r"|\b(as\s+an?\s+)?(ai|assistant|chatbot|language\s+model)\b[^.!?\n]{0,40}\b(must|should)\s+(answer|reply|say|respond)\b"
    r"|\b(answer|reply|respond)\s+(only\s+)?with\b[^.!?\n]{0,40}\b(regardless|no matter)\b",
    re.IGNORECASE,
)


def neutralize(passage: Passage) -> Passage:
    text = passage.text
    blanked = text
    for start, end in sentence_spans(text):
        if INSTRUCTION.search(text[start:end]):
            blanked = blanked[:start] + " " * (end - start) + blanked[end:]
    return passage if blanked == text else passage.model_copy(update={"text": blanked})
