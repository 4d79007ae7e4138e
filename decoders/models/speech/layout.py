"""Sensor positions as a 2-D layout in [0, 1]², for the spatial attention.

Positions come from the trials (metres, head frame) or, for recordings without them, from an
MNE standard montage named by the ``montage`` option. They are projected like a topographic
map (azimuthal equidistant projection about the vertex of a sphere fitted to them), scaled
into the unit square with a margin, and sensors sharing a location (the magnetometer and two
gradiometers of a Neuromag triplet) are spread on a small circle so the attention can tell
them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from decoders.datasets.errors import DataError

MARGIN = 0.1
"""Border left free on each side of the unit square."""
SPREAD = 0.01
"""Radius of the circle on which co-located sensors are spread (unit-square units)."""


def sensor_positions(
    ch_names: Sequence[str],
    ch_pos: Mapping[str, np.ndarray] | None,
    montage: str | None,
    source: str,
) -> np.ndarray:
    """Return the 3-D position (n_channels, 3) of each channel, from the data or a montage.

    Raises
    ------
    DataError
        When channels have no position, naming them and the options that fix it.
    """
    if montage:
        ch_pos = _montage_positions(montage, source)
    known = ch_pos or {}
    missing = [name for name in ch_names if name not in known]
    if missing:
        where = f"the montage {montage}" if montage else "the data"
        raise DataError(
            source,
            f"{where} gives no sensor position for {len(missing)} of {len(ch_names)} channels "
            f"({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}): the spatial "
            "attention needs them; name a standard montage holding these channels with the "
            "montage option (--set montage=standard_1005), or train without spatial "
            "attention (--set spatial_attention=false)",
        )
    return np.array([np.asarray(known[name], dtype=float)[:3] for name in ch_names])


def layout_2d(positions: np.ndarray) -> np.ndarray:
    """Return 2-D coordinates (n, 2) in [0, 1]² of 3-D ``positions`` (n, 3)."""
    centre = _sphere_centre(positions)
    vectors = positions - centre
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    polar = np.arccos(np.clip(vectors[:, 2], -1.0, 1.0))
    azimuth = np.arctan2(vectors[:, 1], vectors[:, 0])
    flat = np.stack([polar * np.cos(azimuth), polar * np.sin(azimuth)], axis=1)
    low, span = flat.min(axis=0), np.ptp(flat, axis=0).max()
    scaled = MARGIN + (1 - 2 * MARGIN) * (flat - low) / (span if span > 0 else 1.0)
    return _spread(scaled)


def _sphere_centre(points: np.ndarray) -> np.ndarray:
    """Return the centre of the sphere best fitting ``points`` (least squares)."""
    if len(points) < 4:
        return points.mean(axis=0) - np.array([0.0, 0.0, 0.05])
    design = np.column_stack([2 * points, np.ones(len(points))])
    solution, *_ = np.linalg.lstsq(design, (points**2).sum(axis=1), rcond=None)
    return solution[:3]


def _spread(layout: np.ndarray) -> np.ndarray:
    """Move sensors sharing a location apart, on a circle of radius :data:`SPREAD`."""
    layout = layout.copy()
    keys = np.round(layout / (SPREAD / 10)).astype(int)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    for group in np.flatnonzero(counts > 1):
        members = np.flatnonzero(inverse.ravel() == group)
        angles = 2 * np.pi * np.arange(len(members)) / len(members)
        layout[members] += SPREAD * np.column_stack([np.cos(angles), np.sin(angles)])
    return np.clip(layout, 0.0, 1.0)


def _montage_positions(montage: str, source: str) -> dict[str, np.ndarray]:
    import mne

    try:
        standard = mne.channels.make_standard_montage(montage)
    except ValueError as error:
        raise DataError(source, f"unknown montage '{montage}': {error}") from error
    return {name: np.asarray(pos) for name, pos in standard.get_positions()["ch_pos"].items()}
