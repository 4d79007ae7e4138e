"""EMA codebooks across sites: their counts and sums are aggregated, never their codes averaged.

A codebook learnt by exponential moving averages (:class:`~decoders.pretraining.vq.
VectorQuantizer`) is the ratio of two running sums: each code's assignment count ``C`` and the
sum ``S`` of the vectors assigned to it. A site that starts a round from the global ``(C, S)``
and takes ``s`` steps returns ``C_i = d^s C + ΔC_i`` (``d`` the decay), where ``ΔC_i`` holds
only its own assignments, and likewise ``S_i``. Summing the sites' own parts,

    C' = d^s C + Σ_i (C_i - d^s C),    S' = d^s S + Σ_i (S_i - d^s S),    codes = S' / C',

is what data parallelism does at every step (counts and sums summed over processes before the
update), so a code used by one site only keeps that site's vectors instead of being pulled
halfway to an unrelated code of another site, as averaging the code vectors would do.

Two events need more than the sum. In the first round each site initialises its own codebook
by k-means on its own data, so codes with the same index mean different things: the server
clusters all sites' codes, weighted by their counts, into one codebook (:func:`merge`), each
new code's count and sum being the sums of its members'. And restarting dead codes needs
data the server does not have: sites never restart codes; the server moves each dead code
next to the busiest code and splits that code's count and sum between the two
(:func:`split_dead`), after which the next round's assignments pull them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ARRAYS = ("codebook", "ema_count", "ema_sum", "initialised", "restarts")
"""The state-dict entries of a quantiser (under its prefix)."""


@dataclass(frozen=True)
class SiteCodebook:
    """One site's codebook statistics after a round."""

    count: np.ndarray
    total: np.ndarray
    initialised: bool


def codebook_keys(prefix: str) -> dict[str, str]:
    """Return the state-dict key of each entry of the quantiser at ``prefix``."""
    return {name: f"{prefix}.{name}" for name in ARRAYS}


def check_codebook(
    update: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray], prefix: str
) -> str | None:
    """Return why a site's codebook cannot be aggregated with the federation's, or None."""
    keys = codebook_keys(prefix)
    missing = [key for key in keys.values() if key not in update]
    if missing:
        return f"its update lacks the codebook arrays {missing}"
    expected, got = np.shape(reference[keys["ema_sum"]]), np.shape(update[keys["ema_sum"]])
    counts = np.shape(update[keys["ema_count"]])
    if got != expected or counts != expected[:1]:
        return (
            f"its codebook '{prefix}' has {got[0] if got else 0} codes of "
            f"{got[1] if len(got) > 1 else 0} values (counts for {counts[0] if counts else 0}), "
            f"the federation's {expected[0]} codes of {expected[1]}: another model size?"
        )
    count, total = update[keys["ema_count"]], update[keys["ema_sum"]]
    if not (np.isfinite(count).all() and np.isfinite(total).all()) or (count < 0).any():
        return f"its codebook '{prefix}' holds NaN/Inf or negative counts"
    return None


def sum_round(
    count: np.ndarray, total: np.ndarray, sites: Sequence[SiteCodebook], fade: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return the global counts and sums after a round: the old ones faded plus each site's own.

    ``fade`` is ``decay ** steps``, the share of the round's start a site's EMA keeps.
    """
    new_count = fade * count + sum(site.count - fade * count for site in sites)
    new_total = fade * total + sum(site.total - fade * total for site in sites)
    return np.maximum(new_count, 0.0), new_total


def merge(
    sites: Sequence[SiteCodebook], n_codes: int, seed: int, iterations: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Return one codebook's counts and sums clustering the codes the sites initialised apart.

    Weighted k-means (Lloyd) over every site's codes, weighted by their counts, starting from
    the ``n_codes`` most used codes; each cluster's count and sum are its members' sums.
    """
    codes = np.concatenate([s.total / np.maximum(s.count, 1e-12)[:, None] for s in sites])
    weights = np.concatenate([s.count for s in sites])
    totals = np.concatenate([s.total for s in sites])
    order = np.lexsort((np.random.default_rng(seed).random(len(weights)), -weights))
    centres = codes[order[:n_codes]].copy()
    for _ in range(iterations):
        assignment = _nearest(codes, centres)
        mass = np.bincount(assignment, weights=weights, minlength=n_codes)
        filled = mass > 0
        moved = np.zeros_like(centres)
        np.add.at(moved, assignment, codes * weights[:, None])
        centres[filled] = moved[filled] / mass[filled, None]
    assignment = _nearest(codes, centres)
    count = np.bincount(assignment, weights=weights, minlength=n_codes)
    total = np.zeros_like(centres)
    np.add.at(total, assignment, totals)
    empty = count <= 0
    total[empty] = centres[empty] * 1e-6
    count[empty] = 1e-6
    return count, total


def split_dead(
    count: np.ndarray, total: np.ndarray, threshold: float, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Move each code used below ``threshold / n_codes`` of the time next to the busiest code.

    The busiest code's count and sum are split with the moved code, which starts a small
    seeded step away from it. Returns the new counts, sums and the number of codes moved.
    """
    count, total = count.astype(np.float64).copy(), total.astype(np.float64).copy()
    if count.sum() <= 0:
        return count, total, 0
    dead = np.flatnonzero(count / count.sum() < threshold / len(count))
    rng = np.random.default_rng(seed)
    alive = np.ones(len(count), bool)
    alive[dead] = False
    for code in dead:
        busiest = int(np.argmax(np.where(alive, count, -np.inf)))
        centre = total[busiest] / count[busiest]
        scale = 1e-2 * (np.linalg.norm(centre) / np.sqrt(len(centre)) + 1e-6)
        half = count[busiest] / 2
        count[busiest] = count[code] = half
        total[busiest] = centre * half
        total[code] = (centre + scale * rng.standard_normal(len(centre))) * half
        alive[code] = True
    return count, total, len(dead)


def _nearest(vectors: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distances = (
        (vectors**2).sum(1)[:, None] - 2 * vectors @ centres.T + (centres**2).sum(1)[None, :]
    )
    return distances.argmin(1)
