"""Result records: one JSON document per evaluation run."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

_VERSIONED = (
    "bci-app",
    "numpy",
    "scipy",
    "torch",
    "mne",
    "scikit-learn",
    "pyriemann",
    "braindecode",
)


def software_versions() -> dict[str, str]:
    """Return the versions of Python and of the packages that shape results."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclass
class MetricSummary:
    """A metric over seeds: mean, sample standard deviation and the per-seed values."""

    mean: float
    sd: float
    per_seed: list[float]

    @classmethod
    def from_values(cls, values: list[float]) -> MetricSummary:
        """Summarise per-seed values (sd uses ddof=1; 0 for a single seed)."""
        array = np.asarray(values, dtype=float)
        sd = float(np.std(array, ddof=1)) if array.size > 1 else 0.0
        return cls(float(np.mean(array)), sd, [float(v) for v in array])


@dataclass
class FoldSizes:
    """How many trials each part of one fold held."""

    name: str
    n_train: int
    n_valid: int
    n_test: int


@dataclass
class ResultRecord:
    """Everything needed to trust and reproduce one evaluation run.

    ``split`` states which train/test split a protocol that keeps one used (the published
    one, the user's own files, a session ...): its description, parts and sizes.
    """

    dataset: str
    protocol: str
    protocol_description: str
    decoder: str
    seeds: list[int]
    folds: list[FoldSizes]
    metrics: dict[str, MetricSummary]
    wall_time_s: float
    versions: dict[str, str] = field(default_factory=software_versions)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    extra: dict[str, float | str] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    label_fraction: float = 1.0
    rejection: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the record as plain JSON-serialisable data."""
        return asdict(self)

    def save(self, path: Path) -> None:
        """Write the record as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def from_dict(cls, data: dict) -> ResultRecord:
        """Rebuild a record from :meth:`to_dict` output."""
        data = dict(data)
        data["folds"] = [FoldSizes(**f) for f in data["folds"]]
        data["metrics"] = {k: MetricSummary(**v) for k, v in data["metrics"].items()}
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> ResultRecord:
        """Read a record written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    def summary_rows(self, metrics: tuple[str, ...] | None = None) -> list[dict]:
        """Return flat rows ``dataset, protocol, decoder, metric, mean, sd, n_seeds``."""
        names = metrics or tuple(self.metrics)
        return [
            {
                "dataset": self.dataset,
                "protocol": self.protocol,
                "decoder": self.decoder,
                "metric": name,
                "mean": self.metrics[name].mean,
                "sd": self.metrics[name].sd,
                "n_seeds": len(self.seeds),
            }
            for name in names
            if name in self.metrics
        ]
