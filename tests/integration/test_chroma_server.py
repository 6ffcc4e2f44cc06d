"""Server mode: the same library against a real `chroma run` process."""

from __future__ import annotations

import pytest

from ingest import ingest
from rag.store import Library, LibraryError
from tests.support import SAMPLE
from tests.support.articles import write_all
from tests.support.servers import free_port

pytestmark = pytest.mark.slow


def test_ingest_into_chroma_server(settings, chroma_server, tmp_path):
    settings = settings.model_copy(update={"chroma_url": chroma_server, "collection": "srv_test"})
    write_all(tmp_path / "news")
    first = ingest([SAMPLE, tmp_path / "news"], settings)
    assert (first.added, first.failed) == (4, 0)
    again = ingest([SAMPLE, tmp_path / "news"], settings)
    assert (again.unchanged, again.chunks_embedded) == (4, 0)
    with Library(settings) as library:
        assert not settings.chroma_dir.exists()  # nothing embedded locally in server mode
        assert library.check() == []
        assert library.collection.count() == library.stats()["chunks"]
        victim = library.articles()[0]
        library.delete([victim.id])
        assert library.check() == []


def test_unreachable_chroma_server_is_a_clear_error(settings):
    settings = settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{free_port()}"})
    with Library(settings) as library, pytest.raises(LibraryError, match="unreachable"):
        _ = library.collection
