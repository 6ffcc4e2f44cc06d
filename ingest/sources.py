"""Turn what the user named (files, folders, URLs) into documents to load."""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES, Document, InputError

# The bundled sample library of a checkout (the chat window's first-start seed, the sample gold
# set's corpus); an installed wheel has none.
SAMPLE_LIBRARY = Path(__file__).resolve().parents[1] / "data" / "sample"


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Input:
    """A single file or URL to load. ``root`` is the folder it was found under, if any."""

    name: str
    root: Path | None = None
    problem: str | None = None  # found unusable while listing a folder: reported, not read


def _matches(relative: str, patterns: Sequence[str]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(name, p) for p in patterns)


def expand(
    inputs: Sequence[str | os.PathLike[str]],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Iterator[Input]:
    """Files as named; folders recursively (hidden entries skipped), filtered by globs.

    Without ``include``, a folder yields the files of supported types; a file named directly is
    always tried, so an unsupported one gets a clear message instead of silence.
    """
    for given in inputs:
        name = os.fspath(given)
        if is_url(name):
            yield Input(name)
            continue
        path = Path(name).expanduser()
        if not path.is_dir():
            yield Input(str(path))
            continue
        for file, problem in _folder_entries(path):
            relative = file.relative_to(path).as_posix()
            if any(part.startswith(".") for part in relative.split("/")):
                continue
            if include:
                if not _matches(relative, include):
                    continue
            elif file.suffix.lower() not in SUPPORTED_SUFFIXES and not _is_folder_problem(problem):
                continue  # not named like an article: skipped, readable or not
            if exclude and _matches(relative, exclude):
                continue
            yield Input(str(file), root=path, problem=problem)


def _folder_entries(folder: Path) -> list[tuple[Path, str | None]]:
    """Every file under ``folder`` (symlinked folders not followed, as ``rglob``), in path
    order, each with the reason it can't be read, if any: a subfolder that can't be listed, a
    symlink loop, a link to nothing or out of the folder, a FIFO or device. Each gets its own
    message instead of being skipped in silence."""
    entries: list[tuple[Path, str | None]] = []

    def unlistable(error: OSError) -> None:
        reason = error.strerror or str(error)
        entries.append((Path(error.filename), f"{UNLISTABLE} ({reason})"))

    inside = folder.resolve()
    for directory, _, names in os.walk(folder, onerror=unlistable):
        for name in names:
            file = Path(directory) / name
            if file.is_file():
                entries.append((file, _outside(file, inside)))
            elif file.is_symlink():
                entries.append((file, _broken_link(file)))
            else:
                entries.append((file, "not a regular file"))
    return sorted(entries)


UNLISTABLE = "cannot read folder"


def _is_folder_problem(problem: str | None) -> bool:
    return bool(problem) and problem.startswith(UNLISTABLE)


def _outside(file: Path, inside: Path) -> str | None:
    """Why a symlink to a file outside the folder given is not read (``loop/passwd.txt ->
    /etc/passwd`` must not become an article); None for any other file."""
    if not file.is_symlink():
        return None
    target = file.resolve()
    if target.is_relative_to(inside):
        return None
    return f"symlink to {str(target)!r}, outside the folder: not followed"


def _broken_link(link: Path) -> str:
    try:
        link.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop this way
        return "cannot read (symlink loop)"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "cannot read (symlink loop)"
        return f"cannot read (symlink to {os.readlink(link)!r}: {error.strerror})"
    return "not a regular file"


def read_file(name: str, max_bytes: int) -> Document:
    path = Path(name)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError("not a regular file")
        if size > max_bytes:
            raise InputError(f"file is {size} bytes, over the {max_bytes}-byte limit")
        if size == 0:
            raise InputError("empty file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file or folder") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except IsADirectoryError:
        raise InputError("is a directory") from None
    except OSError as error:
        raise InputError(f"cannot read ({error.strerror})") from None
    # abspath, not resolve(): --sync compares these prefixes, and resolve() dies on loops.
    return Document(location=name, data=data, origin=os.path.abspath(path))
