"""Site files: where a site's data are, which channels and labels it uses, how it splits them.

A site file is TOML::

    [site]
    name = "hospital-a"
    state_dir = "state"            # site-local outputs: cache, local layers, models
    registry_dir = "models"        # optional: model registry of its personalised model

    [data]                         # exactly one source
    recordings = ["run1.edf", "run2.vhdr"]   # any format of read_recording; trials at events
    tmin = 0.5                     # trial window from each event, seconds
    tmax = 2.5
    # trial_set = "FingerMovements"          # a fetched trial set (official train/test)
    # simulator = "motor_imagery"            # a simulated task, options in [data.options]
    # labelled_folders = "tuh/"              # folders named by class; window_s in [data]

    [data.partition]               # optional: this site's share of a source split by sites
    index = 0
    weights = [6, 3, 1]
    test_weights = [1, 1, 1]       # optional: shares of an official test part (default: weights)
    seed = 0

    [montage]
    channels = ["C3", "Cz", "C4"]  # default: every channel of the kept types
    types = ["eeg"]                # default: eeg, ecog, seeg, dbs, mag, grad
    rename = { "EEG C3" = "C3" }
    sfreq = 250.0                  # resample to this rate (default: as recorded)

    [labels]
    map = { "T1" = "left_hand", "T2" = "right_hand" }   # source label -> federation label
    drop = ["rest"]                # source labels that are not trials

    [split]
    validation = 0.2               # share of the training trials kept for validation
    test = 0.2                     # held-out test share (official test part if the source has one)
    seed = 0

    [corpus]                       # federated pretraining: the site's unlabelled recordings
    sources = ["archive/", "more.edf"]       # files and folders (any format read_recording opens)

Relative paths are relative to the site file. A site that only takes part in federated
pretraining may have a ``[corpus]`` and no ``[data]``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from decoders.datasets.errors import DataError

SOURCE_KINDS = ("recordings", "trial_set", "simulator", "labelled_folders")
BRAIN_TYPES = ("eeg", "ecog", "seeg", "dbs", "mag", "grad")
"""Channel types a site keeps unless its file says otherwise."""


class SiteConfigError(DataError):
    """A site file that cannot be used; the message names the file and the setting."""


@dataclass(frozen=True)
class DataSource:
    """Where a site's trials come from.

    Parameters
    ----------
    kind : str
        One of :data:`SOURCE_KINDS`.
    target : str or tuple of Path
        The trial-set name, simulated task, folder, or recording files.
    options : dict
        Simulator options, or ``stream`` for XDF recordings.
    tmin, tmax : float
        Trial window around events of recordings, in seconds.
    window_s : float
        Window length cut from labelled folders.
    """

    kind: str
    target: str | tuple[Path, ...]
    options: dict[str, Any] = field(default_factory=dict)
    tmin: float = 0.0
    tmax: float = 0.0
    window_s: float = 0.0


@dataclass(frozen=True)
class Partition:
    """A site's part of a source shared by several sites (stratified, seeded).

    ``test_weights`` split the source's official test part, when it has one (default:
    ``weights``).
    """

    index: int
    weights: tuple[float, ...]
    seed: int = 0
    test_weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not self.test_weights:
            object.__setattr__(self, "test_weights", self.weights)


@dataclass(frozen=True)
class SiteConfig:
    """Everything one site file says. Build with :func:`load_site`."""

    path: Path
    name: str
    state_dir: Path
    source: DataSource | None
    partition: Partition | None = None
    channels: tuple[str, ...] = ()
    types: tuple[str, ...] = BRAIN_TYPES
    rename: dict[str, str] = field(default_factory=dict)
    sfreq: float | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    validation: float = 0.2
    test: float = 0.2
    split_seed: int = 0
    registry_dir: Path | None = None
    corpus: tuple[Path, ...] = ()
    text: str = ""

    def error(self, problem: str) -> SiteConfigError:
        """Return an error about this site, naming its file."""
        return SiteConfigError(self.path, problem)


def load_site(path: str | Path) -> SiteConfig:
    """Read and check a site file.

    Raises
    ------
    SiteConfigError
        For a missing or malformed file, an unknown setting, no or several data sources, or
        out-of-range shares; the message names the file and the setting.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise SiteConfigError(path, "site file not found")
    text = path.read_text()
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SiteConfigError(path, f"is not valid TOML: {error}") from error
    reader = _Reader(path, document)
    site = reader.table("site", {"name", "state_dir", "registry_dir"})
    data = reader.table(
        "data",
        {*SOURCE_KINDS, "options", "partition", "tmin", "tmax", "window_s", "stream"},
    )
    montage = reader.table("montage", {"channels", "types", "rename", "sfreq"})
    labels = reader.table("labels", {"map", "drop"})
    split = reader.table("split", {"validation", "test", "seed"})
    corpus = reader.table("corpus", {"sources"})
    reader.no_other_tables({"site", "data", "montage", "labels", "split", "corpus"})
    name = str(site.get("name") or path.stem)
    registry = site.get("registry_dir")
    config = SiteConfig(
        path=path,
        name=name,
        state_dir=reader.path(site.get("state_dir", f"{path.stem}-state")),
        source=_source(reader, data) if data or not corpus else None,
        partition=_partition(reader, data.get("partition")),
        channels=tuple(str(c) for c in montage.get("channels", ())),
        types=tuple(str(t) for t in montage.get("types", BRAIN_TYPES)),
        rename={str(k): str(v) for k, v in montage.get("rename", {}).items()},
        sfreq=float(montage["sfreq"]) if "sfreq" in montage else None,
        label_map={str(k): str(v) for k, v in labels.get("map", {}).items()},
        drop=tuple(str(label) for label in labels.get("drop", ())),
        validation=float(split.get("validation", 0.2)),
        test=float(split.get("test", 0.2)),
        split_seed=int(split.get("seed", 0)),
        registry_dir=reader.path(registry) if registry else None,
        corpus=_corpus(reader, corpus),
        text=text,
    )
    _check(config)
    return config


class _Reader:
    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path_ = path
        self.document = document

    def table(self, name: str, allowed: set[str]) -> dict[str, Any]:
        table = self.document.get(name, {})
        if not isinstance(table, dict):
            raise SiteConfigError(self.path_, f"[{name}] must be a table")
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise SiteConfigError(
                self.path_,
                f"unknown setting(s) {', '.join(unknown)} in [{name}] "
                f"(known: {', '.join(sorted(allowed))})",
            )
        return table

    def no_other_tables(self, known: set[str]) -> None:
        unknown = sorted(set(self.document) - known)
        if unknown:
            raise SiteConfigError(
                self.path_, f"unknown section(s) {', '.join(unknown)} (known: {sorted(known)})"
            )

    def path(self, value: str) -> Path:
        return (self.path_.parent / str(value)).resolve()


def _source(reader: _Reader, data: dict[str, Any]) -> DataSource:
    given = [kind for kind in SOURCE_KINDS if kind in data]
    if len(given) != 1:
        raise SiteConfigError(
            reader.path_,
            f"[data] must name exactly one source of {', '.join(SOURCE_KINDS)}; "
            f"found {given or 'none'}",
        )
    kind = given[0]
    options = dict(data.get("options", {}))
    if kind == "recordings":
        files = data[kind] if isinstance(data[kind], list) else [data[kind]]
        if not files:
            raise SiteConfigError(reader.path_, "[data] recordings is an empty list")
        if "tmin" not in data or "tmax" not in data:
            raise SiteConfigError(reader.path_, "[data] recordings need tmin and tmax")
        if "stream" in data:
            options["stream"] = str(data["stream"])
        return DataSource(
            kind,
            tuple(reader.path(f) for f in files),
            options,
            tmin=float(data["tmin"]),
            tmax=float(data["tmax"]),
        )
    if kind == "labelled_folders":
        if "window_s" not in data:
            raise SiteConfigError(reader.path_, "[data] labelled_folders need window_s")
        return DataSource(
            kind, (reader.path(data[kind]),), options, window_s=float(data["window_s"])
        )
    return DataSource(kind, str(data[kind]), options)


def _corpus(reader: _Reader, table: dict[str, Any]) -> tuple[Path, ...]:
    if not table:
        return ()
    sources = table.get("sources")
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources:
        raise SiteConfigError(reader.path_, "[corpus] sources must name files or folders")
    return tuple(reader.path(str(source)) for source in sources)


def _partition(reader: _Reader, table: Any) -> Partition | None:
    if table is None:
        return None
    if not isinstance(table, dict) or "index" not in table or "weights" not in table:
        raise SiteConfigError(reader.path_, "[data.partition] needs index and weights")
    unknown = sorted(set(table) - {"index", "weights", "test_weights", "seed"})
    if unknown:
        raise SiteConfigError(reader.path_, f"unknown setting(s) {unknown} in [data.partition]")
    weights = tuple(float(w) for w in table["weights"])
    test_weights = tuple(float(w) for w in table.get("test_weights", weights))
    index = int(table["index"])
    for shares in (weights, test_weights):
        if not 0 <= index < len(shares) or min(shares, default=0) <= 0:
            raise SiteConfigError(
                reader.path_,
                f"[data.partition] index {index} must select one of {len(shares)} positive weights",
            )
    return Partition(index, weights, int(table.get("seed", 0)), test_weights)


def _check(config: SiteConfig) -> None:
    if not 0 < config.validation < 1:
        raise config.error(f"[split] validation must be between 0 and 1, got {config.validation}")
    if not 0 <= config.test < 1 or config.validation + config.test >= 1:
        raise config.error(
            f"[split] test ({config.test}) must be in 0..1 and leave training trials "
            f"beside validation ({config.validation})"
        )
    if config.sfreq is not None and config.sfreq <= 0:
        raise config.error(f"[montage] sfreq must be positive, got {config.sfreq}")
    if (
        config.source
        and config.source.kind == "recordings"
        and config.source.tmax <= config.source.tmin
    ):
        raise config.error("[data] tmax must be after tmin")
    overlap = sorted(set(config.drop) & set(config.label_map))
    if overlap:
        raise config.error(f"[labels] {overlap} are both mapped and dropped")
