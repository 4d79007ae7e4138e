"""The head model shared by the EEG simulators: a spherical MNE forward model on a cortical grid.

One three-shell sphere is fitted to every electrode of the standard montage, and candidate
source positions fill a cortical shell of it on a regular grid. Lead fields (free orientation)
are computed by :func:`mne.make_forward_solution` once per channel set and kept in memory, so
every subject, seed and sampling rate reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .montages import electrode_positions

if TYPE_CHECKING:
    import mne

GRID_SPACING_M = 0.007
"""Distance between neighbouring candidate sources."""

REFERENCE = ("M1", "M2")
"""Simulated recordings are referenced to the mean of the two mastoids (linked mastoids)."""

_INNER_RADIUS_M = 0.030  # no sources closer than this to the sphere centre
_BRAIN_MARGIN_M = 0.007  # no sources closer than this to the brain surface
_LOWEST_Z_M = -0.045  # no sources this far below the sphere centre (below the cap)


@dataclass(frozen=True)
class HeadModel:
    """Sphere and candidate source grid, in metres in the head frame.

    Attributes
    ----------
    sphere : mne.bem.ConductorModel
        Three-shell sphere fitted to the montage.
    center : ndarray, shape (3,)
        Sphere centre.
    scalp_radius, brain_radius : float
        Radii of the outer and inner shells.
    grid : ndarray, shape (n_sources, 3)
        Candidate source positions.
    """

    sphere: mne.bem.ConductorModel
    center: np.ndarray
    scalp_radius: float
    brain_radius: float
    grid: np.ndarray

    def depth_below(self, electrode: str, depth_m: float) -> np.ndarray:
        """Return the point ``depth_m`` below the scalp on the line from the centre to an electrode."""
        direction = electrode_positions()[electrode] - self.center
        direction /= np.linalg.norm(direction)
        return self.center + direction * (self.scalp_radius - depth_m)

    def nearest(self, points: np.ndarray) -> np.ndarray:
        """Return the grid index nearest to each point (shape (n, 3))."""
        distance = np.linalg.norm(self.grid[None, :, :] - points[:, None, :], axis=-1)
        return distance.argmin(axis=1)


@dataclass(frozen=True)
class LeadField:
    """Free-orientation lead field of one channel set, referenced to linked mastoids.

    Attributes
    ----------
    ch_names : tuple of str
        Channels, in order.
    ch_pos : ndarray, shape (n_channels, 3)
        Electrode positions in metres, head frame.
    gain : ndarray, shape (n_channels, n_sources, 3)
        Potential in volts per ampere-metre of a dipole at each grid point along x, y, z.
    """

    ch_names: tuple[str, ...]
    ch_pos: np.ndarray
    gain: np.ndarray

    def pattern(self, index: np.ndarray, orientation: np.ndarray) -> np.ndarray:
        """Return the sensor patterns (n_channels, n) of dipoles at grid ``index`` with unit ``orientation`` (n, 3)."""
        return np.einsum("csk,sk->cs", self.gain[:, index, :], orientation)


@lru_cache(maxsize=1)
def head_model() -> HeadModel:
    """Return the head model (computed once per process)."""
    import mne

    positions = {k: v for k, v in electrode_positions().items() if k != "nasion"}
    info = mne.create_info(list(positions), 100.0, "eeg")
    info.set_montage(
        mne.channels.make_dig_montage(ch_pos=positions, coord_frame="head"), on_missing="ignore"
    )
    sphere = mne.make_sphere_model(r0="auto", head_radius="auto", info=info, verbose="error")
    center = np.asarray(sphere["r0"], dtype=float)
    radii = [layer["rad"] for layer in sphere["layers"]]
    brain_radius, scalp_radius = float(radii[0]), float(radii[-1])
    axis = np.arange(-scalp_radius, scalp_radius + 1e-9, GRID_SPACING_M)
    offsets = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    radius = np.linalg.norm(offsets, axis=1)
    keep = (radius > _INNER_RADIUS_M) & (radius < brain_radius - _BRAIN_MARGIN_M)
    keep &= offsets[:, 2] > _LOWEST_Z_M
    return HeadModel(sphere, center, scalp_radius, brain_radius, center + offsets[keep])


@lru_cache(maxsize=8)
def lead_field(
    ch_names: tuple[str, ...], rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> LeadField:
    """Return the lead field of ``ch_names`` (computed once per channel set and process).

    ``rotation_deg`` turns the whole cap (every electrode, the reference ones too) about the
    sphere's centre by these angles around x, y and z: a cap put on a few millimetres away
    from where it was (5 degrees move a central electrode by about 8 mm).
    """
    import mne
    from scipy.spatial.transform import Rotation

    model = head_model()
    positions = electrode_positions()
    if any(rotation_deg):
        turn = Rotation.from_euler("xyz", rotation_deg, degrees=True)
        positions = {
            name: model.center + turn.apply(position - model.center)
            for name, position in positions.items()
        }
    sensors = list(dict.fromkeys([*ch_names, *REFERENCE]))
    info = mne.create_info(sensors, 100.0, "eeg")
    montage = mne.channels.make_dig_montage(
        ch_pos={name: positions[name] for name in sensors}, coord_frame="head"
    )
    info.set_montage(montage)
    source_space = mne.setup_volume_source_space(
        pos={"rr": model.grid, "nn": np.tile([0.0, 0.0, 1.0], (len(model.grid), 1))},
        verbose="error",
    )
    forward = mne.make_forward_solution(
        info, trans=None, src=source_space, bem=model.sphere, meg=False, eeg=True, verbose="error"
    )
    gain = forward["sol"]["data"].reshape(len(sensors), len(model.grid), 3)
    rows = [sensors.index(name) for name in ch_names]
    reference = gain[[sensors.index(name) for name in REFERENCE]].mean(axis=0)
    return LeadField(
        ch_names=tuple(ch_names),
        ch_pos=np.array([positions[name] for name in ch_names]),
        gain=gain[rows] - reference[None],
    )


def place_dipoles(
    model: HeadModel,
    placement: list[tuple[str, float, float, float]],
    position_jitter: np.ndarray,
    orientation_jitter: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return grid indices and unit orientations of jittered dipoles.

    Each dipole of ``placement`` (electrode above, depth, radial and anterior weights of the
    orientation) is moved by ``position_jitter`` to the nearest grid point, and its orientation
    turned by adding ``orientation_jitter``.
    """
    targets = np.array([model.depth_below(electrode, depth) for electrode, depth, *_ in placement])
    grid_index = model.nearest(targets + position_jitter)
    orientation = []
    for index, (_, _, radial_weight, anterior_weight) in zip(grid_index, placement, strict=True):
        radial = unit_vectors(model.grid[index] - model.center)
        anterior = unit_vectors(np.array([0.0, 1.0, 0.0]) - radial[1] * radial)
        orientation.append(radial_weight * radial + anterior_weight * anterior)
    return grid_index, unit_vectors(unit_vectors(np.array(orientation)) + orientation_jitter)


def unit_vectors(vectors: np.ndarray) -> np.ndarray:
    """Return the vectors (last axis) scaled to unit length."""
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
