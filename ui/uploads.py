"""Uploaded files and pasted URLs -> inputs for ``ingest``, checked before anything is read.

Uploads are copied into ``<data_dir>/uploads/`` under a cleaned name: the stored article's origin
stays valid after Gradio empties its temp folder, and uploading a file again updates its articles
instead of adding copies. A name can't leave that folder (no separators, no leading dots).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ingest import SUPPORTED_SUFFIXES, is_url

MB = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


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
    target = (folder / name).resolve()
    if target.parent != folder.resolve():  # safe_name makes this impossible; keep it checked
        raise UploadError(f"{original_name}: not a plain file name")
    scratch = target.with_name(f".{target.name}.part")
    shutil.copyfile(path, scratch)
    scratch.replace(target)  # a half-copied upload is never ingested
    return target


@dataclass
class Batch:
    """What one "Add to library" becomes: ingest inputs, plus problems found up front."""

    inputs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def collect(files: list[str] | None, urls: str | None, folder: Path, max_mb: float) -> Batch:
    batch = Batch()
    for item in files or []:
        path = Path(item)
        try:
            batch.inputs.append(str(store_upload(path, path.name, folder, max_mb)))
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
