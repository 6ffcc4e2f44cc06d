from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.settings import BUNDLED_EMBED_MODEL, Settings, load_settings


def test_precedence_flags_over_env_over_toml_over_defaults(tmp_path, monkeypatch):
    config = tmp_path / "newsrag.toml"
    config.write_text('collection = "from_toml"\ntop_k = 9\nchunk_tokens = 200\n')
    monkeypatch.setenv("NEWSRAG_CONFIG", str(config))
    monkeypatch.setenv("NEWSRAG_TOP_K", "7")
    monkeypatch.setenv("NEWSRAG_COLLECTION", "from_env")
    settings = load_settings(collection="from_flag", data_dir=None)
    assert settings.collection == "from_flag"  # flag beats env
    assert settings.top_k == 7  # env beats toml
    assert settings.chunk_tokens == 200  # toml beats default
    assert settings.embed_model == BUNDLED_EMBED_MODEL  # default


def test_default_data_dir_is_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("NEWSRAG_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no newsrag.toml here
    assert Settings().data_dir == tmp_path / "newsrag"
    assert Settings().docstore_path == tmp_path / "newsrag" / "library.sqlite"


def test_data_dir_expands_user():
    assert load_settings(data_dir="~/x").data_dir == Path.home() / "x"


def test_bad_values_are_rejected_with_the_field_name():
    with pytest.raises(ValidationError, match="chunk_tokens"):
        load_settings(chunk_tokens=5)
    with pytest.raises(ValidationError, match="no_such_setting"):
        load_settings(no_such_setting=1)
