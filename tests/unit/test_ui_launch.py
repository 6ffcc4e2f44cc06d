"""Uploads can't escape their folder; binding beyond localhost needs auth."""

from __future__ import annotations

import hashlib

import pytest

from ui.server import LaunchError, check_bind, is_local, read_auth
from ui.uploads import UploadError, collect, safe_name, store_upload


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("story.txt", "story.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.MD", "win.ini.md"),
        (".hidden.html", "hidden.html"),
        ("..", "upload"),
        ("a b<>|:*?.jsonl", "a b_.jsonl"),
        ("x" * 300 + ".rss", "x" * 100 + ".rss"),
    ],
)
def test_safe_name_is_a_plain_name(name, safe):
    assert safe_name(name) == safe


def test_store_upload_copies_into_the_folder_only(tmp_path):
    source = tmp_path / "in" / "story.txt"
    source.parent.mkdir()
    source.write_text("Title\n\nBody.")
    folder = tmp_path / "uploads"
    stored = store_upload(source, "../../../escape.txt", folder, max_mb=1)
    digest = hashlib.sha256(b"Title\n\nBody.").hexdigest()[:12]
    assert stored == (folder / f"escape-{digest}.txt").resolve()
    assert stored.read_text() == "Title\n\nBody."
    assert not list(tmp_path.glob("escape*"))
    assert [p.name for p in folder.iterdir()] == [stored.name]  # no partial copy left


def test_uploads_with_one_name_are_kept_apart_by_content(tmp_path):
    """Two people's story.txt are two files; the same file twice is one."""
    bakery, fire = tmp_path / "a.txt", tmp_path / "b.txt"
    bakery.write_text("Bakery opens\n\nA bakery opened.")
    fire.write_text("Fire on Main St\n\nA fire broke out.")
    folder = tmp_path / "uploads"
    first = store_upload(bakery, "story.txt", folder, max_mb=1)
    second = store_upload(fire, "story.txt", folder, max_mb=1)
    assert first != second and first.read_text().startswith("Bakery")
    assert store_upload(bakery, "story.txt", folder, max_mb=1) == first
    assert len(list(folder.iterdir())) == 2


def test_store_upload_refuses_unknown_types_and_big_files(tmp_path):
    source = tmp_path / "tool.exe"
    source.write_bytes(b"MZ")
    with pytest.raises(UploadError, match=r"tool.exe: unsupported file type '.exe'"):
        store_upload(source, "tool.exe", tmp_path / "uploads", max_mb=1)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 200_000)
    with pytest.raises(UploadError, match=r"big.txt: 0.2 MB is over the 0.1 MB limit"):
        store_upload(big, "big.txt", tmp_path / "uploads", max_mb=0.1)


def test_pasted_lines_must_be_web_urls(tmp_path):
    batch = collect(None, "https://a.example/x\n\n /etc/passwd \nfile:///etc/passwd\n", tmp_path, 1)
    assert batch.inputs == ["https://a.example/x"]
    assert batch.problems == [
        "/etc/passwd: not an http(s) URL",
        "file:///etc/passwd: not an http(s) URL",
    ]


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_is_local(host, local):
    assert is_local(host) is local


def test_a_public_bind_needs_auth_or_the_explicit_opt_out():
    with pytest.raises(LaunchError, match=r"--host 0\.0\.0\.0 makes the library reachable"):
        check_bind("0.0.0.0", [], insecure_no_auth=False)
    check_bind("0.0.0.0", [("ann", "pw")], insecure_no_auth=False)
    check_bind("0.0.0.0", [], insecure_no_auth=True)
    check_bind("127.0.0.1", [], insecure_no_auth=False)


def test_read_auth_from_flag_and_file(tmp_path):
    assert read_auth("ann:s3:cret", None) == [("ann", "s3:cret")]
    users = tmp_path / "users"
    users.write_text("# team\nann:one\n\nbob:two\n")
    assert read_auth(None, users) == [("ann", "one"), ("bob", "two")]
    with pytest.raises(LaunchError, match=r"--auth: expected USER:PASS"):
        read_auth("nopassword", None)
    users.write_text("ann:one\nbroken\n")
    with pytest.raises(LaunchError, match=r"users:2: expected USER:PASS"):
        read_auth(None, users)
    users.write_text("# nothing\n")
    with pytest.raises(LaunchError, match="no USER:PASS lines"):
        read_auth(None, users)
    with pytest.raises(LaunchError, match=r"--auth-file .*missing"):
        read_auth(None, tmp_path / "missing")
