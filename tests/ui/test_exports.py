"""Conversation exports: one folder per app, pruned as it goes, removed at close."""

from __future__ import annotations

import os
import time

from ui.exports import FILE_NAME, KEPT_SECONDS, Exports


def test_each_export_has_its_own_file_under_one_plain_name():
    exports = Exports()
    first, second = exports.write("## Q1\n"), exports.write("## Q1\n\n## Q2\n")
    assert first.name == second.name == FILE_NAME  # what the browser saves it as
    assert first != second and first.read_text(encoding="utf-8") == "## Q1\n"
    assert exports.write("## Q1\n") == first  # the same conversation: the same file
    assert {first.parent.parent, second.parent.parent} == {exports.folder}
    exports.close()


def test_old_exports_are_pruned_and_close_removes_the_folder():
    exports = Exports()
    old = exports.write("an hour ago")
    aged = time.time() - KEPT_SECONDS - 5
    os.utime(old.parent, (aged, aged))
    fresh = exports.write("just now")
    assert not old.exists() and fresh.exists()
    folder = exports.folder
    exports.close()
    assert not folder.exists()
