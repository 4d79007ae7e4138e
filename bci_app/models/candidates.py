"""Candidate sets for live speech ranking: precomputed speech embeddings, verified by sha256.

A candidate set is the retrieval embedding of every segment of the sounds a listening test
may play (computed offline from the audio with the speech model's feature settings, see
``bci-app candidates``), stored as an ``.npz`` of plain arrays (never pickles):

``names``       (n,) text: each segment, as ``SOUND@START_S``
``embeddings``  (n, dimension) float32, unit norm
``settings``    0-d text: JSON of the speech settings the embeddings were made with

Sets are registered beside the models of a registry (``ROOT/candidates/NAME/v0001.npz``,
hashes in ``ROOT/candidates.json``); loading hashes the bytes read and refuses them when the
hash is not the registered one, as for models.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bci_app.errors import LiveError, ModelIntegrityError
from bci_app.models.registry import ModelRegistry, write_atomic

MANIFEST = "candidates.json"
_FORMAT = 1


@dataclass(frozen=True)
class CandidateSet:
    """Speech segments a live decoder ranks, with their embeddings.

    Parameters
    ----------
    names : tuple of str
        One name per segment (``SOUND@START_S``).
    embeddings : ndarray, shape (n, dimension)
        Unit-norm retrieval embeddings (float32).
    settings : dict
        Speech settings the embeddings were computed with (features, window, hop).
    """

    names: tuple[str, ...]
    embeddings: np.ndarray
    settings: dict[str, Any]

    @property
    def dimension(self) -> int:
        """Return the size of an embedding."""
        return int(self.embeddings.shape[1])

    def to_bytes(self) -> bytes:
        """Return the set as ``.npz`` bytes."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            names=np.array(self.names, dtype=str),
            embeddings=np.asarray(self.embeddings, dtype=np.float32),
            settings=np.array(json.dumps(self.settings)),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> CandidateSet:
        """Parse ``.npz`` bytes written by :meth:`to_bytes`.

        Raises
        ------
        LiveError
            When the file is not a candidate set, is empty, or holds non-finite embeddings.
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as content:
                names = tuple(str(name) for name in content["names"])
                embeddings = np.asarray(content["embeddings"], dtype=np.float32)
                settings = json.loads(str(content["settings"]))
        except (OSError, ValueError, KeyError) as error:
            raise LiveError(source, f"is not a candidate set ({error})") from error
        if not names or embeddings.ndim != 2 or embeddings.shape[0] == 0:
            raise LiveError(source, "the candidate set is empty: nothing to rank")
        if embeddings.shape[0] != len(names):
            raise LiveError(source, f"{len(names)} names for {embeddings.shape[0]} embeddings")
        if not np.isfinite(embeddings).all():
            raise LiveError(source, "the candidate set holds NaN or infinite embeddings")
        return cls(names, embeddings, settings)


@dataclass(frozen=True)
class CandidateRecord:
    """One registered version of a candidate set."""

    name: str
    version: int
    file: str
    sha256: str
    size: int
    dimension: int
    created: str

    @property
    def ref(self) -> str:
        """Return ``name:version``."""
        return f"{self.name}:{self.version}"


class CandidateStore:
    """The candidate sets registered beside the models of ``registry``."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self.manifest_path = registry.root / MANIFEST

    def records(self) -> list[CandidateRecord]:
        """Return every registered version, by name then version."""
        if not self.manifest_path.exists():
            return []
        try:
            manifest = json.loads(self.manifest_path.read_text())
            records = [CandidateRecord(**entry) for entry in manifest["candidates"]]
        except (ValueError, KeyError, TypeError) as error:
            raise ModelIntegrityError(str(self.manifest_path), f"unreadable ({error})") from error
        return sorted(records, key=lambda r: (r.name, r.version))

    def resolve(self, ref: str) -> CandidateRecord:
        """Return the record ``NAME`` (latest version) or ``NAME:VERSION``."""
        name, _, version = ref.partition(":")
        matching = [r for r in self.records() if r.name == name]
        if version:
            matching = [r for r in matching if str(r.version) == version]
        if not matching:
            known = ", ".join(sorted({r.name for r in self.records()})) or "none"
            raise LiveError(
                ref, f"no such candidate set in {self.registry.root} (registered: {known})"
            )
        return matching[-1]

    def register(self, path: Path, name: str) -> CandidateRecord:
        """Copy the candidate set at ``path`` in as the next version of ``name``."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise LiveError(str(path), "no such candidate set file") from None
        candidates = CandidateSet.from_bytes(data, str(path))
        with self.registry.locked():
            records = self.records()
            version = 1 + max((r.version for r in records if r.name == name), default=0)
            file = f"candidates/{name}/v{version:04d}.npz"
            write_atomic(self.registry.root / file, data)
            record = CandidateRecord(
                name=name,
                version=version,
                file=file,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(candidates.names),
                dimension=candidates.dimension,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            manifest = {"format": _FORMAT, "candidates": [asdict(r) for r in [*records, record]]}
            write_atomic(self.manifest_path, json.dumps(manifest, indent=1).encode())
        return record

    def load(self, ref: str) -> tuple[CandidateRecord, CandidateSet]:
        """Return a registered set after checking its bytes against the manifest's sha256.

        Raises
        ------
        ModelIntegrityError
            When the file is missing or changed since registration.
        """
        record = self.resolve(ref)
        path = self.registry.root / record.file
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ModelIntegrityError(
                str(path), f"registered as {record.ref} but missing"
            ) from None
        if hashlib.sha256(data).hexdigest() != record.sha256:
            raise ModelIntegrityError(
                str(path),
                f"sha256 differs from the one registered for candidate set {record.ref}: the "
                "file changed after registration, refusing to load it",
            )
        return record, CandidateSet.from_bytes(data, record.ref)
