"""An unlabelled corpus: any mix of recordings and folders, scanned once into an index.

A corpus source is a file that :func:`~decoders.datasets.readers.read_recording` opens (FIF,
EDF/BDF, BrainVision, EEGLAB, XDF; files inside a BIDS tree with their sidecars) or a folder
searched recursively for such files (a TUH-layout EDF tree, a BIDS data set, a hospital's
archive). Scanning reads each file's header (not its samples) and hashes its bytes; the index
(file, channels and types, rate, length, sha256, size, modification time) is saved as JSON,
and a later scan reuses the entries of files whose size and modification time did not
change. Files that cannot be opened are listed with the reason, never fatal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from decoders.datasets.errors import DataError
from decoders.datasets.fetch import sha256_of
from decoders.datasets.readers import FORMATS, is_trial_file, read_recording

INDEX_FORMAT = 1


@dataclass(frozen=True)
class CorpusFile:
    """One readable recording of a corpus.

    Parameters
    ----------
    path : str
        Absolute path.
    sha256 : str
        Hash of the file's bytes.
    size, mtime_ns : int
        Size in bytes and modification time, to reuse the entry on a rescan.
    sfreq : float
        Sampling rate in Hz.
    n_times : int
        Samples per channel.
    ch_names, ch_types : tuple of str
        Channels and their MNE types.
    """

    path: str
    sha256: str
    size: int
    mtime_ns: int
    sfreq: float
    n_times: int
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]

    @property
    def duration_s(self) -> float:
        """Return the length in seconds."""
        return self.n_times / self.sfreq

    def picks(self, ch_types: Iterable[str]) -> list[int]:
        """Return the indices of the channels of the given types."""
        wanted = set(ch_types)
        return [index for index, kind in enumerate(self.ch_types) if kind in wanted]


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of a corpus, and why."""

    path: str
    reason: str


@dataclass
class CorpusIndex:
    """The readable files of a corpus and the files left out."""

    files: list[CorpusFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def hours_per_type(self) -> dict[str, float]:
        """Return channel-hours per channel type (one channel for one hour is 1)."""
        hours: dict[str, float] = {}
        for item in self.files:
            for kind in item.ch_types:
                hours[kind] = hours.get(kind, 0.0) + item.duration_s / 3600.0
        return dict(sorted(hours.items()))

    def fingerprint(self) -> str:
        """Return a hash of the files' hashes: the same corpus gives the same fingerprint."""
        digest = hashlib.sha256()
        for sha in sorted(item.sha256 for item in self.files):
            digest.update(sha.encode())
        return digest.hexdigest()

    def to_dict(self) -> dict:
        """Return plain JSON-serialisable data."""
        return {
            "format": INDEX_FORMAT,
            "files": [asdict(item) for item in self.files],
            "skipped": [asdict(item) for item in self.skipped],
        }

    def save(self, path: Path) -> None:
        """Write the index as JSON (atomically)."""
        temporary = Path(path).with_suffix(".tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=1))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> CorpusIndex:
        """Read an index written by :meth:`save`."""
        data = json.loads(Path(path).read_text())
        if data.get("format") != INDEX_FORMAT:
            raise DataError(path, f"corpus index format {data.get('format')}, not {INDEX_FORMAT}")
        files = [
            CorpusFile(
                **{**item, "ch_names": tuple(item["ch_names"]), "ch_types": tuple(item["ch_types"])}
            )
            for item in data["files"]
        ]
        return cls(files, [SkippedFile(**item) for item in data["skipped"]])


def corpus_files(sources: Sequence[str | Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Return the recording files named by ``sources`` (files and folders), and missing ones.

    Folders are searched recursively for files of the formats ``read_recording`` opens; the
    same file named twice counts once.
    """
    found: dict[Path, None] = {}
    missing = []
    for source in map(Path, sources):
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and _is_recording(path):
                    found[path.resolve()] = None
        elif source.is_file():
            found[source.resolve()] = None
        else:
            missing.append(SkippedFile(str(source), "not found"))
    return list(found), missing


def scan_corpus(
    sources: Sequence[str | Path],
    *,
    previous: CorpusIndex | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> CorpusIndex:
    """Index the recordings of ``sources``, reusing unchanged entries of ``previous``.

    Parameters
    ----------
    sources : sequence of str or Path
        Files and folders.
    previous : CorpusIndex, optional
        An earlier index: files with the same path, size and modification time are not
        read again.
    on_file : callable, optional
        Called with each file before it is scanned (progress).
    """
    paths, skipped = corpus_files(sources)
    known = {item.path: item for item in (previous.files if previous else [])}
    files = []
    for path in paths:
        if on_file is not None:
            on_file(path)
        status = path.stat()
        reused = known.get(str(path))
        if reused and (reused.size, reused.mtime_ns) == (status.st_size, status.st_mtime_ns):
            files.append(reused)
            continue
        try:
            files.append(_describe(path, status.st_size, status.st_mtime_ns))
        except DataError as error:
            skipped.append(SkippedFile(str(path), error.problem))
    return CorpusIndex(files, skipped)


def _is_recording(path: Path) -> bool:
    """Return True for a continuous recording (files of cut trials are not corpus sources)."""
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in FORMATS) and not is_trial_file(path)


def _describe(path: Path, size: int, mtime_ns: int) -> CorpusFile:
    """Read the header of ``path`` and hash its bytes."""
    raw = read_recording(path, preload=False)
    return CorpusFile(
        path=str(path),
        sha256=sha256_of(path),
        size=size,
        mtime_ns=mtime_ns,
        sfreq=float(raw.info["sfreq"]),
        n_times=int(raw.n_times),
        ch_names=tuple(raw.ch_names),
        ch_types=tuple(raw.get_channel_types()),
    )
