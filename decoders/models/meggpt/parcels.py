"""Sensor-space parcels: regions of neighbouring sensors, each summarised by a principal component.

The sensors are grouped into ``n_parcels`` regions by k-means on their positions (sensors at one
location, such as a VectorView magnetometer and its two planar gradiometers, fall in the same
region; the initial centres are chosen by farthest-point sampling, so the grouping depends on the
positions alone). Each parcel's time course is the first principal component of its region's
standardised sensors, fitted on data: a fixed linear map from sensors to parcels, kept with the
model and applied identically in pretraining, fine-tuning and live decoding. Source
reconstruction (a forward model and an inverse per recording) would need each recording's head
position at fine-tuning time, which trial sets do not carry; these parcels need the sensor names
only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from decoders.datasets.errors import DataError


@dataclass(frozen=True)
class Parcellation:
    """A linear map from named sensors to parcels.

    Attributes
    ----------
    sensors : tuple of str
        The sensors, in the order of the weights' columns.
    regions : tuple of int
        The parcel each sensor belongs to.
    weights : ndarray, shape (n_parcels, n_sensors)
        Each parcel's weights over standardised sensors (zero outside its region).
    """

    sensors: tuple[str, ...]
    regions: tuple[int, ...]
    weights: np.ndarray

    @property
    def names(self) -> tuple[str, ...]:
        """Return the parcels' names (``P01``, ``P02``, ...)."""
        return tuple(f"P{index + 1:02d}" for index in range(len(self.weights)))

    def describe(self) -> dict:
        """Return what a card records (the weights travel with the model's state)."""
        return {
            "kind": "sensor-space parcels: k-means regions of sensor positions, first "
            "principal component of each region's standardised sensors",
            "sensors": list(self.sensors),
            "regions": list(self.regions),
            "parcels": list(self.names),
        }

    def columns(self, ch_names: Sequence[str], source: str, remedy: str) -> np.ndarray:
        """Return the index in ``ch_names`` of every sensor, or raise naming the missing ones."""
        index = {name: position for position, name in enumerate(ch_names)}
        missing = [name for name in self.sensors if name not in index]
        if missing:
            shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
            raise DataError(
                source,
                f"lacks {len(missing)} of the {len(self.sensors)} sensors the parcels are made "
                f"of ({shown}){remedy}",
            )
        return np.array([index[name] for name in self.sensors])


def regions_of(positions: np.ndarray, n_regions: int, iterations: int = 50) -> np.ndarray:
    """Return the region (0..n_regions-1) of every position (n, 3) by deterministic k-means.

    Raises
    ------
    ValueError
        When there are fewer distinct positions than regions.
    """
    points = np.unique(np.round(positions, 6), axis=0)
    if len(points) < n_regions:
        raise ValueError(f"{len(points)} distinct sensor positions cannot make {n_regions} parcels")
    centres = [points[np.argmax(np.linalg.norm(points - points.mean(0), axis=1))]]
    while len(centres) < n_regions:
        distance = np.min(np.linalg.norm(points[:, None] - np.array(centres)[None], axis=2), axis=1)
        centres.append(points[np.argmax(distance)])
    centres = np.array(centres)
    for _ in range(iterations):
        nearest = np.argmin(np.linalg.norm(points[:, None] - centres[None], axis=2), axis=1)
        moved = np.array(
            [
                points[nearest == k].mean(0) if np.any(nearest == k) else centres[k]
                for k in range(n_regions)
            ]
        )
        if np.allclose(moved, centres):
            break
        centres = moved
    return np.argmin(np.linalg.norm(positions[:, None] - centres[None], axis=2), axis=1)


def fit_parcellation(
    sensors: Sequence[str],
    positions: np.ndarray,
    segments: Iterable[np.ndarray],
    n_parcels: int,
    source: str = "parcels",
) -> Parcellation:
    """Fit the parcels of ``sensors`` at ``positions`` (n, 3) on ``segments`` (n, times) each.

    Every segment is standardised per sensor before the covariance of each region is summed;
    a parcel's weights are the leading eigenvector of its region's covariance, signed so that
    its largest weight is positive.

    Raises
    ------
    DataError
        When sensors lack positions, are too few for the parcels, or no segment was given.
    """
    positions = np.asarray(positions, dtype=float)
    if not np.all(np.isfinite(positions)) or np.any(np.linalg.norm(positions, axis=1) == 0):
        raise DataError(
            source,
            "some sensors have no position; parcels group sensors by position (use "
            "space=sensors to keep the channels as they are)",
        )
    try:
        regions = regions_of(positions, n_parcels)
    except ValueError as error:
        raise DataError(source, str(error)) from None
    covariance = np.zeros((len(sensors), len(sensors)))
    count = 0
    for segment in segments:
        centred = segment - segment.mean(axis=1, keepdims=True)
        scale = centred.std(axis=1, keepdims=True)
        standard = np.divide(centred, scale, out=np.zeros_like(centred), where=scale > 0)
        covariance += standard @ standard.T / standard.shape[1]
        count += 1
    if count == 0:
        raise DataError(source, "no data to fit the parcels on")
    weights = np.zeros((n_parcels, len(sensors)))
    for parcel in range(n_parcels):
        members = np.flatnonzero(regions == parcel)
        _, vectors = np.linalg.eigh(covariance[np.ix_(members, members)])
        leading = vectors[:, -1]
        weights[parcel, members] = leading * np.sign(leading[np.argmax(np.abs(leading))])
    return Parcellation(tuple(sensors), tuple(int(r) for r in regions), weights)
