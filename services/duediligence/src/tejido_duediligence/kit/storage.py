"""Evidence files behind a small storage interface: content-addressed by SHA-256 under the data dir.

A deployment can swap :class:`FileStorage` for an object store by implementing :class:`EvidenceStorage`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class EvidenceStorage(Protocol):
    def put(self, data: bytes) -> tuple[str, str]:
        """Store ``data``; returns ``(key, sha256 hex)``. Storing the same bytes twice is harmless."""
        ...

    def get(self, key: str) -> bytes: ...


class FileStorage:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise KeyError(key)  # keys are our own hashes: never a path a caller could steer
        return self.root / key[:2] / key

    def put(self, data: bytes) -> tuple[str, str]:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: a crash never leaves a half-written file under its final name.
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        return digest, digest

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()
