"""Uploaded files and pasted URLs -> inputs for ``ingest``, checked before anything is read.

Uploads are copied into ``<data_dir>/uploads/`` under a cleaned name that ends in a digest of
the content: the stored article's origin stays valid after Gradio empties its temp folder, the
same file uploaded again is the same article (nothing new), and two different files that share a
name (two people's ``story.txt``) are two articles: one upload never replaces another. A name
can't leave that folder (no separators, no leading dots).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest import SUPPORTED_SUFFIXES, is_url

MB = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
DIGEST_CHARS = 12  # hex digits of the content's SHA-256 in the stored name: 48 bits
COPY_BLOCK = 1024 * 1024


class UploadError(ValueError):
    """One upload or URL that can't be taken; the message names it."""


def safe_name(name: str) -> str:
    """A file name that is only a name: no folders, no traversal, no hidden or odd characters."""
    base = re.split(r"[\\/]", name)[-1]  # a browser may send a Windows path
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:100].strip(" .") or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def store_upload(path: Path, original_name: str, folder: Path, max_mb: float) -> Path:
    """Copy one upload into ``folder``; raises UploadError naming the file if it can't be used."""
    name = safe_name(original_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(
            f"{original_name}: unsupported file type {suffix or '(none)'!r} "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    size = path.stat().st_size
    if size > max_mb * MB:
        raise UploadError(f"{original_name}: {size / MB:.1f} MB is over the {max_mb:g} MB limit")
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / f".{name}.part"
    digest = hashlib.sha256()
    with open(path, "rb") as source, open(scratch, "wb") as copy:
        while block := source.read(COPY_BLOCK):
            digest.update(block)
            copy.write(block)
    stem, suffix = Path(name).stem, Path(name).suffix.lower()
    target = (folder / f"{stem}-{digest.hexdigest()[:DIGEST_CHARS]}{suffix}").resolve()
    if target.parent != folder.resolve():  # safe_name makes this impossible; keep it checked
        scratch.unlink()
        raise UploadError(f"{original_name}: not a plain file name")
    scratch.replace(target)  # a half-copied upload is never ingested
    return target


@dataclass
class Batch:
    """What one "Add to library" becomes: ingest inputs, plus problems found up front."""

    inputs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # stored upload path -> the name the person uploaded: what messages must say (a server
    # path means nothing to them and tells a stranger how the server is laid out)
    names: dict[str, str] = field(default_factory=dict)

    def as_uploaded(self, message: str) -> str:
        """``message`` with every stored upload path replaced by the uploaded name."""
        for stored, name in self.names.items():
            message = message.replace(stored, name)
        return message


def collect(files: list[str] | None, urls: str | None, folder: Path, max_mb: float) -> Batch:
    batch = Batch()
    for item in files or []:
        path = Path(item)
        try:
            stored = str(store_upload(path, path.name, folder, max_mb))
            batch.inputs.append(stored)
            batch.names[stored] = path.name
        except UploadError as error:
            batch.problems.append(str(error))
    for line in (urls or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if is_url(line):
            batch.inputs.append(line)
        else:  # never a server-side path: this box is for web addresses only
            batch.problems.append(f"{line[:200]}: not an http(s) URL")
    return batch


def discard_refused(batch: Batch, library) -> list[str]:
    """Remove the stored uploads no article came from (an empty or binary file the ingest
    refused): they would sit in ``uploads/`` for good. Returns the uploaded names removed."""
    stored = [Path(path) for path in batch.names]
    if not stored:
        return []
    kept = {origin for _, origin, _ in library.articles_from(str(stored[0].parent) + "/")}
    removed = []
    for path in stored:
        if str(path) not in kept:
            path.unlink(missing_ok=True)
            removed.append(batch.names[str(path)])
    return removed
