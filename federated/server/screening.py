"""Screening of site updates before aggregation: bad updates are rejected, never averaged.

An update is rejected when its arrays differ in names or shapes from the model the server
sent, when it holds NaN or Inf, when its sample count is not a positive number, or when its
distance from the sent model (the update norm) exceeds ``outlier_factor`` times the median
norm of the other accepted updates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """The outcome of screening one reply."""

    node: int
    site: str
    reason: str | None = None
    norm: float = float("nan")

    @property
    def accepted(self) -> bool:
        """Return True when the update may be aggregated."""
        return self.reason is None


def check_update(
    update: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    weight: object,
) -> str | None:
    """Return why ``update`` cannot be aggregated against ``reference``, or None."""
    missing = sorted(set(reference) - set(update))
    unexpected = sorted(set(update) - set(reference))
    if missing or unexpected:
        return f"arrays differ from the global model's: missing {missing[:5]}, unexpected {unexpected[:5]}"
    for key, value in update.items():
        if np.shape(value) != np.shape(reference[key]):
            return (
                f"array '{key}' has shape {tuple(np.shape(value))}, the global model's "
                f"{tuple(np.shape(reference[key]))}"
            )
    for key, value in update.items():
        bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
        if bad:
            return f"array '{key}' holds {bad} NaN/Inf value(s)"
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < np.inf:
        return f"its sample count {weight!r} is not a positive number"
    return None


def update_norm(update: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]) -> float:
    """Return the L2 norm of ``update - reference`` over every array."""
    total = sum(
        float(np.sum((np.asarray(update[key], float) - np.asarray(value, float)) ** 2))
        for key, value in reference.items()
    )
    return float(np.sqrt(total))


def norm_outliers(norms: Sequence[float], factor: float) -> list[bool]:
    """Flag each norm above ``factor`` times the median of the others (needs two or more)."""
    norms = list(norms)
    if factor <= 0 or len(norms) < 2:
        return [False] * len(norms)
    flags = []
    for index, norm in enumerate(norms):
        others = float(np.median(norms[:index] + norms[index + 1 :]))
        flags.append(others > 0 and norm > factor * others)
    return flags


def screen(
    updates: Sequence[tuple[int, str, Mapping[str, np.ndarray], object]],
    reference: Mapping[str, np.ndarray],
    outlier_factor: float,
) -> list[Verdict]:
    """Screen ``(node, site, arrays, sample count)`` updates against the sent ``reference``."""
    verdicts = []
    for node, site, arrays, weight in updates:
        reason = check_update(arrays, reference, weight)
        norm = update_norm(arrays, reference) if reason is None else float("nan")
        verdicts.append(Verdict(node, site, reason, norm))
    sound = [index for index, verdict in enumerate(verdicts) if verdict.accepted]
    flags = norm_outliers([verdicts[i].norm for i in sound], outlier_factor)
    for index, flagged in zip(sound, flags, strict=True):
        if flagged:
            others = [verdicts[i].norm for i in sound if i != index]
            verdict = verdicts[index]
            verdicts[index] = Verdict(
                verdict.node,
                verdict.site,
                f"update norm {verdict.norm:.3g} is over {outlier_factor:g} x the median "
                f"of the others ({float(np.median(others)):.3g})",
                verdict.norm,
            )
    return verdicts
