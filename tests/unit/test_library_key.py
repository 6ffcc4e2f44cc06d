"""Eval's cached libraries are named by the corpus's bytes and the chunking settings."""

from __future__ import annotations

import os
import shutil

import pytest

import rag
from eval.errors import EvalError
from eval.runner import library_key
from tests.support import SAMPLE


def test_a_corpus_copied_afresh_keeps_its_library(tmp_path):
    # ../shared is copied anew each session: another path, another modification time.
    copy = tmp_path / "elsewhere"
    shutil.copytree(SAMPLE, copy)
    for file in copy.rglob("*"):
        os.utime(file, (1, 1))
    settings = rag.load_settings()
    assert library_key([copy], settings) == library_key([SAMPLE], settings)
    one_file = next(f for f in sorted(SAMPLE.rglob("*")) if f.is_file())
    assert library_key([copy / one_file.name], settings) == library_key([one_file], settings)


def test_other_bytes_or_other_chunking_is_another_library(tmp_path):
    settings = rag.load_settings()
    changed = tmp_path / "changed"
    shutil.copytree(SAMPLE, changed)
    one_file = next(f for f in sorted(changed.rglob("*")) if f.is_file())
    one_file.write_bytes(one_file.read_bytes() + b"\n")
    assert library_key([changed], settings) != library_key([SAMPLE], settings)
    smaller = settings.model_copy(update={"chunk_tokens": settings.chunk_tokens // 2})
    assert library_key([SAMPLE], smaller) != library_key([SAMPLE], settings)


def test_a_missing_corpus_file_is_named(tmp_path):
    with pytest.raises(EvalError, match=r"missing\.jsonl"):
        library_key([tmp_path / "missing.jsonl"], rag.load_settings())
