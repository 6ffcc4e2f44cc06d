"""The app's named endpoints, called with gradio_client against the launched app."""

from __future__ import annotations

import threading

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.support import assert_leads_with
from tests.support.questions import SEED_QUESTIONS
from tests.support.servers import free_port

pytestmark = pytest.mark.slow
SEED_TITLE = "According to the Supreme Leader"


def check_seed_answer(answer: dict, expected: str) -> None:
    assert not answer["refused"], answer["debug"]
    first = answer["citations"][0]
    assert first["title"].startswith(SEED_TITLE)
    assert expected in first["quote"]
    assert "[1]" in answer["text"]


@pytest.mark.parametrize(("question", "expected"), SEED_QUESTIONS)
def test_ask_answers_the_seed_questions_with_citations(client, question, expected):
    check_seed_answer(client.predict(question, api_name="/ask"), expected)


def test_ask_refuses_what_the_library_does_not_say(client):
    answer = client.predict("What is the capital of Australia?", api_name="/ask")
    assert answer["refused"] and answer["citations"] == []
    assert answer["closest"] == []  # no article shares its key terms
    assert answer["searched"]["published_to"] and answer["searched"]["sources"] == []
    near = client.predict("What is the mayor's favourite food?", api_name="/ask")
    assert near["refused"] and [p["title"] for p in near["closest"]] == [
        "Harbour bridge reopens after two-year repair"
    ]


def test_ask_takes_filters(client):
    answer = client.predict(
        "Who cut the ribbon?", "2024-06-01", ["Millbrook Courier"], "2024-01-01", "", "",
        api_name="/ask",
    )  # fmt: skip
    assert_leads_with(answer, "Tom Becker")
    assert answer["citations"][0]["source"] == "Millbrook Courier"
    early = client.predict("Who cut the ribbon?", "2024-03-01", api_name="/ask")
    assert early["refused"]  # the bridge story appeared on 2024-03-05: not yet published


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("   ",), "question is empty"),
        (("Who?", "", ["Daily Planet"]), "unknown source 'Daily Planet'"),
        (("Who?", "next tuesday"), "as_of: 'next tuesday' is not a date"),
        (("Who?", "", None, "2024-05-01", "2024-01-01"), "since (2024-05-01) is after until"),
        (("Who?", "", None, "", "", "oracle"), "unknown answerer 'oracle'"),
    ],
)
def test_ask_explains_bad_input(client, args, message):
    with pytest.raises(AppError, match=message.replace("(", r"\(").replace(")", r"\)")):
        client.predict(*args, api_name="/ask")


def test_ingest_takes_files_and_urls_and_reports_each_failure(client, tmp_path, web):
    story = tmp_path / "orchard.txt"
    story.write_text(
        "Orchard co-op opens a cider press\n\n"
        "The Millbrook orchard co-op opened a cider press on Friday, its manager Ruth Adair said.\n"
    )
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ")
    web.routes["/market.html"] = (
        200,
        "text/html",
        b"<html><head><title>Night market returns</title></head><body><article><h1>Night market"
        b" returns</h1><p>The Millbrook night market returned on Saturday with 80 stalls, "
        b"organiser Kofi Mensah said.</p><p>It will run every weekend until October.</p>"
        b"</article></body></html>",
    )
    urls = f"{web.url}/market.html\n{web.url}/missing.html\n/etc/passwd"
    result = client.predict(
        [handle_file(str(story)), handle_file(str(bad))], urls, api_name="/ingest"
    )
    assert result["added"] == 2
    assert result["failed"] == 3
    errors = "\n".join(result["errors"])
    assert "notes.exe: unsupported file type '.exe'" in errors
    assert f"{web.url}/missing.html" in errors and "404" in errors
    assert "/etc/passwd: not an http(s) URL" in errors

    answer = client.predict("Who manages the orchard co-op?", api_name="/ask")
    assert_leads_with(answer, "Ruth Adair")
    assert answer["citations"][0]["title"] == "Orchard co-op opens a cider press"
    again = client.predict([handle_file(str(story))], "", api_name="/ingest")
    assert (again["added"], again["unchanged"]) == (0, 1)  # same file again: nothing new


def test_two_users_uploading_story_txt_get_two_articles(client, tmp_path):
    """Used to be "updated 1": the second story.txt replaced the first (issue #12)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    bakery, fire = tmp_path / "a" / "story.txt", tmp_path / "b" / "story.txt"
    bakery.write_text("Corner bakery reopens\n\nThe corner bakery on Quill Lane reopened on "
                      "Monday under its new owner, Greta Lindqvist.\n")  # fmt: skip
    fire.write_text("Warehouse fire on Dock Road\n\nA fire destroyed a warehouse on Dock Road "
                    "overnight; fire chief Omar Haddad said no one was hurt.\n")  # fmt: skip
    first = client.predict([handle_file(str(bakery))], "", api_name="/ingest")
    second = client.predict([handle_file(str(fire))], "", api_name="/ingest")
    assert (first["added"], second["added"], second["updated"]) == (1, 1, 0)
    assert (first["titles"], second["titles"]) == (["Corner bakery reopens"],
                                                   ["Warehouse fire on Dock Road"])  # fmt: skip
    assert_leads_with(
        client.predict("Who owns the corner bakery?", api_name="/ask"), "Greta Lindqvist"
    )
    assert_leads_with(client.predict("Who is the fire chief?", api_name="/ask"), "Omar Haddad")


def test_upload_errors_name_the_uploaded_file_not_a_server_path(client, tmp_path, ui_settings):
    empty = tmp_path / "notes.md"
    empty.write_text("")
    result = client.predict([handle_file(str(empty))], "", api_name="/ingest")
    assert result["errors"] == ["notes.md: empty file"]
    assert str(ui_settings.data_dir) not in " ".join(result["errors"])
    # A refused upload is not kept (#26 finding 17): nothing in uploads/ is named notes-*.
    assert not list((ui_settings.data_dir / "uploads").glob("notes-*"))


def test_uploads_over_the_size_limit_are_refused(client, tmp_path, ui_settings):
    big = tmp_path / "big.txt"
    big.write_text("Big story\n\n" + "word " * int(ui_settings.max_file_mb * 1024 * 1024 / 4))
    with pytest.raises(Exception, match=r"(?i)too large|exceeds|size"):
        client.predict([handle_file(str(big))], "", api_name="/ingest")


def test_eight_users_asking_five_questions_each_all_get_cited_answers(ui_url):
    """Queueing on: 40 overlapping requests, every one answered correctly and cited."""
    questions = [*SEED_QUESTIONS, ("What is the capital of Australia?", None)]
    failures: list[str] = []

    def user(number: int) -> None:
        client = Client(ui_url, verbose=False)
        for offset in range(len(questions)):
            question, expected = questions[(number + offset) % len(questions)]
            try:
                answer = client.predict(question, api_name="/ask")
                if expected is None:
                    assert answer["refused"], f"{question!r} was answered"
                else:
                    check_seed_answer(answer, expected)
            except Exception as error:  # collected: a thread can't fail the test directly
                failures.append(f"user {number}, {question!r}: {error!r}")

    threads = [threading.Thread(target=user, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []


def test_auth_is_required_when_configured(ui_settings):
    from ui import launch

    app, url = launch(
        ui_settings, port=free_port(), credentials=[("ann", "s3cret")], block=False, quiet=True
    )
    try:
        with pytest.raises(Exception):  # noqa: B017  (the client's error type varies by version)
            Client(url, verbose=False).predict(
                "Who heads the U.N. nuclear watchdog?", api_name="/ask"
            )
        signed_in = Client(url, auth=("ann", "s3cret"), verbose=False)
        check_seed_answer(
            signed_in.predict("Who heads the U.N. nuclear watchdog?", api_name="/ask"),
            "Rafael Grossi",
        )
    finally:
        app.close()
