"""Model arrays between torch, numpy, Flower records and disk (``.npz``, never pickles)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from flwr.app import ArrayRecord, RecordDict


def as_numpy(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Return ``state`` (torch tensors or arrays) as contiguous numpy arrays."""
    arrays = {}
    for key, value in state.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        value = np.asarray(value)  # (ascontiguousarray would make 0-d arrays 1-d)
        arrays[key] = value if value.flags.c_contiguous else np.ascontiguousarray(value)
    return arrays


def to_record(state: Mapping[str, Any]) -> ArrayRecord:
    """Return a Flower :class:`ArrayRecord` holding ``state`` (tensors or arrays)."""
    from flwr.app import Array, ArrayRecord

    return ArrayRecord({key: Array(value) for key, value in as_numpy(state).items()})


def from_record(record: ArrayRecord) -> dict[str, np.ndarray]:
    """Return the arrays of a Flower :class:`ArrayRecord` by name."""
    return {key: record[key].numpy() for key in record}


def payload_bytes(content: RecordDict) -> int:
    """Return the bytes of the serialised arrays a message carries."""
    return sum(
        len(array.data) for record in content.array_records.values() for array in record.values()
    )


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write named arrays to ``path`` (``.npz``) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(temporary, **dict(arrays))
    temporary.replace(path)


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read named arrays written by :func:`save_arrays` (pickles refused)."""
    with np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}
