"""The model registry: a directory of exported .onnx files and a manifest of their sha256.

Layout::

    ROOT/manifest.json          {"format": 1, "models": [record, ...]}
    ROOT/NAME/v0001.onnx        the whole-window graph of version 1
    ROOT/NAME/v0001.step.onnx   its streaming step graph (recurrent decoders only)

Registering checks the file's content hash (written by the export, see
:mod:`bci_app.models.format`), copies it in under the next version number and records its
sha256 and where it came from; loading reads the file once, hashes those very bytes and
refuses them when the hash is not the manifest's. Removing a version deletes its files and
its manifest entry. Writers hold a lock file; the manifest is replaced atomically, so readers
(a running engine watching for new versions) never see half of it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bci_app.errors import IncompatibleModelError, LiveError, ModelIntegrityError
from bci_app.models.format import ModelCard, check_loads, read_card

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
REGISTRY_ENV = "BCI_APP_MODELS"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def default_registry_dir() -> Path:
    """Return ``$BCI_APP_MODELS``, else ``$XDG_DATA_HOME/bci-app/models``.

    ``XDG_DATA_HOME`` defaults to ``~/.local/share``.
    """
    explicit = os.environ.get(REGISTRY_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "bci-app" / "models"


@dataclass(frozen=True)
class ModelRecord:
    """One registered version of a model.

    Parameters
    ----------
    name : str
        Model name in the registry.
    version : int
        1 for the first registration of ``name``, then increasing.
    file : str
        Path of the whole-window graph relative to the registry root.
    sha256 : str
        Hash of that file.
    decoder : str
        Registry name of the exported decoder.
    created : str
        Registration time (UTC, ISO 8601).
    step_file, step_sha256 : str, optional
        The streaming step graph of a recurrent decoder and its hash.
    content_sha256 : str, optional
        The model's content hash, checked at registration (see :mod:`bci_app.models.format`).
    origin : str, optional
        The file it was registered from (absolute path).
    """

    name: str
    version: int
    file: str
    sha256: str
    decoder: str
    created: str
    step_file: str | None = None
    step_sha256: str | None = None
    content_sha256: str | None = None
    origin: str | None = None

    @property
    def ref(self) -> str:
        """Return ``name:version``."""
        return f"{self.name}:{self.version}"


class ModelRegistry:
    """The models of one registry directory.

    Parameters
    ----------
    root : Path, optional
        The directory (default: :func:`default_registry_dir`); created on first registration.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_registry_dir()

    @property
    def manifest_path(self) -> Path:
        """Return the manifest file."""
        return self.root / MANIFEST

    def records(self) -> list[ModelRecord]:
        """Return every registered version, by name then version."""
        path = self.manifest_path
        if not path.exists():
            return []
        try:
            manifest = json.loads(path.read_text())
            if manifest.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}")
            records = [ModelRecord(**entry) for entry in manifest["models"]]
        except (ValueError, KeyError, TypeError) as error:
            raise ModelIntegrityError(str(path), f"unreadable manifest ({error})") from error
        return sorted(records, key=lambda r: (r.name, r.version))

    def stamp(self) -> tuple[int, int] | None:
        """Return the manifest's (mtime_ns, size), which changes with every registration."""
        try:
            status = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_size

    def names(self) -> list[str]:
        """Return the registered model names."""
        return sorted({record.name for record in self.records()})

    def get(self, name: str, version: int | None = None) -> ModelRecord:
        """Return version ``version`` of ``name`` (the latest when None).

        Raises
        ------
        LiveError
            When the name or version is not registered, listing what is.
        """
        versions = [r for r in self.records() if r.name == name]
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise LiveError(str(self.root), f"no model named '{name}' (registered: {known})")
        if version is None:
            return versions[-1]
        for record in versions:
            if record.version == version:
                return record
        listed = ", ".join(str(r.version) for r in versions)
        raise LiveError(str(self.root), f"model '{name}' has no version {version} ({listed})")

    def resolve(self, ref: str) -> ModelRecord:
        """Return the record named by ``NAME`` (latest version), ``NAME:VERSION``, or a path.

        A path names the registered version whose bytes it holds (the run of an exported file
        is the run of its registered copy).

        Raises
        ------
        LiveError
            When nothing registered matches; for a file that is not registered, saying how
            to register it.
        """
        name, separator, version = ref.partition(":")
        if separator and version.isdigit():
            return self.get(name, int(version))
        if not separator and name in self.names():
            return self.get(name)
        path = Path(ref).expanduser()
        if path.is_file():
            return self.find_file(path)
        if separator:
            raise LiveError(ref, "a model is named NAME or NAME:VERSION (VERSION a number)")
        if _looks_like_path(ref):
            known = ", ".join(self.names()) or "none"
            raise LiveError(ref, f"no such file, and no model of that name (registered: {known})")
        return self.get(name)

    def find_file(self, path: Path) -> ModelRecord:
        """Return the newest registered version holding the bytes of the file at ``path``.

        Raises
        ------
        LiveError
            When the file is not registered, saying how to register it.
        """
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        matches = [record for record in self.records() if record.sha256 == digest]
        if not matches:
            raise LiveError(
                str(path),
                f"is not in the model registry {self.root} (the live path runs registered, "
                f"hash-checked models only): register it with `bci-app models add {path} "
                "--name NAME` and run it with `--model NAME`",
            )
        return max(matches, key=lambda record: (record.created, record.name, record.version))

    def path(self, record: ModelRecord) -> Path:
        """Return the absolute path of a record's whole-window graph."""
        return self.root / record.file

    def read_verified(self, record: ModelRecord, *, step: bool = False) -> bytes:
        """Return the bytes of a record's graph after checking them against the manifest.

        Raises
        ------
        ModelIntegrityError
            When the file is missing or its sha256 is not the registered one.
        """
        relative = record.step_file if step else record.file
        expected = record.step_sha256 if step else record.sha256
        if relative is None or expected is None:
            raise LiveError(record.ref, "has no streaming step graph")
        path = self.root / relative
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ModelIntegrityError(
                str(path), f"registered as {record.ref} but the file is missing"
            ) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise ModelIntegrityError(
                str(path),
                f"sha256 {actual[:16]}... differs from the {expected[:16]}... registered for "
                f"{record.ref}: the file changed after registration, refusing to load it "
                "(register the new file as a new version if the change is intended)",
            )
        return data

    def register(self, onnx_path: Path, name: str) -> ModelRecord:
        """Copy an exported model (and its ``.step.onnx`` companion) in as a new version.

        Raises
        ------
        LiveError
            When the name is not a plain name.
        IncompatibleModelError
            When the file is not a bci-app export this runtime can run.
        ModelIntegrityError
            When the file (or its companion) changed after export.
        """
        if not _NAME.match(name):
            raise LiveError(name, "model names are letters, digits, '.', '_' and '-'")
        onnx_path = Path(onnx_path)
        data = _read(onnx_path)
        card = _checked_card(data, str(onnx_path), "window")
        step_source = onnx_path.with_name(f"{onnx_path.stem}.step.onnx")
        step_data = None
        if step_source.exists():
            step_data = _read(step_source)
            step_card = _checked_card(step_data, str(step_source), "step")
            if step_card.card.get("input") != card.card.get("input"):
                raise IncompatibleModelError(
                    str(step_source), f"was exported from another decoder than {onnx_path.name}"
                )
        with self.locked():
            records = self.records()
            version = 1 + max((r.version for r in records if r.name == name), default=0)
            stem = f"{name}/v{version:04d}"
            write_atomic(self.root / f"{stem}.onnx", data)
            step_file = step_sha = None
            if step_data is not None:
                step_file = f"{stem}.step.onnx"
                write_atomic(self.root / step_file, step_data)
                step_sha = hashlib.sha256(step_data).hexdigest()
            record = ModelRecord(
                name=name,
                version=version,
                file=f"{stem}.onnx",
                sha256=hashlib.sha256(data).hexdigest(),
                decoder=card.decoder,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                step_file=step_file,
                step_sha256=step_sha,
                content_sha256=card.content_sha256,
                origin=str(onnx_path.resolve()),
            )
            self._write_manifest([*records, record])
        return record

    def remove(self, name: str, version: int) -> ModelRecord:
        """Delete version ``version`` of ``name``: its files and its manifest entry.

        Raises
        ------
        LiveError
            When the name or version is not registered, listing what is.
        """
        with self.locked():
            record = self.get(name, version)
            self._write_manifest([r for r in self.records() if r != record])
            for relative in (record.file, record.step_file):
                if relative is not None:
                    (self.root / relative).unlink(missing_ok=True)
        return record

    def _write_manifest(self, records: list[ModelRecord]) -> None:
        manifest = {"format": MANIFEST_FORMAT, "models": [asdict(r) for r in records]}
        write_atomic(self.manifest_path, json.dumps(manifest, indent=1).encode())

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the registry's writer lock (creating the registry folder)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _checked_card(data: bytes, source: str, graph: str) -> ModelCard:
    """Return the card of a graph of kind ``graph`` after proving ONNX Runtime loads it."""
    card = read_card(data, source)
    if card.graph != graph:
        raise IncompatibleModelError(
            source,
            f"is a {card.graph} graph where a {graph} graph is expected (register the "
            "whole-window .onnx file; its .step.onnx companion is found beside it)",
        )
    check_loads(data, source)
    return card


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or ref.endswith(".onnx")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise IncompatibleModelError(str(path), "no such model file") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
