"""A launched app over a real library (sample + team articles + a hostile article), a gradio
client, and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from tests.support import ARTIFACTS, SAMPLE, articles
from tests.support.servers import free_port

# An article written to attack the page: every payload sits in text the UI shows.
HOSTILE = textwrap.dedent(
    """\
    ---
    title: "Ferry <script>window.__pwned=1</script> timetable <img src=x onerror=window.__pwned=1>"
    source: Harbor <b>Gazette</b>
    date: 2024-05-02
    ---
    The Millbrook ferry will run again from Monday, the harbour office said.
    The ferry captain is Marta Quill <img src=x onerror="window.__pwned=1"> according to [the notice](javascript:window.__pwned=1) and <script>window.__pwned=1</script> the office.
    Tickets cost $5 for adults and $2 for children.
    """
)
UPLOAD_LIMIT_MB = 0.25


@pytest.fixture(scope="session")
def ui_settings(tmp_path_factory):
    from ingest import ingest
    from rag import load_settings

    root = tmp_path_factory.mktemp("ui")
    folder = root / "articles"
    shutil.copytree(SAMPLE, folder)
    articles.write_all(folder)
    (folder / "ferry.txt").write_text(HOSTILE, encoding="utf-8")
    # The window's plumbing is tested with the hand-set scorer, whose answers on this
    # 5-article toy library are known. The trained reader is tested in tests/integration and
    # measured in benchmarks/quality.py; on this library it answers "Who cut the ribbon?"
    # from the newest article (its probabilities are learned from quiz questions about one
    # week's news: docs/reader.md, limits).
    settings = load_settings(
        data_dir=root / "library", max_file_mb=UPLOAD_LIMIT_MB, extractive_scorer="weights"
    )
    summary = ingest([str(folder)], settings)
    assert summary.added == 5 and summary.ok, summary.errors
    return settings


@pytest.fixture(scope="session")
def ui_url(ui_settings):
    """The app, launched in this process on a free loopback port (as `newsrag ui` does)."""
    from ui import launch

    app, url = launch(ui_settings, port=free_port(), block=False, quiet=True)
    yield url
    app.close()


@pytest.fixture
def client(ui_url):
    from gradio_client import Client

    return Client(ui_url, verbose=False)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium, driven by Playwright; never a downloaded browser."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no `chromium` on PATH (apt-get install -y chromium); the README test "
                    "command installs it when run as root")  # fmt: skip
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
