"""Where query results live: a small BlobStore port and its filesystem adapter."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class BlobNotFound(KeyError):
    code = "result_not_found"

    def __str__(self) -> str:  # a KeyError's own text is just the quoted key
        return (
            "this result is no longer stored (results can be removed after a while); "
            "re-run the query pinned to its snapshot to get the same rows again"
        )


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    modified_at: float  # unix seconds


class BlobStore(Protocol):
    def writer(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A file to write; the blob appears under ``key`` only if the block succeeds."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A seekable reader (Parquet needs random access); raises BlobNotFound."""
        ...

    def exists(self, key: str) -> bool: ...

    def info(self, key: str) -> BlobInfo: ...

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str = "") -> Iterator[BlobInfo]: ...


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class FilesystemBlobStore:
    """Blobs as files under ``root``; writes go to a temp file renamed into place.

    No fsync: a result lost in a power cut can be recomputed exactly (it records the DuckLake
    snapshots it read), and syncing would cost milliseconds on every query.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.{uuid.uuid4().hex}.partial")
        try:
            with partial.open("wb") as handle:
                yield handle
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def info(self, key: str) -> BlobInfo:
        try:
            stat = self._path(key).stat()
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return BlobInfo(key, stat.st_size, stat.st_mtime)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        for path in sorted(self.root.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                stat = path.stat()
                yield BlobInfo(key, stat.st_size, stat.st_mtime)
